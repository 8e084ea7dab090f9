import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { errorText } from '../base/error-text.js';
import { silentLogger, type Logger } from '../base/logger.js';
import { DATA_FRAGMENT_PAYLOAD } from '../rmcast/engine-defaults.js';
import type { Room } from '../rooms/room.js';
import type { RoomExtensionStanza, RoomMember, RoomStreamData } from '../rooms/room-types.js';
import { el } from '../xml/xml-element.js';
import { FileTransferError } from './file-transfer-error.js';
import { buildShareOffer, NS_CLIQUE_FILES, readShareOffer, ShareReceiver, streamShare, type ShareOffer } from './room-share.js';
import { SafeReceiver } from './safe-receiver.js';

/** What a share needs of a room. */
export type ShareRoom = Pick<Room, 'name' | 'selfName' | 'members' | 'sendElement' | 'sendStream' | 'on' | 'off'>;

/** A share this member missed the start of (joined late, or accepted too late): what a 1-1 fetch from its sender needs. */
export interface MissedShare {
  room: string;
  sender: string;
  /** The sender's id of the share (the `<share id>`). */
  offerId: string;
  name: string;
  size: number;
  sha256: string;
}
/** Our data stream ids, from the pool the room's tubes use (RoomTubes). */
export interface ShareStreamPool {
  reserveStream(): number;
  releaseStream(streamId: number): boolean;
}

/** One room share, in (offered to us) or out (ours), as the API and the service show it. */
export interface RoomShareInfo {
  direction: 'in' | 'out';
  /** Our id for it (what accept/decline/cancel take); `r` + a number, never a 1-1 transfer's id. */
  id: string;
  room: string;
  /** The sender (in), or the room (out). */
  peer: string;
  name: string;
  size: number;
  sha256: string;
  mimeType?: string;
  state: 'offered' | 'receiving' | 'received' | 'sending' | 'sent' | 'declined' | 'failed' | 'cancelled';
  /** Bytes received (in) or handed to rMulticast (out). */
  bytes: number;
  path?: string;
  error?: string;
}

export interface RoomSharesEvents {
  /** A member shared a file into one of our rooms. */
  offer: [info: RoomShareInfo];
  progress: [info: RoomShareInfo];
  /** A share ended: received/sent, declined, failed or cancelled. */
  done: [info: RoomShareInfo];
}

export interface RoomSharesOptions {
  logger?: Logger;
  /** Where to take every share without asking (asked again on each offer); undefined: ask. */
  autoAcceptDir?: () => string | undefined;
  /** Largest share taken at all. */
  maxBytes?: number;
  /**
   * Gets a share whose start went by 1-1 from its sender into `dir`
   * (ShareFetch); resolves with where the file is. Without it, accepting such
   * a share fails with 'file-short'.
   */
  fetchMissed?: (share: MissedShare, dir: string) => Promise<string>;
}

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024 * 1024;
/**
 * Content messages of 16 rMulticast fragments (about 22 KB): few messages to
 * handle per megabyte, and 12 of them fill the sender's 192-packet window.
 * (Shares once used two-fragment messages: receivers acknowledged every 64
 * messages, so larger ones waited for the 1 s ack timer each window; they
 * acknowledge by packets now, periodic-packets.ts.)
 */
export const ROOM_SHARE_CHUNK_BYTES = 16 * DATA_FRAGMENT_PAYLOAD;
/** Finished shares kept for listing. */
const MAX_FINISHED = 100;
/** Bytes held while an accepted share's part file is being opened. */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;

interface Incoming {
  info: RoomShareInfo;
  sender: string;
  offer: ShareOffer;
  /** Chunks of the share were dropped before it was accepted: it can no longer complete here. */
  missed: boolean;
  receiver: ShareReceiver | undefined;
  /** Chunks that arrived while the part file was opening. */
  pending: Uint8Array[] | undefined;
  pendingBytes: number;
}

interface Outgoing {
  info: RoomShareInfo;
  abort: AbortController;
  /** The file, for members that fetch it 1-1 later. */
  path: string;
}

/**
 * Room shares (issue 12 item 2) over every room attached: offers from
 * others become 'offer' events, accepted ones are written through
 * SafeReceiver as their chunks arrive (others' chunks are dropped), and
 * `share()` sends a file once to the whole room, streamed from disk and
 * paced by the room's flow control. A share must be accepted before its
 * first chunk arrives (auto-accept, or `offered` state kept only until then);
 * a member that missed it fetches it 1-1 instead.
 */
export class RoomShares extends EventEmitter<RoomSharesEvents> {
  private readonly incoming = new Map<string, Incoming>();
  private readonly outgoing = new Map<string, Outgoing>();
  private readonly order: string[] = [];
  private nextId = 1;
  private readonly logger: Logger;
  private readonly detachers = new Set<() => void>();
  private readonly rooms = new Map<string, { room: ShareRoom; pool: ShareStreamPool }>();

  constructor(private readonly options: RoomSharesOptions = {}) {
    super();
    this.logger = options.logger ?? silentLogger;
  }

  /** Follows a room's shares until it is left. */
  attach(room: ShareRoom, pool: ShareStreamPool): void {
    const onExtension = (x: RoomExtensionStanza): void => this.extensionReceived(room.name, x);
    const onData = (data: RoomStreamData): void => this.dataReceived(room.name, data);
    const onLeft = (member: RoomMember): void => this.senderGone(room.name, member.name, 'the sender left the room');
    const detach = (): void => {
      room.off('extension', onExtension);
      room.off('stream-data', onData);
      room.off('member-left', onLeft);
      room.off('left', detach);
      this.detachers.delete(detach);
      if (this.rooms.get(room.name)?.room === room) this.rooms.delete(room.name);
      for (const entry of this.incoming.values()) {
        if (entry.info.room === room.name) this.endIncoming(entry, new FileTransferError('file-cancelled', 'we left the room'));
      }
      for (const out of this.outgoing.values()) if (out.info.room === room.name) out.abort.abort();
    };
    room.on('extension', onExtension);
    room.on('stream-data', onData);
    room.on('member-left', onLeft);
    room.on('left', detach);
    this.detachers.add(detach);
    this.rooms.set(room.name, { room, pool });
  }

  list(): RoomShareInfo[] {
    return this.order.map((id) => (this.incoming.get(id) ?? this.outgoing.get(id))!.info).map((info) => ({ ...info }));
  }

  has(id: string): boolean {
    return this.incoming.has(id) || this.outgoing.has(id);
  }

  get(id: string): RoomShareInfo | undefined {
    const info = (this.incoming.get(id) ?? this.outgoing.get(id))?.info;
    return info === undefined ? undefined : { ...info };
  }

  /**
   * Shares a file into `roomName`: hashes it, announces it on stream 0,
   * then streams it on a stream of ours. Resolves with the share's info at
   * once (after hashing); `done` settles when the last chunk went out.
   */
  async share(roomName: string, path: string): Promise<{ info: RoomShareInfo; done: Promise<RoomShareInfo> }> {
    const attached = this.rooms.get(roomName);
    if (attached === undefined) throw new FileTransferError('file-not-found', `not in a room named ${JSON.stringify(roomName)}`);
    let size: number;
    try {
      const s = await stat(path);
      if (!s.isFile()) throw new FileTransferError('file-unreadable', `${path} is not a file`);
      size = s.size;
    } catch (error) {
      if (error instanceof FileTransferError) throw error;
      throw new FileTransferError('file-unreadable', `cannot read ${path}: ${errorText(error)}`, { cause: error });
    }
    const sha256 = await hashFile(path);
    const { room, pool } = attached;
    const streamId = pool.reserveStream();
    const id = this.newId();
    const info: RoomShareInfo = { direction: 'out', id, room: roomName, peer: roomName, name: basename(path), size, sha256, state: 'sending', bytes: 0 };
    const out: Outgoing = { info, abort: new AbortController(), path };
    this.remember(id, () => this.outgoing.set(id, out));
    const done = (async (): Promise<RoomShareInfo> => {
      try {
        await room.sendElement(buildShareOffer({ id, name: info.name, size, sha256, streamId }));
        await streamShare(path, size, (chunk) => room.sendStream(streamId, chunk), {
          signal: out.abort.signal,
          chunkBytes: ROOM_SHARE_CHUNK_BYTES,
          onProgress: (sent) => {
            info.bytes = sent;
            this.emit('progress', { ...info });
          },
        });
        info.state = 'sent';
      } catch (error) {
        const cancelled = out.abort.signal.aborted;
        info.state = cancelled ? 'cancelled' : 'failed';
        info.error = cancelled ? 'cancelled' : errorText(error);
        // Receivers drop what they have; the stream id may then be reused.
        if (cancelled) await room.sendElement(el('cancel', NS_CLIQUE_FILES, { id })).catch(() => undefined);
      } finally {
        pool.releaseStream(streamId);
      }
      this.emit('done', { ...info });
      return { ...info };
    })();
    return { info: { ...info }, done };
  }

  /** Starts receiving an offered share into `dir`. */
  async accept(id: string, dir: string): Promise<RoomShareInfo> {
    const entry = this.incoming.get(id);
    if (entry === undefined || entry.info.state !== 'offered') throw new FileTransferError('file-not-found', `room share ${id} is not pending`);
    if (entry.missed) return this.fetchMissed(entry, dir);
    entry.info.state = 'receiving';
    entry.pending = [];
    try {
      const safe = await SafeReceiver.open({ dir, name: entry.offer.name, expectedSize: entry.offer.size, sha256: entry.offer.sha256, maxBytes: this.options.maxBytes ?? DEFAULT_MAX_BYTES });
      if (entry.info.state !== 'receiving') {
        await safe.abort();
        return { ...entry.info };
      }
      const receiver = new ShareReceiver(safe, entry.offer.size, undefined, (received) => {
        entry.info.bytes = received;
        this.emit('progress', { ...entry.info });
      });
      entry.receiver = receiver;
      for (const chunk of entry.pending) receiver.push(chunk);
      entry.pending = undefined;
      receiver.done.then(
        (path) => {
          entry.info.path = path;
          this.finish(entry.info, 'received');
        },
        (error: unknown) => this.endIncoming(entry, error),
      );
    } catch (error) {
      this.endIncoming(entry, error);
    }
    return { ...entry.info };
  }

  /**
   * The file of a share of ours that `member` may fetch 1-1: only a share we
   * sent completely into a room `member` is in now. Undefined otherwise.
   */
  sharedFile(room: string, offerId: string, member: string): string | undefined {
    const out = this.outgoing.get(offerId);
    if (out === undefined || out.info.room !== room || out.info.state !== 'sent') return undefined;
    const attached = this.rooms.get(room);
    if (attached === undefined || !attached.room.members.some((m) => m.name === member && !m.self)) return undefined;
    return out.path;
  }

  private fetchMissed(entry: Incoming, dir: string): RoomShareInfo {
    const fetch = this.options.fetchMissed;
    if (fetch === undefined) {
      this.endIncoming(entry, new FileTransferError('file-short', 'the share had already begun: fetch it from the sender 1-1'));
      throw new FileTransferError('file-short', `room share ${entry.info.id} had already begun when accepted`);
    }
    entry.info.state = 'receiving';
    const { room, name, size, sha256 } = entry.info;
    fetch({ room, sender: entry.sender, offerId: entry.offer.id, name, size, sha256 }, dir).then(
      (path) => {
        if (entry.info.state !== 'receiving') return;
        entry.info.path = path;
        entry.info.bytes = size;
        this.finish(entry.info, 'received');
      },
      (error: unknown) => this.endIncoming(entry, error),
    );
    return { ...entry.info };
  }

  decline(id: string): RoomShareInfo {
    const entry = this.incoming.get(id);
    if (entry === undefined || entry.info.state !== 'offered') throw new FileTransferError('file-not-found', `room share ${id} is not pending`);
    this.finish(entry.info, 'declined');
    return { ...entry.info };
  }

  /** Stops a share of ours or one we receive; false if it is not under way. */
  cancel(id: string): boolean {
    const out = this.outgoing.get(id);
    if (out !== undefined) {
      if (out.info.state !== 'sending') return false;
      out.abort.abort();
      return true;
    }
    const entry = this.incoming.get(id);
    if (entry === undefined || (entry.info.state !== 'receiving' && entry.info.state !== 'offered')) return false;
    this.endIncoming(entry, new FileTransferError('file-cancelled', 'cancelled'));
    return true;
  }

  close(): void {
    for (const detach of [...this.detachers]) detach();
  }

  // ------------------------------------------------------------ the rooms' side

  private extensionReceived(room: string, x: RoomExtensionStanza): void {
    if (x.element.is('cancel', NS_CLIQUE_FILES)) {
      const offerId = x.element.getAttr('id');
      for (const entry of this.incoming.values()) {
        if (entry.info.room === room && entry.sender === x.sender && entry.offer.id === offerId) this.endIncoming(entry, new FileTransferError('file-cancelled', 'the sender cancelled the share'), 'cancelled');
      }
      return;
    }
    const offer = readShareOffer(x.element);
    if (offer === undefined) return;
    // A new share on a stream ends whatever that stream carried before.
    const previous = this.byStream(room, x.sender, offer.streamId);
    if (previous !== undefined) this.endIncoming(previous, new FileTransferError('file-short', 'the sender started another share on the same stream'));
    const id = this.newId();
    const info: RoomShareInfo = { direction: 'in', id, room, peer: x.sender, name: offer.name, size: offer.size, sha256: offer.sha256, state: 'offered', bytes: 0, ...(offer.mimeType !== undefined ? { mimeType: offer.mimeType } : {}) };
    const entry: Incoming = { info, sender: x.sender, offer, missed: false, receiver: undefined, pending: undefined, pendingBytes: 0 };
    this.remember(id, () => this.incoming.set(id, entry));
    this.logger.info('room share offered', { room, sender: x.sender, id, name: offer.name, size: offer.size });
    this.emit('offer', { ...info });
    const dir = this.options.autoAcceptDir?.();
    if (dir !== undefined) void this.accept(id, dir).catch(() => undefined);
  }

  private dataReceived(room: string, data: RoomStreamData): void {
    const entry = this.byStream(room, data.sender, data.streamId);
    if (entry === undefined || (entry.missed && entry.receiver === undefined)) return;
    if (entry.info.state === 'offered') {
      // Not accepted (yet): the chunk is dropped, and this share can no longer complete here.
      entry.missed = true;
      return;
    }
    if (entry.receiver !== undefined) {
      entry.receiver.push(data.data);
      return;
    }
    entry.pending?.push(data.data);
    entry.pendingBytes += data.data.length;
    if (entry.pendingBytes > MAX_PENDING_BYTES) this.endIncoming(entry, new FileTransferError('file-no-space', 'the part file could not be opened in time'));
  }

  private senderGone(room: string, sender: string, why: string): void {
    for (const entry of this.incoming.values()) {
      if (entry.info.room === room && entry.sender === sender) this.endIncoming(entry, new FileTransferError('file-short', why));
    }
  }

  /** The live share on a sender's stream. */
  private byStream(room: string, sender: string, streamId: number): Incoming | undefined {
    for (const entry of this.incoming.values()) {
      if (entry.info.room === room && entry.sender === sender && entry.offer.streamId === streamId && (entry.info.state === 'offered' || entry.info.state === 'receiving')) return entry;
    }
    return undefined;
  }

  private endIncoming(entry: Incoming, error: unknown, state: 'failed' | 'cancelled' = 'failed'): void {
    if (entry.info.state !== 'offered' && entry.info.state !== 'receiving') return;
    const cancelled = state === 'cancelled' || (error instanceof FileTransferError && error.code === 'file-cancelled');
    entry.info.error = errorText(error);
    entry.pending = undefined;
    this.finish(entry.info, cancelled ? 'cancelled' : 'failed');
    entry.receiver?.cancel(error instanceof Error ? error : new Error(String(error)));
  }

  private finish(info: RoomShareInfo, state: RoomShareInfo['state']): void {
    info.state = state;
    this.logger.info('room share ended', { room: info.room, id: info.id, direction: info.direction, state, error: info.error });
    this.emit('done', { ...info });
  }

  private newId(): string {
    return `r${this.nextId++}`;
  }

  /** Keeps the list bounded: the oldest finished shares go first. */
  private remember(id: string, add: () => void): void {
    add();
    this.order.push(id);
    while (this.order.length > MAX_FINISHED) {
      const index = this.order.findIndex((old) => {
        const state = (this.incoming.get(old) ?? this.outgoing.get(old))?.info.state;
        return state !== 'offered' && state !== 'receiving' && state !== 'sending';
      });
      if (index < 0) break;
      const [old] = this.order.splice(index, 1);
      this.incoming.delete(old!);
      this.outgoing.delete(old!);
    }
  }
}

async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
