import { CliqueError } from '../base/clique-error.js';

export type TransportErrorCode =
  | 'bad-address' // not an IPv4 multicast group / interface address / port
  | 'bad-option'
  | 'bind-failed'
  | 'membership-failed' // could not join the group on that interface
  | 'send-failed'
  | 'socket-error'
  | 'datagram-too-large'; // above maxDatagramSize (a caller bug)

/** Errors of a datagram transport (the UDP multicast socket). */
export class TransportError extends CliqueError {
  declare readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
