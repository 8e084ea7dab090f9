import { CliqueError } from '../base/clique-error.js';

export type LinkErrorCode =
  | 'unknown-contact' // no such contact in the directory (or it has no port)
  | 'unreachable' // every address of the contact refused or failed the TCP connection
  | 'connect-timeout' // no TCP connection, or no stream header back, within the timeout
  | 'stream-closed' // the stream closed before the stanza could be written (or while it was being written)
  | 'queue-full' // too many bytes waiting for the stream (the peer does not read)
  | 'invalid-argument' // bad message or invitation parameters
  | 'not-started' // the service is not running
  | 'stopped' // the service stopped while the send was pending
  | 'listen-failed' // the TCP listener could not bind
  | 'iq-error' // the contact answered our iq request with an error (IqErrorAnswer carries it)
  | 'iq-timeout' // no answer to our iq request in time
  | 'iq-aborted'; // our iq request was abandoned (its signal aborted)

/** Errors of the XEP-0174 link layer (sends rejected, listener failures). */
export class LinkError extends CliqueError {
  declare readonly code: LinkErrorCode;

  constructor(code: LinkErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
