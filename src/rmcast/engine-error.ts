import { CliqueError } from '../base/clique-error.js';

export type EngineErrorCode =
  | 'not-connected' // send before an id was chosen, or after leaving
  | 'message-too-large' // above maxMessageSize
  | 'bad-stream-id' // not 0..65535
  | 'bad-name' // our own name cannot be announced (>= 255 bytes, NUL)
  | 'too-many-senders'; // depends list would not fit in one datagram

export class EngineError extends CliqueError {
  declare readonly code: EngineErrorCode;

  constructor(code: EngineErrorCode, message: string) {
    super(code, message);
  }
}
