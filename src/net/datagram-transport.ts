import type { TransportError } from './transport-error.js';

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
  /**
   * `bytes` must be the datagram's own memory, never written again: engines keep
   * it for repairs and deliver one-fragment messages as views of it (no copy).
   */
  onDatagram(callback: (bytes: Uint8Array) => void): void;
  onError(callback: (error: TransportError) => void): void;
  close(): Promise<void>;
}
