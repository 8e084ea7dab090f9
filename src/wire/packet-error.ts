import { CliqueError } from '../base/clique-error.js';

export type PacketErrorCode =
  | 'too-short' // fewer bytes than the header or a field needs
  | 'bad-prefix' // does not start with "Clique"
  | 'bad-version' // version byte is not 1
  | 'bad-type' // unknown type byte
  | 'truncated' // a count, list or name runs past the end
  | 'trailing-bytes' // bytes left after a fixed-size body
  | 'bad-name' // a WHOIS name that is not valid UTF-8
  | 'too-large' // (encode) the packet would exceed the datagram limit
  | 'bad-field'; // (encode) a field out of range: id not u32, > 255 entries, name too long

/** The only error the codec throws: a received datagram (or a packet to encode) is not valid. */
export class PacketError extends CliqueError {
  declare readonly code: PacketErrorCode;

  constructor(code: PacketErrorCode, message: string) {
    super(code, message);
  }
}
