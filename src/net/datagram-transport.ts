import { CliqueError } from '../base/clique-error.js';

/**
 * What an engine driver needs from the network: a way to multicast a
 * datagram to the group and to hear the group's datagrams. Implemented over
 * UDP multicast; tests may implement it in memory.
 */
export interface DatagramTransport {
  /** Largest datagram `send` accepts (1440 on UDP). */
  readonly maxDatagramSize: number;
  /** Whether our own datagrams come back to us (multicast loopback). */
  readonly loopback: boolean;
  /** Multicast one datagram. Never throws: failures are reported through `onError`. */
  send(bytes: Uint8Array): void;
  onDatagram(callback: (bytes: Uint8Array) => void): void;
  onError(callback: (error: TransportError) => void): void;
  close(): Promise<void>;
}

export type TransportErrorCode =
  | 'bad-address' // not an IPv4 multicast group / interface address / port
  | 'bad-option'
  | 'bind-failed'
  | 'membership-failed' // could not join the group on that interface
  | 'send-failed'
  | 'socket-error'
  | 'datagram-too-large'; // above maxDatagramSize (a caller bug)

export class TransportError extends CliqueError {
  declare readonly code: TransportErrorCode;

  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
