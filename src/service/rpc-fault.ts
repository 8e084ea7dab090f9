import { CliqueError } from '../base/clique-error.js';
import { RpcErrorCode } from './json-rpc.js';
import type { RoomTubesErrorCode } from '../tubes/room-tubes-error.js';

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
  | 'too-many-rooms'
  | 'no-such-tube' // tubes.accept: nobody offers such a stream tube in the room
  | 'listen-failed' // tubes.accept: the local port is taken or not ours
  | RoomTubesErrorCode; // the room's tube table refused (RoomTubesError)

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
