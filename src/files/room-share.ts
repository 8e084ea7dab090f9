/**
 * The room share (issue 12 item 2, our extension; salut members ignore it):
 * an offer on stream 0 — a body-less groupchat message whose one child is
 * `<share xmlns="urn:x-clique:files:0" id name size sha256 mime-type stream/>`
 * — then the content as rMulticast messages of at most `chunkBytes` on that
 * stream of the sender, in order (rMulticast delivers each sender's stream
 * reliably and in order, and its flow control paces the sender).
 *
 * This module is the wire format and the two ends over a small interface;
 * RoomShares (room-shares.ts) runs them over real rooms.
 */
import { createReadStream } from 'node:fs';
import { el, type XmlElement } from '../xml/xml-element.js';
import { FileTransferError } from './file-transfer-error.js';
import type { SafeReceiver } from './safe-receiver.js';

export const NS_CLIQUE_FILES = 'urn:x-clique:files:0';
/** Content messages: big enough to amortise headers, small enough for the room's 1 MiB message limit. */
export const DEFAULT_SHARE_CHUNK_BYTES = 64 * 1024;
const MAX_NAME_LENGTH = 1024;

export interface ShareOffer {
  /** The sender's id for this share (unique per sender). */
  id: string;
  name: string;
  size: number;
  /** Hex SHA-256 of the content. */
  sha256: string;
  mimeType?: string;
  /** The sender's data stream (1..65535) that carries the content. */
  streamId: number;
}

export function buildShareOffer(offer: ShareOffer): XmlElement {
  return el('share', NS_CLIQUE_FILES, {
    id: offer.id,
    name: offer.name,
    size: String(offer.size),
    sha256: offer.sha256,
    'mime-type': offer.mimeType,
    stream: String(offer.streamId),
  });
}

/** Reads a `<share>`; undefined for anything malformed (a bad offer costs only itself). */
export function readShareOffer(element: XmlElement): ShareOffer | undefined {
  if (!element.is('share', NS_CLIQUE_FILES)) return undefined;
  const id = element.getAttr('id');
  const name = element.getAttr('name');
  const sizeText = element.getAttr('size');
  const sha256 = element.getAttr('sha256');
  const streamText = element.getAttr('stream');
  if (id === undefined || id === '' || id.length > 64) return undefined;
  if (name === undefined || name === '' || name.length > MAX_NAME_LENGTH) return undefined;
  if (sizeText === undefined || !/^[0-9]{1,16}$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) return undefined;
  if (sha256 === undefined || !/^[0-9a-f]{64}$/.test(sha256)) return undefined;
  if (streamText === undefined || !/^[0-9]{1,5}$/.test(streamText)) return undefined;
  const streamId = Number(streamText);
  if (streamId < 1 || streamId > 65535) return undefined;
  const offer: ShareOffer = { id, name, size: Number(sizeText), sha256, streamId };
  const mimeType = element.getAttr('mime-type');
  if (mimeType !== undefined && mimeType !== '' && mimeType.length <= 255) offer.mimeType = mimeType;
  return offer;
}

/**
 * Sends a file's content as chunks through `send` (the room's
 * `sendStream(streamId, chunk)`), one at a time: each send resolves only when
 * the room took it, so memory stays at one chunk plus the room's own bounded
 * queue whatever the size. Throws FileTransferError 'file-cancelled' on abort,
 * 'file-unreadable' if the file changed size meanwhile.
 */
export async function streamShare(
  path: string,
  size: number,
  send: (chunk: Uint8Array) => Promise<void>,
  options: { chunkBytes?: number; signal?: AbortSignal; onProgress?: (sent: number) => void } = {},
): Promise<void> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_SHARE_CHUNK_BYTES;
  let sent = 0;
  if (size === 0) return;
  const input = createReadStream(path, { start: 0, end: size - 1, highWaterMark: chunkBytes });
  try {
    for await (const chunk of input) {
      if (options.signal?.aborted === true) throw new FileTransferError('file-cancelled', 'the share was cancelled');
      await send(chunk as Buffer);
      sent += (chunk as Buffer).length;
      options.onProgress?.(sent);
    }
  } finally {
    input.destroy();
  }
  if (sent !== size) throw new FileTransferError('file-unreadable', `${path} has ${sent} bytes, not the ${size} offered`);
}

/**
 * The receiving end of one share: chunks from the sender's stream go to a
 * SafeReceiver one at a time, in arrival order (writes are chained, so a slow
 * disk never reorders them); at `size` bytes the file is verified and put in
 * place. A sender that sends more than it offered, or a wrong hash, fails
 * only this share.
 */
export class ShareReceiver {
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;
  private queued = 0;
  readonly done: Promise<string>;
  private settle!: { resolve: (path: string) => void; reject: (error: Error) => void };

  constructor(
    private readonly receiver: SafeReceiver,
    private readonly size: number,
    /** Bytes that may wait for the disk before the share is failed (a stuck disk must not grow memory without bound). */
    private readonly maxQueuedBytes = 64 * 1024 * 1024,
    private readonly onProgress?: (received: number) => void,
  ) {
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.done.catch(() => undefined);
    if (size === 0) this.chain = this.chain.then(() => this.complete());
  }

  /** One content message of the share's stream. */
  push(chunk: Uint8Array): void {
    if (this.failure !== undefined) return;
    this.queued += chunk.length;
    if (this.queued > this.maxQueuedBytes) {
      this.fail(new FileTransferError('file-no-space', 'the disk does not keep up with the share'));
      return;
    }
    this.chain = this.chain.then(async () => {
      if (this.failure !== undefined) return;
      this.queued -= chunk.length;
      try {
        await this.receiver.write(chunk);
        this.onProgress?.(this.receiver.received);
        if (this.receiver.received === this.size) await this.complete();
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Gives up (the sender left, the user declined mid-way): the part file goes. */
  cancel(reason: Error = new FileTransferError('file-cancelled', 'the share was cancelled')): void {
    this.fail(reason);
  }

  private async complete(): Promise<void> {
    try {
      this.settle.resolve(await this.receiver.finish());
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    void this.receiver.abort();
    this.settle.reject(error);
  }
}
