import { EventEmitter } from 'node:events';
import { AsyncQueue } from '../base/async-queue.js';
import { emitSafely } from '../base/emit-safely.js';
import { errorText } from '../base/error-text.js';
import { Logger } from '../base/logger.js';
import { DBusError } from './dbus-error.js';
import {
  DBUS_DEFAULT_MAX_MESSAGE_BYTES,
  DBUS_FLAG_NO_REPLY_EXPECTED,
  DBUS_SPEC_MAX_MESSAGE_BYTES,
  type DBusEndian,
  type DBusHeaderFields,
  type DBusMessage,
  type DBusMessageType,
  type DBusValue,
} from './dbus-message.js';
import { encodeDBusMessage } from './dbus-marshal.js';
import { isBusName } from './dbus-names.js';
import { DBusTubeError } from './dbus-tube-error.js';
import { DBusTubeInbox } from './dbus-tube-inbox.js';
import {
  DBUS_TUBE_DROP_REASONS,
  type DBusMethodCallSpec,
  type DBusReplySpec,
  type DBusSignalSpec,
  type DBusTubeDropReason,
  type DBusTubeEvents,
  type DBusTubeIncoming,
  type DBusTubeIncomingBase,
  type DBusTubeLink,
  type DBusTubeMethodCall,
  type DBusTubeOptions,
  type DBusTubeReply,
} from './dbus-tube-types.js';
import { decodeDBusMessage } from './dbus-unmarshal.js';
import { tubeDBusName } from './tube-dbus-name.js';

export const DBUS_TUBE_QUEUE_BYTES = 4096 * 1024;
const DEFAULT_MAX_PENDING_CALLS = 1024;
const DEFAULT_READER_BACKLOG = 1024;
const MAX_SERIAL = 0xffff_ffff;
const MAX_DETAIL = 200;

interface PendingCall {
  /** The unique name the reply must come from. */
  destination: string;
  resolve: (reply: DBusTubeReply) => void;
  reject: (error: unknown) => void;
  /** Removes the abort listener. */
  release: () => void;
}

/** A method call we handed to the application: answered at most once. */
type CallState = 'open' | 'replied';

/**
 * One D-Bus tube as one member sees it (spec §7.4), sans I/O: there is no bus
 * daemon, every member is a peer named `:2.`+base64(member name), and each
 * D-Bus message travels as one rMulticast message on its sender's own stream.
 * The room side feeds it (memberJoinedTube / memberLeftTube as members'
 * tube lists say, received() with bytes already filtered to the stream that
 * member announced) and gives it a link that sends on our stream.
 *
 * What it guarantees:
 * - outgoing messages carry our unique name as SENDER and a fresh serial;
 *   broadcasts and messages to ourselves are also delivered to us (rMulticast
 *   never echoes our own), and messages to ourselves never reach the wire;
 * - received messages reach the application only if they parse, their SENDER
 *   is the name recorded for the member that sent them, and their DESTINATION
 *   is ours or absent; everything else is dropped and counted (`dropped`);
 * - until the application attaches (attach(), a 'method-call' or 'signal'
 *   listener, or an async iterator) up to 4 MiB of messages wait, later ones
 *   are dropped; pending calls and reader backlogs are bounded too.
 *
 * Events are emitted synchronously, so a broadcast we send reaches our own
 * listeners before emitSignal() returns. A first listener attaches at the
 * next microtask, so listeners added in the same tick all see the queue.
 *
 *   tube.on('signal', (s) => console.log(s.sender, s.member, s.body));
 *   tube.on('method-call', (call) => tube.reply(call, { signature: 's', body: ['pong'] }));
 *   const answer = await tube.callMethod({ destination, path: '/', interface: 'org.example.Game', member: 'Ping' });
 *   tube.emitSignal({ path: '/', interface: 'org.example.Game', member: 'Moved', signature: 'u', body: [7] });
 */
export class DBusTube extends EventEmitter<DBusTubeEvents> implements AsyncIterable<DBusTubeIncoming> {
  /** Our member name in the room. */
  readonly selfName: string;
  /** Our tube-local unique name, SENDER of everything we send. */
  readonly uniqueName: string;

  readonly #link: DBusTubeLink;
  readonly #logger: Logger;
  readonly #endian: DBusEndian;
  readonly #maxPendingCalls: number;
  readonly #maxMessageBytes: number;
  readonly #readerBacklog: number;
  /** member name → its tube-local unique name, and back */
  readonly #names = new Map<string, string>();
  readonly #members = new Map<string, string>();
  readonly #pending = new Map<number, PendingCall>();
  readonly #inbox: DBusTubeInbox<DBusTubeIncoming>;
  readonly #readers = new Set<AsyncQueue<DBusTubeIncoming>>();
  readonly #calls = new WeakMap<DBusTubeMethodCall, CallState>();
  readonly #dropped: Record<DBusTubeDropReason, number>;
  #lastSerial = 0;
  #attached = false;
  #attaching = false;
  #closed = false;

  constructor(options: DBusTubeOptions) {
    super();
    this.selfName = options.selfName;
    this.uniqueName = tubeDBusName(options.selfName);
    this.#link = options.link;
    this.#logger = (options.logger ?? new Logger({ level: 'silent' })).child('dbus-tube');
    this.#endian = options.endian ?? 'little';
    this.#maxPendingCalls = options.maxPendingCalls ?? DEFAULT_MAX_PENDING_CALLS;
    this.#maxMessageBytes = Math.min(options.maxMessageBytes ?? DBUS_DEFAULT_MAX_MESSAGE_BYTES, DBUS_SPEC_MAX_MESSAGE_BYTES);
    this.#readerBacklog = options.maxReaderBacklog ?? DEFAULT_READER_BACKLOG;
    this.#inbox = new DBusTubeInbox(options.maxQueuedBytes ?? DBUS_TUBE_QUEUE_BYTES);
    this.#dropped = Object.fromEntries(DBUS_TUBE_DROP_REASONS.map((reason) => [reason, 0])) as Record<DBusTubeDropReason, number>;
    // 'newListener' runs before the listener is added: attach once this tick's code has added its listeners
    (this as EventEmitter).on('newListener', (event: string | symbol) => {
      if ((event === 'method-call' || event === 'signal') && !this.#attached && !this.#attaching) {
        this.#attaching = true;
        queueMicrotask(() => this.attach());
      }
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The application is receiving (queued messages were delivered). */
  get attached(): boolean {
    return this.#attached;
  }

  /** Other members in the tube: member name → tube-local unique name. */
  get members(): ReadonlyMap<string, string> {
    return new Map(this.#names);
  }

  /** Received messages dropped so far, by reason. */
  get dropped(): Readonly<Record<DBusTubeDropReason, number>> {
    return { ...this.#dropped };
  }

  /** Bytes of messages waiting for the application to attach. */
  get queuedBytes(): number {
    return this.#inbox.bytes;
  }

  get pendingCalls(): number {
    return this.#pending.size;
  }

  // ---- the room side ----

  /**
   * A member's tube list names it in this tube with `uniqueName`. False (and
   * nothing recorded) for ourselves, a name that is not a unique bus name, our
   * own name, or a name another member already has. A new name for a member
   * replaces its old one (as if it had left).
   */
  memberJoinedTube(member: string, uniqueName: string): boolean {
    if (this.#closed || member === this.selfName) return false;
    if (!uniqueName.startsWith(':') || !isBusName(uniqueName) || uniqueName === this.uniqueName) return false;
    const holder = this.#members.get(uniqueName);
    if (holder !== undefined) return holder === member;
    if (this.#names.has(member)) this.memberLeftTube(member);
    this.#names.set(member, uniqueName);
    this.#members.set(uniqueName, member);
    return true;
  }

  /** The member is no longer in the tube: its data is refused and calls awaiting its reply fail with 'peer-left'. */
  memberLeftTube(member: string): void {
    const name = this.#names.get(member);
    if (name === undefined) return;
    this.#names.delete(member);
    this.#members.delete(name);
    for (const [serial, call] of this.#pending) {
      if (call.destination !== name) continue;
      this.#pending.delete(serial);
      call.release();
      call.reject(new DBusTubeError('peer-left', `${member} left the tube before replying`));
    }
  }

  /** One rMulticast message from `member` on the stream it announced for this tube. Never throws. */
  received(member: string, bytes: Uint8Array): void {
    if (this.#closed) return this.#drop('closed', member, bytes.length, 'the tube is closed');
    const name = this.#names.get(member);
    if (name === undefined) return this.#drop('unknown-member', member, bytes.length, 'no name recorded for this member');
    let message: DBusMessage;
    try {
      // a plain view: Buffer's slice() shares memory, and the application must not see bytes the caller reuses
      const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      message = decodeDBusMessage(plain, { maxMessageBytes: this.#maxMessageBytes });
    } catch (error) {
      const reason = error instanceof DBusError && error.code === 'dbus-too-large' ? 'too-large' : 'malformed';
      return this.#drop(reason, member, bytes.length, errorText(error));
    }
    const { sender, destination, unixFds } = message.fields;
    if (sender !== name) return this.#drop('forged-sender', member, bytes.length, `sender ${JSON.stringify(sender ?? null)} is not ${name}`);
    if (destination !== undefined && destination !== this.uniqueName) {
      return this.#drop('wrong-destination', member, bytes.length, `destination ${destination} is not ${this.uniqueName}`);
    }
    if (unixFds !== undefined && unixFds !== 0) return this.#drop('malformed', member, bytes.length, 'a tube carries no file descriptors');
    this.#dispatch(member, message, bytes.length);
  }

  /** Fails pending calls, ends readers, drops the queue; later sends throw 'tube-closed'. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const call of this.#pending.values()) {
      call.release();
      call.reject(new DBusTubeError('tube-closed', 'the tube was closed'));
    }
    this.#pending.clear();
    this.#inbox.clear();
    this.#names.clear();
    this.#members.clear();
    for (const reader of this.#readers) reader.end();
    this.#readers.clear();
    emitSafely(this, this.#logger, 'closed');
  }

  // ---- the application side ----

  /** Delivers the queued messages, then every message as it comes. */
  attach(): void {
    this.#attaching = false;
    if (this.#attached) return;
    // messages our own listeners send while this drains join the queue's end
    for (let next = this.#inbox.shift(); next !== undefined; next = this.#inbox.shift()) this.#emit(next);
    this.#attached = true;
  }

  /** Incoming method calls and signals, in order; attaches. Cut off with 'reader-overflow' if it falls too far behind. */
  [Symbol.asyncIterator](): AsyncIterableIterator<DBusTubeIncoming> {
    const reader: AsyncQueue<DBusTubeIncoming> = new AsyncQueue(
      this.#readerBacklog,
      () => new DBusTubeError('reader-overflow', `the reader fell ${this.#readerBacklog} messages behind`),
      () => this.#readers.delete(reader),
    );
    if (this.#closed) reader.end();
    else this.#readers.add(reader);
    this.attach();
    return reader;
  }

  /**
   * Calls a method of another member (or ourselves) and resolves with its
   * METHOD_RETURN or ERROR. Rejects with DBusTubeError ('unknown-destination',
   * 'too-many-calls', 'peer-left', 'tube-closed'), a DBusError for a body that
   * does not fit its signature, or the signal's reason when aborted.
   */
  callMethod(spec: DBusMethodCallSpec): Promise<DBusTubeReply> {
    const { destination, signal } = spec;
    if (this.#closed) return Promise.reject(new DBusTubeError('tube-closed', 'the tube is closed'));
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error('aborted'));
    if (destination !== this.uniqueName && !this.#members.has(destination)) {
      return Promise.reject(new DBusTubeError('unknown-destination', `nobody in the tube is named ${JSON.stringify(destination)}`));
    }
    if (this.#pending.size >= this.#maxPendingCalls) {
      return Promise.reject(new DBusTubeError('too-many-calls', `${this.#pending.size} calls already await a reply`));
    }
    const serial = this.#nextSerial();
    return new Promise<DBusTubeReply>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.#pending.get(serial)?.reject !== reject) return;
        this.#pending.delete(serial);
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const release = (): void => signal?.removeEventListener('abort', onAbort);
      this.#pending.set(serial, { destination, resolve, reject, release });
      const fields: DBusHeaderFields = { path: spec.path, member: spec.member, destination };
      if (spec.interface !== undefined) fields.interface = spec.interface;
      try {
        this.#transmit('method_call', 0, serial, fields, spec.signature, spec.body);
      } catch (error) {
        if (this.#pending.get(serial)?.reject === reject) this.#pending.delete(serial);
        release();
        reject(error);
      }
    });
  }

  /** Sends a signal to every member (and ourselves), or to one unique name. Throws DBusError for a bad message. */
  emitSignal(spec: DBusSignalSpec): void {
    const fields: DBusHeaderFields = { path: spec.path, interface: spec.interface, member: spec.member };
    if (spec.destination !== undefined) fields.destination = spec.destination;
    this.#transmit('signal', DBUS_FLAG_NO_REPLY_EXPECTED, this.#nextSerial(), fields, spec.signature, spec.body);
  }

  /** Answers a method call with a METHOD_RETURN (nothing is sent if the caller expects no reply). */
  reply(call: DBusTubeMethodCall, spec: DBusReplySpec = {}): void {
    if (!this.#answer(call)) return;
    const fields: DBusHeaderFields = { replySerial: call.serial, destination: call.uniqueName };
    this.#transmit('method_return', DBUS_FLAG_NO_REPLY_EXPECTED, this.#nextSerial(), fields, spec.signature, spec.body);
  }

  /** Answers a method call with a D-Bus ERROR named `name` (an interface-like name), its text as the body. */
  replyError(call: DBusTubeMethodCall, name: string, message?: string): void {
    if (!this.#answer(call)) return;
    const fields: DBusHeaderFields = { errorName: name, replySerial: call.serial, destination: call.uniqueName };
    this.#transmit('error', DBUS_FLAG_NO_REPLY_EXPECTED, this.#nextSerial(), fields, message === undefined ? '' : 's', message === undefined ? [] : [message]);
  }

  // ---- inside ----

  /** Whether to send an answer to `call`; throws if it is not ours to answer or already answered. */
  #answer(call: DBusTubeMethodCall): boolean {
    const state = this.#calls.get(call);
    if (state === undefined) throw new DBusTubeError('bad-argument', 'this method call did not come from this tube');
    if (state === 'replied') throw new DBusTubeError('already-replied', `call ${call.serial} from ${call.sender} was already answered`);
    this.#calls.set(call, 'replied');
    return !call.noReplyExpected;
  }

  #nextSerial(): number {
    // skip serials still awaiting a reply, so a late reply never matches a newer call
    do this.#lastSerial = this.#lastSerial >= MAX_SERIAL ? 1 : this.#lastSerial + 1;
    while (this.#pending.has(this.#lastSerial));
    return this.#lastSerial;
  }

  #transmit(type: DBusMessageType, flags: number, serial: number, fields: DBusHeaderFields, signature = '', body: DBusValue[] = []): void {
    if (this.#closed) throw new DBusTubeError('tube-closed', 'the tube is closed');
    const message: DBusMessage = { type, flags, serial, fields: { ...fields, sender: this.uniqueName }, body };
    if (signature !== '') message.fields.signature = signature;
    const bytes = encodeDBusMessage(message, { endian: this.#endian });
    const { destination } = fields;
    if (destination !== this.uniqueName) this.#link.send(bytes);
    if (destination === undefined || destination === this.uniqueName) {
      // read back what we wrote, so the application sees our messages exactly as the others do
      this.#dispatch(this.selfName, decodeDBusMessage(bytes, { maxMessageBytes: DBUS_SPEC_MAX_MESSAGE_BYTES }), bytes.length);
    }
  }

  /** A message that passed the checks: a reply settles its call, a call or signal goes to the application. */
  #dispatch(member: string, message: DBusMessage, size: number): void {
    const base: DBusTubeIncomingBase = {
      sender: member,
      uniqueName: message.fields.sender!,
      serial: message.serial,
      flags: message.flags,
      signature: message.fields.signature ?? '',
      body: message.body,
      bytes: size,
      message,
    };
    if (message.fields.destination !== undefined) base.destination = message.fields.destination;
    const { path, interface: iface, member: method, errorName, replySerial } = message.fields;
    switch (message.type) {
      case 'method_return':
      case 'error': {
        const call = this.#pending.get(replySerial!);
        if (call === undefined || call.destination !== base.uniqueName) {
          return this.#drop('unexpected-reply', member, size, `no call ${replySerial} awaits a reply from ${base.uniqueName}`);
        }
        this.#pending.delete(replySerial!);
        call.release();
        if (message.type === 'method_return') return call.resolve({ ...base, kind: 'return' });
        const first = message.body[0];
        return call.resolve({ ...base, kind: 'error', errorName: errorName!, errorMessage: typeof first === 'string' ? first : '' });
      }
      case 'method_call': {
        const call: DBusTubeMethodCall = {
          ...base,
          kind: 'method-call',
          path: path!,
          member: method!,
          noReplyExpected: (message.flags & DBUS_FLAG_NO_REPLY_EXPECTED) !== 0,
        };
        if (iface !== undefined) call.interface = iface;
        this.#calls.set(call, 'open');
        return this.#deliver(call);
      }
      case 'signal':
        return this.#deliver({ ...base, kind: 'signal', path: path!, interface: iface!, member: method! });
    }
  }

  #deliver(incoming: DBusTubeIncoming): void {
    if (this.#attached) return this.#emit(incoming);
    if (!this.#inbox.push(incoming, incoming.bytes)) {
      this.#drop('queue-full', incoming.sender, incoming.bytes, `${this.#inbox.bytes} bytes already wait for the application`);
    }
  }

  #emit(incoming: DBusTubeIncoming): void {
    for (const reader of this.#readers) reader.push(incoming);
    if (incoming.kind === 'method-call') emitSafely(this, this.#logger, 'method-call', incoming);
    else emitSafely(this, this.#logger, 'signal', incoming);
  }

  #drop(reason: DBusTubeDropReason, member: string, bytes: number, why: string): void {
    this.#dropped[reason] += 1;
    // a decoder message may quote hostile strings: keep what we log and emit short
    const detail = why.length > MAX_DETAIL ? `${why.slice(0, MAX_DETAIL)}…` : why;
    if (this.#logger.isEnabled('debug')) this.#logger.debug('dropped a D-Bus message', { reason, member, bytes, detail });
    emitSafely(this, this.#logger, 'dropped', { reason, member, bytes, detail });
  }
}
