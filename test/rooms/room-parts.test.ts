import { EventEmitter } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/base/logger.js';
import type { GroupLink } from '../../src/rooms/group-link.js';
import { AsyncQueue } from '../../src/base/async-queue.js';
import { FlowControlledSender } from '../../src/rooms/flow-controlled-sender.js';
import { RecentIds } from '../../src/rooms/recent-ids.js';
import { RoomError } from '../../src/rooms/room-error.js';
import { Room } from '../../src/rooms/room.js';
import type { RoomMessage } from '../../src/rooms/room-types.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

/** Unit tests of the room's parts, with a fake group (the real-socket tests are in rooms-*.test.ts). */
const seed = propertySeed();

class FakeDriver extends EventEmitter {
  state: 'connecting' | 'connected' | 'leaving' | 'closed' = 'connected';
  readonly sent: Uint8Array[] = [];
  readonly unacknowledged = 0;
  refuse = false;
  send(_stream: number, data: Uint8Array): void {
    if (this.refuse) throw new Error('engine says no');
    this.sent.push(data);
  }
  leave(): Promise<void> {
    this.state = 'closed';
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  /** A real driver resolves when acknowledgements free the window; here: soon, and the sender looks again. */
  whenUnacknowledgedAtMost(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const asDriver = (fake: FakeDriver): GroupLink => fake;

function fakeRoom(): { room: Room; driver: FakeDriver } {
  const driver = new FakeDriver();
  const room = new Room({
    name: 'lunch',
    selfName: 'me@here',
    address: '239.255.71.1',
    port: 4000,
    creator: true,
    group: asDriver(driver),
    advertising: undefined,
    contacts: undefined,
    history: undefined,
    invite: undefined,
    settings: { nick: undefined, status: 'avail', statusMessage: undefined, joinWaitMs: 60_000, maxStanzaBytes: 4096, maxQueuedSends: 10, maxBufferedMessages: 3, lossWindowMs: 5_000 },
    logger: silentLogger,
    onClosed: () => undefined,
  });
  driver.emit('members-joined', ['bob@desk']);
  return { room, driver };
}

describe('AsyncQueue', () => {
  it('hands values to waiting readers, buffers up to its limit, then fails once and ends', async () => {
    let detached = 0;
    const queue = new AsyncQueue<number>(2, () => new RoomError('backlog-overflow', 'too slow'), () => detached++);
    const first = queue.next();
    expect(queue.push(1)).toBe(true);
    expect(await first).toEqual({ value: 1, done: false });
    expect(queue.push(2)).toBe(true);
    expect(queue.push(3)).toBe(true);
    expect(queue.push(4)).toBe(false); // over the limit: the buffer is dropped, the reader fails
    await expect(queue.next()).rejects.toMatchObject({ code: 'backlog-overflow' });
    expect(await queue.next()).toEqual({ value: undefined, done: true });
    expect(detached).toBe(1);
  });

  it('end() lets buffered values drain first; return() stops at once', async () => {
    const queue = new AsyncQueue<string>(10, () => new Error('x'), () => undefined);
    queue.push('a');
    queue.end();
    expect(await queue.next()).toEqual({ value: 'a', done: false });
    expect(await queue.next()).toEqual({ value: undefined, done: true });
    const other = new AsyncQueue<string>(10, () => new Error('x'), () => undefined);
    other.push('b');
    await other.return();
    expect(await other.next()).toEqual({ value: undefined, done: true });
  });
});

describe('RecentIds', () => {
  it('refuses an id its sender already used, per sender, and forgets the oldest beyond capacity', () => {
    const ids = new RecentIds(3);
    expect(ids.add('a', '1')).toBe(true);
    expect(ids.add('a', '1')).toBe(false);
    expect(ids.add('b', '1')).toBe(true);
    expect(ids.add('a', '2')).toBe(true);
    expect(ids.add('a', '3')).toBe(true); // evicts a/1
    expect(ids.add('a', '1')).toBe(true);
  });
});

describe('FlowControlledSender', () => {
  it('sends in order, holds sends while the window is full, reports a refusal and fails what waits when closed', async () => {
    const driver = new FakeDriver();
    let unacked = 0;
    const sender = new FlowControlledSender(asDriver(driver), 4);
    Object.defineProperty(sender, 'unacknowledged', { get: () => unacked });
    const send = (n: number): Promise<void> =>
      new Promise((resolve, reject) => sender.send(0, Uint8Array.of(n), (error) => (error === undefined ? resolve() : reject(error))));
    unacked = 4; // window full
    const sends = [1, 2, 3].map(send);
    await new Promise((r) => setTimeout(r, 30));
    expect(driver.sent).toHaveLength(0);
    unacked = 0;
    await Promise.all(sends);
    expect(driver.sent.map((d) => d[0])).toEqual([1, 2, 3]);
    driver.refuse = true;
    await expect(send(4)).rejects.toMatchObject({ code: 'send-failed' });
    driver.refuse = false;
    unacked = 4;
    const pending = send(5);
    sender.close(new RoomError('not-joined', 'bye'));
    await expect(pending).rejects.toMatchObject({ code: 'not-joined' });
    await expect(send(6)).rejects.toMatchObject({ code: 'not-joined' });
    expect(driver.sent.map((d) => d[0])).toEqual([1, 2, 3]);
  });
});

describe('Room receive path (fake driver)', () => {
  it('any bytes on stream 0 are either a message for the room or refused: never a throw, never from anyone but the sender', () => {
    const { room, driver } = fakeRoom();
    const delivered: RoomMessage[] = [];
    let refused = 0;
    room.on('message', (m) => delivered.push(m));
    room.on('rejected', () => refused++);
    const stanzaText = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.constantFrom(
        '<message xmlns="jabber:client" to="lunch" type="groupchat"><body>hi</body></message>',
        '<message to="lunch" from="eve@x"><body>forged</body></message>',
        '<!DOCTYPE x [<!ENTITY a "b">]><message to="lunch"><body>&a;</body></message>',
        '<message to="lunch"><subject>t</subject></message>',
        '<presence to="lunch"><show>dnd</show></presence>',
      ),
    );
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      stanzaText.map((s) => new TextEncoder().encode(s)),
      fc.tuple(stanzaText, fc.integer({ min: 0, max: 100 })).map(([s, cut]) => new TextEncoder().encode(s).slice(0, cut)),
    );
    assertProperty(
      fc.property(input, fc.constantFrom('bob@desk', 'eve@x'), (bytes, sender) => {
        const before = delivered.length + refused;
        expect(() => driver.emit('message', { sender, senderId: 1, streamId: 0, data: bytes })).not.toThrow();
        const after = delivered.length + refused;
        expect(after - before).toBeLessThanOrEqual(1);
        for (const m of delivered.slice(before)) expect(m.sender).toBe(sender);
      }),
      seed,
      { numRuns: 1000 },
    );
    // A stanza above the room limit (4096 bytes here) is refused as too large.
    driver.emit('message', { sender: 'bob@desk', senderId: 1, streamId: 0, data: new TextEncoder().encode(`<message to="lunch"><body>${'x'.repeat(5000)}</body></message>`) });
    expect(room.stats.rejected).toBeGreaterThan(0);
    // The room still works afterwards.
    const count = delivered.length;
    driver.emit('message', { sender: 'bob@desk', senderId: 1, streamId: 0, data: new TextEncoder().encode('<message xmlns="jabber:client" to="lunch" type="groupchat"><body>still fine</body></message>') });
    expect(delivered.slice(count).map((m) => m.text)).toEqual(['still fine']);
  });

  it('a throwing listener costs neither the room nor the process', () => {
    const { room, driver } = fakeRoom();
    const seen: string[] = [];
    room.on('message', () => {
      throw new Error('application bug');
    });
    room.on('message', (m) => seen.push(m.text));
    const send = (text: string): void => {
      driver.emit('message', { sender: 'bob@desk', senderId: 1, streamId: 0, data: new TextEncoder().encode(`<message xmlns="jabber:client" to="lunch" type="groupchat"><body>${text}</body></message>`) });
    };
    expect(() => send('one')).not.toThrow();
    send('two');
    expect(seen).toEqual(['one', 'two']); // the other listener still hears every message
  });

  it('a messages() reader that falls too far behind is cut off with backlog-overflow', async () => {
    const { room, driver } = fakeRoom();
    const errors: string[] = [];
    room.on('error', (e) => errors.push(e.code));
    const reader = room.messages();
    for (let i = 0; i < 5; i++) {
      driver.emit('message', { sender: 'bob@desk', senderId: 1, streamId: 0, data: new TextEncoder().encode(`<message to="lunch" type="groupchat"><body>${i}</body></message>`) });
    }
    await expect(reader.next()).rejects.toMatchObject({ code: 'backlog-overflow' });
    expect(errors).toEqual(['backlog-overflow']);
  });
});
