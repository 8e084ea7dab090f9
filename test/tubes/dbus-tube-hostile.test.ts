import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Logger } from '../../src/base/logger.js';
import { DBusTube, DBUS_TUBE_QUEUE_BYTES } from '../../src/tubes/dbus-tube.js';
import { encodeDBusMessage } from '../../src/tubes/dbus-marshal.js';
import { DBUS_SPEC_MAX_MESSAGE_BYTES, type DBusMessage } from '../../src/tubes/dbus-message.js';
import type { DBusTubeDrop, DBusTubeIncoming } from '../../src/tubes/dbus-tube-types.js';
import { tubeDBusName } from '../../src/tubes/tube-dbus-name.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';
import { FakeTubeRoom, recordIncoming } from './dbus-tube-kit.js';

const seed = propertySeed();
const A = 'alice@laptop';
const B = 'bob@desk';
const C = 'carol@tablet';
const IFACE = 'com.example.Chess';

/** A tube of A's in which B and C are recorded, with what reaches its application and what it drops. */
function tubeOfA(options: { maxQueuedBytes?: number; maxMessageBytes?: number; attach?: boolean } = {}) {
  const sent: Uint8Array[] = [];
  const tube = new DBusTube({ selfName: A, link: { send: (bytes) => sent.push(bytes) }, ...options });
  tube.memberJoinedTube(B, tubeDBusName(B));
  tube.memberJoinedTube(C, tubeDBusName(C));
  const seen: DBusTubeIncoming[] = options.attach === false ? [] : recordIncoming(tube);
  const drops: DBusTubeDrop[] = [];
  tube.on('dropped', (drop) => drops.push(drop));
  return { tube, seen, drops, sent };
}

function signalFrom(member: string, fields: Partial<DBusMessage['fields']> = {}, serial = 1): DBusMessage {
  return { type: 'signal', flags: 1, serial, fields: { path: '/', interface: IFACE, member: 'Moved', sender: tubeDBusName(member), ...fields }, body: [] };
}

const le32 = (bytes: Uint8Array, at: number, value: number): void => new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, value, true);

describe('DBusTube drops hostile input and counts it', () => {
  it('a forged or missing SENDER', () => {
    const { tube, seen, drops } = tubeOfA();
    tube.received(B, encodeDBusMessage(signalFrom(B, { sender: tubeDBusName(C) }))); // B claims to be C
    tube.received(B, encodeDBusMessage(signalFrom(B, { sender: tube.uniqueName }))); // B claims to be us
    const noSender = signalFrom(B);
    delete noSender.fields.sender;
    tube.received(B, encodeDBusMessage(noSender));
    expect(seen).toEqual([]);
    expect(tube.dropped['forged-sender']).toBe(3);
    expect(drops.map((d) => [d.reason, d.member])).toEqual([['forged-sender', B], ['forged-sender', B], ['forged-sender', B]]);
    tube.received(B, encodeDBusMessage(signalFrom(B)));
    expect(seen.map((m) => m.sender)).toEqual([B]);
  });

  it('a destination other than our name; a broadcast and our own name are kept', () => {
    const { tube, seen } = tubeOfA();
    tube.received(B, encodeDBusMessage(signalFrom(B, { destination: tubeDBusName(C) })));
    tube.received(B, encodeDBusMessage(signalFrom(B, { destination: 'com.example.WellKnown' })));
    tube.received(B, encodeDBusMessage(signalFrom(B, { destination: tube.uniqueName })));
    tube.received(B, encodeDBusMessage(signalFrom(B)));
    expect(tube.dropped['wrong-destination']).toBe(2);
    expect(seen.map((m) => m.destination)).toEqual([tube.uniqueName, undefined]);
  });

  it('bytes from a member with no name in the tube, or after the tube closed', () => {
    const { tube, seen } = tubeOfA();
    tube.received('mallory@nowhere', encodeDBusMessage(signalFrom('mallory@nowhere')));
    tube.received(A, encodeDBusMessage(signalFrom(A))); // rMulticast never echoes us: not a member of our own tube
    tube.memberLeftTube(C);
    tube.received(C, encodeDBusMessage(signalFrom(C)));
    expect(tube.dropped['unknown-member']).toBe(3);
    tube.close();
    tube.received(B, encodeDBusMessage(signalFrom(B)));
    expect(tube.dropped.closed).toBe(1);
    expect(seen).toEqual([]);
  });

  it('truncated and malformed messages', () => {
    const { tube, seen } = tubeOfA();
    const good = encodeDBusMessage({ ...signalFrom(B), fields: { ...signalFrom(B).fields, signature: 's' }, body: ['hello'] });
    for (const cut of [0, 1, 15, 16, 40, good.length - 1]) tube.received(B, good.subarray(0, cut));
    const extended = new Uint8Array(good.length + 8);
    extended.set(good);
    tube.received(B, extended);
    const fds = encodeDBusMessage(signalFrom(B, { unixFds: 1 }));
    tube.received(B, fds);
    expect(tube.dropped.malformed).toBe(8);
    expect(seen).toEqual([]);
    tube.received(B, good);
    expect(seen.map((m) => m.body)).toEqual([['hello']]);
  });

  it('what a drop reports stays short, however long the hostile text it quotes', () => {
    const { tube, drops } = tubeOfA();
    const bytes = encodeDBusMessage({ ...signalFrom(B), fields: { ...signalFrom(B).fields, signature: 's' }, body: ['x'.repeat(10_000)] });
    const at = Buffer.from(bytes).indexOf(Buffer.from([0x08, 0x01, 0x67, 0x00, 0x01, 0x73, 0x00]));
    bytes[at + 5] = 0x6f; // the body's signature becomes 'o': a 10 000-character object path that is not one
    tube.received(B, bytes);
    expect(drops.map((d) => d.reason)).toEqual(['malformed']);
    expect(drops[0]!.detail.length).toBeLessThanOrEqual(201);
  });

  it('huge claims are refused from the header, before any allocation; 128 MiB holds as the ceiling', () => {
    const { tube } = tubeOfA();
    const claim = (bodyLength: number): Uint8Array => {
      const bytes = encodeDBusMessage(signalFrom(B));
      le32(bytes, 4, bodyLength);
      return bytes;
    };
    tube.received(B, claim(DBUS_SPEC_MAX_MESSAGE_BYTES)); // 128 MiB
    tube.received(B, claim(0xffff_ffff)); // 4 GiB
    expect(tube.dropped['too-large']).toBe(2);
    // even a tube told to read up to 4 GiB keeps D-Bus's 128 MiB ceiling, and a claim the blob does not back is malformed
    const wide = tubeOfA({ maxMessageBytes: 0xffff_ffff }).tube;
    wide.received(B, claim(0xffff_ffff));
    expect(wide.dropped['too-large']).toBe(1);
    wide.received(B, claim(DBUS_SPEC_MAX_MESSAGE_BYTES - 1024));
    expect(wide.dropped.malformed).toBe(1);
    // an array inside that claims 128 MiB: beyond D-Bus's 64 MiB array limit
    const array = encodeDBusMessage({ ...signalFrom(B), fields: { ...signalFrom(B).fields, signature: 'ay' }, body: [new Uint8Array(8)] });
    le32(array, array.length - 12, 128 * 1024 * 1024);
    wide.received(B, array);
    expect(wide.dropped['too-large']).toBe(2);
  });

  it('a real message above the read limit (default 4 MiB) is dropped as too large', () => {
    const { tube, seen } = tubeOfA();
    const big = encodeDBusMessage({ ...signalFrom(B), fields: { ...signalFrom(B).fields, signature: 'ay' }, body: [new Uint8Array(4 * 1024 * 1024)] });
    tube.received(B, big);
    expect(tube.dropped['too-large']).toBe(1);
    expect(seen).toEqual([]);
  });

  it('a listener that throws costs nothing else', () => {
    const { tube, seen } = tubeOfA({ attach: false });
    tube.on('signal', () => {
      throw new Error('application bug');
    });
    const after = recordIncoming(tube);
    tube.received(B, encodeDBusMessage(signalFrom(B)));
    expect(after).toHaveLength(1);
    expect(seen).toEqual([]);
  });
});

describe('DBusTube queue until the application attaches', () => {
  const CHUNK = 100 * 1024;
  const bigSignal = (serial: number): Uint8Array =>
    encodeDBusMessage({ ...signalFrom(B, {}, serial), fields: { ...signalFrom(B).fields, signature: 'ay' }, body: [new Uint8Array(CHUNK).fill(serial & 0xff)] });

  it('keeps up to 4 MiB of messages, drops and counts the rest, and delivers the kept ones in order on attach()', () => {
    const { tube } = tubeOfA({ attach: false });
    const size = bigSignal(1).length;
    const total = 60; // about 6 MiB
    for (let serial = 1; serial <= total; serial++) tube.received(B, bigSignal(serial));
    const kept = Math.floor(DBUS_TUBE_QUEUE_BYTES / size);
    expect(kept).toBeLessThan(total);
    expect(tube.queuedBytes).toBe(kept * size);
    expect(tube.queuedBytes).toBeLessThanOrEqual(DBUS_TUBE_QUEUE_BYTES);
    expect(tube.dropped['queue-full']).toBe(total - kept);
    const seen = recordIncoming(tube); // attaches
    expect(seen.map((m) => m.serial)).toEqual(Array.from({ length: kept }, (_, i) => i + 1));
    expect(tube.queuedBytes).toBe(0);
    // once attached nothing waits and nothing is dropped for room
    for (let serial = total + 1; serial <= total + 50; serial++) tube.received(B, bigSignal(serial));
    expect(seen).toHaveLength(kept + 50);
    expect(tube.dropped['queue-full']).toBe(total - kept);
  });

  it('the first listener attaches at the next microtask, so listeners added together all see the queue; our own broadcasts wait too', async () => {
    const { tube, sent } = tubeOfA({ attach: false });
    tube.received(B, encodeDBusMessage(signalFrom(B, {}, 1)));
    tube.emitSignal({ path: '/', interface: IFACE, member: 'Mine' });
    expect(sent).toHaveLength(1); // on the wire at once
    const signals: string[] = [];
    const calls: string[] = [];
    tube.on('signal', (s) => signals.push(`${s.sender} ${s.member}`));
    tube.on('method-call', (c) => calls.push(c.member));
    expect(signals).toEqual([]);
    await Promise.resolve();
    expect(tube.attached).toBe(true);
    expect(signals).toEqual([`${B} Moved`, `${A} Mine`]);
  });

  it('a small bound is honoured exactly (messages of any size)', () => {
    const { tube } = tubeOfA({ attach: false, maxQueuedBytes: 1000 });
    const small = encodeDBusMessage(signalFrom(B)); // under 100 bytes
    let received = 0;
    while (tube.dropped['queue-full'] === 0) {
      tube.received(B, small);
      received += 1;
    }
    expect(tube.queuedBytes).toBe((received - 1) * small.length);
    expect(tube.queuedBytes + small.length).toBeGreaterThan(1000);
  });
});

describe('DBusTube fuzzed', () => {
  const good = encodeDBusMessage({
    type: 'method_call',
    flags: 0,
    serial: 7,
    fields: { path: '/a', interface: IFACE, member: 'Move', destination: tubeDBusName(A), sender: tubeDBusName(B), signature: 'sa{sv}' },
    body: ['e4', [['k', { signature: 'u', value: 1 }]]],
  });
  /** A valid message from B with bytes changed, cut or added: reaches the deeper checks. */
  const mutated = fc
    .tuple(
      fc.array(fc.tuple(fc.nat({ max: good.length - 1 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.nat({ max: good.length }),
      fc.uint8Array({ maxLength: 16 }),
    )
    .map(([flips, cut, tail]) => {
      const bytes = Uint8Array.from(good);
      for (const [at, value] of flips) bytes[at] = value;
      const out = new Uint8Array(cut + tail.length);
      out.set(bytes.subarray(0, cut));
      out.set(tail, cut);
      return out;
    });
  const input = fc.tuple(fc.constantFrom(B, C, 'mallory@nowhere'), fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated, fc.constant(good)));

  it(`received() never throws, counts everything it does not keep, and stays within its bounds (seed ${seed})`, () => {
    assertProperty(
      fc.property(fc.array(input, { maxLength: 60 }), fc.boolean(), (inputs, attached) => {
        const quiet = new Logger({ level: 'silent' });
        const tube = new DBusTube({ selfName: A, link: { send: () => undefined }, logger: quiet, maxQueuedBytes: 2000 });
        tube.memberJoinedTube(B, tubeDBusName(B));
        tube.memberJoinedTube(C, tubeDBusName(C));
        const seen = attached ? recordIncoming(tube) : [];
        for (const [member, bytes] of inputs) tube.received(member, bytes);
        const dropped = Object.values(tube.dropped).reduce((x, y) => x + y, 0);
        const drain = recordIncoming(tube); // attaches: what was queued
        if (attached) expect(drain).toEqual([]);
        expect(seen.length + drain.length + dropped).toBe(inputs.length);
        expect(tube.queuedBytes).toBe(0);
        for (const m of [...seen, ...drain]) {
          expect(tube.members.get(m.sender)).toBe(m.uniqueName);
          expect([undefined, tube.uniqueName]).toContain(m.destination);
        }
        expect(tube.pendingCalls).toBe(0);
        expect([...tube.members.keys()]).toEqual([B, C]);
      }),
      seed,
      { numRuns: 300 },
    );
  });

  it(`an unattached tube never holds more than its bound, whatever arrives (seed ${seed})`, () => {
    assertProperty(
      fc.property(fc.array(fc.oneof(mutated, fc.constant(good)), { maxLength: 200 }), (inputs) => {
        const tube = new DBusTube({ selfName: A, link: { send: () => undefined }, maxQueuedBytes: 1500 });
        tube.memberJoinedTube(B, tubeDBusName(B));
        for (const bytes of inputs) {
          tube.received(B, bytes);
          expect(tube.queuedBytes).toBeLessThanOrEqual(1500);
        }
      }),
      seed,
      { numRuns: 200 },
    );
  });
});
