import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { EventEmitter } from 'node:events';
import { basename } from 'node:path';
import { AsyncQueue } from '../base/async-queue.js';
import { deferred, type Deferred } from '../base/deferred.js';
import { emitSafely } from '../base/emit-safely.js';
import { errorText } from '../base/error-text.js';
import { silentLogger, type Logger } from '../base/logger.js';
import type { Contact } from '../linklocal/contact.js';
import { comparableAddress } from '../linklocal/peer-identity.js';
import { IqErrorAnswer, type IqAnswer } from '../linklocal/iq-router.js';
import type { XmlElement } from '../xml/xml-element.js';
import { fetchFile } from './file-fetcher.js';
import { sanitizeFileName } from './file-name.js';
import { FileOfferServer, type ServedOffer } from './file-offer-server.js';
import { FileTransferError } from './file-transfer-error.js';
import type { FileLink, IncomingOfferInfo, OutgoingOfferInfo, ReceiveOutcome, TransferOutcome } from './file-transfer-types.js';
import { buildOobDecline, buildOobFetchFailed, buildOobOffer, buildOobRefusal, buildOobResult, isOobOffer, readOfferError, readOobOffer, type OobOffer } from './oob-stanzas.js';
import { SafeReceiver } from './safe-receiver.js';

export interface FileTransfersOptions {
  /** Largest file we take (default 64 GiB). */
  maxBytes?: number;
  /** How long an offer of ours waits for the receiver's answer (default 1 h: the person may be away). */
  offerTimeoutMs?: number;
  /** How long an offer to us waits for accept/decline before it is declined (default 1 h). */
  incomingOfferTtlMs?: number;
  /** HTTP idle timeout, both sides (default 30 s). */
  idleTimeoutMs?: number;
  /**
   * A receiver whose download broke off and that neither fetches again nor
   * answers within this long (it crashed, or lost the link) fails the offer
   * (default 15 s; five times as long after a complete download, for its checks).
   */
  abandonedAfterMs?: number;
  /** How often a pending offer checks that its receiver is still on the link (default 5 s). */
  contactCheckMs?: number;
  /** Offers to us waiting at once; more are declined (default 64). */
  maxPendingOffers?: number;
  /** Receive every offer into this directory without asking. */
  autoAcceptDir?: string;
  logger?: Logger;
}

export interface OfferOptions {
  desc?: string;
  /** Name to offer it under (default the file's base name). */
  name?: string;
  mimeType?: string;
  signal?: AbortSignal;
}

export type TransferInfo = ({ direction: 'in' } & IncomingOfferInfo) | ({ direction: 'out' } & OutgoingOfferInfo);

export interface FileTransfersEvents {
  /** Someone offered us a file. */
  offer: [IncomingOfferInfo];
  /** Bytes moved in a transfer (at most every 1/100 of the file or 1 MiB). */
  progress: [TransferInfo];
  /** A transfer ended (accepted/received, declined, failed, cancelled). */
  done: [TransferInfo];
}

const DEFAULT_MAX_BYTES = 64 * 1024 ** 3;
const DEFAULT_OFFER_TIMEOUT_MS = 3_600_000;
const DEFAULT_PENDING_MAX = 64;
const DEFAULT_ABANDONED_MS = 15_000;
/** How often a pending offer checks that its receiver is still on the link. */
const CONTACT_CHECK_MS = 5_000;
/** Finished transfers kept for `list()`. */
const MAX_FINISHED_KEPT = 100;
const PROGRESS_STEP_MIN = 1024 * 1024;

/** A file we offered: progress events, `done` with the outcome, `cancel()`. */
export class OutgoingTransfer extends EventEmitter<{ progress: [OutgoingOfferInfo] }> {
  readonly done: Promise<TransferOutcome>;
  private readonly abort = new AbortController();

  constructor(
    private readonly state: OutgoingOfferInfo,
    run: (signal: AbortSignal) => Promise<TransferOutcome>,
  ) {
    super();
    this.done = run(this.abort.signal);
  }

  get id(): string {
    return this.state.id;
  }

  info(): OutgoingOfferInfo {
    return { ...this.state };
  }

  /** Withdraws the offer; a download under way is cut. */
  cancel(): void {
    this.abort.abort();
  }
}

interface IncomingEntry {
  info: IncomingOfferInfo;
  offer: OobOffer;
  request: XmlElement;
  answer: Deferred<XmlElement>;
  expiry: ReturnType<typeof setTimeout>;
  abort?: AbortController;
  done?: Promise<ReceiveOutcome>;
}

/**
 * 1-1 file transfer over the XEP-0174 link (spec §8): offers out (our HTTP
 * server serves the file, the receiver GETs it), offers in (an event and an
 * async iterator; `accept` downloads safely, `decline` answers 406).
 *
 *   const files = await FileTransfers.start(me);
 *   const t = await files.offer('bob@desk', 'notes.txt', { desc: 'my notes' });
 *   t.on('progress', (p) => console.log(p.sent, '/', p.size));
 *   console.log((await t.done).state);                    // 'accepted' | 'declined' | ...
 *   for await (const o of files.offers()) await files.accept(o.id, { dir: '/tmp' }).done;
 */
export class FileTransfers extends EventEmitter<FileTransfersEvents> {
  private readonly incoming = new Map<string, IncomingEntry>();
  private readonly outgoing = new Map<string, { transfer: OutgoingTransfer; info: OutgoingOfferInfo }>();
  private readonly queues = new Set<AsyncQueue<IncomingOfferInfo>>();
  private readonly removeHandler: () => void;
  private nextIncoming = 1;
  private nextOutgoing = 1;
  private closed = false;
  private readonly logger: Logger;

  private constructor(
    private readonly link: FileLink,
    private readonly server: FileOfferServer,
    private readonly options: FileTransfersOptions,
    logger: Logger,
  ) {
    super();
    this.logger = logger;
    this.removeHandler = link.handleIq((request, from) => this.onIq(request, from));
  }

  static async start(link: FileLink, options: FileTransfersOptions = {}): Promise<FileTransfers> {
    const logger = (options.logger ?? silentLogger).child('files');
    const server = await FileOfferServer.start({
      host: link.interfaceAddress,
      logger,
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    });
    return new FileTransfers(link, server, options, logger);
  }

  /** Where offered files are served (for tests and diagnostics). */
  get port(): number {
    return this.server.port;
  }

  /** Every offer in and out that is pending, running or recently finished. */
  list(): TransferInfo[] {
    return [
      ...[...this.incoming.values()].map((e) => ({ direction: 'in' as const, ...e.info })),
      ...[...this.outgoing.values()].map((o) => ({ direction: 'out' as const, ...o.info })),
    ];
  }

  /** Receive every future offer into `dir` (undefined: ask again). */
  setAutoAccept(dir: string | undefined): void {
    if (dir === undefined) delete this.options.autoAcceptDir;
    else this.options.autoAcceptDir = dir;
  }

  /**
   * Offers a file to a contact. Resolves once the offer is sent (after the
   * file is hashed); the transfer's `done` tells how it ended. Throws
   * FileTransferError 'file-unreadable' if the path is not a readable file.
   */
  async offer(contact: string | Contact, path: string, options: OfferOptions = {}): Promise<OutgoingTransfer> {
    const to = typeof contact === 'string' ? contact : contact.name;
    let size: number;
    let sha256: string;
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new FileTransferError('file-unreadable', `${path} is not a regular file`);
      size = info.size;
      sha256 = await hashFile(path, options.signal);
    } catch (error) {
      if (error instanceof FileTransferError) throw error;
      throw new FileTransferError('file-unreadable', `cannot read ${path}: ${errorText(error)}`, { cause: error });
    }
    const name = options.name ?? basename(path);
    const info: OutgoingOfferInfo = { id: `o${this.nextOutgoing++}`, to, name, size, sha256, state: 'offered', sent: 0 };
    let lastShown = 0;
    const step = Math.max(PROGRESS_STEP_MIN, Math.floor(size / 100));
    const transfer = new OutgoingTransfer(info, async (signal) => {
      const release = this.link.holdStream(to);
      const abandoned = new AbortController();
      let abandonTimer: ReturnType<typeof setTimeout> | undefined;
      let serving = 0;
      const gone = new AbortController();
      // A receiver that went offline before fetching would otherwise keep the offer for the whole offer timeout.
      const presence = setInterval(() => {
        if (serving === 0 && this.link.contacts.get(to) === undefined) gone.abort();
      }, this.options.contactCheckMs ?? CONTACT_CHECK_MS);
      presence.unref?.();
      const abandonAfter = this.options.abandonedAfterMs ?? DEFAULT_ABANDONED_MS;
      const served: ServedOffer = this.server.publish({
        path,
        name,
        size,
        ...(options.mimeType !== undefined ? { mimeType: options.mimeType } : {}),
        allowedAddresses: () => this.addressesOf(to),
        onResponseStart: () => {
          serving += 1;
          clearTimeout(abandonTimer);
        },
        onResponseEnd: (complete) => {
          serving -= 1;
          clearTimeout(abandonTimer);
          abandonTimer = setTimeout(() => abandoned.abort(), complete ? abandonAfter * 5 : abandonAfter);
        },
        onProgress: (sent) => {
          info.sent = sent;
          if (sent - lastShown >= step || sent === size) {
            lastShown = sent;
            transfer.emit('progress', { ...info });
            emitSafely(this, this.logger, 'progress', { direction: 'out', ...info });
          }
        },
      });
      const cancelled = options.signal === undefined ? signal : AbortSignal.any([signal, options.signal]);
      const signals = AbortSignal.any([cancelled, abandoned.signal, gone.signal]);
      try {
        const host = this.link.streamAddresses(to)?.local ?? this.link.interfaceAddress;
        const url = `http://${host.includes(':') ? `[${host}]` : host}:${this.server.port}${served.urlPath}`;
        const request = buildOobOffer({ url, size, sha256, ...(options.desc !== undefined ? { desc: options.desc } : {}), ...(options.mimeType !== undefined ? { mimeType: options.mimeType } : {}) });
        await this.link.requestIq(to, request, { timeoutMs: this.options.offerTimeoutMs ?? DEFAULT_OFFER_TIMEOUT_MS, signal: signals });
        return this.endOutgoing(info, { state: 'accepted' });
      } catch (error) {
        if (cancelled.aborted) return this.endOutgoing(info, { state: 'cancelled' });
        if (gone.signal.aborted) {
          return this.endOutgoing(info, { state: 'failed', error: new FileTransferError('file-remote-error', `${to} went offline before taking the file`) });
        }
        if (abandoned.signal.aborted) {
          return this.endOutgoing(info, { state: 'failed', error: new FileTransferError('file-http-failed', `${to} stopped fetching the file and did not answer (crashed or gone?)`) });
        }
        if (error instanceof IqErrorAnswer && readOfferError(error.answer) === 'declined') return this.endOutgoing(info, { state: 'declined' });
        const reason = error instanceof IqErrorAnswer
          ? new FileTransferError('file-remote-error', `${to} could not take the file (${error.condition ?? 'error'})`, { cause: error })
          : new FileTransferError('file-remote-error', `the offer to ${to} failed: ${errorText(error)}`, { cause: error });
        return this.endOutgoing(info, { state: 'failed', error: reason });
      } finally {
        clearTimeout(abandonTimer);
        clearInterval(presence);
        served.withdraw();
        release();
      }
    });
    this.outgoing.set(info.id, { transfer, info });
    this.trimFinished();
    return transfer;
  }

  /** Incoming offers from now on; ends at `close()` or when `signal` aborts. */
  offers(signal?: AbortSignal): AsyncIterableIterator<IncomingOfferInfo> {
    const onOffer = (info: IncomingOfferInfo): void => {
      queue.push(info);
    };
    const onAbort = (): void => queue.end();
    const queue = new AsyncQueue<IncomingOfferInfo>(
      DEFAULT_PENDING_MAX,
      () => new FileTransferError('file-cancelled', 'the offers reader fell too far behind'),
      () => {
        this.off('offer', onOffer);
        signal?.removeEventListener('abort', onAbort);
        this.queues.delete(queue);
      },
    );
    this.on('offer', onOffer);
    this.queues.add(queue);
    if (signal?.aborted === true) queue.end();
    else signal?.addEventListener('abort', onAbort, { once: true });
    return queue;
  }

  /**
   * Downloads an offer into `dir` (safely: see SafeReceiver), then answers the
   * sender (result, or 404 on failure). Resolves with the outcome.
   * Throws FileTransferError 'file-not-found' for an unknown or finished offer.
   */
  accept(id: string, options: { dir: string; signal?: AbortSignal }): Promise<ReceiveOutcome> {
    const entry = this.incoming.get(id);
    if (entry === undefined || entry.info.state !== 'offered') {
      return Promise.reject(new FileTransferError('file-not-found', `no pending file offer ${id}`));
    }
    clearTimeout(entry.expiry);
    entry.info.state = 'receiving';
    const abort = new AbortController();
    entry.abort = abort;
    const signal = options.signal === undefined ? abort.signal : AbortSignal.any([abort.signal, options.signal]);
    entry.done = this.receive(entry, options.dir, signal);
    return entry.done;
  }

  /** Declines an offer (406, §8.2). Throws 'file-not-found' for an unknown or finished offer. */
  decline(id: string): void {
    const entry = this.incoming.get(id);
    if (entry === undefined || entry.info.state !== 'offered') throw new FileTransferError('file-not-found', `no pending file offer ${id}`);
    this.declineEntry(entry);
  }

  /** Cancels a transfer, ours or theirs, by id: an offer withdrawn, a download cut. */
  cancel(id: string): boolean {
    const out = this.outgoing.get(id);
    if (out !== undefined) {
      out.transfer.cancel();
      return true;
    }
    const entry = this.incoming.get(id);
    if (entry?.abort !== undefined) {
      entry.abort.abort();
      return true;
    }
    return false;
  }

  /** Stops: declines pending offers, cancels transfers, closes the HTTP server. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.removeHandler();
    for (const entry of this.incoming.values()) {
      if (entry.info.state === 'offered') this.declineEntry(entry);
      entry.abort?.abort();
    }
    for (const { transfer } of this.outgoing.values()) transfer.cancel();
    for (const queue of [...this.queues]) queue.end();
    await Promise.allSettled([...[...this.incoming.values()].map((e) => e.done), ...[...this.outgoing.values()].map((o) => o.transfer.done)]);
    await this.server.close();
  }

  private onIq(request: XmlElement, from: string): IqAnswer {
    if (this.closed || !isOobOffer(request)) return undefined;
    const read = readOobOffer(request);
    if (!read.ok) {
      this.logger.debug('refusing a file offer', { from, refusal: read.refusal });
      return buildOobRefusal(request, read.refusal);
    }
    const { offer } = read;
    // The URL must point at the offerer: otherwise a peer could make us GET anything on the LAN.
    const host = new URL(offer.url).hostname.replace(/^\[|\]$/g, '');
    if (!this.addressesOf(from).includes(comparableAddress(host))) {
      this.logger.debug('refusing a file offer whose URL is not at the offerer', { from, host });
      return buildOobRefusal(request, 'bad-request');
    }
    const pending = [...this.incoming.values()].filter((e) => e.info.state === 'offered').length;
    if (pending >= (this.options.maxPendingOffers ?? DEFAULT_PENDING_MAX)) {
      this.logger.warn('too many file offers waiting; declining', { from });
      return buildOobDecline(request);
    }
    const info: IncomingOfferInfo = { id: String(this.nextIncoming++), from, name: sanitizeFileName(offer.name), state: 'offered', received: 0 };
    if (offer.size !== undefined) info.size = offer.size;
    if (offer.mimeType !== undefined) info.mimeType = offer.mimeType;
    if (offer.desc !== undefined) info.desc = offer.desc;
    if (offer.sha256 !== undefined) info.sha256 = offer.sha256;
    const answer = deferred<XmlElement>();
    const entry: IncomingEntry = {
      info,
      offer,
      request,
      answer,
      expiry: setTimeout(() => {
        if (entry.info.state === 'offered') this.declineEntry(entry);
      }, this.options.incomingOfferTtlMs ?? DEFAULT_OFFER_TIMEOUT_MS),
    };
    entry.expiry.unref?.();
    this.incoming.set(info.id, entry);
    this.trimFinished();
    emitSafely(this, this.logger, 'offer', { ...info });
    const dir = this.options.autoAcceptDir;
    if (dir !== undefined) void this.accept(info.id, { dir });
    return answer.promise;
  }

  private declineEntry(entry: IncomingEntry): void {
    clearTimeout(entry.expiry);
    entry.info.state = 'declined';
    entry.answer.resolve(buildOobDecline(entry.request));
    emitSafely(this, this.logger, 'done', { direction: 'in', ...entry.info });
  }

  private async receive(entry: IncomingEntry, dir: string, signal: AbortSignal): Promise<ReceiveOutcome> {
    const { info, offer } = entry;
    const release = this.link.holdStream(info.from);
    let receiver: SafeReceiver | undefined;
    let lastShown = 0;
    const step = Math.max(PROGRESS_STEP_MIN, Math.floor((offer.size ?? 0) / 100));
    try {
      receiver = await SafeReceiver.open({
        dir,
        name: offer.name,
        maxBytes: this.options.maxBytes ?? DEFAULT_MAX_BYTES,
        ...(offer.size !== undefined ? { expectedSize: offer.size } : {}),
        ...(offer.sha256 !== undefined ? { sha256: offer.sha256 } : {}),
      });
      await fetchFile(offer.url, {
        receiver,
        signal,
        localAddress: this.link.interfaceAddress,
        ...(this.options.idleTimeoutMs !== undefined ? { idleTimeoutMs: this.options.idleTimeoutMs } : {}),
        onProgress: (bytes) => {
          info.received = bytes;
          if (bytes - lastShown >= step) {
            lastShown = bytes;
            emitSafely(this, this.logger, 'progress', { direction: 'in', ...info });
          }
        },
      });
      info.path = await receiver.finish();
      info.state = 'received';
      entry.answer.resolve(buildOobResult(entry.request));
      return { state: 'received', path: info.path };
    } catch (error) {
      await receiver?.abort();
      entry.answer.resolve(buildOobFetchFailed(entry.request));
      if (signal.aborted) {
        info.state = 'cancelled';
        return { state: 'cancelled' };
      }
      const failure = error instanceof FileTransferError ? error : new FileTransferError('file-http-failed', `receiving failed: ${errorText(error)}`, { cause: error });
      info.state = 'failed';
      info.error = failure.message;
      return { state: 'failed', error: failure };
    } finally {
      release();
      emitSafely(this, this.logger, 'done', { direction: 'in', ...info });
    }
  }

  private endOutgoing(info: OutgoingOfferInfo, outcome: TransferOutcome): TransferOutcome {
    info.state = outcome.state;
    if (outcome.state === 'failed') info.error = outcome.error.message;
    emitSafely(this, this.logger, 'done', { direction: 'out', ...info });
    return outcome;
  }

  /** The contact's advertised addresses and, if a stream is open, where it comes from. */
  private addressesOf(name: string): string[] {
    const addresses = [...(this.link.contacts.get(name)?.addresses ?? [])];
    const remote = this.link.streamAddresses(name)?.remote;
    if (remote !== undefined) addresses.push(remote);
    return addresses.map(comparableAddress);
  }

  /** Forgets the oldest finished transfers beyond the kept number. */
  private trimFinished(): void {
    const finishedIn = [...this.incoming.entries()].filter(([, e]) => e.info.state !== 'offered' && e.info.state !== 'receiving');
    for (const [id] of finishedIn.slice(0, Math.max(0, finishedIn.length - MAX_FINISHED_KEPT))) this.incoming.delete(id);
    const finishedOut = [...this.outgoing.entries()].filter(([, o]) => o.info.state !== 'offered');
    for (const [id] of finishedOut.slice(0, Math.max(0, finishedOut.length - MAX_FINISHED_KEPT))) this.outgoing.delete(id);
  }
}

async function hashFile(path: string, signal: AbortSignal | undefined): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024, ...(signal !== undefined ? { signal } : {}) })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
