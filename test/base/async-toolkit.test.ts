import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { deferred } from '../../src/base/deferred.js';
import { emitSafely } from '../../src/base/emit-safely.js';
import { errorText } from '../../src/base/error-text.js';
import { Logger, type LogRecord } from '../../src/base/logger.js';
import { waitFor } from '../../src/base/wait-for.js';

function capturingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  return { logger: new Logger({ level: 'debug', sink: (r) => records.push(r) }), records };
}

describe('errorText', () => {
  it('gives an Error its message and anything else its string form', () => {
    expect(errorText(new Error('boom'))).toBe('boom');
    expect(errorText('plain')).toBe('plain');
    expect(errorText(42)).toBe('42');
  });
});

describe('deferred', () => {
  it('settles from outside', async () => {
    const d = deferred<number>();
    d.resolve(7);
    await expect(d.promise).resolves.toBe(7);
    const e = deferred<number>();
    e.reject(new Error('no'));
    await expect(e.promise).rejects.toThrow('no');
  });
});

describe('emitSafely', () => {
  it('runs every listener even when one throws, and logs the throw', () => {
    const { logger, records } = capturingLogger();
    const emitter = new EventEmitter();
    const heard: number[] = [];
    emitter.on('x', (n: number) => heard.push(n));
    emitter.on('x', () => {
      throw new Error('listener bug');
    });
    emitter.on('x', (n: number) => heard.push(n * 10));
    emitSafely(emitter, logger, 'x', 3);
    expect(heard).toEqual([3, 30]);
    expect(records.map((r) => r.message)).toEqual(["a 'x' listener threw"]);
    expect(records[0]?.fields).toEqual({ error: 'listener bug' });
  });

  it("logs an 'error' event nobody listens to instead of throwing", () => {
    const { logger, records } = capturingLogger();
    expect(() => emitSafely(new EventEmitter(), logger, 'error', new Error('lost'))).not.toThrow();
    expect(records).toEqual([{ level: 'error', scope: 'clique', message: 'unhandled error event', fields: { error: 'lost' } }]);
  });

  it('keeps once-listeners once', () => {
    const { logger } = capturingLogger();
    const emitter = new EventEmitter();
    let count = 0;
    emitter.once('y', () => count++);
    emitSafely(emitter, logger, 'y');
    emitSafely(emitter, logger, 'y');
    expect(count).toBe(1);
  });
});

describe('waitFor', () => {
  it('resolves at once when the condition already holds', async () => {
    const emitter = new EventEmitter();
    await expect(waitFor({ emitter, events: ['e'], check: () => 'now' })).resolves.toBe('now');
    expect(emitter.eventNames()).toEqual([]);
  });

  it('rechecks after each event and removes its listeners', async () => {
    const emitter = new EventEmitter();
    let value: number | undefined;
    const wait = waitFor({ emitter, events: ['change'], check: () => value, timeoutMs: 10_000 });
    emitter.emit('change');
    value = 5;
    emitter.emit('change');
    await expect(wait).resolves.toBe(5);
    expect(emitter.eventNames()).toEqual([]);
  });

  it('rejects on a failOn event with its error', async () => {
    const emitter = new EventEmitter();
    const wait = waitFor({ emitter, events: ['change'], check: () => undefined, failOn: { left: () => new Error('left') } });
    emitter.emit('left');
    await expect(wait).rejects.toThrow('left');
    expect(emitter.eventNames()).toEqual([]);
  });

  it('rejects on timeout with the given error', async () => {
    const emitter = new EventEmitter();
    const wait = waitFor({ emitter, events: ['change'], check: () => undefined, timeoutMs: 1, timeoutError: () => new Error('too slow') });
    await expect(wait).rejects.toThrow('too slow');
    expect(emitter.eventNames()).toEqual([]);
  });

  it('rejects with the abort reason, also when already aborted', async () => {
    const emitter = new EventEmitter();
    const controller = new AbortController();
    const wait = waitFor({ emitter, events: ['change'], check: () => undefined, signal: controller.signal });
    controller.abort(new Error('stop'));
    await expect(wait).rejects.toThrow('stop');
    await expect(waitFor({ emitter, events: ['change'], check: () => undefined, signal: controller.signal })).rejects.toThrow('stop');
    expect(emitter.eventNames()).toEqual([]);
  });
});
