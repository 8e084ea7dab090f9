import { createHash } from 'node:crypto';
import { CliqueError } from '../base/clique-error.js';
import type { History, HistoryDelivery, HistorySend, HistoryViewChange } from './delivery-history.js';

/**
 * Checks a run's history against what rMulticast promises (spec rmulticast.md
 * §6, §8): no duplicates, no corruption, per-sender FIFO, causal order and
 * causal completeness, eventual delivery within a shared view, and membership
 * convergence. Causality ("happened-before") is derived from the history only:
 * a node's earlier sends and everything it had delivered before a send precede
 * that send (vector clocks over sender incarnations).
 *
 * Messages are identified by (sender name, stream, exact bytes), so a sender's
 * payloads must be unique; `testPayload` makes such payloads.
 *
 * `seq` in the history must be one total order consistent with time across all
 * nodes (the simulator's record order); view membership is compared with it.
 */

export type ViolationKind =
  | 'setup'
  | 'unknown-message'
  | 'duplicate'
  | 'own-message'
  | 'not-member'
  | 'fifo'
  | 'causal-order'
  | 'causal-gap'
  | 'missing'
  | 'membership'
  | 'view-event';

export interface Violation {
  kind: ViolationKind;
  /** The node (name, with #incarnation after a restart) where it was observed. */
  node: string;
  message: string;
}

export interface CheckOptions {
  /** Names of the nodes expected to share the final view. Default: every node live at the end. */
  group?: readonly string[];
  /** Require every message sent after the final view was shared to reach every group member. Default true. */
  liveness?: boolean;
  /** Require the group's final member lists to converge. Default true. */
  membership?: boolean;
  /** How many violations to print in an error. Default 25. */
  maxReported?: number;
}

export class DeliveryCheckError extends CliqueError {
  readonly violations: Violation[];

  constructor(message: string, violations: Violation[]) {
    super('delivery-check-failed', message);
    this.violations = violations;
  }
}

interface Message {
  send: HistorySend;
  /** `name#incarnation` of the sender. */
  senderKey: string;
  /** Position among the sender incarnation's sends, from 0. */
  ordinal: number;
  vc: Map<string, number> | undefined;
}

interface Interval {
  start: number;
  end: number;
}

/** Payload for tests: unique per (sender, index), self-describing in failure messages. */
export function testPayload(sender: string, index: number, size = 0, fill = 0): Uint8Array {
  const head = new TextEncoder().encode(`${sender}#${index}|`);
  const bytes = new Uint8Array(Math.max(size, head.length));
  bytes.set(head, 0);
  for (let i = head.length; i < bytes.length; i++) bytes[i] = (i * 31 + index * 7 + fill) & 0xff;
  return bytes;
}

export function assertHistory(history: History, options: CheckOptions = {}): void {
  const violations = checkHistory(history, options);
  if (violations.length === 0) return;
  const limit = options.maxReported ?? 25;
  const lines = violations.slice(0, limit).map((v) => `  [${v.kind}] ${v.node}: ${v.message}`);
  if (violations.length > limit) lines.push(`  ... and ${violations.length - limit} more`);
  throw new DeliveryCheckError(
    `delivery check failed (seed ${history.seed}, replay with CLIQUE_SEED=${history.seed}): ` +
      `${violations.length} violation(s)\n${lines.join('\n')}`,
    violations,
  );
}

export function checkHistory(history: History, options: CheckOptions = {}): Violation[] {
  const violations: Violation[] = [];
  const add = (kind: ViolationKind, node: string, message: string): void => {
    violations.push({ kind, node, message });
  };

  // --- index the sends -------------------------------------------------------------------------
  const messages: Message[] = [];
  const byContent = new Map<string, Message>(); // sender name + stream + digest
  const sendsByIncarnation = groupBy(history.sends, (s) => incKey(s.node, s.incarnation));
  for (const [senderKey, sends] of sendsByIncarnation) {
    sends.sort((a, b) => a.seq - b.seq);
    sends.forEach((send, ordinal) => {
      const message: Message = { send, senderKey, ordinal, vc: undefined };
      messages.push(message);
      const key = contentKey(send.node, send.streamId, send.data);
      const clash = byContent.get(key);
      if (clash !== undefined) {
        add('setup', display(send.node, send.incarnation), `payload not unique: ${describe(message)} equals ${describe(clash)}; the checker cannot tell them apart`);
      } else {
        byContent.set(key, message);
      }
    });
  }
  const ordinalsBySender = new Map<string, Message[]>();
  for (const message of messages) {
    let list = ordinalsBySender.get(message.senderKey);
    if (list === undefined) ordinalsBySender.set(message.senderKey, (list = []));
    list.push(message);
  }

  // --- views ------------------------------------------------------------------------------------
  const views = buildViews(history.viewChanges, add);

  // --- match deliveries; duplicates, corruption, own messages, membership at delivery ----------
  const deliveriesByIncarnation = groupBy(history.deliveries, (d) => incKey(d.node, d.incarnation));
  const matched = new Map<string, Array<Message | undefined>>();
  for (const [receiverKey, deliveries] of deliveriesByIncarnation) {
    deliveries.sort((a, b) => a.seq - b.seq);
    const seen = new Map<Message, HistoryDelivery>();
    const list: Array<Message | undefined> = [];
    for (const delivery of deliveries) {
      const where = display(delivery.node, delivery.incarnation);
      const message = byContent.get(contentKey(delivery.sender, delivery.streamId, delivery.data));
      list.push(message);
      if (message === undefined) {
        add('unknown-message', where, `at ${time(delivery.time)} delivered from ${delivery.sender} on stream ${delivery.streamId} ` +
          `${delivery.data.length} bytes "${preview(delivery.data)}" that ${delivery.sender} never sent` +
          closestHint(history.sends, delivery));
        continue;
      }
      if (message.send.seq > delivery.seq) {
        add('unknown-message', where, `delivered ${describe(message)} at ${time(delivery.time)}, before it was sent`);
      }
      const earlier = seen.get(message);
      if (earlier !== undefined) {
        add('duplicate', where, `delivered ${describe(message)} twice (${time(earlier.time)} and ${time(delivery.time)})`);
        continue;
      }
      seen.set(message, delivery);
      if (message.senderKey === receiverKey) {
        add('own-message', where, `delivered its own ${describe(message)} at ${time(delivery.time)}`);
      }
      if (!inView(views, receiverKey, delivery.sender, delivery.seq)) {
        add('not-member', where, `delivered ${describe(message)} at ${time(delivery.time)} while ${delivery.sender} was not in its view`);
      }
    }
    matched.set(receiverKey, list);
  }

  // --- per-sender FIFO --------------------------------------------------------------------------
  for (const [receiverKey, list] of matched) {
    const last = new Map<string, Message>();
    for (const message of list) {
      if (message === undefined) continue;
      const previous = last.get(message.senderKey);
      if (previous !== undefined && previous.ordinal > message.ordinal) {
        add('fifo', displayKey(receiverKey), `delivered ${describe(message)} after ${describe(previous)}, which was sent later`);
      }
      if (previous === undefined || previous.ordinal < message.ordinal) last.set(message.senderKey, message);
    }
  }

  // --- vector clocks ----------------------------------------------------------------------------
  computeVectorClocks(sendsByIncarnation, ordinalsBySender, matched, add);

  // --- causal order and completeness -------------------------------------------------------------
  for (const [receiverKey, list] of matched) {
    const deliveries = deliveriesByIncarnation.get(receiverKey)!;
    interface PerSender {
      /** Delivery position by ordinal, -1 when never delivered. */
      position: Int32Array;
      /** Latest position among ordinals 0..i. */
      prefixMax: Int32Array;
      /** Undelivered messages sent while their sender was in this node's view. */
      suspects: Array<{ message: Message; interval: Interval }>;
    }
    const perSender = new Map<string, PerSender>();
    const lookup = (senderKey: string): PerSender | undefined => {
      let entry = perSender.get(senderKey);
      if (entry !== undefined) return entry;
      const sent = ordinalsBySender.get(senderKey);
      if (sent === undefined) return undefined;
      const position = new Int32Array(sent.length).fill(-1);
      list.forEach((message, at) => {
        if (message !== undefined && message.senderKey === senderKey && position[message.ordinal] === -1) position[message.ordinal] = at;
      });
      const prefixMax = new Int32Array(sent.length);
      let max = -1;
      for (let i = 0; i < sent.length; i++) prefixMax[i] = max = Math.max(max, position[i]!);
      const suspects: PerSender['suspects'] = [];
      for (let i = 0; i < sent.length; i++) {
        if (position[i] !== -1) continue;
        const message = sent[i]!;
        const interval = viewInterval(views, receiverKey, message.send.node, message.send.seq);
        if (interval !== undefined) suspects.push({ message, interval });
      }
      perSender.set(senderKey, (entry = { position, prefixMax, suspects }));
      return entry;
    };
    const reported = new Set<Message>();
    list.forEach((m2, at) => {
      if (m2 === undefined || m2.vc === undefined) return;
      const delivery = deliveries[at]!;
      for (const [senderKey, upTo] of m2.vc) {
        if (senderKey === m2.senderKey || senderKey === receiverKey) continue;
        const entry = lookup(senderKey);
        if (entry === undefined || entry.position.length === 0) continue;
        const last = Math.min(upTo, entry.position.length - 1);
        if (entry.prefixMax[last]! > at) {
          const sent = ordinalsBySender.get(senderKey)!;
          for (let ordinal = 0; ordinal <= last; ordinal++) {
            const m1 = sent[ordinal]!;
            if (entry.position[ordinal]! > at && !reported.has(m1)) {
              reported.add(m1);
              add('causal-order', displayKey(receiverKey), `delivered ${describe(m2)} before ${describe(m1)}, which happened-before it`);
            }
          }
        }
        // A missing predecessor is an error only if its sender stayed in this node's view from that send until now.
        for (const { message: m1, interval } of entry.suspects) {
          if (m1.ordinal > upTo || reported.has(m1) || delivery.seq >= interval.end) continue;
          reported.add(m1);
          add('causal-gap', displayKey(receiverKey), `delivered ${describe(m2)} at ${time(delivery.time)} but never ${describe(m1)}, ` +
            `which happened-before it, although ${m1.send.node} was in its view from before that send until then`);
        }
      }
    });
  }

  // --- eventual delivery and membership in the final group -----------------------------------
  const liveNodes = history.finalNodes.filter((n) => n.live);
  const groupNames = options.group ?? liveNodes.map((n) => n.name);
  const group = groupNames.map((name) => {
    const node = history.finalNodes.find((n) => n.name === name);
    if (node === undefined || !node.live) add('setup', name, 'listed in the expected group but not live at the end');
    return node;
  });
  const members = group.filter((n): n is NonNullable<typeof n> => n !== undefined && n.live);

  if (options.membership ?? true) {
    for (const node of members) {
      const expected = members.filter((m) => m.name !== node.name).map((m) => m.name).sort();
      const actual = [...node.members].sort();
      const where = display(node.name, node.incarnation);
      if (!sameList(expected, actual)) {
        add('membership', where, `members at the end are [${actual.join(', ')}], expected [${expected.join(', ')}]`);
      }
      const fromEvents = openMembers(views, incKey(node.name, node.incarnation)).sort();
      if (!sameList(fromEvents, actual)) {
        add('membership', where, `joined/lost events add up to [${fromEvents.join(', ')}] but the engine lists [${actual.join(', ')}]`);
      }
    }
  }

  if (options.liveness ?? true) {
    let stableSince = -Infinity;
    let stable = true;
    for (const receiver of members) {
      for (const sender of members) {
        if (sender === receiver) continue;
        const interval = viewInterval(views, incKey(receiver.name, receiver.incarnation), sender.name, Infinity);
        if (interval === undefined) stable = false;
        else stableSince = Math.max(stableSince, interval.start);
      }
    }
    if (stable) {
      for (const sender of members) {
        const sent = ordinalsBySender.get(incKey(sender.name, sender.incarnation)) ?? [];
        for (const receiver of members) {
          if (receiver === sender) continue;
          const receiverKey = incKey(receiver.name, receiver.incarnation);
          const got = new Set(matched.get(receiverKey) ?? []);
          const missing = sent.filter((m) => m.send.seq > stableSince && !got.has(m));
          if (missing.length === 0) continue;
          const shown = missing.slice(0, 3).map(describe).join('; ');
          add('missing', displayKey(receiverKey), `never delivered ${missing.length} message(s) sent while the group shared its final view: ${shown}${missing.length > 3 ? '; ...' : ''}`);
        }
      }
    }
  }

  return violations;
}

function computeVectorClocks(
  sendsByIncarnation: Map<string, HistorySend[]>,
  ordinalsBySender: Map<string, Message[]>,
  matched: Map<string, Array<Message | undefined>>,
  add: (kind: ViolationKind, node: string, message: string) => void,
): void {
  interface Cursor {
    key: string;
    sends: Message[];
    deliveries: Array<Message | undefined>;
    sendIndex: number;
    deliveryIndex: number;
    clock: Map<string, number>;
  }
  const cursors: Cursor[] = [];
  for (const key of sendsByIncarnation.keys()) {
    cursors.push({
      key,
      sends: ordinalsBySender.get(key) ?? [],
      deliveries: matched.get(key) ?? [],
      sendIndex: 0,
      deliveryIndex: 0,
      clock: new Map(),
    });
  }
  // A send's clock needs the clocks of everything delivered before it: advance every cursor as far
  // as possible until nothing moves (a consistent history always completes).
  let progress = true;
  while (progress) {
    progress = false;
    for (const cursor of cursors) {
      while (cursor.sendIndex < cursor.sends.length) {
        const message = cursor.sends[cursor.sendIndex]!;
        let blocked = false;
        while (cursor.deliveryIndex < Math.min(message.send.deliveredBefore, cursor.deliveries.length)) {
          const delivered = cursor.deliveries[cursor.deliveryIndex];
          if (delivered !== undefined) {
            if (delivered.vc === undefined) {
              blocked = true;
              break;
            }
            for (const [k, v] of delivered.vc) if ((cursor.clock.get(k) ?? -1) < v) cursor.clock.set(k, v);
          }
          cursor.deliveryIndex++;
        }
        if (blocked) break;
        cursor.clock.set(cursor.key, message.ordinal);
        message.vc = new Map(cursor.clock);
        cursor.sendIndex++;
        progress = true;
      }
    }
  }
  for (const cursor of cursors) {
    if (cursor.sendIndex < cursor.sends.length) {
      add('setup', displayKey(cursor.key), `history is not causally consistent from ${describe(cursor.sends[cursor.sendIndex]!)} on (a message delivered before it was sent?)`);
      for (const message of cursor.sends.slice(cursor.sendIndex)) message.vc = new Map([[cursor.key, message.ordinal]]);
    }
  }
}

type Views = Map<string, Map<string, Interval[]>>; // receiver key -> member name -> intervals (seq)

function buildViews(
  changes: HistoryViewChange[],
  add: (kind: ViolationKind, node: string, message: string) => void,
): Views {
  const views: Views = new Map();
  for (const change of [...changes].sort((a, b) => a.seq - b.seq)) {
    const key = incKey(change.node, change.incarnation);
    let view = views.get(key);
    if (view === undefined) views.set(key, (view = new Map()));
    for (const name of change.names) {
      if (name === change.node) {
        add('view-event', displayKey(key), `reported itself ${change.change} at ${time(change.time)}`);
        continue;
      }
      let intervals = view.get(name);
      if (intervals === undefined) view.set(name, (intervals = []));
      const open = intervals.length > 0 && intervals[intervals.length - 1]!.end === Infinity ? intervals[intervals.length - 1] : undefined;
      if (change.change === 'joined') {
        // Joined again without a loss in between (e.g. after our own reset): a new, separate view epoch.
        if (open !== undefined) open.end = change.seq;
        intervals.push({ start: change.seq, end: Infinity });
      } else if (open !== undefined) {
        open.end = change.seq;
      } else {
        add('view-event', displayKey(key), `reported ${name} lost at ${time(change.time)} but ${name} was not a member`);
      }
    }
  }
  return views;
}

function viewInterval(views: Views, receiverKey: string, member: string, seq: number): Interval | undefined {
  const intervals = views.get(receiverKey)?.get(member);
  return intervals?.find((i) => i.start <= seq && (seq < i.end || i.end === Infinity));
}

function inView(views: Views, receiverKey: string, member: string, seq: number): boolean {
  return viewInterval(views, receiverKey, member, seq) !== undefined;
}

function openMembers(views: Views, receiverKey: string): string[] {
  const view = views.get(receiverKey);
  if (view === undefined) return [];
  return [...view].filter(([, intervals]) => intervals.some((i) => i.end === Infinity)).map(([name]) => name);
}

function contentKey(sender: string, streamId: number, data: Uint8Array): string {
  return `${sender}\u0000${streamId}\u0000${createHash('sha256').update(data).digest('base64')}`;
}

function closestHint(sends: HistorySend[], delivery: HistoryDelivery): string {
  const candidates = sends.filter((s) => s.node === delivery.sender && s.data.length === delivery.data.length);
  for (const candidate of candidates) {
    let differing = -1;
    for (let i = 0; i < candidate.data.length; i++) {
      if (candidate.data[i] !== delivery.data[i]) {
        differing = i;
        break;
      }
    }
    if (differing === -1) return ` (the same bytes were sent on stream ${candidate.streamId}: wrong stream id)`;
    if (differing >= 16 || candidate.data.length < 16) {
      return ` (closest: "${preview(candidate.data)}" sent ${time(candidate.time)} differs first at byte ${differing}: corrupted)`;
    }
  }
  return '';
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    let list = map.get(k);
    if (list === undefined) map.set(k, (list = []));
    list.push(item);
  }
  return map;
}

function incKey(name: string, incarnation: number): string {
  return `${name}#${incarnation}`;
}

function display(name: string, incarnation: number): string {
  return incarnation === 0 ? name : `${name}#${incarnation}`;
}

function displayKey(key: string): string {
  return key.endsWith('#0') ? key.slice(0, -2) : key;
}

function describe(message: Message): string {
  const s = message.send;
  return `${display(s.node, s.incarnation)}'s message ${message.ordinal} ("${preview(s.data)}", ${s.data.length} bytes, stream ${s.streamId}, sent ${time(s.time)})`;
}

function preview(data: Uint8Array): string {
  let text = '';
  for (let i = 0; i < Math.min(data.length, 24); i++) {
    const c = data[i]!;
    text += c >= 0x20 && c < 0x7f && c !== 0x22 ? String.fromCharCode(c) : '.';
  }
  return data.length > 24 ? text + '…' : text;
}

function time(ms: number): string {
  return `t=${(ms / 1000).toFixed(3)}s`;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
