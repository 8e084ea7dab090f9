import { CliqueError } from '../base/clique-error.js';

export type ServiceErrorCode =
  /** The control directory is not ours, is not a directory, or others may enter it. */
  | 'unsafe-directory'
  /** The socket did not get mode 0600. */
  | 'unsafe-socket'
  /** Another service of this login and interface is running. */
  | 'already-running'
  /** No service listens on the socket (and none could be started). */
  | 'not-running'
  /** The service did not come up in time. */
  | 'start-failed'
  /** The control connection closed (or could not be opened). */
  | 'disconnected'
  /** A request got no answer in time. */
  | 'timeout';

/** Problems of the service's control paths, life cycle and client connection. */
export class ServiceError extends CliqueError {
  declare readonly code: ServiceErrorCode;

  constructor(code: ServiceErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
