import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/base/random.js';
import { DEFAULT_TIMING } from '../../src/rmcast/engine-defaults.js';
import type { EngineContext } from '../../src/rmcast/engine-context.js';
import { HINT_AGE_MS } from '../../src/rmcast/repair-hints.js';
import { BACKUP_ANSWERERS, RepairAnswerPolicy } from '../../src/rmcast/repair-suppression.js';
import { SenderRecord, SenderState, type CacheEntry } from '../../src/rmcast/sender-record.js';
import { assertHistory } from '../../src/testing/delivery-checker.js';
import { SimulatedNetwork, type SimNode } from '../../src/testing/simulated-network.js';
import { decodePacket } from '../../src/wire/codec.js';
import { isReliable, type Packet } from '../../src/wire/packet.js';
import { addStaggered, rmcast, scenarioSeeds, viewIs, withSeed } from '../support/scenario.js';

/**
 * Who answers a repair request (repair-suppression.ts) and the originator's
 * unasked re-sends (repair-hints.ts), issue 10.
 */

function policyWith(seed: number): { policy: RepairAnswerPolicy; clock: { now: number } } {
  const clock = { now: 1000 };
  const ctx: Pick<EngineContext, 'timing' | 'random' | 'now'> = {
    timing: DEFAULT_TIMING,
    random: new SeededRandom(seed),
    now: () => clock.now,
  };
  // The policy reads only timing, random and now.
  return { policy: new RepairAnswerPolicy(ctx as EngineContext), clock };
}

const entry = (): CacheEntry => ({ processed: true, repeating: false });
const [LOW, HIGH] = DEFAULT_TIMING.repairAnswerDelay;
/** Other holders' window: one after the originator's, plus a tenth of one for request skew and the copy's travel. */
const BACKUP_WINDOW = [HIGH + HIGH / 10, 2 * HIGH + HIGH / 10];

function record(isOwn: boolean, state: SenderState = SenderState.DataRunning): SenderRecord {
  const r = new SenderRecord(isOwn ? 1 : 2, 0, isOwn);
  r.state = state;
  return r;
}

describe('RepairAnswerPolicy', () => {
  it('the originator answers every request in the usual window', () => {
    const { policy, clock } = policyWith(1);
    const own = record(true);
    const e = entry();
    for (let i = 0; i < 5; i++) {
      expect(policy.answerWindow(own, e, 19)).toEqual([LOW, HIGH]);
      clock.now += 10;
    }
  });

  it('the originator ignores a request that crossed its unasked re-send, not a later one', () => {
    const { policy, clock } = policyWith(1);
    const own = record(true);
    const e = entry();
    policy.noteResent(e, true);
    clock.now += HINT_AGE_MS - 1;
    expect(policy.answerWindow(own, e, 19)).toBeUndefined();
    clock.now += 1;
    expect(policy.answerWindow(own, e, 19)).toEqual([LOW, HIGH]);
  });

  it('other holders answer one window (and a tenth) after the originator, always once it failed or left', () => {
    const { policy } = policyWith(2);
    for (const state of [SenderState.Failed, SenderState.PendingRemoval]) {
      for (let i = 0; i < 50; i++) expect(policy.answerWindow(record(false, state), entry(), 19)).toEqual(BACKUP_WINDOW);
    }
    // A lone other holder always backs the originator up.
    for (let i = 0; i < 50; i++) expect(policy.answerWindow(record(false), entry(), 1)).toEqual(BACKUP_WINDOW);
  });

  it('while the originator lives, about BACKUP_ANSWERERS holders answer the first round, more each round', () => {
    const holders = 30;
    const { policy, clock } = policyWith(3);
    const entries = Array.from({ length: 3000 }, entry);
    const answered = (): number => entries.filter((e) => policy.answerWindow(record(false), e, holders) !== undefined).length;
    const first = answered() / entries.length;
    expect(first).toBeGreaterThan((0.5 * BACKUP_ANSWERERS) / holders);
    expect(first).toBeLessThan((1.5 * BACKUP_ANSWERERS) / holders);
    // More requests in the same round (another requester) do not roll again.
    clock.now += 2 * HIGH - 1;
    expect(answered()).toBe(0);
    // Round 2 doubles the chance; by round holders / BACKUP_ANSWERERS everybody answers.
    clock.now += 1;
    const second = answered() / entries.length;
    expect(second).toBeGreaterThan(1.5 * first);
    for (let round = 3; round <= Math.ceil(holders / BACKUP_ANSWERERS); round++) {
      clock.now += 2 * HIGH;
      if (round < Math.ceil(holders / BACKUP_ANSWERERS)) answered();
      else expect(answered()).toBe(entries.length);
    }
  });
});

/** Every packet each node sends, decoded, with the sender's name and the time. */
function watch(net: SimulatedNetwork, nodes: readonly SimNode[]): Array<{ from: string; at: number; packet: Packet }> {
  const out: Array<{ from: string; at: number; packet: Packet }> = [];
  for (const node of nodes) {
    node.dropOutgoing = (datagram) => {
      out.push({ from: node.name, at: net.now, packet: decodePacket(datagram) });
      return false;
    };
  }
  return out;
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Drop the first copy of `name`'s DATA packets whose payload is in `payloads`, at `node`. */
function dropFirstCopies(node: SimNode, payloads: readonly string[]): Map<string, number> {
  const dropped = new Map<string, number>();
  node.dropIncoming = (datagram, header) => {
    if (header?.type !== 'data') return false;
    const packet = decodePacket(datagram);
    if (packet.type !== 'data') return false;
    const payload = new TextDecoder().decode(packet.payload);
    if (!payloads.includes(payload) || dropped.has(payload)) return false;
    dropped.set(payload, packet.packetId);
    return true;
  };
  return dropped;
}

describe('repairs in a group (simulated, no loss but chosen drops)', () => {
  for (const seed of scenarioSeeds(2)) {
    it(`a packet one member missed is re-sent once, by its originator; other holders' answers are cancelled by its copy (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: { loss: 0, delay: [1, 5] } });
        const nodes = addStaggered(net, Array.from({ length: 20 }, (_, i) => `n${i}`), rmcast(), 50);
        net.runUntil(viewIs(nodes), { timeoutMs: 60_000, what: 'one view' });
        const [a, b] = [nodes[0]!, nodes[1]!];
        const payloads = Array.from({ length: 12 }, (_, i) => `a:${i}`);
        const dropped = dropFirstCopies(b, payloads.filter((_, i) => i % 2 === 0));
        const sent = watch(net, nodes);
        // Only a speaks, so nothing but b's own repair requests and SESSIONs tells a what b lacks.
        for (const p of payloads) {
          a.send(0, text(p));
          net.runFor(300);
        }
        net.runUntil(() => b.delivered.filter((d) => d.sender === 'n0').length === payloads.length, {
          timeoutMs: 30_000,
          what: 'b to deliver all of a',
        });
        net.runFor(3000);
        expect(dropped.size).toBe(6);
        const copies = sent.filter(
          (s) => s.packet.type === 'data' && dropped.has(new TextDecoder().decode(s.packet.payload)),
        );
        // One original each plus one repair each, all from a.
        expect(copies.filter((c) => c.from !== a.name)).toEqual([]);
        expect(copies.length).toBe(2 * dropped.size);
        assertHistory(net.history());
      });
    });

    it(`the originator re-sends unasked what a member's packet shows it lacks, before it asks (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: { loss: 0, delay: [1, 5] } });
        const nodes = addStaggered(net, ['a', 'b', 'c'], rmcast(), 50);
        net.runUntil(viewIs(nodes), { timeoutMs: 60_000, what: 'one view' });
        const [a, b, c] = [nodes[0]!, nodes[1]!, nodes[2]!];
        const dropped = dropFirstCopies(b, ['a:2']);
        const sent = watch(net, nodes);
        for (let round = 0; round < 5; round++) {
          for (const n of [a, b, c]) n.send(0, text(`${n.name}:${round}`));
          net.runFor(20);
        }
        net.runUntil(() => b.delivered.length === 10 && c.delivered.length === 10 && a.delivered.length === 10, {
          timeoutMs: 30_000,
          what: 'everything delivered',
        });
        net.runFor(3000);
        const x = dropped.get('a:2');
        expect(x).toBeDefined();
        const requests = sent.filter((s) => s.packet.type === 'repair-request' && s.packet.packetId === x);
        expect(requests).toEqual([]);
        const copies = sent.filter(
          (s) => isReliable(s.packet) && s.packet.type === 'data' && new TextDecoder().decode(s.packet.payload) === 'a:2',
        );
        expect(copies.map((s) => s.from)).toEqual(['a', 'a']);
        // b's next packet (20 ms later) showed the gap: the copy followed within a few ms of it.
        expect(copies[1]!.at - copies[0]!.at).toBeLessThan(20 + 2 * 5 + 1);
        assertHistory(net.history());
      });
    });
  }
});
