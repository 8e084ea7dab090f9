import { CliqueError } from '../base/clique-error.js';

export type MdnsErrorCode =
  | 'mdns-interface' // the address to pin to is not a local IPv4 interface, or joining 224.0.0.251 there failed
  | 'mdns-socket' // binding UDP 5353 failed (port in use without SO_REUSEADDR, permission)
  | 'mdns-name' // a name we were asked to publish cannot be encoded (empty, > 63 bytes of UTF-8, control characters)
  | 'mdns-packet' // a received packet is malformed (the transport counts and drops it)
  | 'mdns-txt' // a TXT entry is not encodable (bad key, > 255 bytes)
  | 'mdns-closed' // the responder was closed
  | 'mdns-conflict' // no free name found after many renames
  | 'mdns-name-in-use'; // the exact name we were told to use is taken (renaming was not allowed)

export class MdnsError extends CliqueError {
  declare readonly code: MdnsErrorCode;

  constructor(code: MdnsErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
