import type { EngineEvent, EngineOutput, EngineState, MulticastEngine } from '../../src/rmcast/engine-types.js';
import type { LinkParams, SimNode, SimulatedNetwork } from '../../src/testing/simulated-network.js';
import type { PacketTypeName } from '../../src/wire/packet.js';

/**
 * Two test hooks the engine tests need and SimulatedNetwork has no direct API
 * for: dropping some datagrams on one directed link only (the node-wide
 * `dropOutgoing` cannot tell a repair sent by a third member from the
 * original), and putting hand-made datagrams on the wire (forged packets,
 * probes for someone's id) while seeing what the others answer.
 */

/**
 * Drop the datagrams of `from` that `drop` selects on the link to `to` only;
 * the other links and the loopback still carry them. `params` are the link's
 * parameters for the datagrams that pass (default: the network's default).
 *
 * Works because a link's parameters apply when a datagram leaves its sender,
 * right after the sender's `dropOutgoing` looked at it: the hook sets the link
 * down for exactly the datagrams to drop. Chains with a `dropOutgoing` set before.
 */
export function dropOnLink(
  net: SimulatedNetwork,
  from: SimNode,
  to: SimNode,
  drop: (header: { type: PacketTypeName; sender: number } | undefined, datagram: Uint8Array) => boolean,
  params: Partial<LinkParams> = {},
): void {
  const before = from.dropOutgoing;
  from.dropOutgoing = (datagram, header) => {
    if (before?.(datagram, header) === true) return true;
    net.setLink(from, to, drop(header, datagram) ? 'down' : params);
    return false;
  };
}

/**
 * An engine that speaks no protocol: every payload its node sends goes on the
 * wire verbatim as one datagram, and every datagram that reaches it is
 * recorded. It never joins, so nobody lists it as a member. Its injections
 * count as sends in `net.history()`: keep the delivery checker out of such runs.
 */
export class RawDatagramEngine implements MulticastEngine {
  readonly state: EngineState = 'connected';
  readonly senderId = undefined;
  readonly members: readonly string[] = [];
  readonly unacknowledgedPackets = 0;
  /** Everything that arrived, own datagrams included (loopback), with its virtual time. */
  readonly received: Array<{ time: number; datagram: Uint8Array }> = [];
  private datagrams: Uint8Array[] = [];

  constructor(readonly name: string) {}

  start(): void {}

  receive(datagram: Uint8Array, now: number): void {
    this.received.push({ time: now, datagram: datagram.slice() });
  }

  send(_streamId: number, payload: Uint8Array): void {
    this.datagrams.push(payload.slice());
  }

  tick(): void {}

  leave(): void {}

  failMember(): void {}

  drain(): EngineOutput {
    const out = { datagrams: this.datagrams, events: [] as EngineEvent[] };
    this.datagrams = [];
    return out;
  }

  nextDeadline(): number | undefined {
    return undefined;
  }
}

export interface RawNode {
  node: SimNode;
  engine: RawDatagramEngine;
  /** Put `datagram` on the wire now, from this node, through its links. */
  inject(datagram: Uint8Array): void;
}

/** Add a node driven by a RawDatagramEngine. */
export function addRawNode(net: SimulatedNetwork, name: string): RawNode {
  const engine = new RawDatagramEngine(name);
  const node = net.addNode(name, () => engine);
  return { node, engine, inject: (datagram) => node.send(0, datagram) };
}
