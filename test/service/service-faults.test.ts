import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localHostLabel } from '../../src/linklocal/presence-publisher.js';
import { encodeRequest } from '../../src/service/json-rpc.js';
import { ServiceClient } from '../../src/service/service-client.js';
import { waitFor } from '../support/wait.js';
import { cleanUp, eventsOf, isRunning, LOOPBACK, person, run, servicePid, start, waitForEvent, type Person } from './service-people.js';

/**
 * The service's security and faults, with real processes (run inside
 * `unshare -n`): private directory and socket modes, another uid cannot
 * connect, unsafe directories are refused, one service per login and
 * interface, a crashed service's stale socket is replaced, and SIGTERM leaves
 * rooms with BYE and sends mDNS goodbyes.
 */
afterEach(cleanUp, 60_000);

const mode = (path: string): number => lstatSync(path).mode & 0o777;

/** Tries to connect to `socket` as uid nobody; prints the error code, or CONNECTED. */
function connectAsNobody(socket: string): Promise<string> {
  const script = `require('net').connect(${JSON.stringify(socket)}).on('connect', () => { console.log('CONNECTED'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(0); });`;
  return new Promise((resolve, reject) => {
    execFile('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, '-e', script], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`setpriv failed: ${error.message} ${stderr}`));
      resolve(stdout.trim());
    });
  });
}

async function up(p: Person, ...extra: string[]): Promise<number> {
  const result = await run(p, ['up', '--daemon', ...extra]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const pid = servicePid(p);
  expect(pid).toBeDefined();
  return pid!;
}

describe('the clique service: security and faults', () => {
  it('keeps its socket (0600) in a private 0700 directory, writes nothing others can read, and another uid cannot connect', async () => {
    const alice = person('perm');
    await up(alice);
    const { controlDir, socket, lock, dataDir, log } = alice.paths;
    expect(controlDir).toBe(join(alice.env.XDG_RUNTIME_DIR!, 'clique'));
    expect(socket).toBe(join(controlDir, `service-${LOOPBACK}.sock`));
    expect(statSync(socket).isSocket()).toBe(true);
    expect(mode(socket)).toBe(0o600);
    expect(mode(controlDir)).toBe(0o700);
    expect(mode(lock)).toBe(0o600);
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(log)).toBe(0o600);
    // The history database is written by the service once it stores something.
    expect((await run(alice, ['send', 'perm-room', 'kept', '--create', '--wait-members', '0'])).code).toBe(0);
    expect(mode(join(dataDir, 'history.sqlite'))).toBe(0o600);
    for (const d of [controlDir, dataDir]) expect(lstatSync(d).uid).toBe(process.getuid!());

    expect(await connectAsNobody(socket)).toBe('EACCES');
    // Even with every directory on the way opened up, the socket's own mode keeps nobody out.
    const opened = [alice.dir, alice.env.XDG_RUNTIME_DIR!, controlDir];
    for (const d of opened) chmodSync(d, 0o755);
    try {
      expect(await connectAsNobody(socket)).toBe('EACCES');
    } finally {
      for (const d of opened) chmodSync(d, 0o700);
    }
    // We can.
    const client = await ServiceClient.connect(socket);
    expect(client.identity.pid).toBe(servicePid(alice));
    client.close();
  }, 90_000);

  it('refuses a control directory that others may enter or that is not ours (exit 1, a clear message)', async () => {
    const open = person('open');
    mkdirSync(open.paths.controlDir, { mode: 0o700 });
    chmodSync(open.paths.controlDir, 0o755);
    const refused = await run(open, ['up']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is accessible to others \(mode 755\); it must be 0700 \(unsafe-directory\)/);
    expect(existsSync(open.paths.socket)).toBe(false);

    const foreign = person('foreign');
    mkdirSync(foreign.paths.controlDir, { mode: 0o700 });
    chownSync(foreign.paths.controlDir, 65534, 65534);
    const notOurs = await run(foreign, ['send', 'x', 'hi', '--create']);
    expect(notOurs.code).toBe(1);
    expect(notOurs.stderr).toMatch(/belongs to uid 65534, not to us .*\(unsafe-directory\)/);
  }, 60_000);

  it('runs one service per login and interface: racing starts end with one service that all of them reach', async () => {
    const alice = person('race');
    const runs = await Promise.all([0, 1, 2].map(() => run(alice, ['up', '--daemon'])));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    const pids = runs.map((r) => /\(pid (\d+)\)/.exec(r.stdout)?.[1]);
    expect(new Set(pids).size).toBe(1);
    expect(Number(pids[0])).toBe(servicePid(alice));
    // A foreground `up` while it runs is refused.
    const second = await run(alice, ['up']);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/already/);
  }, 90_000);

  it('a service killed with SIGKILL leaves a stale socket: it is detected, and the next command starts a fresh service', async () => {
    const alice = person('stale');
    const first = await up(alice);
    process.kill(first, 'SIGKILL');
    await waitFor('the service to die', () => !isRunning(first));
    expect(existsSync(alice.paths.socket)).toBe(true);
    const status = await run(alice, ['status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/no clique service is running/);

    const send = await run(alice, ['send', 'stale-room', 'after the crash', '--create', '--wait-members', '0', '--json']);
    expect(send.stderr).toBe('');
    expect(send.code).toBe(0);
    expect(JSON.parse(send.stdout.trim())).toMatchObject({ event: 'sent', room: 'stale-room', text: 'after the crash' });
    const second = servicePid(alice);
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(isRunning(second!)).toBe(true);
    const after = await run(alice, ['status', '--json']);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({ running: true, service: { pid: second }, rooms: [{ room: 'stale-room' }] });
  }, 90_000);

  it('on SIGTERM the service leaves its rooms with BYE (not a timeout), sends mDNS goodbyes and removes its socket', async () => {
    const alice = person('term-a');
    const bob = person('term-b');
    // An explicit --name that is in use is refused: a name of our own, as other test files may share the namespace.
    await up(bob, '--name', `bob${process.pid}@${localHostLabel()}`);
    // Bob would notice a silent member only after an hour: seeing alice leave now means she said BYE.
    const bobListens = start(bob, 'bob listen', ['listen', 'term-room', '--json', '--failure-timeout-ms', '3600000']);
    await waitForEvent(bobListens, 'ready', (e) => e['event'] === 'ready');
    const bobClient = await ServiceClient.connect(bob.paths.socket);
    const contactEvents: string[] = [];
    bobClient.on('event', (e) => {
      if (e.event === 'contact.added' || e.event === 'contact.removed') contactEvents.push(`${e.event} ${e.params.name}`);
    });
    await bobClient.request('contacts.subscribe', {});

    const aliceService = await up(alice);
    const aliceName = (await ServiceClient.connect(alice.paths.socket).then((c) => (c.close(), c.identity))).name;
    const sent = await run(alice, ['send', 'term-room', 'hello before I go', '--json']);
    expect(sent.code).toBe(0);
    await waitForEvent(bobListens, 'alice joins', (e) => e['event'] === 'member-joined' && e['member'] === aliceName);
    await waitForEvent(bobListens, "alice's line", (e) => e['event'] === 'message' && e['text'] === 'hello before I go');
    await waitFor(() => `bob sees alice as a contact: ${JSON.stringify(contactEvents)}`, () => contactEvents.includes(`contact.added ${aliceName}`));

    process.kill(aliceService, 'SIGTERM');
    await waitForEvent(bobListens, 'alice leaves', (e) => e['event'] === 'member-left' && e['member'] === aliceName, 20_000);
    await waitFor(() => `alice's goodbye to reach bob: ${JSON.stringify(contactEvents)}`, () => contactEvents.includes(`contact.removed ${aliceName}`), 20_000);
    await waitFor('alice to exit', () => !isRunning(aliceService));
    expect(existsSync(alice.paths.socket)).toBe(false);
    expect(existsSync(alice.paths.lock)).toBe(false);
    expect(eventsOf(bobListens, 'member-left').map((e) => e['member'])).toEqual([aliceName]);
    bobClient.close();
    expect(dirname(alice.paths.socket)).toBe(alice.paths.controlDir);
  }, 120_000);

  it('garbage, a flood and a hang-up in the middle of a request cost the real service nothing', async () => {
    const alice = person('garbage');
    const pid = await up(alice);
    const garbage = connect(alice.paths.socket);
    garbage.on('error', () => undefined);
    garbage.resume();
    const closed = new Promise<void>((resolve) => garbage.once('close', () => resolve()));
    garbage.write(Buffer.from([0xff, 0xfe, 0x00, 0x0a]));
    for (let i = 0; i < 40; i++) garbage.write('{"jsonrpc":"2.0","id":1,"method":"status"}}\n');
    await closed;

    const flood = connect(alice.paths.socket);
    flood.on('error', () => undefined);
    const answers: string[] = [];
    flood.setEncoding('utf8');
    flood.on('data', (chunk: string) => answers.push(chunk));
    const requests = [encodeRequest(0, 'hello', { protocol: 1 })];
    for (let i = 1; i <= 500; i++) requests.push(encodeRequest(i, 'rooms.send', { room: 'flooded', texts: [`n${i}`], create: true }));
    await new Promise<void>((resolve) => flood.write(requests.join(''), () => resolve()));
    // The service is joining 'flooded' for the admitted sends and refusing the rest.
    await waitFor('refusals', () => answers.join('').includes('too-many-requests'));
    // Gone before the answers: the requests run on, their answers go nowhere.
    flood.destroy();

    const status = await run(alice, ['status', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, service: { pid } });
    // The admitted sends of the vanished client were carried out.
    const checker = await ServiceClient.connect(alice.paths.socket);
    let history: unknown[] = [];
    for (let i = 0; i < 300 && history.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      history = (await checker.request('rooms.history', { room: 'flooded', limit: 1000 })).entries;
    }
    checker.close();
    expect(history.length).toBeGreaterThan(0);
    expect(history.length).toBeLessThanOrEqual(32);
    const sent = await run(alice, ['send', 'after-garbage', 'fine', '--create', '--wait-members', '0']);
    expect(sent.code).toBe(0);
    expect(isRunning(pid)).toBe(true);
  }, 90_000);
});
