import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deferred } from '../../src/base/deferred.js';
import { RpcFault } from '../../src/service/rpc-fault.js';
import { ControlServer, type ControlClient, type ControlHandler, type ControlLimits } from '../../src/service/control-server.js';
import { encodeRequest, type JsonValue, type RpcParams } from '../../src/service/json-rpc.js';
import { ServiceClient } from '../../src/service/service-client.js';
import { ServiceRequestError } from '../../src/service/service-request-error.js';
import { sleep, waitFor } from '../support/wait.js';

/**
 * The control socket's server with a stub service: the protocol rules (hello
 * first, strict parsing) and the per-client limits. Whatever one client does
 * (garbage, floods, hanging up mid-request, not reading), another client is
 * served as before.
 */
class StubHandler implements ControlHandler {
  readonly gate = deferred<void>();
  readonly disconnects: number[] = [];
  slowFinished = 0;

  identity(): { [key: string]: JsonValue } {
    return { name: 'stub@test', nick: null, pid: process.pid, interface: null, socket: 'stub' };
  }

  async handle(_client: ControlClient, method: string, params: RpcParams | undefined): Promise<JsonValue> {
    if (method === 'status') return { echo: params ?? null } as unknown as JsonValue;
    if (method === 'slow') {
      await this.gate.promise;
      this.slowFinished++;
      return 'done';
    }
    if (method === 'big') return 'y'.repeat(64 * 1024);
    if (method === 'buggy') throw Object.assign(new Error('oops'), { code: 'ENOENT' });
    throw new RpcFault('method-not-found', `no method ${method}`, -32601);
  }

  disconnected(client: ControlClient): void {
    this.disconnects.push(client.id);
  }
}

const dirs: string[] = [];
const servers: ControlServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function startServer(limits: Partial<ControlLimits> = {}): Promise<{ server: ControlServer; handler: StubHandler; path: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'clique-ctl-'));
  dirs.push(dir);
  const handler = new StubHandler();
  const server = new ControlServer(handler, { limits });
  servers.push(server);
  const path = join(dir, 's.sock');
  await server.listen(path);
  return { server, handler, path };
}

/** A raw client: what it wrote, every line it got back, whether it was closed on. */
function raw(path: string): { socket: Socket; lines: Array<Record<string, unknown>>; closed: () => boolean } {
  const socket = connect(path);
  sockets.push(socket);
  const lines: Array<Record<string, unknown>> = [];
  let buffer = '';
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let i;
    while ((i = buffer.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buffer.slice(0, i)) as Record<string, unknown>);
      buffer = buffer.slice(i + 1);
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', () => (closed = true));
  return { socket, lines, closed: () => closed };
}

const hello = (id = 0): string => encodeRequest(id, 'hello', { protocol: 1 });

/** A well-behaved client still gets its answers. */
async function stillServed(path: string): Promise<void> {
  const client = await ServiceClient.connect(path);
  try {
    expect(await client.request('status', {})).toEqual({ echo: {} });
  } finally {
    client.close();
  }
}

describe('control server', () => {
  it('answers hello with the protocol version and identity; refuses other methods before hello, and other versions', async () => {
    const { path } = await startServer();
    const c = raw(path);
    c.socket.write(encodeRequest(1, 'status'));
    c.socket.write(encodeRequest(2, 'hello', { protocol: 99 }));
    c.socket.write(hello(3));
    c.socket.write(encodeRequest(4, 'status', { a: 1 }));
    c.socket.write(encodeRequest(5, 'nope'));
    c.socket.write(encodeRequest(6, 'buggy'));
    await waitFor('6 answers', () => c.lines.length >= 6);
    expect(c.lines.map((l) => [l['id'], (l['error'] as { data?: { code: string } } | undefined)?.data?.code ?? 'ok'])).toEqual([
      [1, 'hello-required'],
      [2, 'protocol-version'],
      [3, 'ok'],
      [4, 'ok'],
      [5, 'method-not-found'],
      [6, 'internal-error'],
    ]);
    expect((c.lines[5]!['error'] as { code: number }).code).toBe(-32603);
    expect(c.lines[2]!['result']).toEqual({ protocol: 1, service: { name: 'stub@test', nick: null, pid: process.pid, interface: null, socket: 'stub' } });
    const typed = await ServiceClient.connect(path);
    await expect(typed.request('rooms.leave', { room: 'x' })).rejects.toBeInstanceOf(ServiceRequestError);
    typed.close();
  });

  it('a client sending garbage gets errors, is cut off after too many, and costs nobody else', async () => {
    const { server, path } = await startServer({ maxInvalidLines: 8 });
    const bad = raw(path);
    bad.socket.write(hello());
    for (let i = 0; i < 20; i++) bad.socket.write(i % 2 === 0 ? '{{{ not json\n' : '{"jsonrpc":"2.0","id":1}\n');
    await waitFor('the garbage client to be cut off', bad.closed);
    const errors = bad.lines.filter((l) => l['error'] !== undefined).map((l) => (l['error'] as { code: number }).code);
    expect(errors.length).toBe(8);
    expect(new Set(errors)).toEqual(new Set([-32700, -32600]));
    expect(server.cutOffs.map((c) => c.reason)).toEqual(['8 invalid lines']);
    await stillServed(path);
  });

  it('a line over the limit is refused without being buffered, and the client cut off', async () => {
    const { server, path } = await startServer({ maxLineBytes: 64 * 1024 });
    const bad = raw(path);
    bad.socket.write(hello());
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    // 4 MiB without a newline: far past the limit, then the newline.
    for (let i = 0; i < 256 && !bad.closed(); i++) {
      if (!bad.socket.write(chunk)) await new Promise((r) => bad.socket.once('drain', r));
    }
    bad.socket.write('\n');
    await waitFor('the long-line client to be cut off', bad.closed);
    expect(bad.lines.some((l) => (l['error'] as { data?: { code: string } } | undefined)?.data?.code === 'line-too-long')).toBe(true);
    expect(server.cutOffs.map((c) => c.reason)).toEqual(['line too long']);
    await stillServed(path);
  });

  it('a flood of requests: at most maxPendingRequests run at once, the rest are refused; others are unaffected', async () => {
    const { handler, path } = await startServer({ maxPendingRequests: 4 });
    const flood = raw(path);
    flood.socket.write(hello());
    await waitFor('hello answered', () => flood.lines.length === 1);
    flood.socket.write(Array.from({ length: 50 }, (_, i) => encodeRequest(i + 1, 'slow')).join(''));
    await waitFor('46 refusals', () => flood.lines.filter((l) => l['error'] !== undefined).length >= 46);
    const refused = flood.lines.filter((l) => l['error'] !== undefined);
    expect(refused.length).toBe(46);
    expect(refused.every((l) => (l['error'] as { data: { code: string } }).data.code === 'too-many-requests')).toBe(true);
    await stillServed(path);
    handler.gate.resolve();
    await waitFor('the 4 admitted requests to finish', () => flood.lines.filter((l) => l['result'] === 'done').length === 4);
    expect(handler.slowFinished).toBe(4);
  });

  it('a client that hangs up in the middle of a request costs nothing: the handler hears it, the late answer goes nowhere', async () => {
    const { handler, server, path } = await startServer();
    const gone = raw(path);
    gone.socket.write(hello() + encodeRequest(1, 'slow'));
    await waitFor('hello answered', () => gone.lines.length >= 1);
    gone.socket.destroy();
    await waitFor('the disconnect to reach the handler', () => handler.disconnects.length === 1);
    expect(server.clientCount).toBe(0);
    handler.gate.resolve();
    await waitFor('the abandoned request to finish', () => handler.slowFinished === 1);
    await sleep(20);
    await stillServed(path);
  });

  it('a client that does not read is cut off once its unread output passes the bound (memory stays bounded)', async () => {
    const maxOutboundBytes = 512 * 1024;
    const { server, path } = await startServer({ maxOutboundBytes });
    const slow = raw(path);
    slow.socket.pause();
    slow.socket.write(hello());
    // 2000 answers of 64 KiB = 128 MiB it never reads.
    for (let i = 0; i < 2000 && !slow.closed(); i++) {
      if (!slow.socket.write(encodeRequest(i + 1, 'big'))) await new Promise((r) => setTimeout(r, 1));
    }
    await waitFor('the slow reader to be cut off', () => server.cutOffs.length === 1);
    expect(server.cutOffs[0]!.reason).toBe(`more than ${maxOutboundBytes} bytes unread`);
    await waitFor('its connection to be gone', () => server.clientCount === 0);
    await stillServed(path);
  });

  it('refuses clients beyond maxClients with an error, and serves again once one leaves', async () => {
    const { path } = await startServer({ maxClients: 2 });
    const a = await ServiceClient.connect(path);
    const b = await ServiceClient.connect(path);
    const c = raw(path);
    await waitFor('the third client to be turned away', c.closed);
    expect((c.lines[0]?.['error'] as { data: { code: string } }).data.code).toBe('too-many-clients');
    a.close();
    await waitFor('a to be gone', () => a.closed);
    await sleep(20);
    await stillServed(path);
    b.close();
  });

  it('events reach greeted clients as notifications; ServiceClient.events() iterates them and ends when the connection closes', async () => {
    const { server, path } = await startServer();
    const client = await ServiceClient.connect(path);
    const stranger = raw(path); // never says hello: gets no events
    await waitFor('both connected', () => server.clientCount === 2);
    const events = client.events();
    server.broadcast('room.left', { room: 'a', reason: 'left' });
    server.broadcast('service.stopping', { reason: 'test' });
    expect((await events.next()).value).toEqual({ event: 'room.left', params: { room: 'a', reason: 'left' } });
    expect((await events.next()).value).toEqual({ event: 'service.stopping', params: { reason: 'test' } });
    await server.close();
    servers.splice(0);
    expect(await events.next()).toEqual({ value: undefined, done: true });
    expect(client.closed).toBe(true);
    await expect(client.request('status', {})).rejects.toMatchObject({ code: 'disconnected' });
    expect(stranger.lines).toEqual([]);
  });

  it('closing does not wait for a client that never closes its end', async () => {
    const { server, path } = await startServer();
    // Half-open allowed: it never ends its side when the server ends its own.
    const stuck = connect({ path, allowHalfOpen: true });
    sockets.push(stuck);
    stuck.on('error', () => undefined);
    stuck.resume();
    await waitFor('connected', () => server.clientCount === 1);
    const started = Date.now();
    await server.close(300);
    servers.splice(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await waitFor('the stuck client to be cut', () => server.clientCount === 0);
  });
});
