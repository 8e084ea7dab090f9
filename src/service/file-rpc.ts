import { isAbsolute } from 'node:path';
import type { Logger } from '../base/logger.js';
import { FileTransfers, type TransferInfo } from '../files/file-transfers.js';
import { FileTransferError } from '../files/file-transfer-error.js';
import type { LinkLocalService } from '../linklocal/link-local-service.js';
import { RoomShares, type RoomShareInfo, type ShareRoom, type ShareStreamPool } from '../files/room-shares.js';
import { ShareFetch } from '../files/share-fetch.js';
import { ParamReader, type FileTransferJson } from './control-protocol.js';
import type { ControlClient } from './control-server.js';
import type { JsonValue, RpcParams } from './json-rpc.js';
import { RpcFault } from './rpc-fault.js';

const DEFAULT_CONTACT_WAIT_MS = 5000;
const MAX_PATH_LENGTH = 4096;
/** Progress events to clients at most this often per transfer (the library's own steps can be finer). */
const PROGRESS_INTERVAL_MS = 200;

/**
 * The service's `files.*` methods and `file.*` events (issue 12): one
 * FileTransfers on the service's presence, shared by every client. Offers to
 * us wait in the service until a client accepts or declines them.
 */
export class FileRpc {
  private readonly subscribers = new Set<ControlClient>();
  private readonly lastProgress = new Map<string, number>();
  /** Auto-accept set by a client for as long as it stays connected. */
  private clientAutoAccept: { client: number; dir: string } | undefined;
  /** Room shares (issue 12 item 2) in every room the service is in; auto-accept covers them too. */
  private readonly shares: RoomShares;
  /** Late members' 1-1 fetches of room shares (needs a presence). */
  private readonly fetcher: ShareFetch | undefined;

  private constructor(
    private readonly files: FileTransfers | undefined,
    private readonly link: LinkLocalService | undefined,
    /** Auto-accept the service was started with (`clique up --accept-files`), or set to stay. */
    private stayAutoAccept: string | undefined,
    logger: Logger,
  ) {
    this.shares = new RoomShares({
      logger: logger.child('shares'),
      autoAcceptDir: () => this.autoAcceptDir(),
      fetchMissed: (share, dir) =>
        this.fetcher !== undefined ? this.fetcher.fetch(share, dir) : Promise.reject(new FileTransferError('file-short', 'the share began before it was accepted, and without a presence it cannot be fetched 1-1')),
    });
    this.fetcher = files !== undefined && link !== undefined ? new ShareFetch(link, files, () => this.shares, { logger: logger.child('share-fetch') }) : undefined;
    this.shares.on('offer', (info) => this.tell('file.offered', shareJson(info)));
    this.shares.on('progress', (info) => this.progress(shareJson(info)));
    this.shares.on('done', (info) => this.finished(shareJson(info)));
    if (files === undefined) return;
    files.on('offer', (info) => this.tell('file.offered', transferJson({ direction: 'in', ...info })));
    files.on('progress', (info) => this.progress(transferJson(info)));
    files.on('done', (info) => this.finished(transferJson(info)));
  }

  /** Follows a room the service joined, for room shares (until it is left). */
  roomJoined(room: ShareRoom, pool: ShareStreamPool): void {
    this.shares.attach(room, pool);
  }

  private progress(json: FileTransferJson): void {
    const key = `${json.direction}:${json.id}`;
    const now = Date.now();
    if (now - (this.lastProgress.get(key) ?? 0) < PROGRESS_INTERVAL_MS) return;
    this.lastProgress.set(key, now);
    this.tell('file.progress', json);
  }

  private finished(json: FileTransferJson): void {
    this.lastProgress.delete(`${json.direction}:${json.id}`);
    this.tell('file.done', json);
  }

  static async start(link: LinkLocalService | undefined, options: { acceptFilesDir?: string; logger: Logger }): Promise<FileRpc> {
    if (link === undefined) return new FileRpc(undefined, undefined, undefined, options.logger);
    const files = await FileTransfers.start(link, {
      logger: options.logger,
      ...(options.acceptFilesDir !== undefined ? { autoAcceptDir: options.acceptFilesDir } : {}),
    });
    return new FileRpc(files, link, options.acceptFilesDir, options.logger);
  }

  async handle(client: ControlClient, method: string, params: RpcParams | undefined): Promise<JsonValue> {
    const shared = await this.handleShares(client, method, params);
    if (shared !== undefined) return shared;
    const files = this.files;
    if (files === undefined) throw new RpcFault('no-presence', 'the service has no presence, so no file transfers');
    switch (method) {
      case 'files.offer': {
        const reader = new ParamReader(params, ['contact', 'path', 'desc', 'timeoutMs']);
        const contact = reader.string('contact', { maxLength: 256 });
        const path = absolute(reader.string('path', { maxLength: MAX_PATH_LENGTH }), 'path');
        const desc = reader.optionalString('desc', { maxLength: 4096 });
        const timeoutMs = reader.optionalInteger('timeoutMs', 0, 600_000) ?? DEFAULT_CONTACT_WAIT_MS;
        if (this.link!.contacts.get(contact) === undefined) await this.link!.waitForContact(contact, { timeoutMs });
        const transfer = await files.offer(contact, path, desc !== undefined ? { desc } : {});
        // The outcome goes to subscribers as file.done; a rejected promise must not go unheard meanwhile.
        transfer.done.catch(() => undefined);
        return transferJson({ direction: 'out', ...transfer.info() });
      }
      case 'files.list':
        new ParamReader(params, []);
        return { transfers: this.all() };
      case 'files.subscribe':
        new ParamReader(params, []);
        this.subscribers.add(client);
        return { transfers: this.all() };
      case 'files.accept': {
        const reader = new ParamReader(params, ['id', 'dir']);
        const id = reader.string('id', { maxLength: 64 });
        const dir = absolute(reader.string('dir', { maxLength: MAX_PATH_LENGTH }), 'dir');
        if (this.one(id).state !== 'offered') throw new FileTransferError('file-not-found', `file offer ${id} is no longer pending`);
        void files.accept(id, { dir }).catch(() => undefined);
        return this.one(id);
      }
      case 'files.decline': {
        const id = new ParamReader(params, ['id']).string('id', { maxLength: 64 });
        files.decline(id);
        return this.one(id);
      }
      case 'files.cancel':
        return { cancelled: files.cancel(new ParamReader(params, ['id']).string('id', { maxLength: 64 })) };
      case 'files.auto-accept': {
        const reader = new ParamReader(params, ['dir', 'hold']);
        const raw = (params as { dir?: unknown } | undefined)?.dir;
        const dir = raw === null ? undefined : absolute(reader.string('dir', { maxLength: MAX_PATH_LENGTH }), 'dir');
        const hold = reader.optionalChoice('hold', ['stay', 'client'] as const) ?? 'client';
        if (hold === 'stay') {
          this.stayAutoAccept = dir;
          this.clientAutoAccept = undefined;
        } else {
          this.clientAutoAccept = dir === undefined ? undefined : { client: client.id, dir };
        }
        files.setAutoAccept(this.autoAcceptDir());
        return { dir: dir ?? null };
      }
      default:
        throw new RpcFault('method-not-found', `no method ${JSON.stringify(method)}`, -32601);
    }
  }

  /**
   * files.share, and the methods that take an id when the id is a room
   * share's (`r…`); undefined for everything else. Room shares work without
   * a presence (a room needs none).
   */
  private async handleShares(client: ControlClient, method: string, params: RpcParams | undefined): Promise<JsonValue | undefined> {
    const id = (params as { id?: unknown } | undefined)?.id;
    const isShare = typeof id === 'string' && this.shares.has(id);
    switch (method) {
      case 'files.share': {
        const reader = new ParamReader(params, ['room', 'path']);
        const room = reader.string('room', { maxLength: 256 });
        const path = absolute(reader.string('path', { maxLength: MAX_PATH_LENGTH }), 'path');
        const { info, done } = await this.shares.share(room, path);
        done.catch(() => undefined);
        return shareJson(info);
      }
      case 'files.list':
      case 'files.subscribe':
        if (this.files !== undefined) return undefined;
        new ParamReader(params, []);
        if (method === 'files.subscribe') this.subscribers.add(client);
        return { transfers: this.all() };
      case 'files.accept': {
        if (!isShare) return undefined;
        const reader = new ParamReader(params, ['id', 'dir']);
        const dir = absolute(reader.string('dir', { maxLength: MAX_PATH_LENGTH }), 'dir');
        return shareJson(await this.shares.accept(id, dir));
      }
      case 'files.decline':
        return isShare ? shareJson(this.shares.decline(id)) : undefined;
      case 'files.cancel':
        return isShare ? { cancelled: this.shares.cancel(id) } : undefined;
      default:
        return undefined;
    }
  }

  private all(): FileTransferJson[] {
    return [...(this.files?.list().map(transferJson) ?? []), ...this.shares.list().map(shareJson)];
  }

  disconnected(client: ControlClient): void {
    this.subscribers.delete(client);
    if (this.clientAutoAccept?.client === client.id) {
      this.clientAutoAccept = undefined;
      this.files?.setAutoAccept(this.autoAcceptDir());
    }
  }

  close(): Promise<void> {
    this.shares.close();
    this.fetcher?.close();
    return this.files?.close() ?? Promise.resolve();
  }

  private autoAcceptDir(): string | undefined {
    return this.clientAutoAccept?.dir ?? this.stayAutoAccept;
  }

  private one(id: string): FileTransferJson {
    const info = this.files?.list().find((t) => t.direction === 'in' && t.id === id);
    if (info === undefined) throw new FileTransferError('file-not-found', `no file offer ${id}`);
    return transferJson(info);
  }

  private tell(event: 'file.offered' | 'file.progress' | 'file.done', params: FileTransferJson): void {
    for (const client of this.subscribers) client.notify(event, params);
  }
}

function absolute(path: string, what: string): string {
  if (!isAbsolute(path)) throw new RpcFault('invalid-params', `${what} must be an absolute path`, -32602);
  return path;
}

export function shareJson(info: RoomShareInfo): FileTransferJson {
  return {
    direction: info.direction,
    id: info.id,
    peer: info.peer,
    room: info.room,
    name: info.name,
    size: info.size,
    sha256: info.sha256,
    desc: null,
    state: info.state,
    bytes: info.bytes,
    path: info.path ?? null,
    error: info.error ?? null,
  };
}

export function transferJson(info: TransferInfo): FileTransferJson {
  if (info.direction === 'in') {
    return {
      direction: 'in',
      id: info.id,
      peer: info.from,
      room: null,
      name: info.name,
      size: info.size ?? null,
      sha256: info.sha256 ?? null,
      desc: info.desc ?? null,
      state: info.state,
      bytes: info.received,
      path: info.path ?? null,
      error: info.error ?? null,
    };
  }
  return {
    direction: 'out',
    id: info.id,
    peer: info.to,
    room: null,
    name: info.name,
    size: info.size,
    sha256: info.sha256,
    desc: null,
    state: info.state,
    bytes: info.sent,
    path: null,
    error: info.error ?? null,
  };
}
