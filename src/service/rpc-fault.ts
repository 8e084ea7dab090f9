import { CliqueError } from '../base/clique-error.js';
import { RpcErrorCode } from './json-rpc.js';

/** The service's own answers to a request it cannot serve (docs/control-protocol.md). */
export type RpcFaultCode =
  | 'hello-required'
  | 'protocol-version'
  | 'method-not-found'
  | 'invalid-params'
  | 'no-presence'
  | 'no-such-room'
  | 'not-joined'
  | 'shutting-down'
  | 'too-many-rooms';

/**
 * An error to answer a request with: `code` is the kebab-case code clients
 * branch on (sent as `data.code`), `rpcCode` the JSON-RPC number.
 */
export class RpcFault extends CliqueError {
  declare readonly code: RpcFaultCode;

  constructor(
    code: RpcFaultCode,
    message: string,
    readonly rpcCode: number = RpcErrorCode.application,
  ) {
    super(code, message);
  }
}
