/**
 * `clique online`, `clique say` and `clique invite` as separate processes on
 * 127.0.0.1: mDNS presence over loopback multicast, XEP-0174 TCP between
 * them. Names are fresh per run; every spawned process is killed afterwards.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkLocalService } from '../../src/linklocal/link-local-service.js';
import { RoomDirectory } from '../../src/linklocal/room-directory.js';
import { waitFor } from '../support/wait.js';
import { repoRoot, runClique, type CliRun } from '../support/cli-runner.js';

const LOOPBACK = '127.0.0.1';

function clique(...args: string[]): Promise<CliRun> {
  // These test the one-shot `say`; through the service it is tested in test/service.
  return runClique(args[0] === 'say' ? [...args, '--no-service'] : args, { env: { CLIQUE_LOG: 'warn' } });
}

type JsonLine = Record<string, unknown> & { event: string };

/** A long-running `clique online` and everything it printed. */
class OnlineProcess {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcessByStdio<null, Readable, Readable>) {
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    createInterface({ input: child.stdout }).on('line', (line) => this.lines.push(line));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  get events(): JsonLine[] {
    return this.lines.map((l) => JSON.parse(l) as JsonLine);
  }

  describe(): string {
    return `\nstdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`;
  }

  async waitForEvent(what: string, match: (e: JsonLine) => boolean): Promise<JsonLine> {
    await waitFor(() => `${what}${this.describe()}`, () => this.events.some(match), 30_000);
    return this.events.find(match)!;
  }
}

const spawned: OnlineProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  for (const p of spawned.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
});

function startOnline(...args: string[]): OnlineProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'online', '--no-service', '--interface', LOOPBACK, '--tcp-port', '0', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', CLIQUE_LOG: 'warn' },
  });
  const online = new OnlineProcess(child);
  spawned.push(online);
  return online;
}

async function startOnlineJson(name: string, ...args: string[]): Promise<{ online: OnlineProcess; port: number }> {
  const online = startOnline('--json', '--name', name, ...args);
  const started = await online.waitForEvent('online event', (e) => e.event === 'online');
  expect(started).toMatchObject({ name, address: LOOPBACK });
  return { online, port: started['port'] as number };
}

const id = (): string => randomBytes(4).toString('hex');

describe('clique say / invite to clique online --json', () => {
  it('delivers messages, actions and invitations, and shows the sender coming and going', async () => {
    const run = id();
    const bob = `bob${run}@h${run}`;
    const alice = `alice${run}@h${run}`;
    const carol = `carol${run}@h${run}`;
    const { online } = await startOnlineJson(bob, '--nick', 'Bob', '--status', 'away', '--message', 'busy');

    // A third party sees what `online` publishes.
    const watcher = await LinkLocalService.start({ name: `watch${run}@h${run}`, interface: LOOPBACK, port: 0 });
    cleanups.push(() => watcher.stop());
    expect(await watcher.waitForContact(bob, { timeoutMs: 30_000 })).toMatchObject({ alias: 'Bob', status: 'away', message: 'busy' });

    const [said, acted, invited] = await Promise.all([
      clique('say', bob, 'hello', 'there', '--json', '--nick', 'Alice', '--name', alice, '-i', LOOPBACK, '--timeout', '30000'),
      clique('say', bob, 'waves', '--me', '--name', carol, '-i', LOOPBACK, '--timeout', '30000'),
      clique('invite', '--no-service', bob, `lunch${run}`, '--address', '239.255.71.23', '--port', '40123', '--reason', 'join us', '--name', `dave${run}@h${run}`, '-i', LOOPBACK, '--timeout', '30000'),
    ]);
    for (const r of [said, acted, invited]) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    expect(JSON.parse(said.stdout)).toEqual({ event: 'sent', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown, from: alice, to: bob, kind: 'normal', text: 'hello there' });
    expect(acted.stdout).toBe(`sent to ${bob}\n`);
    expect(invited.stdout).toBe(`invited ${bob} to lunch${run} (239.255.71.23:40123)\n`);

    await online.waitForEvent('alice message', (e) => e.event === 'message' && e['from'] === alice);
    await online.waitForEvent('carol action', (e) => e.event === 'message' && e['from'] === carol);
    await online.waitForEvent('invitation', (e) => e.event === 'invitation');
    const events = online.events;
    expect(events.filter((e) => e.event === 'message' || e.event === 'invitation')).toEqual(
      expect.arrayContaining([
        { event: 'message', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown, from: alice, kind: 'normal', text: 'hello there' },
        { event: 'message', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown, from: carol, kind: 'action', text: 'waves' },
        { event: 'invitation', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown, from: `dave${run}@h${run}`, room: `lunch${run}`, address: '239.255.71.23', port: 40123, reason: 'join us', accept: `clique join lunch${run} --address 239.255.71.23 --port 40123 --interface 127.0.0.1` },
      ]),
    );
    // Each sender was a contact (with its nick) and said goodbye when done.
    const aliceAdded = events.find((e) => e.event === 'contact-added' && (e['contact'] as { name: string }).name === alice);
    expect(aliceAdded?.['contact']).toMatchObject({ name: alice, alias: 'Alice', status: 'avail', addresses: [LOOPBACK] });
    for (const sender of [alice, carol]) {
      await online.waitForEvent(`${sender} removed`, (e) => e.event === 'contact-removed' && (e['contact'] as { name: string }).name === sender);
    }

    // Going offline: goodbyes reach the others, the process exits 0 and says so last.
    online.child.kill('SIGTERM');
    expect(await online.exited).toBe(0);
    expect(online.stderr).toBe('');
    expect(online.events.at(-1)).toEqual({ event: 'offline', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown, name: bob });
    await waitFor(`watcher sees ${bob} leave`, () => watcher.contacts.get(bob) === undefined, 30_000);
  });

  it('invite without --address/--port uses the room advertised on _clique._udp; an unknown room is exit 1', async () => {
    const run = id();
    const bob = `bob${run}@h${run}`;
    const { online } = await startOnlineJson(bob);
    const directory = await RoomDirectory.open({ interface: LOOPBACK });
    cleanups.push(() => directory.close());
    const room = { name: `room${run}`, address: '239.255.71.61', port: 40611 };
    expect(await directory.advertise(room)).toBe('advertised');

    const ok = await clique('invite', '--no-service', bob, room.name, '--json', '--name', `alice${run}@h${run}`, '-i', LOOPBACK, '--timeout', '30000');
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ event: 'invited', room: room.name, address: room.address, port: room.port, reason: '' });
    expect(await online.waitForEvent('invitation', (e) => e.event === 'invitation')).toEqual({
      event: 'invitation',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown,
      from: `alice${run}@h${run}`,
      room: room.name,
      address: room.address,
      port: room.port,
      reason: '',
      accept: `clique join ${room.name} --address ${room.address} --port ${room.port} --interface 127.0.0.1`,
    });

    const missing = await clique('invite', '--no-service', bob, `noroom${run}`, '--name', `carol${run}@h${run}`, '-i', LOOPBACK, '--timeout', '2000');
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    const lines = missing.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^clique: no room "noroom${run}" advertised on the network after 2000 ms \\(rooms seen: .*room${run}.*\\) \\(room-not-seen\\)$`));
    expect(online.events.filter((e) => e.event === 'invitation')).toHaveLength(1);
  });

  it('an unknown contact is exit 1 with one line naming the contacts that were seen', async () => {
    const run = id();
    const bob = `bob${run}@h${run}`;
    await startOnlineJson(bob);
    const nobody = `nobody${run}@h${run}`;
    const result = await clique('say', nobody, 'hi', '--name', `alice${run}@h${run}`, '-i', LOOPBACK, '--timeout', '2000');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^clique: no contact "${nobody}" on the network after 2000 ms \\(contacts seen: .*${bob}.*\\) \\(contact-not-seen\\)$`));
  });
});

describe('clique online (text)', () => {
  it('prints contacts, messages, actions and invitations as readable lines; Ctrl-C goes offline cleanly', async () => {
    const run = id();
    const bob = `bob${run}@h${run}`;
    const alice = `alice${run}@h${run}`;
    const online = startOnline('--name', bob);
    await waitFor(() => `online line${online.describe()}`, () => online.lines.some((l) => l.startsWith('* online as ')), 30_000);
    expect(online.lines[0]).toMatch(new RegExp(`^\\* online as ${bob} \\(127\\.0\\.0\\.1:\\d+\\); Ctrl-C to go offline$`));

    const a = await clique('say', bob, 'two\nlines', '--name', alice, '-i', LOOPBACK, '--timeout', '30000');
    expect(a.code).toBe(0);
    const b = await clique('say', bob, 'waves', '--me', '--name', alice, '-i', LOOPBACK, '--timeout', '30000');
    expect(b.code).toBe(0);
    const c = await clique('invite', '--no-service', bob, 'lunch', '--address', '239.255.71.5', '--port', '4000', '--reason', 'soon', '--name', alice, '-i', LOOPBACK, '--timeout', '30000');
    expect(c.code).toBe(0);
    const d = await clique('invite', '--no-service', bob, 'tea', '--address', 'ff15::1234', '--port', '4001', '--name', alice, '-i', LOOPBACK, '--timeout', '30000');
    expect(d.code).toBe(0);
    const expected = [
      `${alice}: two`,
      `${alice}: lines`,
      `* ${alice} waves`,
      `${alice} invites you to lunch (239.255.71.5:4000): soon`,
      // Under each invitation, the command that accepts it (issue 14), or why there is none.
      '  to accept: clique join lunch --address 239.255.71.5 --port 4000 --interface 127.0.0.1',
      `${alice} invites you to tea ([ff15::1234]:4001)`,
      '  (clique join cannot take this invitation: an IPv6 group, or a room name it refuses)',
    ];
    await waitFor(() => `all lines${online.describe()}`, () => expected.every((l) => online.lines.includes(l)), 30_000);
    expect(online.lines.filter((l) => !l.startsWith('+ ') && !l.startsWith('- ') && !l.startsWith('~ ') && !l.startsWith('* online'))).toEqual(expected);
    // Contact lines look like `clique contacts --watch`.
    expect(online.lines.some((l) => new RegExp(`^\\+ ${alice}  avail  127\\.0\\.0\\.1:\\d+$`).test(l))).toBe(true);
    await waitFor(() => `a removal line${online.describe()}`, () => online.lines.some((l) => new RegExp(`^- ${alice}  avail  127\\.0\\.0\\.1:\\d+$`).test(l)), 30_000);

    online.child.kill('SIGINT');
    expect(await online.exited).toBe(0);
    expect(online.stderr).toBe('');
    expect(online.lines.at(-1)).toBe(`* ${bob} is offline`);
  });
});

describe('clique online when its output goes away', () => {
  it('goes offline politely (exit 0, goodbye seen by others) instead of dying on EPIPE', async () => {
    const run = id();
    const bob = `bob${run}@h${run}`;
    const { online } = await startOnlineJson(bob);
    const watcher = await LinkLocalService.start({ name: `watch${run}@h${run}`, interface: LOOPBACK, port: 0 });
    cleanups.push(() => watcher.stop());
    await watcher.waitForContact(bob, { timeoutMs: 30_000 });
    // Like `clique online | head -1`: the reader goes away; the watcher's arrival makes online write again.
    online.child.stdout.destroy();
    const newcomer = await LinkLocalService.start({ name: `new${run}@h${run}`, interface: LOOPBACK, port: 0 });
    cleanups.push(() => newcomer.stop());
    expect(await online.exited).toBe(0);
    expect(online.stderr).toBe('');
    await waitFor(`watcher sees ${bob} leave`, () => watcher.contacts.get(bob) === undefined, 30_000);
  });
});

describe('bad usage is exit 2 with a one-line message', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['say without text', ['say', 'bob@desk'], /missing required argument 'text'/],
    ['say with blank text', ['say', 'bob@desk', '  '], /^clique: the message is empty$/m],
    ['say with a bad timeout', ['say', 'bob@desk', 'hi', '--timeout', 'soon'], /--timeout/],
    ['say with an unpublishable name', ['say', 'bob@desk', 'hi', '--name', `${'x'.repeat(64)}@host`, '-i', LOOPBACK], /--name.*longer than 63 bytes/],
    ['say on an interface that does not exist', ['say', 'bob@desk', 'hi', '-i', '192.0.2.123'], /^clique: --interface: no local IPv4 interface has address 192\.0\.2\.123$/m],
    ['invite with --address but no --port', ['invite', 'bob@desk', 'lunch', '--address', '239.255.71.5'], /^clique: give both --address and --port/m],
    ['invite with a bad address', ['invite', 'bob@desk', 'lunch', '--address', 'lunchroom', '--port', '4000'], /not an IP address/],
    ['invite with a bad port', ['invite', 'bob@desk', 'lunch', '--address', '239.255.71.5', '--port', '70000'], /not a port number/],
    ['online with a bad status', ['online', '--status', 'sleeping'], /--status.*sleeping/],
    ['online with a bad tcp port', ['online', '--tcp-port', '-1'], /--tcp-port/],
  ];

  it.each(cases)('%s', async (_what, args, message) => {
    const result = await clique(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
  });
});

describe('clique online survives hostile TCP peers', () => {
  it('garbage, an entity bomb, deep nesting and an oversized stanza on its port do not crash it; a later say still arrives', async () => {
    const run = id();
    const bob = `bob${run}@h${run}`;
    const { online, port } = await startOnlineJson(bob);
    const header = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from="mallory@evil" to="${bob}" version="1.0">`;
    const attacks = [
      '\u0000\u0001GET / HTTP/1.1\r\n\r\n<<<>>>&&&',
      `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><stream:stream>&lol3;`,
      `${header}<message type="chat"><body>&xxe;</body></message>`,
      `${header}${'<a>'.repeat(10_000)}`,
      `${header}<message type="chat"><body>${'x'.repeat(2 * 1024 * 1024)}</body></message>`,
      `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from="${'m'.repeat(100_000)}">`,
    ];
    for (const attack of attacks) {
      await new Promise<void>((resolve) => {
        const socket = net.connect({ host: LOOPBACK, port }, () => socket.end(attack));
        socket.on('error', () => resolve());
        socket.on('close', () => resolve());
        socket.resume();
      });
    }
    expect(online.child.exitCode).toBeNull();

    const alice = `alice${run}@h${run}`;
    const said = await clique('say', bob, 'still there?', '--name', alice, '-i', LOOPBACK, '--timeout', '30000');
    expect(said.stderr).toBe('');
    expect(said.code).toBe(0);
    await online.waitForEvent('the message after the attacks', (e) => e.event === 'message' && e['from'] === alice);
    expect(online.events.filter((e) => e.event === 'message')).toEqual([{ event: 'message', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown, from: alice, kind: 'normal', text: 'still there?' }]);
    expect(online.stderr).toBe('');
    online.child.kill('SIGTERM');
    expect(await online.exited).toBe(0);
  });
});
