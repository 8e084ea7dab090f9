import { CliqueError } from '../base/clique-error.js';

export type FileTransferErrorCode =
  | 'file-declined' // the receiver said no (406 not-acceptable)
  | 'file-remote-error' // the receiver answered with another error
  | 'file-cancelled' // we (or our caller) gave the transfer up
  | 'file-too-large' // the declared size or the body passes the limit, or the body passes the declared size
  | 'file-short' // the body ended before the declared size
  | 'file-hash-mismatch' // the SHA-256 of what arrived is not the one offered
  | 'file-no-space' // the receiving file system has not room for it
  | 'file-http-failed' // the GET failed (status, connection, idle timeout)
  | 'file-not-found' // no such offer
  | 'file-bad-offer' // an offer we cannot use (directory, bad URL)
  | 'file-unreadable'; // the file to offer cannot be read

/** A file transfer failed or was refused; `code` says why. */
export class FileTransferError extends CliqueError {
  declare readonly code: FileTransferErrorCode;

  constructor(code: FileTransferErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
