import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { errorText } from '../base/error-text.js';
import { silentLogger, type Logger } from '../base/logger.js';
import { comparableAddress } from '../linklocal/peer-identity.js';
import { appleSingleHeader, APPLE_SINGLE_HEADER_BYTES, wantsAppleSingle } from './apple-single.js';

export interface FileOfferServerOptions {
  /** Address to listen on (the link's interface address). */
  host: string;
  /** A connection quiet this long (no request bytes, or a reader that stopped reading) is dropped. Default 30 s. */
  idleTimeoutMs?: number;
  /** The request head must arrive within this. Default 10 s (slowloris). */
  headersTimeoutMs?: number;
  /** Connections at once, all offers together. Default 32. */
  maxConnections?: number;
  logger?: Logger;
}

export interface FileToServe {
  /** Path on disk. */
  path: string;
  /** Name shown in the URL (escaped there). */
  name: string;
  /** Bytes served (the size offered). */
  size: number;
  mimeType?: string;
  /** Addresses allowed to fetch it, asked at each request (the contact's advertised addresses). */
  allowedAddresses: () => readonly string[];
  /** Bytes sent so far in the current response. */
  onProgress?: (sent: number) => void;
  /** A GET started sending the file. */
  onResponseStart?: () => void;
  /** A response ended: `complete` when every byte was written. */
  onResponseEnd?: (complete: boolean) => void;
}

/** One published file: its unguessable URL path, and the means to stop serving it. */
export interface ServedOffer {
  /** `/<random>/<escaped name>`. */
  readonly urlPath: string;
  /** Stops serving it; responses under way are cut. */
  withdraw(): void;
}

/** Concurrent GETs of one offer (a receiver retrying after a cut connection gets a second). */
const MAX_RESPONSES_PER_OFFER = 2;
const DEFAULT_IDLE_MS = 30_000;
const DEFAULT_HEADERS_MS = 10_000;
const DEFAULT_MAX_CONNECTIONS = 32;

interface Entry {
  file: FileToServe;
  responses: Set<ServerResponse>;
}

/**
 * The HTTP server our OOB offers point at (spec §8.1), on Node's own http.
 * It serves only files that are on offer right now, under paths nobody can
 * guess, only to the addresses of the contact they are offered to, with
 * timeouts for clients that send or read too slowly; everything else is 404.
 */
export class FileOfferServer {
  private readonly offers = new Map<string, Entry>();
  private readonly sockets = new Set<Socket>();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: Server,
    private readonly logger: Logger,
  ) {
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  static async start(options: FileOfferServerOptions): Promise<FileOfferServer> {
    const logger = (options.logger ?? silentLogger).child('file-server');
    const headersTimeout = options.headersTimeoutMs ?? DEFAULT_HEADERS_MS;
    const server = createServer({
      headersTimeout,
      requestTimeout: headersTimeout * 2,
      // Node checks the two timeouts above only this often (30 s by default).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
      keepAliveTimeout: 5_000,
      maxHeaderSize: 8 * 1024,
    });
    server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    server.setTimeout(options.idleTimeoutMs ?? DEFAULT_IDLE_MS, (socket) => socket.destroy());
    const instance = new FileOfferServer(server, logger);
    server.on('request', (request, response) => instance.onRequest(request, response));
    server.on('clientError', (_error, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: options.host, port: 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return instance;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Starts serving `file` under a fresh unguessable path. */
  publish(file: FileToServe): ServedOffer {
    const token = randomBytes(18).toString('base64url');
    const entry: Entry = { file, responses: new Set() };
    this.offers.set(token, entry);
    return {
      urlPath: `/${token}/${encodeURIComponent(file.name)}`,
      withdraw: () => {
        if (!this.offers.delete(token)) return;
        for (const response of entry.responses) response.destroy();
      },
    };
  }

  /** Withdraws everything and closes the server. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const entry of this.offers.values()) for (const response of entry.responses) response.destroy();
      this.offers.clear();
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  private onRequest(request: IncomingMessage, response: ServerResponse): void {
    const remote = comparableAddress(request.socket.remoteAddress ?? '');
    const token = (request.url ?? '').split('?')[0]!.split('/')[1] ?? '';
    const entry = this.offers.get(token);
    // Unknown path, wrong client or wrong method: the same 404, so nothing can be probed.
    if (entry === undefined || !entry.file.allowedAddresses().map(comparableAddress).includes(remote) || (request.method !== 'GET' && request.method !== 'HEAD')) {
      this.logger.debug('refusing a file request', { remote, method: request.method, known: entry !== undefined });
      response.writeHead(404, { 'Content-Length': '0', Connection: 'close' }).end();
      return;
    }
    if (entry.responses.size >= MAX_RESPONSES_PER_OFFER) {
      response.writeHead(503, { 'Content-Length': '0', Connection: 'close' }).end();
      return;
    }
    this.serve(entry, request, response);
  }

  private serve(entry: Entry, request: IncomingMessage, response: ServerResponse): void {
    const { file } = entry;
    const appleSingle = wantsAppleSingle(request.headers['accept-encoding']) && file.size <= 0xffff_ffff;
    const headers: Record<string, string> = {
      'Content-Type': file.mimeType ?? 'application/octet-stream',
      'Content-Length': String(file.size + (appleSingle ? APPLE_SINGLE_HEADER_BYTES : 0)),
      'Cache-Control': 'no-store',
    };
    if (appleSingle) headers['Content-Encoding'] = 'AppleSingle';
    entry.responses.add(response);
    file.onResponseStart?.();
    let sent = 0;
    let ended = false;
    const end = (complete: boolean): void => {
      if (ended) return;
      ended = true;
      entry.responses.delete(response);
      file.onResponseEnd?.(complete);
    };
    response.once('close', () => end(response.writableFinished));
    response.writeHead(200, headers);
    if (request.method === 'HEAD' || file.size === 0) {
      response.end(appleSingle && request.method !== 'HEAD' ? appleSingleHeader(file.size) : undefined);
      return;
    }
    if (appleSingle) response.write(appleSingleHeader(file.size));
    // Exactly the offered size: a file that grew meanwhile is not sent beyond it.
    const stream = createReadStream(file.path, { start: 0, end: file.size - 1, highWaterMark: 256 * 1024 });
    stream.on('data', (chunk) => {
      sent += chunk.length;
      file.onProgress?.(sent);
    });
    stream.on('error', (error) => {
      this.logger.warn('cannot read an offered file', { path: file.path, error: errorText(error) });
      response.destroy();
    });
    response.once('close', () => stream.destroy());
    stream.pipe(response);
  }
}

