import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParamReader } from '../../src/service/control-protocol.js';
import { RpcFault } from '../../src/service/rpc-fault.js';
import { encodeError, encodeNotification, encodeRequest, encodeResult, parseRpcLine, RpcLineReader, type RpcMessage } from '../../src/service/json-rpc.js';
import { cutAt } from '../support/byte-chunks.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

/** The control protocol's strict JSON-RPC 2.0 reader: what it accepts, what it refuses, and that no input makes it throw. */
const seed = propertySeed();
console.log(`json-rpc fuzz: CLIQUE_SEED=${seed}`);

describe('parseRpcLine', () => {
  it('reads requests, notifications, results and errors', () => {
    expect(parseRpcLine('{"jsonrpc":"2.0","id":1,"method":"rooms.send","params":{"room":"x"}}')).toEqual({
      kind: 'request',
      id: 1,
      method: 'rooms.send',
      params: { room: 'x' },
    });
    expect(parseRpcLine('{"jsonrpc":"2.0","id":"a","method":"status"}')).toEqual({ kind: 'request', id: 'a', method: 'status', params: undefined });
    expect(parseRpcLine('{"jsonrpc":"2.0","method":"room.message","params":[1]}')).toEqual({ kind: 'notification', method: 'room.message', params: [1] });
    expect(parseRpcLine('{"jsonrpc":"2.0","id":7,"result":null}')).toEqual({ kind: 'result', id: 7, result: null });
    expect(parseRpcLine('{"jsonrpc":"2.0","id":7,"error":{"code":-32000,"message":"m","data":{"code":"no-such-room"}}}')).toEqual({
      kind: 'error',
      id: 7,
      error: { code: -32000, message: 'm', data: { code: 'no-such-room' } },
    });
  });

  it.each([
    ['not json', -32700, null],
    ['[]', -32600, null],
    ['[{"jsonrpc":"2.0","id":1,"method":"status"}]', -32600, null],
    ['"text"', -32600, null],
    ['{"id":1,"method":"status"}', -32600, 1],
    ['{"jsonrpc":"1.0","id":1,"method":"status"}', -32600, 1],
    ['{"jsonrpc":"2.0","id":1.5,"method":"status"}', -32600, null],
    ['{"jsonrpc":"2.0","id":{},"method":"status"}', -32600, null],
    ['{"jsonrpc":"2.0","id":null,"method":"status"}', -32600, null],
    ['{"jsonrpc":"2.0","id":2,"method":""}', -32600, 2],
    ['{"jsonrpc":"2.0","id":2,"method":"Status"}', -32600, 2],
    ['{"jsonrpc":"2.0","id":2,"method":5}', -32600, 2],
    ['{"jsonrpc":"2.0","id":3,"method":"status","params":"x"}', -32600, 3],
    ['{"jsonrpc":"2.0","id":3,"method":"status","extra":1}', -32600, 3],
    ['{"jsonrpc":"2.0","id":4,"result":1,"error":{"code":1,"message":"m"}}', -32600, 4],
    ['{"jsonrpc":"2.0","id":4}', -32600, 4],
    ['{"jsonrpc":"2.0","id":4,"error":{"code":"x","message":"m"}}', -32600, 4],
    ['{"jsonrpc":"2.0"}', -32600, null],
  ])('refuses %s with %d (id %j)', (line, code, id) => {
    const message = parseRpcLine(line);
    expect(message.kind).toBe('invalid');
    expect(message).toMatchObject({ id, error: { code } });
    if (message.kind === 'invalid') expect(message.error.data?.code).toMatch(/^[a-z]+(-[a-z]+)*$/);
  });

  it('never throws, and whatever it accepts has the shape it claims (fuzz: arbitrary text and JSON)', () => {
    const anyLine = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.json({ maxDepth: 4 }),
      fc
        .record(
          {
            jsonrpc: fc.oneof(fc.constant('2.0'), fc.string({ maxLength: 4 })),
            id: fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null), fc.double(), fc.object({ maxDepth: 1 })),
            method: fc.oneof(fc.constantFrom('status', 'rooms.send', 'hello'), fc.string({ maxLength: 80 })),
            params: fc.oneof(fc.object({ maxDepth: 2 }), fc.array(fc.jsonValue({ maxDepth: 1 })), fc.string()),
            result: fc.jsonValue({ maxDepth: 2 }),
            error: fc.record({ code: fc.oneof(fc.integer(), fc.string()), message: fc.oneof(fc.string(), fc.integer()) }, { requiredKeys: [] }),
          },
          { requiredKeys: [] },
        )
        .map((o) => JSON.stringify(o)),
    );
    assertProperty(
      fc.property(anyLine, (line) => {
        const m = parseRpcLine(line);
        checkShape(m);
      }),
      seed,
      { numRuns: 3000 },
    );
  });
});

describe('RpcLineReader (the server input path)', () => {
  it('delivers every message exactly once and in order, however the bytes are cut; garbage lines are refused, oversized ones reported (fuzz)', () => {
    const request = fc
      .record({ id: fc.nat(1_000_000), method: fc.constantFrom('status', 'rooms.send', 'rooms.join'), text: fc.string({ unit: 'grapheme', maxLength: 40 }) })
      .map(({ id, method, text }) => ({ line: encodeRequest(id, method, { room: text }), expect: { kind: 'request', id, method } as const }));
    const garbage = fc
      .string({ unit: 'binary', maxLength: 60 })
      .filter((s) => !s.includes('\n') && s.trim() !== '' && parseRpcLine(s).kind === 'invalid')
      .map((s) => ({ line: `${s}\n`, expect: { kind: 'invalid' } as const }));
    const oversized = fc.nat(200).map((n) => ({ line: `${'x'.repeat(1025 + n)}\n`, expect: { kind: 'oversized' } as const }));
    assertProperty(
      fc.property(fc.array(fc.oneof(request, request, garbage, oversized), { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 40 }), (items, cuts) => {
        const seen: Array<{ kind: string; id?: unknown; method?: string }> = [];
        const reader = new RpcLineReader(
          1024,
          (m: RpcMessage) => seen.push(m.kind === 'request' ? { kind: m.kind, id: m.id, method: m.method } : { kind: m.kind }),
          () => seen.push({ kind: 'oversized' }),
        );
        const bytes = Buffer.from(items.map((i) => i.line).join(''));
        for (const chunk of cutAt(bytes, cuts)) reader.push(chunk);
        reader.end();
        expect(seen).toEqual(items.map((i) => i.expect));
      }),
      seed,
      { numRuns: 500 },
    );
  });

  it('round-trips what the encoders write', () => {
    const got: RpcMessage[] = [];
    const reader = new RpcLineReader(1 << 20, (m) => got.push(m), () => undefined);
    reader.push(Buffer.from(encodeRequest(1, 'status') + encodeNotification('room.left', { room: 'x', reason: 'left' }) + encodeResult(1, { ok: true })));
    reader.push(Buffer.from(encodeError(2, { code: -32000, message: 'no', data: { code: 'no-such-room' } })));
    expect(got.map((m) => m.kind)).toEqual(['request', 'notification', 'result', 'error']);
  });
});

function checkShape(m: RpcMessage): void {
  switch (m.kind) {
    case 'request':
      expect(typeof m.id === 'string' || Number.isSafeInteger(m.id)).toBe(true);
      expect(m.method).toMatch(/^[a-z][a-z0-9._-]*$/);
      expect(m.params === undefined || typeof m.params === 'object').toBe(true);
      break;
    case 'notification':
      expect(m.method).toMatch(/^[a-z][a-z0-9._-]*$/);
      break;
    case 'result':
      expect(typeof m.id === 'string' || Number.isSafeInteger(m.id)).toBe(true);
      break;
    case 'error':
    case 'invalid':
      expect(Number.isInteger(m.error.code)).toBe(true);
      expect(typeof m.error.message).toBe('string');
      expect(typeof m.error.data?.code).toBe('string');
      break;
  }
}

describe('ParamReader (the methods\' params)', () => {
  it('gives typed values or an invalid-params fault, never anything else (fuzz)', () => {
    const keys = ['room', 'texts', 'limit', 'create', 'kind'] as const;
    const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined));
    const params = fc.oneof(
      fc.record({ room: value, texts: value, limit: value, create: value, kind: value, other: value }, { requiredKeys: [] }),
      fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
      fc.constant(undefined),
    );
    assertProperty(
      fc.property(params, (p) => {
        try {
          const reader = new ParamReader(JSON.parse(JSON.stringify(p ?? {})) as never, keys);
          const room = reader.string('room', { maxLength: 256 });
          const texts = reader.stringArray('texts', { maxItems: 10, maxLength: 100 });
          const limit = reader.optionalInteger('limit', 0, 100);
          const create = reader.optionalBoolean('create');
          const kind = reader.optionalChoice('kind', ['normal', 'action'] as const);
          expect(typeof room).toBe('string');
          expect(texts.every((t) => typeof t === 'string')).toBe(true);
          expect(limit === undefined || (Number.isInteger(limit) && limit >= 0 && limit <= 100)).toBe(true);
          expect(create === undefined || typeof create === 'boolean').toBe(true);
          expect(kind === undefined || kind === 'normal' || kind === 'action').toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(RpcFault);
          expect(error).toMatchObject({ code: 'invalid-params', rpcCode: -32602 });
        }
      }),
      seed,
      { numRuns: 2000 },
    );
  });
});
