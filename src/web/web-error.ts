import { CliqueError } from '../base/clique-error.js';

export type WebErrorCode =
  /** `--listen` is not an IP literal, or is a wildcard. */
  | 'bad-listen-address'
  /** The page's assets were not built. */
  | 'no-assets'
  /** The address or port could not be taken. */
  | 'listen-failed'
  /** A file sent up by the page was refused (too large, bad name, broken off). */
  | 'upload-refused';

/** Problems of the web page's server. */
export class WebError extends CliqueError {
  declare readonly code: WebErrorCode;

  constructor(code: WebErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
