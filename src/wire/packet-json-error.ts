import { CliqueError } from '../base/clique-error.js';

export type PacketJsonErrorCode =
  | 'bad-json' // the text is not JSON, or not a JSON object
  | 'missing-field' // a field the packet type needs is absent
  | 'unknown-field' // a key that this packet type does not have (typos must not pass silently)
  | 'bad-value'; // wrong JSON type, out of range, bad base64, unknown type name, inconsistent flags

/** A JSON description of a packet that cannot be turned into a Packet. */
export class PacketJsonError extends CliqueError {
  declare readonly code: PacketJsonErrorCode;

  constructor(code: PacketJsonErrorCode, message: string) {
    super(code, message);
  }
}
