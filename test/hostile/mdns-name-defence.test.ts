import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkLocalPresence } from '../../src/linklocal/presence-service.js';
import { LOOPBACK, runId } from '../linklocal/mdns-test-helpers.js';
import { CLI_ARGS, repoRoot } from '../support/cli-runner.js';
import { sleep, waitFor } from '../support/wait.js';

/**
 * Issue 15: three forged mDNS announcements used to make a person rename
 * herself and let the attacker appear under her name. Over real mDNS on
 * loopback (NETWORK SAFETY: every socket pinned to 127.0.0.1), a burst of
 * forged answers now only makes her probe again, warn, and re-announce.
 */
const open: LinkLocalPresence[] = [];
let attacker: Socket | undefined;
const children: Array<{ kill: () => void; exited: Promise<unknown> }> = [];
/** The attacker's source address: any 127/8 address is on the loopback link. */
const ATTACKER = '127.0.0.66';

afterEach(async () => {
  attacker?.close();
  attacker = undefined;
  for (const c of children.splice(0)) {
    c.kill();
    await c.exited;
  }
  await Promise.all(open.splice(0).map((p) => p.stop()));
});

async function person(user: string, host: string, port: number): Promise<LinkLocalPresence> {
  const p = await LinkLocalPresence.start({ interface: LOOPBACK, user, host, port });
  open.push(p);
  return p;
}

function forged(instanceName: string, host: string, address: string): Buffer {
  return dnsPacket.encode({
    type: 'response',
    id: 0,
    flags: dnsPacket.AUTHORITATIVE_ANSWER,
    answers: [
      { name: `${instanceName}._presence._tcp.local`, type: 'SRV', ttl: 120, class: 'IN', flush: true, data: { priority: 0, weight: 0, port: 6666, target: `${host}.local` } },
      { name: `${host}.local`, type: 'A', ttl: 120, class: 'IN', flush: true, data: address },
      { name: `${instanceName}._presence._tcp.local`, type: 'TXT', ttl: 4500, class: 'IN', flush: true, data: ['txtvers=1', 'port.p2pj=6666', 'status=avail'] },
    ],
  });
}

async function openAttacker(): Promise<Socket> {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => socket.bind(0, ATTACKER, () => resolve()));
  socket.setMulticastInterface(LOOPBACK);
  socket.setMulticastTTL(1);
  attacker = socket;
  return socket;
}

describe('forged mDNS announcements over real sockets', () => {
  it('a burst of three forged announcements does not rename olga; she warns and everyone sees her real address again', async () => {
    const id = runId();
    const host = `lab${id}`;
    const olga = await person(`olga${id}`, host, 41001);
    const bob = await person(`bob${id}`, `desk${id}`, 41002);
    await waitFor('bob sees olga', () => bob.contacts.get(olga.name) !== undefined);
    const contested: string[] = [];
    const renamed: string[] = [];
    olga.on('name-contested', (_name, from) => contested.push(from));
    olga.on('name-changed', (name) => renamed.push(name));

    const socket = await openAttacker();
    const packet = forged(olga.name, host, '127.0.0.66');
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve, reject) => socket.send(packet, 5353, '224.0.0.251', (e) => (e ? reject(e) : resolve())));

    await waitFor('olga notices the contest', () => contested.length > 0);
    expect(contested[0]).toBe(ATTACKER);
    await waitFor('bob sees olga at her own address again', () => {
      const c = bob.contacts.get(olga.name);
      return c !== undefined && c.addresses.length === 1 && c.addresses[0] === LOOPBACK && c.port === 41001;
    });
    await sleep(3_000);
    expect(renamed).toEqual([]);
    expect(olga.name).toBe(`olga${id}@${host}`);
    expect(bob.contacts.get(olga.name)?.addresses).toEqual([LOOPBACK]);
  });

  it('clique online warns on stderr with the rival\'s address and keeps its name', async () => {
    const id = runId();
    const name = `olga${id}@lab${id}`;
    const child = spawn(process.execPath, [...CLI_ARGS, 'online', '--no-service', '--interface', LOOPBACK, '--tcp-port', '0', '--name', name], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    children.push({ kill: () => child.kill('SIGKILL'), exited });
    const output = (): string => `\nstdout:\n${stdout}\nstderr:\n${stderr}`;
    await waitFor(() => `online as ${name}${output()}`, () => stdout.includes(`online as ${name}`), 30_000);

    const socket = await openAttacker();
    const packet = forged(name, `lab${id}`, ATTACKER);
    for (let i = 0; i < 3; i++) await new Promise<void>((resolve, reject) => socket.send(packet, 5353, '224.0.0.251', (e) => (e ? reject(e) : resolve())));

    await waitFor(() => `the warning${output()}`, () => stderr.includes(`warning: ${ATTACKER} announced our name ${name}`));
    await sleep(3_000);
    expect(stdout, output()).not.toContain('taken by someone else');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stdout).toContain(`${name} is offline`);
  });
});
