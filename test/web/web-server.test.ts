import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Logger } from '../../src/base/logger.js';
import type { ServiceClient } from '../../src/service/service-client.js';
import { ServiceRequestError } from '../../src/service/service-request-error.js';
import { WebServer } from '../../src/web/web-server.js';
import { CONTENT_SECURITY_POLICY, checkListenAddress, listenWarning, cookieValue, originAllowed, allowedHosts, tokenMatches } from '../../src/web/web-security.js';
import { waitFor } from '../support/wait.js';

/**
 * The web server's rules over real loopback sockets (TCP only; run inside
 * `unshare -n` like every socket test): token, Host, Origin, CSP, and the
 * relay to a (fake) service connection.
 */

class FakeClient extends EventEmitter {
  readonly calls: Array<{ method: string; params: unknown }> = [];
  closed = false;
  readonly identity = { name: 'me@host', nick: null, pid: 1, interface: '127.0.0.1', socket: '/x' };
  request(method: string, params: unknown): Promise<unknown> {
    this.calls.push({ method, params });
    if (method === 'rooms.leave') return Promise.reject(new ServiceRequestError('not-joined', 'not in that room', -32000));
    return Promise.resolve({ echoed: method });
  }
  close(): void {
    this.closed = true;
    this.emit('close');
  }
}

const HOSTILE_ROOM = '<img src=x onerror=alert(1)>';
let assets: string;
let server: WebServer;
let fakes: FakeClient[] = [];

beforeAll(async () => {
  assets = mkdtempSync(join(tmpdir(), 'clq-web-assets-'));
  writeFileSync(join(assets, 'app.js'), 'console.log("page")');
  writeFileSync(join(assets, 'app.css'), 'body{}');
  server = await WebServer.start({
    assetsDir: assets,
    logger: new Logger({ level: 'silent' }),
    // A service connection that takes a while, as a real one may: the page's first frames must not be lost meanwhile.
    connectClient: async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const fake = new FakeClient();
      fakes.push(fake);
      return fake as unknown as ServiceClient;
    },
    initialRooms: () => Promise.resolve({ lan: ['lunch', HOSTILE_ROOM], joined: ['den'] }),
  });
});
afterAll(async () => {
  await server.close();
  rmSync(assets, { recursive: true, force: true });
});
afterEach(() => (fakes = []));

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method, headers: { host: `127.0.0.1:${server.port}`, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function cookie(): string {
  return `clique-token-${server.port}=${server.token}`;
}

/** Opens a WebSocket; resolves with the socket once open, or the HTTP status of the refusal. */
function openSocket(headers: Record<string, string>, path = '/ws', frames: Array<Record<string, unknown>> = []): Promise<WebSocket | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}${path}`, { headers });
    // Listening from the start: the first frame may come with the handshake's answer.
    ws.on('message', (data) => frames.push(JSON.parse(String(data)) as Record<string, unknown>));
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', () => undefined);
  });
}

describe('clique web: who may load the page', () => {
  it('answers 401 without the token or with a wrong one, for the page and its assets', async () => {
    expect((await get('/')).status).toBe(401);
    expect((await get('/?token=nope')).status).toBe(401);
    expect((await get(`/?token=${server.token}x`)).status).toBe(401);
    expect((await get('/assets/app.js')).status).toBe(401);
    expect((await get('/assets/app.js', { cookie: `clique-token-${server.port}=wrong` })).status).toBe(401);
    const refused = await get('/');
    expect(refused.body).not.toContain('lunch');
    expect(refused.headers['set-cookie']).toBeUndefined();
  });

  it('serves the page with the token and hands over an HttpOnly, SameSite=Strict cookie for the rest', async () => {
    const page = await get(`/?token=${server.token}`);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const setCookie = String(page.headers['set-cookie']);
    expect(setCookie).toContain(`clique-token-${server.port}=${server.token}`);
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    const js = await get('/assets/app.js', { cookie: cookie() });
    expect(js).toMatchObject({ status: 200, body: 'console.log("page")' });
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get('/', { cookie: cookie() })).status).toBe(200);
    expect((await get('/assets/../web-server.ts', { cookie: cookie() })).status).toBe(404);
    expect((await get('/assets/nothing.js', { cookie: cookie() })).status).toBe(404);
  });

  it('writes the rooms into the HTML as text: a hostile name is escaped', async () => {
    const page = await get(`/?token=${server.token}`);
    expect(page.body).toContain('<span class="room-name">lunch</span>');
    expect(page.body).toContain('<span class="room-name">den</span>');
    expect(page.body).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page.body).not.toContain(HOSTILE_ROOM);
  });

  it('sends a strict CSP without inline script, and no inline script in the page', async () => {
    for (const answer of [await get(`/?token=${server.token}`), await get('/')]) {
      const csp = String(answer.headers['content-security-policy']);
      expect(csp).toBe(CONTENT_SECURITY_POLICY);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(answer.headers['x-frame-options']).toBe('DENY');
      expect(answer.headers['referrer-policy']).toBe('no-referrer');
    }
    const page = await get(`/?token=${server.token}`);
    const scripts = [...page.body.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBe(1);
    expect(scripts[0]![1]).toContain('src="/assets/app.js"');
    expect(scripts[0]![2]).toBe('');
    // No event-handler attribute in any tag (quoted values are data, not attributes).
    expect(page.body.replace(/"[^"]*"/g, '""')).not.toMatch(/<[^>]*\son[a-z]+=/);
  });

  it('refuses a foreign Host header even with the token (DNS rebinding)', async () => {
    for (const host of ['evil.example', `evil.example:${server.port}`, `127.0.0.1:${server.port + 1}`, `127.0.0.1`]) {
      const answer = await get(`/?token=${server.token}`, { host });
      expect(answer.status, host).toBe(403);
      expect(answer.headers['set-cookie']).toBeUndefined();
    }
    expect((await get(`/?token=${server.token}`, { host: `localhost:${server.port}` })).status).toBe(200);
  });

  it('answers only GET and HEAD', async () => {
    expect((await get(`/?token=${server.token}`, {}, 'POST')).status).toBe(405);
    expect((await get(`/?token=${server.token}`, {}, 'HEAD')).status).toBe(200);
  });
});

describe('clique web: the WebSocket', () => {
  const origin = (): string => `http://127.0.0.1:${server.port}`;

  it('is refused without the token (401), with a foreign or missing Origin (403), with a foreign Host (403)', async () => {
    expect(await openSocket({ origin: origin() })).toBe(401);
    expect(await openSocket({ origin: origin(), cookie: `clique-token-${server.port}=bad` })).toBe(401);
    expect(await openSocket({ origin: 'http://evil.example', cookie: cookie() })).toBe(403);
    expect(await openSocket({ origin: `https://127.0.0.1:${server.port}`, cookie: cookie() })).toBe(403);
    expect(await openSocket({ cookie: cookie() })).toBe(403);
    expect(await openSocket({ origin: 'http://evil.example:1', host: 'evil.example:1', cookie: cookie() })).toBe(403);
    expect(await openSocket({ origin: origin(), cookie: cookie() }, '/elsewhere')).toBe(404);
    // None of them reached the service.
    expect(fakes).toEqual([]);
  });

  it('answers a request sent the moment the socket opens', async () => {
    const frames: Array<Record<string, unknown>> = [];
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { headers: { origin: origin(), cookie: cookie() } });
    ws.on('message', (data) => frames.push(JSON.parse(String(data)) as Record<string, unknown>));
    ws.once('open', () => ws.send(JSON.stringify({ id: 7, method: 'status', params: {} })));
    await waitFor(() => `the answer: ${JSON.stringify(frames)}`, () => frames.some((f) => f['id'] === 7));
    expect(frames.find((f) => f['id'] === 7)).toEqual({ id: 7, result: { echoed: 'status' } });
    ws.close();
  });

  it('relays requests of allowed methods, refuses the others, passes events on, and closes the service connection with the page', async () => {
    const frames: Array<Record<string, unknown>> = [];
    const ws = await openSocket({ origin: origin(), cookie: cookie() }, '/ws', frames);
    if (typeof ws === 'number') throw new Error(`refused: ${ws}`);
    await waitFor('hello', () => frames.length > 0);
    expect(frames[0]).toEqual({ event: 'web.hello', params: { service: fakes[0]!.identity } });
    ws.send(JSON.stringify({ id: 1, method: 'rooms.list', params: {} }));
    ws.send(JSON.stringify({ id: 2, method: 'shutdown', params: {} }));
    ws.send(JSON.stringify({ id: 3, method: 'rooms.leave', params: { room: 'x' } }));
    ws.send('not json');
    await waitFor(() => `answers: ${JSON.stringify(frames)}`, () => frames.length >= 5);
    expect(frames).toContainEqual({ id: 1, result: { echoed: 'rooms.list' } });
    expect(frames).toContainEqual({ id: 2, error: { code: 'method-not-allowed', message: 'the page may not call "shutdown"' } });
    expect(frames).toContainEqual({ id: 3, error: { code: 'not-joined', message: 'not in that room' } });
    expect(frames).toContainEqual({ id: null, error: { code: 'bad-frame', message: 'not JSON' } });
    expect(fakes[0]!.calls.map((c) => c.method)).toEqual(['rooms.list', 'rooms.leave']);
    fakes[0]!.emit('event', { event: 'room.typing', params: { room: 'den', member: 'x@y', state: 'composing' } });
    await waitFor('the event', () => frames.some((f) => f['event'] === 'room.typing'));
    ws.close();
    await waitFor('the service connection to close', () => fakes[0]!.closed);
  });
});

describe('clique web: the rules as functions', () => {
  it('serves on one IP address only: no host names, no wildcards', () => {
    expect(() => checkListenAddress('0.0.0.0')).toThrow(/wildcard/);
    expect(() => checkListenAddress('::')).toThrow(/wildcard/);
    expect(() => checkListenAddress('example.com')).toThrow(/not an IP address/);
    expect(() => checkListenAddress('192.168.1.5')).not.toThrow();
    // Beyond loopback, a warning first.
    expect(listenWarning('127.0.0.1')).toBeUndefined();
    expect(listenWarning('127.0.0.2')).toBeUndefined();
    expect(listenWarning('::1')).toBeUndefined();
    expect(listenWarning('192.168.1.5')).toContain('beyond this machine');
    expect(listenWarning('fe80::1')).toContain('beyond this machine');
  });

  it('matches Origin to the served host and port, and compares tokens exactly', () => {
    const hosts = allowedHosts('192.168.1.5', 8080);
    expect(originAllowed('http://192.168.1.5:8080', hosts)).toBe(true);
    expect(originAllowed('http://localhost:8080', hosts)).toBe(false);
    expect(originAllowed('http://192.168.1.5:8081', hosts)).toBe(false);
    expect(originAllowed('null', hosts)).toBe(false);
    expect(originAllowed(undefined, hosts)).toBe(false);
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abd', 'abc')).toBe(false);
    expect(tokenMatches('ab', 'abc')).toBe(false);
    expect(tokenMatches(undefined, 'abc')).toBe(false);
    expect(cookieValue('a=1; clique-token-5=xyz; b=2', 'clique-token-5')).toBe('xyz');
    expect(cookieValue('a=1', 'clique-token-5')).toBeUndefined();
  });
});
