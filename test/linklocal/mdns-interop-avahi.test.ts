import { spawn, spawnSync, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '../support/wait.js';

/**
 * Interoperability with Avahi, the responder salut itself publishes through.
 * NETWORK SAFETY: avahi-daemon runs only inside a network namespace this test
 * creates (two namespaces joined by a veth pair, nothing else), never in the
 * root namespace; both namespaces are deleted afterwards, even on failure.
 * Our side runs as a child process inside the other namespace.
 */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const PEER = fileURLToPath(new URL('./mdns-ns-peer.ts', import.meta.url));
const tag = randomBytes(3).toString('hex');
const NS_AVAHI = `cqm${tag}a`;
const NS_OURS = `cqm${tag}b`;
const AVAHI_ADDR = '10.231.0.1';
const OUR_ADDR = '10.231.0.2';
const workDir = join(tmpdir(), `cqm-avahi-${tag}`);

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

function environmentMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces';
  for (const tool of ['ip', 'nsenter', 'unshare', 'avahi-daemon', 'avahi-publish', 'avahi-browse', 'dbus-daemon']) {
    if (!run('sh', ['-c', `command -v ${tool}`]).ok) return `${tool} not installed (apt-get install iproute2 avahi-daemon avahi-utils dbus)`;
  }
  const probe = `cqmprobe${tag}`;
  const added = run('ip', ['netns', 'add', probe]);
  if (!added.ok) return `cannot create a network namespace: ${added.out.trim()}`;
  run('ip', ['netns', 'del', probe]);
  return undefined;
}

const missing = environmentMissing();
if (missing !== undefined) console.log(`skipping Avahi interop tests: ${missing}`);

/** Kills whatever runs in our namespaces (by PID) and deletes them. Safe to call twice. */
function teardownNamespaces(): void {
  for (const ns of [NS_AVAHI, NS_OURS]) {
    const pids = run('ip', ['netns', 'pids', ns]).out.split(/\s+/).filter((p) => /^\d+$/.test(p));
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const ns of [NS_AVAHI, NS_OURS]) run('ip', ['netns', 'del', ns]);
  rmSync(workDir, { recursive: true, force: true });
}

function setupNamespaces(): void {
  const steps: string[][] = [
    ['netns', 'add', NS_AVAHI],
    ['netns', 'add', NS_OURS],
    ['-n', NS_AVAHI, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS_OURS],
    ['-n', NS_AVAHI, 'addr', 'add', `${AVAHI_ADDR}/24`, 'dev', 'eth0'],
    ['-n', NS_OURS, 'addr', 'add', `${OUR_ADDR}/24`, 'dev', 'eth0'],
    ['-n', NS_AVAHI, 'link', 'set', 'lo', 'up'],
    ['-n', NS_OURS, 'link', 'set', 'lo', 'up'],
    ['-n', NS_AVAHI, 'link', 'set', 'eth0', 'up'],
    ['-n', NS_OURS, 'link', 'set', 'eth0', 'up'],
    ['-n', NS_AVAHI, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0'],
    ['-n', NS_OURS, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0'],
  ];
  for (const step of steps) {
    const r = run('ip', step);
    if (!r.ok) throw new Error(`ip ${step.join(' ')} failed: ${r.out}`);
  }
}

let avahi: ChildProcess | undefined;
let avahiLog = '';
const helpers: ChildProcess[] = [];

function startAvahi(): void {
  mkdirSync(workDir, { recursive: true });
  const conf = join(workDir, 'avahi-daemon.conf');
  writeFileSync(
    conf,
    [
      '[server]',
      'host-name=avahins',
      'use-ipv4=yes',
      'use-ipv6=no',
      'allow-interfaces=eth0',
      'ratelimit-interval-usec=1000000',
      'ratelimit-burst=1000',
      '[wide-area]',
      'enable-wide-area=no',
      '[publish]',
      'publish-hinfo=no',
      'publish-workstation=no',
      '',
    ].join('\n'),
  );
  // A private mount namespace gives this avahi-daemon and its system D-Bus their own /run directories.
  const script = [
    'mount -t tmpfs none /run/dbus 2>/dev/null || { mkdir -p /run/dbus && mount -t tmpfs none /run/dbus; }',
    'mkdir -p /run/avahi-daemon && mount -t tmpfs none /run/avahi-daemon',
    'dbus-daemon --system --fork --nopidfile',
    `exec avahi-daemon --no-drop-root --no-chroot -f ${conf}`,
  ].join('\n');
  avahi = spawn('ip', ['netns', 'exec', NS_AVAHI, 'unshare', '-m', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  avahi.stdout?.on('data', (d: Buffer) => (avahiLog += d.toString()));
  avahi.stderr?.on('data', (d: Buffer) => (avahiLog += d.toString()));
}

/** Runs an Avahi client inside avahi-daemon's network and mount namespaces. */
function inAvahi(args: string[]): string[] {
  if (avahi?.pid === undefined) throw new Error('avahi not started');
  return ['-t', String(avahi.pid), '-m', '-n', ...args];
}

function avahiPublish(args: string[]): ChildProcess {
  const child = spawn('nsenter', inAvahi(['avahi-publish', ...args]), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  Object.defineProperty(child, 'output', { get: () => out });
  helpers.push(child);
  return child;
}

function publishOutput(child: ChildProcess): string {
  return (child as ChildProcess & { output: string }).output;
}

interface Browsed {
  name: string;
  host: string;
  address: string;
  port: number;
  txt: string[];
}

function unescapeAvahi(text: string): string {
  return text.replace(/\\(\d{3})/g, (_, d: string) => String.fromCharCode(Number(d))).replace(/\\(.)/g, '$1');
}

/** `avahi-browse -rpt TYPE` in Avahi's namespace: resolved entries. */
function avahiBrowse(type: string): Browsed[] {
  const r = spawnSync('nsenter', inAvahi(['avahi-browse', '-rpt', type]), { encoding: 'utf8', timeout: 20_000 });
  const out: Browsed[] = [];
  for (const line of (r.stdout ?? '').split('\n')) {
    if (!line.startsWith('=;')) continue;
    const f = line.split(';');
    out.push({
      name: unescapeAvahi(f[3] ?? ''),
      host: f[6] ?? '',
      address: f[7] ?? '',
      port: Number(f[8]),
      txt: [...(f.slice(9).join(';').matchAll(/"((?:[^"\\]|\\.)*)"/g))].map((m) => unescapeAvahi(m[1] ?? '')),
    });
  }
  return out;
}

interface PeerEvent {
  event: string;
  [key: string]: unknown;
}

class OurPeer {
  readonly events: PeerEvent[] = [];
  readonly child: ChildProcessWithoutNullStreams;
  stderr = '';

  constructor() {
    this.child = spawn('ip', ['netns', 'exec', NS_OURS, process.execPath, '--import', 'tsx', PEER, OUR_ADDR], { cwd: repoRoot });
    createInterface({ input: this.child.stdout }).on('line', (l) => this.events.push(JSON.parse(l) as PeerEvent));
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  send(cmd: Record<string, unknown>): void {
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
  }

  async expectEvent(what: string, match: (e: PeerEvent) => boolean): Promise<PeerEvent> {
    await waitFor(() => `our peer: ${what}\nevents: ${JSON.stringify(this.events)}\nstderr: ${this.stderr}`, () => this.events.some(match), 30_000);
    return this.events.find(match)!;
  }
}

let peer: OurPeer;

describe.skipIf(missing !== undefined)('interop with Avahi in network namespaces', () => {
  beforeAll(async () => {
    process.once('exit', teardownNamespaces);
    try {
      setupNamespaces();
      startAvahi();
      await waitFor(() => `avahi-daemon start-up\n${avahiLog}`, () => avahiLog.includes('Server startup complete'), 30_000);
      peer = new OurPeer();
      await peer.expectEvent('ready', (e) => e.event === 'ready');
    } catch (error) {
      teardownNamespaces();
      throw error;
    }
  });

  afterAll(() => {
    for (const h of helpers) h.kill('SIGKILL');
    peer?.child.kill('SIGKILL');
    avahi?.kill('SIGKILL');
    teardownNamespaces();
  });

  it('Avahi resolves our presence (SRV target = our host, A, TXT) and our room (§2.1 records), and sees our TXT change', async () => {
    peer.send({ cmd: 'presence', user: 'alice', host: 'nsb', port: 5298, info: { nick: 'Al', first: 'Alice' } });
    await peer.expectEvent('presence up', (e) => e.event === 'presence');
    peer.send({ cmd: 'advertise', room: { name: 'lunch', address: '239.255.71.23', port: 40123 } });
    await peer.expectEvent('room advertised', (e) => e.event === 'advertise' && e['result'] === 'advertised');

    let people: Browsed[] = [];
    await waitFor('avahi resolves alice@nsb', () => (people = avahiBrowse('_presence._tcp')).some((b) => b.name === 'alice@nsb'), 30_000);
    const alice = people.find((b) => b.name === 'alice@nsb')!;
    expect(alice).toMatchObject({ host: 'nsb.local', address: OUR_ADDR, port: 5298 });
    expect(alice.txt.sort()).toEqual(['1st=Alice', 'nick=Al', 'port.p2pj=5298', 'status=avail', 'txtvers=1']);

    let rooms: Browsed[] = [];
    await waitFor('avahi resolves lunch', () => (rooms = avahiBrowse('_clique._udp')).some((b) => b.name === 'lunch'), 30_000);
    expect(rooms.find((b) => b.name === 'lunch')).toEqual({ name: 'lunch', host: 'lunch._clique._udp.local', address: '239.255.71.23', port: 40123, txt: ['txtvers=0'] });

    peer.send({ cmd: 'status', status: 'away', message: 'At the pub' });
    await waitFor(
      'avahi sees status=away',
      () => avahiBrowse('_presence._tcp').some((b) => b.name === 'alice@nsb' && b.txt.includes('status=away') && b.txt.includes('msg=At the pub')),
      30_000,
    );
  });

  it('we resolve Avahi-published presence and a salut-style room (dummy A record), and see them go', async () => {
    const juliet = avahiPublish(['-s', 'juliet@avahins', '_presence._tcp', '5299', 'txtvers=1', 'status=dnd', 'msg=Busy', '1st=Juliet', 'last=Capulet']);
    // Exactly what salut asks Avahi for: an address record for the dummy name, and the service pointing at it.
    const roomA = avahiPublish(['-a', '-R', 'witch._clique._udp.local', '239.255.71.5']);
    const roomSrv = avahiPublish(['-s', '-H', 'witch._clique._udp.local', 'witch', '_clique._udp', '13251', 'txtvers=0']);

    const contact = await peer.expectEvent('juliet', (e) => e.event === 'contact-added' && (e['contact'] as { name: string }).name === 'juliet@avahins');
    expect(contact['contact']).toMatchObject({ name: 'juliet@avahins', port: 5299, status: 'dnd', message: 'Busy', alias: 'Juliet Capulet' });
    // Avahi also publishes its IPv6 link-local address; it comes scoped to the interface we learnt it on.
    const [first, ...rest] = (contact['contact'] as { addresses: string[] }).addresses;
    expect(first).toBe(AVAHI_ADDR);
    for (const a of rest) expect(a).toMatch(/^fe80:[0-9a-f:]+%eth0$/);
    const room = await peer.expectEvent('witch', (e) => e.event === 'room-added' && (e['room'] as { name: string }).name === 'witch');
    expect(room['room']).toEqual({ name: 'witch', address: '239.255.71.5', port: 13251 });

    for (const child of [juliet, roomSrv, roomA]) child.kill('SIGTERM');
    await peer.expectEvent('juliet gone', (e) => e.event === 'contact-removed' && (e['contact'] as { name: string }).name === 'juliet@avahins');
    await peer.expectEvent('witch gone', (e) => e.event === 'room-removed' && (e['room'] as { name: string }).name === 'witch');
  });

  it('dotted instance names (RFC 6763 §4.3) both ways: Avahi reads our room `team.alpha`, we read its room `beta.team`', async () => {
    peer.send({ cmd: 'advertise', room: { name: 'team.alpha', address: '239.255.71.31', port: 40131 } });
    await peer.expectEvent('team.alpha advertised', (e) => e.event === 'advertise' && e['name'] === 'team.alpha' && e['result'] === 'advertised');
    let rooms: Browsed[] = [];
    await waitFor('avahi resolves team.alpha', () => (rooms = avahiBrowse('_clique._udp')).some((b) => b.name === 'team.alpha'), 30_000);
    expect(rooms.find((b) => b.name === 'team.alpha')).toMatchObject({ address: '239.255.71.31', port: 40131, txt: ['txtvers=0'] });
    // Not split into a deeper name: no instance called `alpha` or `team`.
    expect(rooms.map((b) => b.name)).not.toContain('alpha');

    // As salut would publish a dotted room through Avahi: the dummy host is the escaped single label.
    const fqdn = 'beta\\.team._clique._udp.local';
    const betaA = avahiPublish(['-a', '-R', fqdn, '239.255.71.32']);
    const betaSrv = avahiPublish(['-s', '-H', fqdn, 'beta.team', '_clique._udp', '40132', 'txtvers=0']);
    const room = await peer.expectEvent('beta.team', (e) => e.event === 'room-added' && (e['room'] as { name: string }).name === 'beta.team');
    expect(room['room']).toEqual({ name: 'beta.team', address: '239.255.71.32', port: 40132 });
    for (const child of [betaSrv, betaA]) child.kill('SIGTERM');
    peer.send({ cmd: 'withdraw', name: 'team.alpha' });
    await peer.expectEvent('team.alpha withdrawn', (e) => e.event === 'withdrawn' && e['name'] === 'team.alpha');
  });

  it('Avahi and we advertise the same room cooperatively; after our goodbye, Avahi re-announces it into a passive cache', async () => {
    const fqdn = 'coop._clique._udp.local';
    const coopA = avahiPublish(['-a', '-R', fqdn, '239.255.71.77']);
    const coopSrv = avahiPublish(['-s', '-H', fqdn, 'coop', '_clique._udp', '41377', 'txtvers=0']);
    await waitFor(() => `avahi established coop\n${publishOutput(coopSrv)}`, () => publishOutput(coopSrv).includes('Established'), 30_000);
    peer.send({ cmd: 'advertise', room: { name: 'coop', address: '239.255.71.77', port: 41377 } });
    const result = await peer.expectEvent('coop advertised', (e) => e.event === 'advertise' && e['name'] === 'coop');
    // Byte-identical records: neither side sees a conflict, nobody renames.
    expect(result['result']).toBe('advertised');
    await sleep(2000);
    expect(publishOutput(coopSrv)).not.toMatch(/collision|conflict/i);
    expect(publishOutput(coopA)).not.toMatch(/collision|conflict/i);

    peer.send({ cmd: 'withdraw', name: 'coop' });
    await peer.expectEvent('coop withdrawn', (e) => e.event === 'withdrawn' && e['name'] === 'coop');
    // Spec §12 open point: our goodbyes give caches one second; Avahi answers them by re-announcing.
    await sleep(3000);
    peer.events.length = 0;
    peer.send({ cmd: 'cached', fqdn });
    const cached = await peer.expectEvent('cache state', (e) => e.event === 'cached');
    expect((cached['types'] as string[]).sort()).toEqual(['A', 'PTR', 'SRV', 'TXT']);
    expect(avahiBrowse('_clique._udp').find((b) => b.name === 'coop')).toMatchObject({ address: '239.255.71.77', port: 41377 });
  });
});
