import { CliqueError } from '../base/clique-error.js';

export type DriverErrorCode =
  | 'engine-failed' // the engine (or the datagram decoder) threw; the driver keeps running
  | 'backlog-overflow' // a messages() reader fell too far behind and was cut off
  | 'closed'; // send() after the node was closed

/** Errors of the real-time engine driver (`EngineDriver`, what `openMulticastNode` returns). */
export class DriverError extends CliqueError {
  declare readonly code: DriverErrorCode;

  constructor(code: DriverErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
