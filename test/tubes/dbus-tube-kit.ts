import { DBusTube } from '../../src/tubes/dbus-tube.js';
import type { DBusTubeIncoming, DBusTubeOptions } from '../../src/tubes/dbus-tube-types.js';
import { tubeDBusName } from '../../src/tubes/tube-dbus-name.js';

/**
 * An in-memory stand-in for a room carrying one D-Bus tube: what a member's
 * link sends is fanned out to every other member, each sender's messages in
 * the order sent (rMulticast's per-sender order). Delivery waits for
 * deliver(): `pick` chooses whose next message goes first, so a test can
 * interleave senders at random.
 */
export class FakeTubeRoom {
  readonly tubes = new Map<string, DBusTube>();
  /** everything each member sent, in order */
  readonly sent = new Map<string, Uint8Array[]>();
  /** per receiver, per sender: bytes not delivered yet */
  private readonly inFlight = new Map<string, Map<string, Uint8Array[]>>();

  constructor(
    names: readonly string[],
    options: Partial<Omit<DBusTubeOptions, 'selfName' | 'link'>> = {},
  ) {
    for (const name of names) {
      this.sent.set(name, []);
      this.inFlight.set(name, new Map());
      this.tubes.set(name, new DBusTube({ ...options, selfName: name, link: { send: (bytes) => this.send(name, bytes) } }));
    }
    // every member announces itself to every other one, as the tube lists would
    for (const [name, tube] of this.tubes) for (const other of names) if (other !== name) tube.memberJoinedTube(other, tubeDBusName(other));
  }

  tube(name: string): DBusTube {
    const tube = this.tubes.get(name);
    if (tube === undefined) throw new Error(`no member ${name}`);
    return tube;
  }

  private send(from: string, bytes: Uint8Array): void {
    this.sent.get(from)!.push(bytes);
    for (const [receiver, queues] of this.inFlight) {
      if (receiver === from) continue; // rMulticast never echoes our own
      const queue = queues.get(from) ?? [];
      queue.push(bytes);
      queues.set(from, queue);
    }
  }

  /** How many messages wait for delivery. */
  get waiting(): number {
    let count = 0;
    for (const queues of this.inFlight.values()) for (const queue of queues.values()) count += queue.length;
    return count;
  }

  /**
   * Delivers until nothing is in flight (replies sent meanwhile included).
   * `pick(n)` chooses one of n non-empty (receiver, sender) queues; default the first.
   */
  deliver(pick: (n: number) => number = () => 0): void {
    for (;;) {
      const ready: [string, string, Uint8Array[]][] = [];
      for (const [receiver, queues] of this.inFlight) for (const [sender, queue] of queues) if (queue.length > 0) ready.push([receiver, sender, queue]);
      if (ready.length === 0) return;
      const [receiver, sender, queue] = ready[pick(ready.length) % ready.length]!;
      this.tube(receiver).received(sender, queue.shift()!);
    }
  }
}

/** Records what a tube hands its application. */
export function recordIncoming(tube: DBusTube): DBusTubeIncoming[] {
  const seen: DBusTubeIncoming[] = [];
  tube.on('signal', (s) => seen.push(s));
  tube.on('method-call', (c) => seen.push(c));
  tube.attach();
  return seen;
}
