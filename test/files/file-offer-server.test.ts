/**
 * The offer HTTP server on its own (real sockets on 127.0.0.1; clients from
 * 127.0.0.1 or 127.0.0.2). Run inside a private network namespace.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileOfferServer } from '../../src/files/file-offer-server.js';
import { RawPeer } from '../linklocal/xmpp-link-kit.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(options: { headersTimeoutMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'clique-serve-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'a b.txt');
  writeFileSync(path, 'hello');
  const server = await FileOfferServer.start({ host: '127.0.0.1', ...options });
  cleanups.push(() => server.close());
  const allowed = ['127.0.0.2'];
  const ended: boolean[] = [];
  const served = server.publish({ path, name: 'a b.txt', size: 5, allowedAddresses: () => allowed, onResponseEnd: (c) => ended.push(c) });
  return { server, served, allowed, ended };
}

function get(port: number, path: string, from: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress: from, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('FileOfferServer', () => {
  it('serves an offered file under its unguessable path, to the contact only, while offered', async () => {
    const { server, served, ended } = await setup();
    expect(served.urlPath).toMatch(/^\/[A-Za-z0-9_-]{24}\/a%20b\.txt$/);
    const ok = await get(server.port, served.urlPath, '127.0.0.2');
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toBe('hello');
    expect(ok.headers['content-length']).toBe('5');
    expect(ended).toEqual([true]);
    expect((await get(server.port, served.urlPath, '127.0.0.1')).status).toBe(404); // not the contact's address
    expect((await get(server.port, `/guess/a%20b.txt`, '127.0.0.2')).status).toBe(404);
    served.withdraw();
    expect((await get(server.port, served.urlPath, '127.0.0.2')).status).toBe(404);
  });

  it('wraps the file in the AppleSingle header when asked (iChat)', async () => {
    const { server, served } = await setup();
    const res = await get(server.port, served.urlPath, '127.0.0.2', { 'Accept-Encoding': 'AppleSingle' });
    expect(res.headers['content-encoding']).toBe('AppleSingle');
    expect(res.body.length).toBe(38 + 5);
    expect(res.body.subarray(0, 4).toString('hex')).toBe('00051600');
    expect(res.body.readUInt32BE(34)).toBe(5);
    expect(res.body.subarray(38).toString()).toBe('hello');
  });

  it('drops a client that sends its request head too slowly (slowloris)', async () => {
    const { server, served } = await setup({ headersTimeoutMs: 300 });
    const slow = await RawPeer.connect(server.port, '127.0.0.1', '127.0.0.2');
    cleanups.push(() => slow.destroy());
    await slow.write(`GET ${served.urlPath} HTTP/1.1\r\nHost: x\r\n`);
    // Keeps trickling header lines, never finishing the head: the server must still close it.
    const trickle = setInterval(() => void slow.write('X-Slow: 1\r\n'), 50);
    cleanups.push(() => clearInterval(trickle));
    await slow.waitClosed(15_000);
    expect(slow.text).not.toContain('hello');
  });
});
