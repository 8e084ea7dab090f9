import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/base/logger.js';
import { SeededRandom } from '../../src/base/random.js';
import { simulatedRoomClock } from '../../src/rooms/room-clock.js';
import { RoomCore } from '../../src/rooms/room-core.js';
import type { GroupAddress } from '../../src/rooms/room-merge.js';
import type { RoomOutput } from '../../src/rooms/room-output.js';
import { buildRoomText, buildTopic, withDelay } from '../../src/rooms/room-stanzas.js';
import { MAX_SENT_LINES } from '../../src/rooms/sent-lines.js';
import type { RoomSettings } from '../../src/rooms/room-setup.js';
import { serializeStanzaDocument, parseStanzaDocument } from '../../src/xml/stanza-document.js';
import { assertProperty, propertySeed } from '../support/fast-check-seed.js';

/*
 * The room core alone: no sockets, no timers, no mDNS. Each test feeds it
 * inputs on a clock the test moves by hand and reads what it asks for.
 */

const seed = propertySeed();
const SETTINGS: RoomSettings = { nick: undefined, status: 'avail', statusMessage: undefined, joinWaitMs: 5_000, maxStanzaBytes: 4096, maxQueuedSends: 8, maxBufferedMessages: 100, lossWindowMs: 5_000 };
const OURS: GroupAddress = { address: '239.255.71.20', port: 5000 };
const THEIRS: GroupAddress = { address: '239.255.71.10', port: 6000 };

interface Harness {
  core: RoomCore;
  now: { value: number };
  /** Everything the core asked for so far, drained. */
  out: RoomOutput[];
  drain(): RoomOutput[];
  listed: { value: GroupAddress | undefined };
}

function harness(options: { creator?: boolean; advertises?: boolean; mayMove?: boolean; selfName?: string; at?: GroupAddress } = {}): Harness {
  const now = { value: 1_000_000 };
  const listed: { value: GroupAddress | undefined } = { value: undefined };
  const at = options.at ?? OURS;
  const core = new RoomCore({
    name: 'lunch',
    selfName: options.selfName ?? 'me@here',
    address: at.address,
    port: at.port,
    creator: options.creator ?? true,
    advertises: options.advertises ?? false,
    mayMove: options.mayMove ?? false,
    listed: () => listed.value,
    contacts: undefined,
    settings: SETTINGS,
    time: simulatedRoomClock(() => now.value, new SeededRandom(seed)),
    logger: silentLogger,
  });
  const out: RoomOutput[] = [];
  return {
    core,
    now,
    out,
    listed,
    drain: () => {
      const batch = core.drain();
      out.push(...batch);
      return batch;
    },
  };
}

const kinds = (outputs: RoomOutput[]): string[] => outputs.map((o) => (o.type === 'event' ? `event:${o.name}` : o.type));
const transmits = (outputs: RoomOutput[]): Array<Extract<RoomOutput, { type: 'transmit' }>> => outputs.filter((o) => o.type === 'transmit');
const bodies = (outputs: RoomOutput[]): string[] =>
  transmits(outputs).map((t) => {
    const stanza = parseStanzaDocument(t.bytes);
    return stanza.getChildText('body') ?? stanza.name;
  });
const text = (from: string, body: string, id: string): Uint8Array => serializeStanzaDocument(buildRoomText({ from, room: 'lunch', kind: 'normal', text: body, id }));

describe(`RoomCore without I/O (seed ${seed}; replay with CLIQUE_SEED=${seed})`, () => {
  it('a joiner waits for the others or the join deadline; what it sends meanwhile goes out only once it is a member', () => {
    const h = harness({ creator: false });
    const group = h.core.groupId;
    h.core.groupConnected(group);
    expect(kinds(h.drain())).toEqual(['connected']);
    expect(h.core.state).toBe('joining');
    expect(h.core.nextDeadline()).toBe(h.now.value + SETTINGS.joinWaitMs);
    const ticket = h.core.sendText('early', 'normal', undefined);
    expect(transmits(h.drain())).toEqual([]);
    h.now.value += SETTINGS.joinWaitMs - 1;
    h.core.tick(h.now.value);
    expect(h.drain()).toEqual([]);
    h.now.value += 1;
    h.core.tick(h.now.value);
    const out = h.drain();
    expect(kinds(out)).toEqual(['event:ready', 'transmit']);
    expect(h.core.nextDeadline()).toBeUndefined();
    h.core.transmitted(ticket, group);
    const settled = h.drain().find((o) => o.type === 'settled');
    expect(settled).toMatchObject({ ticket, error: undefined, result: { text: 'early', outgoing: true, sender: 'me@here' } });
  });

  it('seeing the others makes a joiner a member at once (§3.2: the others first, then us)', () => {
    const h = harness({ creator: false });
    h.core.groupConnected(h.core.groupId);
    h.drain();
    h.core.membersJoined(h.core.groupId, ['bob@b']);
    expect(kinds(h.drain())).toEqual(['event:member-joined', 'event:ready']);
    expect(h.core.members.map((m) => m.name)).toEqual(['me@here', 'bob@b']);
    expect(h.core.nextDeadline()).toBeUndefined();
  });

  it('inputs from a group that is not the room’s are ignored', () => {
    const h = harness();
    h.core.groupConnected(h.core.groupId);
    h.drain();
    const stale = h.core.groupId + 7;
    h.core.membersJoined(stale, ['eve@e']);
    h.core.received(stale, { sender: 'eve@e', streamId: 0, data: text('eve@e', 'not here', 'x1') });
    h.core.groupDisconnected(stale);
    expect(h.drain()).toEqual([]);
    expect(h.core.members.map((m) => m.name)).toEqual(['me@here']);
    expect(h.core.state).toBe('joined');
  });

  it('roster: joins, leaves and status reach the user as events; a message id is delivered once', () => {
    const h = harness();
    const g = h.core.groupId;
    h.core.groupConnected(g);
    h.core.membersJoined(g, ['bob@b', 'carol@c']);
    h.drain();
    h.core.received(g, { sender: 'bob@b', streamId: 0, data: text('bob@b', 'hi', 'm1') });
    h.core.received(g, { sender: 'bob@b', streamId: 0, data: text('bob@b', 'hi', 'm1') });
    const out = h.drain();
    expect(kinds(out)).toEqual(['store', 'event:message', 'event:rejected']);
    expect(out.find((o) => o.type === 'event' && o.name === 'rejected')).toMatchObject({ args: [{ code: 'duplicate' }, 'bob@b'] });
    h.core.membersLost(g, ['carol@c'], 'failed');
    expect(h.drain()).toMatchObject([{ type: 'event', name: 'member-left', args: [{ name: 'carol@c' }, 'timed-out'] }]);
    h.core.membersLost(g, ['bob@b'], 'left');
    expect(h.drain()).toMatchObject([{ type: 'event', name: 'member-left', args: [{ name: 'bob@b' }, 'left'] }]);
    h.core.membersJoined(g, ['bob@b']);
    h.drain();
    expect(h.core.members.map((m) => m.name)).toEqual(['me@here', 'bob@b']);
  });

  it('topic: the old member whose name sorts first re-announces it to a newcomer, with the original setter; the others do not', () => {
    for (const [self, reannounces] of [
      ['alice@a', true],
      ['bob@b', false],
    ] as const) {
      const h = harness({ selfName: self });
      const g = h.core.groupId;
      h.core.groupConnected(g);
      h.core.membersJoined(g, [self === 'alice@a' ? 'bob@b' : 'alice@a']);
      h.drain();
      h.core.received(g, { sender: 'bob@b', streamId: 0, data: serializeStanzaDocument(buildTopic({ from: 'bob@b', room: 'lunch', topic: 'pizza', id: 't1' })) });
      expect(h.core.topic).toMatchObject({ topic: 'pizza', setBy: 'bob@b' });
      h.drain();
      h.core.membersJoined(g, ['carol@c']);
      const sent = transmits(h.drain());
      const topics = sent.map((t) => parseStanzaDocument(t.bytes)).filter((s) => s.getChild('subject') !== undefined);
      expect(topics.length, self).toBe(reannounces ? 1 : 0);
      if (reannounces) expect(topics[0]!.elements().find((c) => c.name === 'delay')?.getAttr('from')).toBe('bob@b');
    }
  });

  it('move: alone, our probe lost, the listed group is the room: withdraw nothing, open it, carry the lines said alone and what waits, in order', () => {
    const h = harness({ advertises: true, mayMove: true });
    const g = h.core.groupId;
    h.core.groupConnected(g);
    expect(kinds(h.drain())).toEqual(['connected', 'advertise', 'event:ready']);
    const first = h.core.sendText('said alone 1', 'normal', undefined);
    const second = h.core.sendText('said alone 2', 'normal', undefined);
    h.drain();
    h.core.transmitted(first, g);
    h.drain();
    // The second is still in the old group's queue when the move begins.
    h.listed.value = THEIRS;
    h.core.advertiseSettled(g, 'conflict');
    const opening = h.drain();
    expect(kinds(opening)).toEqual(['open-group']);
    const open = opening[0] as Extract<RoomOutput, { type: 'open-group' }>;
    expect(open).toMatchObject(THEIRS);
    const third = h.core.sendText('while opening', 'normal', undefined);
    h.core.groupOpened(open.group, THEIRS.address, THEIRS.port);
    expect(h.drain()).toEqual(expect.arrayContaining([{ type: 'leave-group', group: g, bye: true }]));
    expect(h.core.groupId).toBe(open.group);
    expect(h.core.address).toBe(THEIRS.address);
    // The old group's queue fails now: nothing is lost, it waits for the new group.
    h.core.transmitFailed(second, g, Object.assign(new Error('gone'), { code: 'not-joined' }) as never);
    expect(h.drain().filter((o) => o.type === 'settled')).toEqual([]);
    h.core.groupConnected(open.group);
    const moved = h.drain();
    expect(kinds(moved)).toContain('event:moved');
    h.core.membersJoined(open.group, ['bob@b']);
    const out = h.drain();
    expect(bodies(out).filter((b) => b.startsWith('said') || b.startsWith('while'))).toEqual(['said alone 1', 'said alone 2', 'while opening']);
    expect(transmits(out).every((t) => t.group === open.group)).toBe(true);
    for (const t of transmits(out)) h.core.transmitted(t.ticket, open.group);
    const settled = h.drain().filter((o) => o.type === 'settled');
    expect(settled.map((o) => o.ticket).sort()).toEqual([second, third].sort());
    expect(h.core.stats.moves).toBe(1);
  });

  it('a room with others never moves, whatever the list shows', () => {
    const h = harness({ advertises: true, mayMove: true });
    const g = h.core.groupId;
    h.core.groupConnected(g);
    h.core.membersJoined(g, ['bob@b']);
    h.listed.value = THEIRS;
    h.core.advertiseSettled(g, 'conflict');
    h.core.listingChanged();
    expect(kinds(h.drain())).not.toContain('open-group');
  });

  it('leave: queued sends fail, BYE, then the withdrawal waits for the probe to settle, then closed and left', () => {
    const h = harness({ creator: false, advertises: true });
    const g = h.core.groupId;
    h.core.groupConnected(g);
    h.drain();
    const waiting = h.core.sendText('never sent', 'normal', undefined);
    h.core.leave('left');
    const out = h.drain();
    expect(out).toEqual([
      { type: 'settled', ticket: waiting, result: undefined, error: expect.objectContaining({ code: 'not-joined' }) },
      { type: 'leave-group', group: g, bye: true },
    ]);
    expect(() => h.core.sendText('too late', 'normal', undefined)).toThrow(expect.objectContaining({ code: 'not-joined' }));
    h.core.groupLeft(g);
    expect(h.drain()).toEqual([]); // the probe is still running
    h.core.advertiseSettled(g, 'advertised');
    expect(h.drain()).toEqual([{ type: 'withdraw', group: g, name: 'lunch' }]);
    h.core.withdrawn(g);
    expect(kinds(h.drain())).toEqual(['closed', 'event:left']);
    expect(h.core.state).toBe('left');
  });

  it('a full queue refuses at once with queue-full, and a stanza above the limit with too-large', () => {
    const h = harness({ creator: false });
    h.core.groupConnected(h.core.groupId);
    for (let i = 0; i < SETTINGS.maxQueuedSends; i++) h.core.sendText(`m${i}`, 'normal', undefined);
    expect(() => h.core.sendText('one more', 'normal', undefined)).toThrow(expect.objectContaining({ code: 'queue-full' }));
    expect(() => h.core.sendText('x'.repeat(5000), 'normal', undefined)).toThrow(expect.objectContaining({ code: 'too-large' }));
  });

  it('no silent loss: a member lost without BYE who comes back gets our lines since shortly before it was lost, with their ids and <delay>; one who said BYE does not', () => {
    for (const reason of ['failed', 'reset', 'left'] as const) {
      const h = harness();
      const g = h.core.groupId;
      h.core.groupConnected(g);
      h.core.membersJoined(g, ['bob@b']);
      h.drain();
      const say = (line: string): void => {
        const ticket = h.core.sendText(line, 'normal', undefined);
        for (const t of transmits(h.drain())) if (t.ticket === ticket) h.core.transmitted(ticket, g);
        h.drain();
      };
      say('long ago');
      h.now.value += SETTINGS.lossWindowMs + 1_000;
      say('heard?'); // within the loss window before bob is declared lost
      h.now.value += 1_000;
      h.core.membersLost(g, ['bob@b'], reason);
      h.drain();
      h.now.value += 1_000;
      say('while bob was away');
      h.now.value += 20_000;
      h.core.membersJoined(g, ['bob@b']);
      const out = h.drain();
      const again = transmits(out).map((t) => parseStanzaDocument(t.bytes)).filter((st) => st.getChildText('body') !== undefined);
      if (reason === 'left') {
        expect(again, reason).toEqual([]);
        continue;
      }
      expect(again.map((st) => st.getChildText('body')), reason).toEqual(['heard?', 'while bob was away']);
      for (const st of again) {
        const delay = st.elements().find((c) => c.name === 'delay');
        expect(delay?.getAttr('from')).toBe('me@here');
        expect(Date.parse(delay?.getAttr('stamp') ?? '')).toBeLessThanOrEqual(h.now.value - 20_000);
      }
      expect(kinds(out)).not.toContain('event:warning');
    }
  });

  it('a line sent again is dropped quietly by whoever has it, and shown with its original time by whoever has not', () => {
    const h = harness();
    const g = h.core.groupId;
    h.core.groupConnected(g);
    h.core.membersJoined(g, ['bob@b']);
    h.drain();
    const said = new Date(h.now.value - 60_000);
    const first = buildRoomText({ from: 'bob@b', room: 'lunch', kind: 'normal', text: 'once', id: 'r1' });
    h.core.received(g, { sender: 'bob@b', streamId: 0, data: serializeStanzaDocument(first) });
    h.core.received(g, { sender: 'bob@b', streamId: 0, data: serializeStanzaDocument(withDelay(first, 'bob@b', said)) });
    const out = h.drain();
    expect(kinds(out)).toEqual(['store', 'event:message']);
    const missed = withDelay(buildRoomText({ from: 'bob@b', room: 'lunch', kind: 'normal', text: 'missed', id: 'r2' }), 'bob@b', said);
    h.core.received(g, { sender: 'bob@b', streamId: 0, data: serializeStanzaDocument(missed) });
    expect(h.drain().find((o) => o.type === 'event' && o.name === 'message')).toMatchObject({ args: [{ text: 'missed', delayedFrom: said }] });
  });

  it('when more was said than the room keeps for a returning member, the user is told which members may have missed lines', () => {
    const h = harness();
    const g = h.core.groupId;
    h.core.groupConnected(g);
    h.core.membersJoined(g, ['bob@b']);
    h.core.membersLost(g, ['bob@b'], 'failed');
    h.drain();
    for (let i = 0; i < MAX_SENT_LINES + 5; i++) {
      const ticket = h.core.sendText(`line ${i}`, 'normal', undefined);
      h.drain();
      h.core.transmitted(ticket, g);
      h.drain();
    }
    h.core.membersJoined(g, ['bob@b']);
    const out = h.drain();
    expect(out.find((o) => o.type === 'event' && o.name === 'warning')).toMatchObject({ args: [{ kind: 'lines-may-be-lost', members: ['bob@b'] }] });
  });

  it('any sequence of inputs: never a throw but a request’s RoomError, each awaited send settled once, nothing sent before membership or to a group not ours', () => {
    type Step =
      | { kind: 'connected' | 'disconnected' | 'left' | 'withdrawn' | 'leave' | 'tick' | 'listing' }
      | { kind: 'joined'; who: string }
      | { kind: 'lost'; who: string; reason: 'left' | 'failed' | 'reset' }
      | { kind: 'advertised'; result: 'advertised' | 'conflict' | 'withdrawn' | 'error' }
      | { kind: 'send'; text: string }
      | { kind: 'message'; who: string; text: string; id: string }
      | { kind: 'taken' | 'refused'; pick: number }
      | { kind: 'opened' | 'open-failed' };
    const who = fc.constantFrom('bob@b', 'carol@c');
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.constantFrom('connected', 'disconnected', 'left', 'withdrawn', 'leave', 'tick', 'listing').map((kind) => ({ kind }) as Step),
      fc.record({ kind: fc.constant('joined'), who }) as fc.Arbitrary<Step>,
      fc.record({ kind: fc.constant('lost'), who, reason: fc.constantFrom('left', 'failed', 'reset') }) as fc.Arbitrary<Step>,
      fc.record({ kind: fc.constant('advertised'), result: fc.constantFrom('advertised', 'conflict', 'withdrawn', 'error') }) as fc.Arbitrary<Step>,
      fc.record({ kind: fc.constant('send'), text: fc.string({ maxLength: 20 }) }) as fc.Arbitrary<Step>,
      fc.record({ kind: fc.constant('message'), who, text: fc.string({ minLength: 1, maxLength: 10 }), id: fc.constantFrom('a', 'b', 'c') }) as fc.Arbitrary<Step>,
      fc.record({ kind: fc.constantFrom('taken', 'refused'), pick: fc.nat() }) as fc.Arbitrary<Step>,
      fc.constantFrom('opened', 'open-failed').map((kind) => ({ kind }) as Step),
    );
    assertProperty(
      fc.property(fc.boolean(), fc.boolean(), fc.array(step, { maxLength: 60 }), (creator, listedElsewhere, steps) => {
        const h = harness({ creator, advertises: true, mayMove: true });
        h.listed.value = listedElsewhere ? THEIRS : undefined;
        const awaited = new Set<number>();
        const settled = new Set<number>();
        const inFlight: Array<{ ticket: number; group: number }> = [];
        let opening: number | undefined;
        let member = false;
        for (const s of steps) {
          const g = h.core.groupId;
          switch (s.kind) {
            case 'connected': h.core.groupConnected(g); break;
            case 'disconnected': h.core.groupDisconnected(g); break;
            case 'left': h.core.groupLeft(g); break;
            case 'withdrawn': h.core.withdrawn(g); break;
            case 'leave': h.core.leave('left'); break;
            case 'tick': h.now.value += 3_000; h.core.tick(h.now.value); break;
            case 'listing': h.core.listingChanged(); break;
            case 'joined': h.core.membersJoined(g, [s.who]); break;
            case 'lost': h.core.membersLost(g, [s.who], s.reason); break;
            case 'advertised': h.core.advertiseSettled(g, s.result === 'error' ? new Error('mdns down') : s.result); break;
            case 'send':
              try {
                awaited.add(h.core.sendText(s.text, 'normal', undefined));
              } catch (error) {
                expect(error).toMatchObject({ name: 'RoomError' });
              }
              break;
            case 'message': h.core.received(g, { sender: s.who, streamId: 0, data: text(s.who, s.text, s.id) }); break;
            case 'taken':
            case 'refused': {
              const sent = inFlight.splice(s.pick % Math.max(1, inFlight.length), 1)[0];
              if (sent === undefined) break;
              if (s.kind === 'taken') h.core.transmitted(sent.ticket, sent.group);
              else h.core.transmitFailed(sent.ticket, sent.group, Object.assign(new Error('no'), { code: 'send-failed' }) as never);
              break;
            }
            case 'opened':
              if (opening !== undefined) h.core.groupOpened(opening, THEIRS.address, THEIRS.port);
              opening = undefined;
              break;
            case 'open-failed':
              if (opening !== undefined) h.core.groupOpenFailed(opening, new Error('no socket'));
              opening = undefined;
              break;
          }
          for (const o of h.drain()) {
            if (o.type === 'event' && o.name === 'ready') member = true;
            if (o.type === 'transmit') {
              expect(member).toBe(true);
              expect(o.group).toBe(h.core.groupId);
              inFlight.push({ ticket: o.ticket, group: o.group });
            }
            if (o.type === 'settled') {
              expect(awaited.has(o.ticket)).toBe(true);
              expect(settled.has(o.ticket)).toBe(false);
              settled.add(o.ticket);
            }
            if (o.type === 'open-group') opening = o.group;
          }
          if (h.core.state === 'left') {
            // Once left, nothing is owed: every awaited send has its answer.
            expect([...awaited].filter((t) => !settled.has(t))).toEqual([]);
          }
        }
      }),
      seed,
      { numRuns: 300 },
    );
  });
});


