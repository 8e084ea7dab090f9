import { CliqueError } from '../base/clique-error.js';
import type { RemoteErrorCode } from './remote-error-code.js';

/**
 * An error answered by the service to a request: `code` is the kebab-case code
 * from the response's `data.code` (see docs/control-protocol.md), `rpcCode`
 * the JSON-RPC numeric code.
 */
export class ServiceRequestError extends CliqueError {
  declare readonly code: RemoteErrorCode;

  constructor(
    code: RemoteErrorCode,
    message: string,
    readonly rpcCode: number,
  ) {
    super(code, message);
  }
}
