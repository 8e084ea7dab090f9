import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { MdnsResponder } from '../../src/mdns/responder.js';
import { PresenceBrowser } from '../../src/linklocal/presence-browser.js';
import { LinkLocalPresence } from '../../src/linklocal/presence-service.js';
import { RoomBrowser } from '../../src/linklocal/room-browser.js';
import { RoomDirectory } from '../../src/linklocal/room-directory.js';
import { LOOPBACK, runId } from './mdns-test-helpers.js';
import { waitFor } from '../support/wait.js';

/**
 * Interoperability with an mDNS stack nobody here wrote: python3-zeroconf
 * (Debian package python3-zeroconf), pinned to 127.0.0.1.
 */
const PYTHON = '/usr/bin/python3';
const PEER = fileURLToPath(new URL('./zeroconf-peer.py', import.meta.url));

function zeroconfMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import zeroconf; print(zeroconf.__version__)'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `${PYTHON} not runnable (${probe.error.message})`;
  if (probe.status !== 0) return `python3-zeroconf not installed (apt-get install python3-zeroconf)`;
  return undefined;
}

const missing = zeroconfMissing();
if (missing !== undefined) console.log(`skipping python3-zeroconf interop tests: ${missing}`);

interface PeerEvent {
  event: string;
  type?: string;
  name?: string;
  message?: string;
  info?: { port: number; server: string; addresses: string[]; txt: Record<string, string | null>; priority: number; weight: number } | null;
}

class ZeroconfPeer {
  readonly events: PeerEvent[] = [];
  private readonly child: ChildProcessWithoutNullStreams;
  stderr = '';

  constructor(browseTypes: string[]) {
    this.child = spawn(PYTHON, [PEER, LOOPBACK, ...browseTypes], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      try {
        this.events.push(JSON.parse(line) as PeerEvent);
      } catch {
        this.stderr += `unparsable: ${line}\n`;
      }
    });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }

  command(cmd: Record<string, unknown>): void {
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
  }

  find(event: string, name: string): PeerEvent | undefined {
    return [...this.events].reverse().find((e) => e.event === event && e.name === name);
  }

  async waitEvent(what: string, match: (e: PeerEvent) => boolean): Promise<PeerEvent> {
    await waitFor(`zeroconf: ${what}\n${this.stderr}`, () => this.events.some(match), 30_000);
    return this.events.find(match)!;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.command({ cmd: 'quit' });
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.skipIf(missing !== undefined)('interop with python3-zeroconf on loopback', () => {
  it('zeroconf sees our _presence._tcp and _clique._udp services with the right SRV, TXT and A, and our changes and goodbyes', async () => {
    const id = runId();
    const host = `cq${id}`;
    const zc = new ZeroconfPeer(['_presence._tcp.local.', '_clique._udp.local.']);
    cleanups.push(() => zc.stop());
    await zc.waitEvent('ready', (e) => e.event === 'ready');

    const responder = await MdnsResponder.open({ interface: LOOPBACK });
    cleanups.push(() => responder.close());
    const presence = await LinkLocalPresence.start({
      interface: LOOPBACK,
      responder,
      user: `ours${id}`,
      host,
      port: 5298,
      info: { first: 'Alice', last: 'Liddell', nick: 'ali' },
    });
    cleanups.push(() => presence.stop());
    const rooms = await RoomDirectory.open({ interface: LOOPBACK, responder });
    cleanups.push(() => rooms.close());
    const room = { name: `lunch${id}`, address: '239.255.71.23', port: 40123 };
    expect(await rooms.advertise(room)).toBe('advertised');

    const presenceFqdn = `ours${id}@${host}._presence._tcp.local.`;
    const seen = await zc.waitEvent('our presence', (e) => e.event === 'found' && e.name === presenceFqdn && e.info != null);
    expect(seen.info).toMatchObject({
      port: 5298,
      server: `${host}.local.`,
      addresses: [LOOPBACK],
      txt: { txtvers: '1', 'port.p2pj': '5298', '1st': 'Alice', last: 'Liddell', nick: 'ali', status: 'avail' },
    });
    expect(seen.info?.txt['msg']).toBeUndefined();

    const roomFqdn = `${room.name}._clique._udp.local.`;
    const roomSeen = await zc.waitEvent('our room', (e) => e.event === 'found' && e.name === roomFqdn && e.info != null);
    expect(roomSeen.info).toEqual({ port: 40123, server: roomFqdn, addresses: ['239.255.71.23'], txt: { txtvers: '0' }, priority: 0, weight: 0 });

    presence.setStatus('away', 'At the pub');
    await zc.waitEvent('TXT update', (e) => e.event === 'updated' && e.name === presenceFqdn && e.info?.txt['status'] === 'away');
    expect(zc.find('updated', presenceFqdn)?.info?.txt['msg']).toBe('At the pub');

    await rooms.withdraw(room.name);
    await zc.waitEvent('room goodbye', (e) => e.event === 'removed' && e.name === roomFqdn);
    await presence.stop();
    await zc.waitEvent('presence goodbye', (e) => e.event === 'removed' && e.name === presenceFqdn);
  });

  it('zeroconf sees and resolves our room with a dot in its name and our dotted presence name', async () => {
    const id = runId();
    const zc = new ZeroconfPeer(['_presence._tcp.local.', '_clique._udp.local.']);
    cleanups.push(() => zc.stop());
    await zc.waitEvent('ready', (e) => e.event === 'ready');
    const responder = await MdnsResponder.open({ interface: LOOPBACK });
    cleanups.push(() => responder.close());
    const rooms = await RoomDirectory.open({ interface: LOOPBACK, responder });
    cleanups.push(() => rooms.close());
    const room = { name: `team.alpha ${id}`, address: '239.255.71.24', port: 40124 };
    expect(await rooms.advertise(room)).toBe('advertised');
    const presence = await LinkLocalPresence.start({ interface: LOOPBACK, responder, user: `john.smith${id}`, host: `cq${id}`, port: 5298 });
    cleanups.push(() => presence.stop());

    // python3-zeroconf shows names as labels joined by '.', without escapes, so this checks that it finds and
    // resolves them; that the instance is one label on the wire is checked against Avahi (mdns-interop-avahi).
    const roomFqdn = `${room.name}._clique._udp.local.`;
    const roomSeen = await zc.waitEvent('our dotted room', (e) => e.event === 'found' && e.name === roomFqdn && e.info != null);
    expect(roomSeen.info).toEqual({ port: 40124, server: roomFqdn, addresses: ['239.255.71.24'], txt: { txtvers: '0' }, priority: 0, weight: 0 });
    const presenceFqdn = `john.smith${id}@cq${id}._presence._tcp.local.`;
    const seen = await zc.waitEvent('our dotted presence', (e) => e.event === 'found' && e.name === presenceFqdn && e.info != null);
    expect(seen.info).toMatchObject({ port: 5298, server: `cq${id}.local.`, addresses: [LOOPBACK] });
  });

  it('we see zeroconf-published presence and rooms, and their removal', async () => {
    const id = runId();
    const responder = await MdnsResponder.open({ interface: LOOPBACK });
    cleanups.push(() => responder.close());
    const contacts = new PresenceBrowser(responder);
    const roomList = new RoomBrowser(responder);
    cleanups.push(async () => {
      contacts.close();
      roomList.close();
    });

    const zc = new ZeroconfPeer([]);
    cleanups.push(() => zc.stop());
    await zc.waitEvent('ready', (e) => e.event === 'ready');
    const name = `juliet${id}@zc${id}`;
    zc.command({
      cmd: 'register',
      type: '_presence._tcp',
      name,
      port: 5299,
      server: `zc${id}.local.`,
      address: LOOPBACK,
      txt: { txtvers: '1', status: 'dnd', msg: 'Busy', '1st': 'Juliet', last: 'Capulet' },
    });
    const roomName = `ball${id}`;
    zc.command({
      cmd: 'register',
      type: '_clique._udp',
      name: roomName,
      port: 41377,
      server: `${roomName}._clique._udp.local.`,
      address: '239.255.71.77',
      txt: { txtvers: '0' },
    });
    await zc.waitEvent('registered both', () => zc.events.filter((e) => e.event === 'registered').length === 2);

    await waitFor('contact from zeroconf', () => contacts.get(name) !== undefined, 30_000);
    expect(contacts.get(name)).toMatchObject({ name, port: 5299, status: 'dnd', message: 'Busy', alias: 'Juliet Capulet', addresses: [LOOPBACK] });
    await waitFor('room from zeroconf', () => roomList.get(roomName) !== undefined, 30_000);
    expect(roomList.get(roomName)).toEqual({ name: roomName, address: '239.255.71.77', port: 41377 });

    zc.command({ cmd: 'unregister_all' });
    await waitFor('contact removed', () => contacts.get(name) === undefined, 30_000);
    await waitFor('room removed', () => roomList.get(roomName) === undefined, 30_000);
  });
});
