import { describe, expect, it } from 'vitest';
import { assertHistory } from '../../src/testing/delivery-checker.js';
import { dropPacketTypes, SimulatedNetwork, type DatagramFilter, type SimNode } from '../../src/testing/simulated-network.js';
import { decodePacket } from '../../src/wire/codec.js';
import type { DataPacket } from '../../src/wire/packet.js';
import { decode, rmcast, scenarioSeeds, text, viewIs, withSeed } from '../support/scenario.js';

/**
 * The original's mesh.py scenarios (spec rmulticast.md A.8.3), re-created on
 * the simulated network with the real engine. Loss is per datagram and per
 * receiving node, as in mesh.py's `dropchance`. Every scenario's deadline is
 * the original's 60 s (of virtual time) unless the protocol needs longer.
 */
const factory = rmcast();

function startMesh(net: SimulatedNetwork, names: string[]): SimNode[] {
  // mesh.py spawns the processes one after the other; they start within a few hundred ms.
  return names.map((name, i) => {
    if (i > 0) net.runFor(50 + (net.seed % 7) * 10);
    return net.addNode(name, factory);
  });
}

function lost(node: SimNode): string[] {
  return node.eventsOf('members-lost').flatMap((e) => e.names);
}

function textsFrom(node: SimNode, sender: string): string[] {
  return node.deliveredNow.filter((d) => d.sender === sender).map((d) => decode(d.data));
}

/** Each delivery came from a sender that the receiver listed as a member at that moment. */
function sendersWereMembers(node: SimNode): void {
  const members = new Set<string>();
  for (const { event } of node.events.filter((e) => e.incarnation === node.incarnation)) {
    if (event.type === 'members-joined') event.names.forEach((n) => members.add(n));
    if (event.type === 'members-lost') event.names.forEach((n) => members.delete(n));
    if (event.type === 'message') expect(members.has(event.sender), `${node.name} got a message from non-member ${event.sender}`).toBe(true);
  }
}

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/**
 * Watches one sender's DATA packets on the wire: which message each packet id
 * carries and which observers physically received a copy (from anyone). A
 * message that no survivor ever received is gone once its sender has left, and
 * so is everything after it (FIFO): at 30 % loss and a one-second BYE window
 * that happens in a few percent of runs, in the original as here. The
 * assertion is therefore "every observer delivers exactly the recoverable
 * prefix", which is all ten whenever the network allowed it.
 */
class Witness {
  /** Test hook on the sender's outgoing datagrams (true = drop), applied before the witness records them. */
  outgoingFilter: DatagramFilter | undefined;
  readonly incomingFilter = new Map<SimNode, () => boolean>();
  private readonly messageOf = new Map<number, number>(); // packet id -> message index
  private readonly received = new Map<SimNode, Set<number>>(); // observer -> message indexes

  constructor(
    private readonly sender: SimNode,
    private readonly observers: SimNode[],
  ) {
    sender.dropOutgoing = (bytes, header) => {
      if (header?.type === 'data') {
        const packet = decodePacket(bytes) as DataPacket;
        if (!this.messageOf.has(packet.packetId)) this.messageOf.set(packet.packetId, this.messageOf.size);
      }
      return this.outgoingFilter?.(bytes, header) ?? false;
    };
    for (const observer of observers) {
      this.received.set(observer, new Set());
      observer.dropIncoming = (bytes, header) => {
        if (this.incomingFilter.get(observer)?.()) return true;
        if (header?.type === 'data' && header.sender === sender.engine.senderId) {
          const index = this.messageOf.get((decodePacket(bytes) as DataPacket).packetId);
          if (index !== undefined) this.received.get(observer)!.add(index);
        }
        return false;
      };
    }
  }

  /** The messages up to (not including) the first one no observer ever received. */
  recoverable(): string[] {
    let count = 0;
    while (count < DIGITS.length && this.observers.some((o) => this.received.get(o)!.has(count))) count++;
    return DIGITS.slice(0, count);
  }

  /** How many leading messages this observer received itself. */
  heardBy(observer: SimNode): number {
    let count = 0;
    while (this.received.get(observer)!.has(count)) count++;
    return count;
  }

  note(seed: number): void {
    const n = this.recoverable().length;
    if (n < DIGITS.length) console.log(`seed ${seed}: message ${n} of ${this.sender.name} never reached any survivor (lost by the network); ${n} recoverable`);
  }
}

/**
 * simplemeshtest / failmeshtest / failnamemeshtest: node0 sends "0".."9" 100 ms
 * apart once it sees the others; they receive them in order; the last of the
 * group disconnects and node0 sees it leave.
 */
function simpleMesh(seed: number, broken?: (node4: SimNode) => void): void {
  const net = new SimulatedNetwork({ seed, link: { loss: 0.3 } });
  const nodes = startMesh(net, ['node0', 'node1', 'node2', 'node3', 'node4']);
  if (broken !== undefined) broken(nodes[4]!);
  const group = broken === undefined ? nodes : nodes.slice(0, 4);
  const [node0, ...others] = group as [SimNode, ...SimNode[]];
  net.runUntil(viewIs(group), { timeoutMs: 60_000, what: `node0..node${group.length - 1} to see each other` });
  for (const digit of DIGITS) {
    node0.send(0, text(digit));
    net.runFor(100);
  }
  net.runUntil(() => others.every((n) => textsFrom(n, 'node0').length === 10), { timeoutMs: 60_000, what: 'the ten digits everywhere' });
  for (const node of others) {
    expect(textsFrom(node, 'node0'), node.name).toEqual(DIGITS);
    sendersWereMembers(node);
  }
  const last = group[group.length - 1]!;
  last.leave();
  net.runUntil(() => lost(node0).includes(last.name), { timeoutMs: 60_000, what: `node0 to see ${last.name} leave` });
  expect(lost(node0)).toEqual([last.name]);
  const remaining = group.filter((n) => n !== last);
  net.runUntil(viewIs(remaining), { timeoutMs: 60_000, what: 'the others to see the leave too' });
  assertHistory(net.history(), { group: group.filter((n) => n !== last).map((n) => n.name) });
  if (broken !== undefined) {
    // The broken node never became a member of anybody's view.
    for (const node of group) expect(node.eventsOf('members-joined').flatMap((e) => e.names)).not.toContain('node4');
  }
}

/**
 * causalorderingtest: node3 at 50 % loss to everybody; node0..node2 pass a
 * counter round-robin, each sending value+1 once it delivered value; node3
 * delivers 0..50 in order.
 */
function causalOrdering(seed: number): void {
  const net = new SimulatedNetwork({ seed });
  const nodes = startMesh(net, ['node0', 'node1', 'node2', 'node3']);
  for (const other of nodes.slice(0, 3)) net.setLinkBoth(nodes[3]!, other, { loss: 0.5 });
  net.runUntil(viewIs(nodes), { timeoutMs: 120_000, what: 'the 4-node view' });
  // node0..node2 pass a counter round-robin: each sends value+1 once it delivered value.
  const ring = nodes.slice(0, 3);
  ring[0]!.send(0, text('0'));
  for (let value = 1; value <= 50; value++) {
    const sender = ring[value % 3]!;
    net.runUntil(() => textsFrom(sender, ring[(value - 1) % 3]!.name).includes(String(value - 1)), {
      timeoutMs: 60_000,
      what: `${sender.name} to deliver ${value - 1}`,
    });
    sender.send(0, text(String(value)));
  }
  const observer = nodes[3]!;
  net.runUntil(() => observer.deliveredNow.length === 51, { timeoutMs: 60_000, what: 'node3 to deliver 0..50' });
  expect(observer.deliveredNow.map((d) => Number(decode(d.data)))).toEqual(Array.from({ length: 51 }, (_, i) => i));
  net.runFor(2000);
  assertHistory(net.history());
}

/** died-node: a member unplugged during a join does not stop a newcomer joining. */
function diedNode(seed: number): void {
  const net = new SimulatedNetwork({ seed, link: { loss: 0.3 } });
  const [node, failnode] = startMesh(net, ['node', 'failnode']) as [SimNode, SimNode];
  net.runUntil(viewIs([node, failnode]), { timeoutMs: 60_000, what: 'node and failnode together' });
  net.crash(failnode);
  const joinnode = net.addNode('joinnode', factory);
  // Gathering (~5 s) + JOIN timeout (30 s) + a failure round, as in the original's trace 3.
  net.runUntil(() => node.members.includes('joinnode'), { timeoutMs: 120_000, what: 'node to see joinnode' });
  net.runUntil(viewIs([node, joinnode]), { timeoutMs: 60_000, what: 'node and joinnode alone' });
  expect(lost(node)).toEqual(['failnode']);
  node.send(0, text('welcome'));
  net.runUntil(() => textsFrom(joinnode, 'node').includes('welcome'), { timeoutMs: 60_000, what: 'joinnode to get a message' });
  assertHistory(net.history());
}

describe('scenarios: the original mesh tests', () => {
  for (const seed of scenarioSeeds(6)) {
    it(`simplemeshtest: 5 nodes at 30% loss, ten ordered messages, a leave (seed ${seed})`, () => {
      withSeed(seed, () => simpleMesh(seed));
    });
  }

  for (const seed of scenarioSeeds(4)) {
    it(`failmeshtest: a node that never sends ATTEMPT_JOIN does not break the other four (seed ${seed})`, () => {
      withSeed(seed, () => simpleMesh(seed, (node4) => (node4.dropOutgoing = dropPacketTypes('attempt-join'))));
    });

    it(`failnamemeshtest: a node that never answers WHOIS does not break the other four (seed ${seed})`, () => {
      withSeed(seed, () => simpleMesh(seed, (node4) => (node4.dropOutgoing = dropPacketTypes('whois-reply'))));
    });
  }

  for (const seed of scenarioSeeds(6)) {
    it(`causalorderingtest: a node at 50% loss delivers a relayed counter in causal order (seed ${seed})`, () => {
      withSeed(seed, () => causalOrdering(seed));
    });
  }

  for (const seed of scenarioSeeds(6)) {
    it(`repair-after-fail: the last three messages exist only in repairs after node0 says BYE (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: { loss: 0.3 } });
        const nodes = startMesh(net, ['node0', 'node1', 'node2', 'node3', 'node4']);
        const [node0, ...observers] = nodes as [SimNode, ...SimNode[]];
        net.runUntil(viewIs(nodes), { timeoutMs: 60_000, what: 'the 5-node view' });
        const witness = new Witness(node0, observers);
        let suppress = false;
        // node0's own DATA transmissions vanish from the 8th message until its first BYE goes out.
        witness.outgoingFilter = (_bytes, header) => {
          if (header?.type === 'bye') suppress = false;
          return suppress && header?.type === 'data';
        };
        DIGITS.forEach((digit, i) => {
          if (i === 7) suppress = true;
          node0.send(0, text(digit));
          net.runFor(100);
        });
        node0.leave();
        net.runUntil(() => observers.every((n) => lost(n).includes('node0')), { timeoutMs: 60_000, what: 'every observer to see node0 leave' });
        const expected = witness.recoverable();
        for (const node of observers) {
          expect(textsFrom(node, 'node0'), node.name).toEqual(expected);
          const lostAt = node.eventsOf('members-lost')[0]!.time;
          expect(node.deliveredNow.every((d) => d.time <= lostAt), `${node.name} got data after node0 was lost`).toBe(true);
          expect(lost(node), `${node.name}: only node0 may leave`).toEqual(['node0']);
        }
        witness.note(seed);
        assertHistory(net.history());
      });
    });
  }

  for (const seed of scenarioSeeds(6)) {
    it(`repair-after-node-disconnected: a deaf retriever fails the departed node0 and repairs from the others (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: { loss: 0.3 } });
        const nodes = startMesh(net, ['node0', 'node1', 'node2', 'node3', 'retriever']);
        const [node0, ...rest] = nodes as [SimNode, ...SimNode[]];
        const retriever = nodes[4]!;
        net.runUntil(viewIs(nodes), { timeoutMs: 60_000, what: 'the 5-node view' });
        const witness = new Witness(node0, rest);
        let deaf = false;
        witness.incomingFilter.set(retriever, () => deaf);
        DIGITS.forEach((digit, i) => {
          if (i === 7) deaf = true;
          node0.send(0, text(digit));
          net.runFor(100);
        });
        node0.leave();
        net.runUntil(() => node0.status === 'left', { timeoutMs: 10_000, what: 'node0 to finish leaving' });
        deaf = false;
        retriever.failMember('node0');
        const expected = witness.recoverable();
        net.runUntil(() => textsFrom(retriever, 'node0').length >= expected.length, { timeoutMs: 60_000, what: `the retriever to get ${expected.join('')}` });
        net.runUntil(() => rest.every((n) => lost(n).includes('node0')), { timeoutMs: 60_000, what: 'everybody to see node0 gone' });
        for (const node of rest) {
          expect(textsFrom(node, 'node0'), node.name).toEqual(expected);
          expect(lost(node), node.name).toEqual(['node0']);
        }
        expect(expected.length, 'the retriever heard at most the first seven itself').toBeGreaterThanOrEqual(witness.heardBy(retriever));
        witness.note(seed);
        assertHistory(net.history());
      });
    });
  }

  for (const seed of scenarioSeeds(6)) {
    it(`died-node: a member unplugged during a join does not stop a newcomer joining (seed ${seed})`, () => {
      withSeed(seed, () => diedNode(seed));
    });
  }
});

/**
 * Seeds that once failed to form the view (about 4 in 1,000 runs of
 * failmeshtest and causalorderingtest): members freed packets that a
 * newcomer's start position, taken from another member's ATTEMPT_JOIN, still
 * pointed at, while they had no start for the newcomer (sender-stability.ts,
 * acksCount; newcomer-repairs.test.ts). Replayed on every run.
 */
describe('scenarios: regression seeds (view formation)', () => {
  for (const seed of [4019154786, 3987821033]) {
    it(`failmeshtest (seed ${seed})`, () => {
      withSeed(seed, () => simpleMesh(seed, (node4) => (node4.dropOutgoing = dropPacketTypes('attempt-join'))));
    });
  }
  for (const seed of [1792510251, 118443377]) {
    it(`causalorderingtest (seed ${seed})`, () => {
      withSeed(seed, () => causalOrdering(seed));
    });
  }
  // The newcomer's side (pre-start-stash.ts): the retriever dropped a packet
  // of node0's it heard before it had node0's start, took a start pointing at
  // it from node2's ATTEMPT_JOIN, and nobody held it any more; its join timed
  // out and failed the whole group (CI, 2026-11-28).
  for (const seed of [1809160769]) {
    it(`repair-after-node-disconnected's 5-node view at 30 % loss (seed ${seed})`, () => {
      withSeed(seed, () => {
        const net = new SimulatedNetwork({ seed, link: { loss: 0.3 } });
        const nodes = startMesh(net, ['node0', 'node1', 'node2', 'node3', 'retriever']);
        net.runUntil(viewIs(nodes), { timeoutMs: 60_000, what: 'the 5-node view' });
        for (const node of nodes) expect(node.eventsOf('reset'), node.name).toEqual([]);
      });
    });
  }
});
