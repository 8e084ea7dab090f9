import { EventEmitter } from 'node:events';
import { request } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Logger } from '../../src/base/logger.js';
import type { ServiceClient } from '../../src/service/service-client.js';
import { WebServer } from '../../src/web/web-server.js';
import { waitFor } from '../support/wait.js';

/**
 * Files through the page server (real loopback sockets, a fake service
 * connection): POST /upload under the token, Host and Origin rules, a size
 * cap and sanitised names; and the relay's file policy (offer only what was
 * uploaded, accept only into the downloads directory).
 */
class FakeClient extends EventEmitter {
  readonly calls: Array<{ method: string; params: Record<string, unknown> }> = [];
  readonly identity = { name: 'me@host', nick: null, pid: 1, interface: '127.0.0.1', socket: '/x' };
  request(method: string, params: Record<string, unknown>): Promise<unknown> {
    this.calls.push({ method, params });
    return Promise.resolve({ echoed: method });
  }
  close(): void {
    this.emit('close');
  }
}

let server: WebServer;
let uploadDir: string;
let downloadDir: string;
const fakes: FakeClient[] = [];

beforeAll(async () => {
  uploadDir = mkdtempSync(join(tmpdir(), 'clq-web-up-'));
  downloadDir = mkdtempSync(join(tmpdir(), 'clq-web-down-'));
  server = await WebServer.start({
    assetsDir: uploadDir,
    logger: new Logger({ level: 'silent' }),
    connectClient: () => {
      const fake = new FakeClient();
      fakes.push(fake);
      return Promise.resolve(fake as unknown as ServiceClient);
    },
    files: { uploadDir, downloadDir, maxUploadBytes: 1000 },
  });
});
afterAll(async () => {
  await server.close();
  rmSync(uploadDir, { recursive: true, force: true });
  rmSync(downloadDir, { recursive: true, force: true });
});

const origin = (): string => `http://127.0.0.1:${server.port}`;
const cookie = (): string => `clique-token-${server.port}=${server.token}`;

function upload(body: Buffer, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: '/upload', method: 'POST', headers: { host: `127.0.0.1:${server.port}`, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', (error) => (error.message.includes('EPIPE') || error.message.includes('ECONNRESET') ? done({ status: 413, body: '' }) : fail(error)));
    req.end(body);
  });
}

describe('POST /upload', () => {
  it('needs the token and the page\'s own Origin', async () => {
    expect((await upload(Buffer.from('x'), { origin: origin(), 'x-file-name': 'a.txt' })).status).toBe(401);
    expect((await upload(Buffer.from('x'), { cookie: cookie(), origin: 'http://evil.example', 'x-file-name': 'a.txt' })).status).toBe(403);
    expect((await upload(Buffer.from('x'), { cookie: cookie(), 'x-file-name': 'a.txt' })).status).toBe(403);
  });

  it('stores the file under a sanitised name inside the upload directory', async () => {
    const answer = await upload(Buffer.from('hello'), { cookie: cookie(), origin: origin(), 'x-file-name': encodeURIComponent('../../etc/evil name.txt') });
    expect(answer.status).toBe(201);
    const { path } = JSON.parse(answer.body) as { path: string };
    expect(resolve(path).startsWith(resolve(uploadDir) + '/')).toBe(true);
    expect(path).not.toContain('..');
    expect(readFileSync(path, 'utf8')).toBe('hello');
  });

  it('refuses a file over the limit and leaves nothing behind', async () => {
    const before = readdirSync(uploadDir).length;
    const answer = await upload(Buffer.alloc(5000, 1), { cookie: cookie(), origin: origin(), 'x-file-name': 'big.bin' });
    expect(answer.status).toBe(413);
    await waitFor('the partial upload removed', () => readdirSync(uploadDir).length === before, 5000);
  });
});

describe('the relay\'s file policy', () => {
  it('offers only uploaded files, and accepts only into the downloads directory', async () => {
    const { path } = JSON.parse((await upload(Buffer.from('data'), { cookie: cookie(), origin: origin(), 'x-file-name': 'ok.txt' })).body) as { path: string };
    const frames: Array<{ id?: number; error?: { code: string } }> = [];
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`, { headers: { cookie: cookie(), origin: origin() } });
    ws.on('message', (d) => frames.push(JSON.parse(String(d)) as { id?: number }));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ id: 1, method: 'files.offer', params: { contact: 'bob@desk', path: '/etc/passwd' } }));
    ws.send(JSON.stringify({ id: 2, method: 'files.offer', params: { contact: 'bob@desk', path: join(uploadDir, '..', 'outside') } }));
    ws.send(JSON.stringify({ id: 3, method: 'files.offer', params: { contact: 'bob@desk', path } }));
    ws.send(JSON.stringify({ id: 4, method: 'files.accept', params: { id: 'f1', dir: '/etc' } }));
    await waitFor('four answers', () => frames.filter((f) => f.id !== undefined).length === 4, 5000);
    const byId = (id: number) => frames.find((f) => f.id === id)!;
    expect(byId(1).error?.code).toBe('forbidden');
    expect(byId(2).error?.code).toBe('forbidden');
    expect(byId(3).error).toBeUndefined();
    const fake = fakes.at(-1)!;
    expect(fake.calls.filter((c) => c.method.startsWith('files.'))).toEqual([
      { method: 'files.offer', params: { contact: 'bob@desk', path } },
      { method: 'files.accept', params: { id: 'f1', dir: downloadDir } },
    ]);
    ws.close();
    expect(existsSync(path)).toBe(true);
  });
});
