import { describe, expect, it } from 'vitest';
import { Logger, type LogRecord } from '../../src/base/logger.js';
import { SeededRandom } from '../../src/base/random.js';
import type { DatagramTransport } from '../../src/net/datagram-transport.js';
import { EngineDriver } from '../../src/net/engine-driver.js';
import { FloodingEngine } from '../support/flooding-engine.js';

/** An in-memory transport: `feed` plays a datagram arriving; what the driver sends is dropped. */
class FeedTransport implements DatagramTransport {
  readonly maxDatagramSize = 1400;
  readonly loopback = false;
  private readonly callbacks: Array<(bytes: Uint8Array) => void> = [];
  send(): void {}
  onDatagram(callback: (bytes: Uint8Array) => void): void {
    this.callbacks.push(callback);
  }
  onError(): void {}
  async close(): Promise<void> {}
  feed(bytes: Uint8Array): void {
    for (const callback of this.callbacks) callback(bytes);
  }
}

/** A FloodingEngine data datagram from `name` (see its format). */
function flood(name: string, text: string): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const payload = new TextEncoder().encode(text);
  return new Uint8Array([0x46, 0x4c, 0x4f, 0x4f, 0x44, 0, nameBytes.length, ...nameBytes, 0, 1, ...payload]);
}

function setup(): { driver: EngineDriver; transport: FeedTransport; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const transport = new FeedTransport();
  const logger = new Logger({ level: 'debug', sink: (r) => records.push(r) });
  const driver = new EngineDriver(new FloodingEngine({ name: 'me', random: new SeededRandom(1), heartbeatMs: 60_000 }), transport, {
    datagramCheck: 'none',
    logger,
  });
  driver.start();
  return { driver, transport, records };
}

const text = (data: Uint8Array): string => new TextDecoder().decode(data);

describe("EngineDriver 'message' listeners (snapshot kept between changes)", () => {
  it('reaches listeners added, removed and once-only between messages, exactly as emit would', async () => {
    const { driver, transport } = setup();
    const first: string[] = [];
    const second: string[] = [];
    const once: string[] = [];
    const onFirst = (m: { data: Uint8Array }): void => void first.push(text(m.data));
    driver.on('message', onFirst);
    transport.feed(flood('bob', 'one'));
    driver.on('message', (m) => second.push(text(m.data)));
    driver.once('message', (m) => once.push(text(m.data)));
    transport.feed(flood('bob', 'two'));
    driver.off('message', onFirst);
    transport.feed(flood('bob', 'three'));
    driver.on('message', onFirst);
    transport.feed(flood('bob', 'four'));
    expect(first).toEqual(['one', 'two', 'four']);
    expect(second).toEqual(['two', 'three', 'four']);
    expect(once).toEqual(['two']);
    expect(driver.listenerCount('message')).toBe(2);
    await driver.close();
  });

  it('a listener added by a listener hears only later messages; a throwing one costs nobody else', async () => {
    const { driver, transport, records } = setup();
    const late: string[] = [];
    const after: string[] = [];
    driver.once('message', () => {
      driver.on('message', (m) => late.push(text(m.data)));
    });
    driver.on('message', () => {
      throw new Error('listener bug');
    });
    driver.on('message', (m) => after.push(text(m.data)));
    transport.feed(flood('bob', 'one'));
    transport.feed(flood('bob', 'two'));
    expect(late).toEqual(['two']);
    expect(after).toEqual(['one', 'two']);
    expect(records.filter((r) => r.message === "a 'message' listener threw")).toHaveLength(2);
    await driver.close();
  });
});
