import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { errorText } from '../base/error-text.js';
import type { Logger } from '../base/logger.js';
import type { ServiceClient } from '../service/service-client.js';
import { pageHtml, type InitialRooms } from './page-html.js';
import { relay } from './web-relay.js';
import { receiveUpload, type WebFiles } from './web-uploads.js';
import { WebError } from './web-error.js';
import { SECURITY_HEADERS, allowedHosts, checkListenAddress, cookieValue, hostAllowed, hostPort, newToken, originAllowed, tokenCookieName, tokenMatches } from './web-security.js';

export interface WebServerOptions {
  /** Default 127.0.0.1. Anything else is the caller's explicit choice (`--listen`). */
  address?: string;
  /** Default 0: any free port. */
  port?: number;
  /** The built page (app.js, app.css). */
  assetsDir: string;
  /** One new service connection per page (WebSocket). */
  connectClient: () => Promise<ServiceClient>;
  /** The rooms written into the HTML; without it (or if it fails) the script fills the lists. */
  initialRooms?: () => Promise<InitialRooms>;
  logger: Logger;
  /** Default: a new random token. */
  token?: string;
  /** Files from and to the page; without it the page cannot send or accept files. */
  files?: WebFiles;
}

const ASSET_TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', map: 'application/json' };
const ASSET_NAME = /^\/assets\/([a-z0-9-]+\.(js|css|map))$/;
/** A frame carries at most a 64 KiB line, which JSON may escape to six bytes a character. */
const MAX_FRAME_BYTES = 1024 * 1024;

/**
 * The web page's HTTP and WebSocket server (Node http + ws). It serves the
 * page and relays each page's WebSocket to its own service connection; see
 * web-security.ts for the rules every request passes first.
 */
export class WebServer {
  readonly token: string;
  readonly address: string;
  private readonly hosts: Set<string>;
  private readonly sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });

  private constructor(
    private readonly http: Server,
    readonly port: number,
    private readonly options: WebServerOptions & { address: string; token: string },
  ) {
    this.token = options.token;
    this.address = options.address;
    this.hosts = allowedHosts(options.address, port);
  }

  static async start(options: WebServerOptions): Promise<WebServer> {
    const address = options.address ?? '127.0.0.1';
    checkListenAddress(address);
    const http = createServer();
    await new Promise<void>((resolve, reject) => {
      http.once('error', (error) => reject(new WebError('listen-failed', `cannot serve on ${hostPort(address, options.port ?? 0)}: ${errorText(error)}`, { cause: error })));
      http.listen(options.port ?? 0, address, () => resolve());
    });
    const bound = http.address();
    const port = typeof bound === 'object' && bound !== null ? bound.port : (options.port ?? 0);
    const server = new WebServer(http, port, { ...options, address, token: options.token ?? newToken() });
    http.on('request', (req: IncomingMessage, res: ServerResponse) => void server.onRequest(req, res));
    http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => server.onUpgrade(req, socket, head));
    return server;
  }

  /** The page's address with its token: what `clique web` prints. */
  get url(): string {
    return `http://${hostPort(this.address, this.port)}/?token=${this.token}`;
  }

  async close(): Promise<void> {
    for (const client of this.sockets.clients) client.terminate();
    this.sockets.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    const url0 = new URL(req.url ?? '/', 'http://page.invalid');
    if (req.method === 'POST' && url0.pathname === '/upload') return this.onUpload(req, res);
    const refusal = this.refusal(req, false);
    if (refusal !== undefined) return plain(res, refusal.status, refusal.text);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return plain(res, 405, 'only GET and HEAD');
    }
    const url = new URL(req.url ?? '/', 'http://page.invalid');
    if (url.searchParams.get('token') !== null) {
      // The token leaves the URL for a cookie that scripts cannot read and other sites do not get.
      res.setHeader('Set-Cookie', `${tokenCookieName(this.port)}=${this.token}; Path=/; HttpOnly; SameSite=Strict`);
    }
    try {
      if (url.pathname === '/favicon.ico') {
        res.statusCode = 204;
        return void res.end();
      }
      if (url.pathname === '/') {
        const rooms = await this.initialRooms();
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.end(req.method === 'HEAD' ? undefined : pageHtml(rooms));
        return;
      }
      const asset = ASSET_NAME.exec(url.pathname);
      if (asset === null) return plain(res, 404, 'not found');
      let body: Buffer;
      try {
        body = await readFile(join(this.options.assetsDir, asset[1]!));
      } catch {
        return plain(res, 404, 'not found');
      }
      res.setHeader('Content-Type', ASSET_TYPES[asset[2]!]!);
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (error) {
      this.options.logger.error('web request failed', { error: errorText(error) });
      if (!res.headersSent) plain(res, 500, 'internal error');
    }
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined);
    const refusal = this.refusal(req, true) ?? (new URL(req.url ?? '/', 'http://page.invalid').pathname === '/ws' ? undefined : { status: 404, text: 'not found' });
    if (refusal !== undefined) {
      socket.end(`HTTP/1.1 ${refusal.status} ${refusal.status === 401 ? 'Unauthorized' : refusal.status === 404 ? 'Not Found' : 'Forbidden'}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${refusal.text}\n`);
      return;
    }
    // The service connection comes first: the page may send as soon as the socket opens, and nothing may be lost.
    this.options.connectClient().then(
      (client) => {
        if (socket.destroyed) return client.close();
        this.sockets.handleUpgrade(req, socket, head, (ws: WebSocket) => relay(ws, client, this.options.logger, this.options.files));
      },
      (error: unknown) => {
        this.options.logger.warn('cannot reach the clique service for a page', { error: errorText(error) });
        socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nthe clique service is not reachable\n');
      },
    );
  }

  /** A file from the page: the same checks as a WebSocket (Host, Origin, token), then streamed to disk. */
  private async onUpload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refusal = this.refusal(req, true);
    if (refusal !== undefined) {
      req.resume();
      return plain(res, refusal.status, refusal.text);
    }
    if (this.options.files === undefined) {
      req.resume();
      return plain(res, 404, 'this page server takes no files');
    }
    try {
      const path = await receiveUpload(req, this.options.files);
      res.statusCode = 201;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ path }));
    } catch (error) {
      this.options.logger.info('upload refused', { error: errorText(error) });
      res.setHeader('Connection', 'close');
      plain(res, 413, errorText(error));
    }
  }

  /** Why a request is refused (Host, then Origin for WebSockets, then token), or undefined. */
  private refusal(req: IncomingMessage, webSocket: boolean): { status: number; text: string } | undefined {
    if (!hostAllowed(req.headers.host, this.hosts)) return { status: 403, text: 'wrong Host header' };
    if (webSocket && !originAllowed(req.headers.origin, this.hosts)) return { status: 403, text: 'wrong Origin' };
    const url = new URL(req.url ?? '/', 'http://page.invalid');
    const given = url.searchParams.get('token') ?? cookieValue(req.headers.cookie, tokenCookieName(this.port));
    if (!tokenMatches(given ?? undefined, this.token)) return { status: 401, text: 'this page needs the token of the URL that `clique web` printed' };
    return undefined;
  }

  private async initialRooms(): Promise<InitialRooms> {
    if (this.options.initialRooms === undefined) return { lan: [], joined: [] };
    try {
      return await this.options.initialRooms();
    } catch (error) {
      this.options.logger.warn('cannot list rooms for the page', { error: errorText(error) });
      return { lan: [], joined: [] };
    }
  }
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(`${text}\n`);
}
