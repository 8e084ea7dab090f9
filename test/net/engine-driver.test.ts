import { afterEach, describe, expect, it } from 'vitest';
import { Logger, type LogRecord } from '../../src/base/logger.js';
import { SeededRandom } from '../../src/base/random.js';
import { DriverError } from '../../src/net/driver-error.js';
import { EngineDriver, type DriverMessage, type EngineDriverOptions } from '../../src/net/engine-driver.js';
import { UdpMulticastTransport } from '../../src/net/udp-multicast-transport.js';
import type { MulticastEngine } from '../../src/rmcast/engine-types.js';
import { encodePacket } from '../../src/wire/codec.js';
import { FloodingEngine, type FloodingEngineOptions } from '../support/flooding-engine.js';
import { LOOPBACK, rawSender, testGroup } from '../support/multicast-helpers.js';
import { sleep, waitFor } from '../support/wait.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

const drivers: EngineDriver[] = [];
let seed = 1;

async function node(
  name: string,
  where: { group: string; port: number },
  engineOptions: Partial<FloodingEngineOptions> = {},
  driverOptions: EngineDriverOptions = {},
  engine: MulticastEngine = new FloodingEngine({ name, random: new SeededRandom(seed++), heartbeatMs: 100, ...engineOptions }),
): Promise<EngineDriver> {
  const transport = await UdpMulticastTransport.open({ ...where, interfaceAddress: LOOPBACK });
  const driver = new EngineDriver(engine, transport, { datagramCheck: 'none', ...driverOptions });
  drivers.push(driver);
  driver.start();
  return driver;
}

afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.close()));
});

describe('EngineDriver over UDP loopback multicast', () => {
  it('connects, exchanges messages in both directions and reports members', async () => {
    const where = testGroup();
    const alice = await node('alice', where);
    expect(alice.state).toBe('connected');
    const bob = await node('bob', where);
    const joined: string[][] = [];
    alice.on('members-joined', (names) => joined.push(names));
    const atAlice: DriverMessage[] = [];
    const atBob: DriverMessage[] = [];
    alice.on('message', (m) => atAlice.push(m));
    bob.on('message', (m) => atBob.push(m));
    await waitFor('alice and bob to see each other', () => bob.members.includes('alice') && alice.members.includes('bob'));
    alice.send(0, text('hello bob'));
    bob.send(7, text('hello alice'));
    await waitFor('one message each way', () => atAlice.length === 1 && atBob.length === 1);
    expect(atBob[0]).toMatchObject({ sender: 'alice', streamId: 0 });
    expect(decode(atBob[0]!.data)).toBe('hello bob');
    expect(atAlice[0]).toMatchObject({ sender: 'bob', streamId: 7 });
    expect(joined).toEqual([['bob']]);
    expect(alice.stats.datagramsOut).toBeGreaterThanOrEqual(2);
  });

  it('offers messages as an async iterator that ends when the node leaves', async () => {
    const where = testGroup();
    const alice = await node('alice', where);
    const bob = await node('bob', where);
    const received: string[] = [];
    const reading = (async () => {
      for await (const message of bob.messages()) received.push(decode(message.data));
    })();
    await waitFor('alice to see bob', () => alice.members.includes('bob'));
    for (const word of ['one', 'two', 'three']) alice.send(0, text(word));
    await waitFor('three messages through the iterator', () => received.length === 3);
    const lost = new Promise<string[]>((resolve) => alice.once('members-lost', resolve));
    const why = new Promise<string>((resolve) => alice.once('members-lost', (_names, reason) => resolve(reason)));
    let disconnected = false;
    bob.on('disconnected', () => (disconnected = true));
    await bob.leave();
    expect(disconnected).toBe(true);
    await reading; // ended by the leave
    expect(received).toEqual(['one', 'two', 'three']);
    expect(await lost).toEqual(['bob']);
    expect(await why).toBe('left'); // the engine's reason, passed on
    expect(() => bob.send(0, text('late'))).toThrow(DriverError);
  });

  it('runs the engine timer in real time (heartbeats, silence detection)', async () => {
    const where = testGroup();
    const fast = { heartbeatMs: 40, silenceMs: 400 };
    const alice = await node('alice', where, fast);
    const bob = await node('bob', where, fast);
    await waitFor('alice to see bob', () => alice.members.includes('bob'));
    await sleep(300);
    expect(alice.members).toEqual(['bob']); // heartbeats keep bob alive
    const lost = new Promise<string[]>((resolve) => alice.once('members-lost', resolve));
    const why = new Promise<string>((resolve) => alice.once('members-lost', (_names, reason) => resolve(reason)));
    await bob.close(); // no goodbye: only silence tells
    expect(await lost).toEqual(['bob']);
    expect(await why).toBe('failed');
  });

  it('counts and logs malformed datagrams without feeding or failing the engine', async () => {
    const where = testGroup();
    const records: LogRecord[] = [];
    const logger = new Logger({ level: 'debug', sink: (r) => records.push(r) });
    const engine = new RecordingEngine();
    const alice = await node('alice', where, {}, { datagramCheck: 'clique', logger }, engine);
    const errors: unknown[] = [];
    alice.on('error', (e) => errors.push(e));
    const raw = await rawSender();
    const whois = encodePacket({ type: 'whois-request', sender: 0x01020304, queriedId: 5 });
    const truncatedSession = encodePacket({ type: 'session', sender: 0xabcdef01, positions: [{ senderId: 1, packetId: 2 }] }).subarray(0, 15);
    try {
      await raw.send(text('not clique at all'), where.group, where.port);
      await raw.send(truncatedSession, where.group, where.port);
      await raw.send(whois, where.group, where.port);
      await waitFor('two malformed datagrams and one good one', () => engine.received.length >= 1 && alice.stats.malformed === 2);
    } finally {
      raw.close();
    }
    expect(engine.received.map((b) => b.length)).toEqual([whois.length]);
    expect(errors).toEqual([]);
    const dropped = records.filter((r) => r.message === 'dropped malformed datagram').map((r) => r.fields);
    expect(dropped).toEqual([
      expect.objectContaining({ type: 'not a Clique packet' }),
      expect.objectContaining({ type: 'session', sender: 0xabcdef01, reason: 'truncated' }),
    ]);
  });

  it('turns an engine exception into an error event and keeps running', async () => {
    const where = testGroup();
    const engine = new FloodingEngine({ name: 'alice', random: new SeededRandom(2) });
    const realReceive = engine.receive.bind(engine);
    let calls = 0;
    engine.receive = (bytes, now) => {
      if (++calls === 2) throw new Error('engine bug');
      realReceive(bytes, now);
    };
    const alice = await node('alice', where, {}, {}, engine);
    const errors: DriverError[] = [];
    alice.on('error', (e) => errors.push(e as DriverError));
    const bob = await node('bob', where);
    await waitFor('the engine error', () => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(DriverError);
    expect(errors[0]!.code).toBe('engine-failed');
    expect(errors[0]!.message).toMatch(/engine failed in receive: engine bug/);
    bob.send(0, text('still alive?'));
    const got: string[] = [];
    alice.on('message', (m) => got.push(decode(m.data)));
    await waitFor('a message after the failure', () => got.length === 1);
  });

  it('keeps a throwing listener from breaking the driver', async () => {
    const where = testGroup();
    const alice = await node('alice', where);
    const bob = await node('bob', where);
    bob.on('message', () => {
      throw new Error('listener bug');
    });
    const reader = bob.messages();
    await waitFor('alice to see bob', () => alice.members.includes('bob'));
    alice.send(0, text('first'));
    alice.send(0, text('second'));
    expect(decode((await reader.next()).value!.data)).toBe('first');
    expect(decode((await reader.next()).value!.data)).toBe('second');
    expect(bob.state).toBe('connected');
  });

  it('runs every listener even when one throws, and logs the throw', async () => {
    const where = testGroup();
    const records: LogRecord[] = [];
    const alice = await node('alice', where);
    const bob = await node('bob', where, {}, { logger: new Logger({ level: 'error', sink: (r) => records.push(r) }) });
    const got: string[] = [];
    bob.on('message', () => {
      throw new Error('first listener bug');
    });
    bob.on('message', (m) => got.push(decode(m.data)));
    await waitFor('alice to see bob', () => alice.members.includes('bob'));
    alice.send(0, text('one'));
    alice.send(0, text('two'));
    await waitFor('both messages at the second listener', () => got.length === 2);
    expect(got).toEqual(['one', 'two']);
    expect(records.filter((r) => r.message === "a 'message' listener threw").map((r) => r.fields)).toEqual([
      { error: 'first listener bug' },
      { error: 'first listener bug' },
    ]);
  });

  it('fails a stalled messages() reader with a typed error instead of buffering forever', async () => {
    const where = testGroup();
    const alice = await node('alice', where);
    const bob = await node('bob', where, {}, { maxBufferedMessages: 3 });
    const errors: DriverError[] = [];
    bob.on('error', (e) => errors.push(e as DriverError));
    const stalled = bob.messages();
    const got: string[] = [];
    bob.on('message', (m) => got.push(decode(m.data)));
    await waitFor('alice to see bob', () => alice.members.includes('bob'));
    for (let i = 0; i < 5; i++) alice.send(0, text(`m${i}`));
    await waitFor('all five messages at the listener', () => got.length === 5);
    expect(errors.map((e) => e.code)).toEqual(['backlog-overflow']);
    await expect(stalled.next()).rejects.toMatchObject({ code: 'backlog-overflow' });
  });
});

/** Sends nothing, records what it is fed. */
class RecordingEngine implements MulticastEngine {
  /** Tests set it to play acknowledgements arriving. */
  unacknowledgedPackets = 0;
  readonly name = 'recorder';
  readonly state = 'connected' as const;
  readonly senderId = 1;
  readonly members: string[] = [];
  readonly received: Uint8Array[] = [];
  start(): void {}
  receive(bytes: Uint8Array): void {
    this.received.push(bytes);
  }
  send(): void {}
  tick(): void {}
  leave(): void {}
  failMember(): void {}
  drain(): { datagrams: Uint8Array[]; events: [] } {
    return { datagrams: [], events: [] };
  }
  nextDeadline(): undefined {
    return undefined;
  }
}

describe('EngineDriver flow control', () => {
  it('wakes a waiting sender when acknowledgements free the window, and emits acknowledged', async () => {
    const engine = new RecordingEngine();
    engine.unacknowledgedPackets = 300;
    const where = testGroup();
    const driver = await node('flow', where, {}, {}, engine);
    const seen: number[] = [];
    driver.on('acknowledged', (n) => seen.push(n));
    const raw = await rawSender();
    let woken = false;
    const waiting = driver.whenUnacknowledgedAtMost(100).then(() => (woken = true));
    // Acks arrive (any datagram makes the driver look again): 200 left, still above the limit.
    engine.unacknowledgedPackets = 200;
    await raw.send(encodePacket({ type: 'session', sender: 7, positions: [] }), where.group, where.port);
    await waitFor('first acknowledged event', () => seen.length === 1);
    expect(woken).toBe(false);
    engine.unacknowledgedPackets = 50;
    await raw.send(encodePacket({ type: 'session', sender: 7, positions: [] }), where.group, where.port);
    await waiting;
    raw.close();
    expect(seen).toEqual([200, 50]);
    // Already within the window: resolves at once.
    await driver.whenUnacknowledgedAtMost(100);
  });

  it('wakes a waiting sender when the node closes, and emits closed', async () => {
    const engine = new RecordingEngine();
    engine.unacknowledgedPackets = 300;
    const driver = await node('flow', testGroup(), {}, {}, engine);
    let closedEvents = 0;
    driver.on('closed', () => closedEvents++);
    let woken = false;
    const waiting = driver.whenUnacknowledgedAtMost(100).then(() => (woken = true));
    await sleep(20);
    expect(woken).toBe(false);
    await driver.close();
    await waiting;
    expect(closedEvents).toBe(1);
    expect(driver.listenerCount('acknowledged')).toBe(0);
    expect(driver.listenerCount('closed')).toBe(1);
    // Closed: later waits resolve at once (the next send fails with its own error).
    await driver.whenUnacknowledgedAtMost(100);
  });
});
