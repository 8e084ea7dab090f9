import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeDBusMessage } from '../../src/tubes/dbus-marshal.js';
import type { DBusTubeMethodCall, DBusTubeSignal } from '../../src/tubes/dbus-tube-types.js';
import { decodeDBusMessage } from '../../src/tubes/dbus-unmarshal.js';
import { tubeDBusName } from '../../src/tubes/tube-dbus-name.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';
import { FakeTubeRoom, recordIncoming } from './dbus-tube-kit.js';

const seed = propertySeed();
const A = 'alice@laptop';
const B = 'bob@desk';
const C = 'carol@tablet';
const IFACE = 'com.example.Chess';

function signalsOf(seen: readonly { kind: string }[]): DBusTubeSignal[] {
  return seen.filter((m): m is DBusTubeSignal => m.kind === 'signal');
}

describe('DBusTube between three members', () => {
  it('a signal from one reaches the two others exactly once and the sender locally once', () => {
    const room = new FakeTubeRoom([A, B, C]);
    const seen = new Map([A, B, C].map((name) => [name, recordIncoming(room.tube(name))]));
    room.tube(A).emitSignal({ path: '/board', interface: IFACE, member: 'Moved', signature: 'su', body: ['e2e4', 1] });
    // the sender hears its own broadcast at once; the others once delivered
    expect(signalsOf(seen.get(A)!)).toHaveLength(1);
    expect(signalsOf(seen.get(B)!)).toHaveLength(0);
    room.deliver();
    for (const name of [A, B, C]) {
      const signals = signalsOf(seen.get(name)!);
      expect(signals, name).toHaveLength(1);
      expect(signals[0]).toMatchObject({
        kind: 'signal',
        sender: A,
        uniqueName: tubeDBusName(A),
        path: '/board',
        interface: IFACE,
        member: 'Moved',
        signature: 'su',
        body: ['e2e4', 1],
      });
      expect(signals[0]!.destination).toBeUndefined();
    }
    // one rMulticast message on the wire, stamped with A's tube-local name
    expect(room.sent.get(A)).toHaveLength(1);
    const wire = decodeDBusMessage(room.sent.get(A)![0]!);
    expect(wire.fields.sender).toBe(tubeDBusName(A));
    expect(wire.serial).toBeGreaterThan(0);
    for (const name of [A, B, C]) expect(Object.values(room.tube(name).dropped).reduce((x, y) => x + y, 0), name).toBe(0);
  });

  it(`signals from all three reach everyone exactly once, in each sender's order, under any interleaving (seed ${seed})`, () => {
    assertProperty(
      fc.property(
        fc.array(fc.constantFrom(A, B, C), { minLength: 1, maxLength: 30 }),
        fc.infiniteStream(fc.nat()),
        (senders, picks) => {
          const room = new FakeTubeRoom([A, B, C]);
          const seen = new Map([A, B, C].map((name) => [name, recordIncoming(room.tube(name))]));
          const expected = new Map<string, number[]>([A, B, C].map((name) => [name, []]));
          senders.forEach((sender, i) => {
            room.tube(sender).emitSignal({ path: '/', interface: IFACE, member: 'Tick', signature: 'u', body: [i] });
            expected.get(sender)!.push(i);
          });
          const pick = picks[Symbol.iterator]();
          room.deliver(() => pick.next().value as number);
          for (const receiver of [A, B, C]) {
            const signals = signalsOf(seen.get(receiver)!);
            expect(signals).toHaveLength(senders.length);
            for (const sender of [A, B, C]) {
              expect(signals.filter((s) => s.sender === sender).map((s) => s.body[0])).toEqual(expected.get(sender));
              expect(signals.filter((s) => s.sender === sender).every((s) => s.uniqueName === tubeDBusName(sender))).toBe(true);
            }
          }
        },
      ),
      seed,
      { numRuns: 100 },
    );
  });

  it('a method call gets its return, and the third member drops the unicast traffic as not addressed to it', async () => {
    const room = new FakeTubeRoom([A, B, C]);
    const calls: DBusTubeMethodCall[] = [];
    room.tube(B).on('method-call', (call) => {
      calls.push(call);
      room.tube(B).reply(call, { signature: 's', body: [`pong ${String(call.body[0])}`] });
    });
    const cSeen = recordIncoming(room.tube(C));
    room.tube(B).attach();
    const answer = room.tube(A).callMethod({ destination: tubeDBusName(B), path: '/game', interface: IFACE, member: 'Ping', signature: 's', body: ['hi'] });
    room.deliver();
    const reply = await answer;
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ sender: A, uniqueName: tubeDBusName(A), destination: tubeDBusName(B), path: '/game', interface: IFACE, member: 'Ping', noReplyExpected: false });
    expect(reply).toMatchObject({ kind: 'return', sender: B, uniqueName: tubeDBusName(B), destination: tubeDBusName(A), signature: 's', body: ['pong hi'] });
    expect(reply.message.fields.replySerial).toBe(calls[0]!.serial);
    expect(room.tube(A).pendingCalls).toBe(0);
    expect(cSeen).toEqual([]);
    expect(room.tube(C).dropped['wrong-destination']).toBe(2); // the call and the return
  });

  it('an error reply resolves the call as an error with its name and text', async () => {
    const room = new FakeTubeRoom([A, B, C]);
    room.tube(C).on('method-call', (call) => room.tube(C).replyError(call, 'com.example.Chess.Error.IllegalMove', 'knights do not fly'));
    const answer = room.tube(A).callMethod({ destination: tubeDBusName(C), path: '/', interface: IFACE, member: 'Move', signature: 's', body: ['Nz9'] });
    await Promise.resolve(); // the first listener attaches at the next microtask
    room.deliver();
    expect(await answer).toMatchObject({ kind: 'error', sender: C, errorName: 'com.example.Chess.Error.IllegalMove', errorMessage: 'knights do not fly', signature: 's' });
  });

  it('a method call to our own name is answered locally and never reaches the wire', async () => {
    const room = new FakeTubeRoom([A, B]);
    const a = room.tube(A);
    a.on('method-call', (call) => a.reply(call, { signature: 'u', body: [42] }));
    a.attach();
    const reply = await a.callMethod({ destination: a.uniqueName, path: '/', member: 'Answer' });
    expect(reply).toMatchObject({ kind: 'return', sender: A, uniqueName: a.uniqueName, body: [42] });
    expect(room.sent.get(A)).toEqual([]);
  });

  it('a unicast signal reaches its destination only; a broadcast method call reaches everyone and the caller', () => {
    const room = new FakeTubeRoom([A, B, C]);
    const seen = new Map([A, B, C].map((name) => [name, recordIncoming(room.tube(name))]));
    room.tube(A).emitSignal({ path: '/', interface: IFACE, member: 'Whisper', destination: tubeDBusName(B) });
    room.deliver();
    expect(seen.get(A)).toEqual([]);
    expect(seen.get(B)!.map((m) => m.member)).toEqual(['Whisper']);
    expect(seen.get(C)).toEqual([]);
    expect(room.tube(C).dropped['wrong-destination']).toBe(1);
  });

  it('byte arrays handed to the application are copies, even when the link delivers a Buffer it reuses', () => {
    const room = new FakeTubeRoom([A, B]);
    const seen = recordIncoming(room.tube(B));
    room.tube(A).emitSignal({ path: '/', interface: IFACE, member: 'Blob', signature: 'ay', body: [Uint8Array.of(1, 2, 3)] });
    const reused = Buffer.from(room.sent.get(A)![0]!);
    room.tube(B).received(A, reused);
    reused.fill(0);
    expect(seen[0]!.body[0]).toEqual(Uint8Array.of(1, 2, 3));
    expect(Buffer.isBuffer(seen[0]!.body[0])).toBe(false);
  });

  it('reads big-endian messages as well as little-endian ones', () => {
    const room = new FakeTubeRoom([A, B], { endian: 'big' });
    const seen = recordIncoming(room.tube(B));
    room.tube(A).emitSignal({ path: '/', interface: IFACE, member: 'Big', signature: 'x', body: [-5n] });
    expect(room.sent.get(A)![0]![0]).toBe(0x42); // 'B'
    room.deliver();
    expect(seen.map((m) => m.body)).toEqual([[-5n]]);
  });

  it('an async iterator attaches and yields calls and signals in order; close ends it', async () => {
    const room = new FakeTubeRoom([A, B]);
    const b = room.tube(B);
    room.tube(A).emitSignal({ path: '/', interface: IFACE, member: 'One' });
    room.deliver(); // queued: B has not attached
    expect(b.attached).toBe(false);
    const reader = b[Symbol.asyncIterator]();
    expect(b.attached).toBe(true);
    void room.tube(A).callMethod({ destination: b.uniqueName, path: '/', member: 'Two' }).catch(() => undefined);
    room.deliver();
    b.close();
    const got: string[] = [];
    for await (const m of { [Symbol.asyncIterator]: () => reader }) got.push(`${m.kind} ${m.member}`);
    expect(got).toEqual(['signal One', 'method-call Two']);
  });
});

describe('DBusTube readers', () => {
  it('a reader that falls too far behind is cut off; listeners and other readers carry on', async () => {
    const room = new FakeTubeRoom([A, B], { maxReaderBacklog: 2 });
    const b = room.tube(B);
    const slow = b[Symbol.asyncIterator]();
    const seen = recordIncoming(b);
    for (let i = 0; i < 3; i++) room.tube(A).emitSignal({ path: '/', interface: IFACE, member: 'S' });
    room.deliver();
    await expect(slow.next()).rejects.toMatchObject({ code: 'reader-overflow' });
    expect(seen).toHaveLength(3);
    const fresh = b[Symbol.asyncIterator]();
    room.tube(A).emitSignal({ path: '/', interface: IFACE, member: 'Later' });
    room.deliver();
    expect((await fresh.next()).value).toMatchObject({ member: 'Later' });
  });
});

describe('DBusTube calls and replies', () => {
  it('refuses a call to a name nobody in the tube has', async () => {
    const room = new FakeTubeRoom([A, B]);
    await expect(room.tube(A).callMethod({ destination: ':2.bm9ib2R5', path: '/', member: 'M' })).rejects.toMatchObject({ code: 'unknown-destination' });
    expect(room.sent.get(A)).toEqual([]);
  });

  it('an abort rejects with its reason, and the late reply is dropped as unexpected', async () => {
    const room = new FakeTubeRoom([A, B]);
    room.tube(B).on('method-call', (call) => room.tube(B).reply(call));
    await Promise.resolve();
    const controller = new AbortController();
    const answer = room.tube(A).callMethod({ destination: tubeDBusName(B), path: '/', member: 'Slow', signal: controller.signal });
    controller.abort(new Error('gave up'));
    await expect(answer).rejects.toThrow('gave up');
    expect(room.tube(A).pendingCalls).toBe(0);
    room.deliver();
    expect(room.tube(A).dropped['unexpected-reply']).toBe(1);
    // an already aborted signal sends nothing
    const sentBefore = room.sent.get(A)!.length;
    await expect(room.tube(A).callMethod({ destination: tubeDBusName(B), path: '/', member: 'M', signal: controller.signal })).rejects.toThrow('gave up');
    expect(room.sent.get(A)!.length).toBe(sentBefore);
  });

  it('bounds the calls awaiting a reply', async () => {
    const room = new FakeTubeRoom([A, B], { maxPendingCalls: 3 });
    const calls = [1, 2, 3].map(() => room.tube(A).callMethod({ destination: tubeDBusName(B), path: '/', member: 'M' }));
    await expect(room.tube(A).callMethod({ destination: tubeDBusName(B), path: '/', member: 'M' })).rejects.toMatchObject({ code: 'too-many-calls' });
    expect(room.tube(A).pendingCalls).toBe(3);
    room.tube(A).close();
    for (const call of calls) await expect(call).rejects.toMatchObject({ code: 'tube-closed' });
  });

  it('a callee leaving the tube fails the calls awaiting it', async () => {
    const room = new FakeTubeRoom([A, B, C]);
    const toB = room.tube(A).callMethod({ destination: tubeDBusName(B), path: '/', member: 'M' });
    const toC = room.tube(A).callMethod({ destination: tubeDBusName(C), path: '/', member: 'M' });
    room.tube(A).memberLeftTube(B);
    await expect(toB).rejects.toMatchObject({ code: 'peer-left' });
    expect(room.tube(A).pendingCalls).toBe(1);
    room.tube(A).close();
    await expect(toC).rejects.toMatchObject({ code: 'tube-closed' });
  });

  it('a reply must come from the callee: the same serial answered by another member is dropped', async () => {
    const room = new FakeTubeRoom([A, B, C]);
    const a = room.tube(A);
    const answer = a.callMethod({ destination: tubeDBusName(B), path: '/', member: 'M' });
    const serial = decodeDBusMessage(room.sent.get(A)![0]!).serial;
    const fromC = encodeDBusMessage({
      type: 'method_return',
      flags: 1,
      serial: 9,
      fields: { replySerial: serial, destination: a.uniqueName, sender: tubeDBusName(C), signature: 's' },
      body: ['not yours to answer'],
    });
    a.received(C, fromC);
    expect(a.dropped['unexpected-reply']).toBe(1);
    expect(a.pendingCalls).toBe(1);
    room.tube(B).on('method-call', (call) => room.tube(B).reply(call, { signature: 's', body: ['mine'] }));
    await Promise.resolve();
    room.deliver();
    expect(await answer).toMatchObject({ kind: 'return', sender: B, body: ['mine'] });
  });

  it('answers each call once, and sends nothing to a caller that expects no reply', () => {
    const room = new FakeTubeRoom([A, B]);
    const calls = recordIncoming(room.tube(B)) as DBusTubeMethodCall[];
    room.tube(A).callMethod({ destination: tubeDBusName(B), path: '/', member: 'M' }).catch(() => undefined);
    room.deliver();
    room.tube(B).reply(calls[0]!);
    expect(() => room.tube(B).reply(calls[0]!)).toThrow(expect.objectContaining({ code: 'already-replied' }));
    expect(() => room.tube(B).replyError(calls[0]!, 'a.b', 'x')).toThrow(expect.objectContaining({ code: 'already-replied' }));
    expect(room.sent.get(B)).toHaveLength(1);
    // a call flagged NO_REPLY_EXPECTED: reply() and replyError() send nothing, once
    const quiet = encodeDBusMessage({ type: 'method_call', flags: 1, serial: 99, fields: { path: '/', member: 'Fire', sender: tubeDBusName(A) }, body: [] });
    room.tube(B).received(A, quiet);
    const fire = calls[1]!;
    expect(fire).toMatchObject({ member: 'Fire', noReplyExpected: true });
    room.tube(B).replyError(fire, 'a.b', 'x');
    expect(room.sent.get(B)).toHaveLength(1);
    expect(() => room.tube(B).reply(fire)).toThrow(expect.objectContaining({ code: 'already-replied' }));
    room.tube(A).close();
  });

  it('refuses bad member names and names already taken', () => {
    const room = new FakeTubeRoom([A, B]);
    const a = room.tube(A);
    expect(a.memberJoinedTube(A, ':2.x')).toBe(false); // ourselves
    expect(a.memberJoinedTube(C, a.uniqueName)).toBe(false); // our name
    expect(a.memberJoinedTube(C, tubeDBusName(B))).toBe(false); // B's name
    expect(a.memberJoinedTube(C, 'com.example.WellKnown')).toBe(false); // not unique
    expect(a.memberJoinedTube(C, ':bad name')).toBe(false);
    expect([...a.members.keys()]).toEqual([B]);
    expect(a.memberJoinedTube(C, tubeDBusName(C))).toBe(true);
    expect(a.memberJoinedTube(C, tubeDBusName(C))).toBe(true); // again: unchanged
    expect(a.members.get(C)).toBe(tubeDBusName(C));
  });

  it('a signal we send is stamped with our name and fresh serials even when the caller supplies none', () => {
    const room = new FakeTubeRoom([A, B]);
    for (let i = 0; i < 3; i++) room.tube(A).emitSignal({ path: '/', interface: IFACE, member: 'S' });
    const serials = room.sent.get(A)!.map((bytes) => decodeDBusMessage(bytes).serial);
    expect(new Set(serials).size).toBe(3);
    expect(room.sent.get(A)!.every((bytes) => decodeDBusMessage(bytes).fields.sender === tubeDBusName(A))).toBe(true);
  });
});
