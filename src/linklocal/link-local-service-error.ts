import { CliqueError } from '../base/clique-error.js';

export type LinkLocalServiceErrorCode =
  | 'contact-not-seen' // the contact did not appear on the link within the wait
  | 'room-not-seen' // no room of that name was advertised on the link within the wait
  | 'stopped'; // the service stopped while waiting

/** Errors of `LinkLocalService` itself (sends fail with `LinkError`, mDNS with `MdnsError`). */
export class LinkLocalServiceError extends CliqueError {
  declare readonly code: LinkLocalServiceErrorCode;

  constructor(code: LinkLocalServiceErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
