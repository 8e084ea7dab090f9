import { LineSplitter } from '../net/line-splitter.js';

/**
 * Strict JSON-RPC 2.0 over newline-delimited JSON: one message per line.
 * Parsing never throws: every line becomes a request, a notification, a
 * response, or an `invalid` verdict carrying the error to answer with.
 */

export type RpcId = string | number;
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type RpcParams = { [key: string]: JsonValue } | JsonValue[];

/** JSON-RPC 2.0 error codes, plus one application code (-32000) whose `data.code` says which. */
export const RpcErrorCode = {
  parseError: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internalError: -32603,
  application: -32000,
} as const;

export interface RpcErrorObject {
  code: number;
  message: string;
  /** Always carries a kebab-case `code` in this protocol. */
  data?: { code: string } & { [key: string]: JsonValue };
}

export type RpcMessage =
  | { kind: 'request'; id: RpcId; method: string; params: RpcParams | undefined }
  | { kind: 'notification'; method: string; params: RpcParams | undefined }
  | { kind: 'result'; id: RpcId; result: JsonValue }
  | { kind: 'error'; id: RpcId | null; error: RpcErrorObject }
  /** Not a valid message; `id` is the request's id when it could be read, else null. */
  | { kind: 'invalid'; id: RpcId | null; error: RpcErrorObject };

/** Longest method name we accept. */
const MAX_METHOD_LENGTH = 64;
const MAX_ID_STRING_LENGTH = 128;

const invalid = (id: RpcId | null, code: number, message: string, kebab: string): RpcMessage => ({
  kind: 'invalid',
  id,
  error: { code, message, data: { code: kebab } },
});

/** Parses and validates one line. Batches are not supported (answered as invalid requests). */
export function parseRpcLine(line: string): RpcMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return invalid(null, RpcErrorCode.parseError, 'parse error: not JSON', 'parse-error');
  }
  return validateRpcValue(value);
}

/** Validates an already parsed JSON value as one JSON-RPC 2.0 message. */
export function validateRpcValue(value: unknown): RpcMessage {
  if (Array.isArray(value)) return invalid(null, RpcErrorCode.invalidRequest, 'batches are not supported', 'invalid-request');
  if (!isPlainObject(value)) return invalid(null, RpcErrorCode.invalidRequest, 'a message must be a JSON object', 'invalid-request');
  const hasId = Object.hasOwn(value, 'id');
  const rawId = value['id'];
  const id = validId(rawId) ? rawId : null;
  if (value['jsonrpc'] !== '2.0') return invalid(id, RpcErrorCode.invalidRequest, 'jsonrpc must be "2.0"', 'invalid-request');
  if (hasId && !validId(rawId) && rawId !== null) return invalid(null, RpcErrorCode.invalidRequest, 'id must be a string, an integer or null', 'invalid-request');

  if (Object.hasOwn(value, 'method')) {
    for (const key of Object.keys(value)) {
      if (key !== 'jsonrpc' && key !== 'id' && key !== 'method' && key !== 'params') {
        return invalid(id, RpcErrorCode.invalidRequest, `unexpected member ${JSON.stringify(key.slice(0, 40))}`, 'invalid-request');
      }
    }
    const method = value['method'];
    if (typeof method !== 'string' || method === '' || method.length > MAX_METHOD_LENGTH || !/^[a-z][a-z0-9._-]*$/.test(method)) {
      return invalid(id, RpcErrorCode.invalidRequest, 'method must be a short lower-case name', 'invalid-request');
    }
    const params = value['params'];
    if (params !== undefined && !Array.isArray(params) && !isPlainObject(params)) {
      return invalid(id, RpcErrorCode.invalidRequest, 'params must be an object or an array', 'invalid-request');
    }
    if (hasId && rawId === null) return invalid(null, RpcErrorCode.invalidRequest, 'a request id must not be null', 'invalid-request');
    const typedParams = params as RpcParams | undefined;
    return hasId ? { kind: 'request', id: rawId as RpcId, method, params: typedParams } : { kind: 'notification', method, params: typedParams };
  }

  if (!hasId) return invalid(null, RpcErrorCode.invalidRequest, 'neither a request nor a response', 'invalid-request');
  const hasResult = Object.hasOwn(value, 'result');
  const hasError = Object.hasOwn(value, 'error');
  if (hasResult === hasError) return invalid(id, RpcErrorCode.invalidRequest, 'a response has exactly one of result and error', 'invalid-request');
  for (const key of Object.keys(value)) {
    if (key !== 'jsonrpc' && key !== 'id' && key !== 'result' && key !== 'error') {
      return invalid(id, RpcErrorCode.invalidRequest, `unexpected member ${JSON.stringify(key.slice(0, 40))}`, 'invalid-request');
    }
  }
  if (hasResult) {
    if (id === null) return invalid(null, RpcErrorCode.invalidRequest, 'a result needs an id', 'invalid-request');
    return { kind: 'result', id, result: value['result'] as JsonValue };
  }
  const error = value['error'];
  if (!isPlainObject(error) || !Number.isInteger(error['code']) || typeof error['message'] !== 'string') {
    return invalid(id, RpcErrorCode.invalidRequest, 'error must have an integer code and a message', 'invalid-request');
  }
  const data = error['data'];
  const kebab = isPlainObject(data) && typeof data['code'] === 'string' ? data['code'] : 'unknown';
  return {
    kind: 'error',
    id: rawId === null ? null : id,
    error: { code: error['code'] as number, message: error['message'], data: { ...(isPlainObject(data) ? (data as { [key: string]: JsonValue }) : {}), code: kebab } },
  };
}

export function encodeRequest(id: RpcId, method: string, params?: RpcParams): string {
  return `${JSON.stringify(params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params })}\n`;
}

export function encodeNotification(method: string, params?: RpcParams): string {
  return `${JSON.stringify(params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params })}\n`;
}

export function encodeResult(id: RpcId, result: JsonValue): string {
  return `${JSON.stringify({ jsonrpc: '2.0', id, result })}\n`;
}

export function encodeError(id: RpcId | null, error: RpcErrorObject): string {
  return `${JSON.stringify({ jsonrpc: '2.0', id, error })}\n`;
}

function validId(value: unknown): value is RpcId {
  return (typeof value === 'string' && value.length <= MAX_ID_STRING_LENGTH) || (typeof value === 'number' && Number.isSafeInteger(value));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The input side of a connection: bytes in arbitrary chunks become parsed
 * messages, one per non-blank line; a line over `maxLineBytes` is never
 * buffered whole and is reported through `onOversized` instead.
 */
export class RpcLineReader {
  private readonly splitter: LineSplitter;

  constructor(maxLineBytes: number, onMessage: (message: RpcMessage) => void, onOversized: (bytes: number) => void) {
    this.splitter = new LineSplitter(
      maxLineBytes,
      (line) => {
        if (line.trim() !== '') onMessage(parseRpcLine(line));
      },
      onOversized,
    );
  }

  push(chunk: Buffer): void {
    this.splitter.push(chunk);
  }

  end(): void {
    this.splitter.end();
  }
}
