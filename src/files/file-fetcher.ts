import { request as httpRequest, type IncomingMessage } from 'node:http';
import { errorText } from '../base/error-text.js';
import { FileTransferError } from './file-transfer-error.js';
import type { SafeReceiver } from './safe-receiver.js';

export interface FetchOptions {
  /** Where the bytes go (it enforces the declared size and the limit). */
  receiver: SafeReceiver;
  /** The connection is given up when nothing arrives for this long. Default 30 s. */
  idleTimeoutMs?: number;
  /** Leave from this address (the link's interface). */
  localAddress?: string;
  signal?: AbortSignal;
  /** Bytes received so far. */
  onProgress?: (received: number) => void;
}

const DEFAULT_IDLE_MS = 30_000;

/**
 * GETs an offered file into a SafeReceiver. Whatever the peer does (a wrong
 * status, more bytes than declared, an endless body, silence) ends in a
 * FileTransferError for this transfer only; the caller then aborts the
 * receiver. Resolves when the body ended (the caller then calls finish()).
 */
export function fetchFile(url: string, options: FetchOptions): Promise<void> {
  const { receiver, signal } = options;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      request.destroy();
      reject(error);
    };
    if (signal?.aborted === true) {
      reject(new FileTransferError('file-cancelled', 'the transfer was cancelled'));
      return;
    }
    const request = httpRequest(url, {
      method: 'GET',
      agent: false,
      headers: { 'Accept-Encoding': 'identity', Connection: 'close' },
      ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
    });
    const onAbort = (): void => fail(new FileTransferError('file-cancelled', 'the transfer was cancelled'));
    signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = (): void => signal?.removeEventListener('abort', onAbort);
    request.setTimeout(options.idleTimeoutMs ?? DEFAULT_IDLE_MS, () =>
      fail(new FileTransferError('file-http-failed', `nothing arrived from the sender for ${options.idleTimeoutMs ?? DEFAULT_IDLE_MS} ms`)),
    );
    request.on('error', (error) => fail(new FileTransferError('file-http-failed', `the download failed: ${errorText(error)}`, { cause: error })));
    request.on('close', cleanup);
    request.on('response', (response) => {
      void receive(response).then(
        () => {
          if (settled) return;
          settled = true;
          resolve();
        },
        (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))),
      );
    });
    request.end();

    async function receive(response: IncomingMessage): Promise<void> {
      if (response.statusCode !== 200) {
        response.resume();
        throw new FileTransferError('file-http-failed', `the sender answered HTTP ${response.statusCode ?? '?'}`);
      }
      const encoding = response.headers['content-encoding'];
      if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
        throw new FileTransferError('file-http-failed', `the sender used a content encoding we did not ask for (${encoding})`);
      }
      let complete = false;
      response.once('end', () => {
        complete = true;
      });
      for await (const chunk of response) {
        if (settled) return;
        await receiver.write(chunk as Buffer);
        options.onProgress?.(receiver.received);
      }
      // A connection cut in the middle ends the iteration without 'end' (or with `aborted`).
      if (!complete || response.aborted) throw new FileTransferError('file-http-failed', `the connection closed after ${receiver.received} bytes`);
    }
  });
}
