import { CliqueError } from '../base/clique-error.js';

export type DBusTubeErrorCode =
  | 'tube-closed' // the tube was closed (pending calls are failed with this too)
  | 'too-many-calls' // the bound on method calls awaiting a reply is reached
  | 'unknown-destination' // a method call to a name nobody in the tube has
  | 'peer-left' // the callee left the tube before replying
  | 'already-replied' // a method call answered twice
  | 'reader-overflow' // an async iterator fell too far behind and was cut off
  | 'bad-argument'; // a call the API refuses before encoding (e.g. no destination)

/** Local failures of a D-Bus tube. A remote D-Bus ERROR reply is data (DBusTubeReply), not this. */
export class DBusTubeError extends CliqueError {
  declare readonly code: DBusTubeErrorCode;

  constructor(code: DBusTubeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
