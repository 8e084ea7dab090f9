import { localHostLabel } from '../../src/linklocal/presence-publisher.js';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FileTransferJson } from '../../src/service/control-protocol.js';
import { ServiceClient, type ServiceEvent } from '../../src/service/service-client.js';
import { waitFor } from '../support/wait.js';
import { cleanUp, isRunning, person, run, servicePid, start, waitForEvent, type Person } from './service-people.js';

/**
 * File transfer (issue 12) between two real services of distinct identities
 * (run inside `unshare -n`): `clique send-file`, `clique files`,
 * `clique accept-file`, `clique decline-file`, `clique online --accept-files`.
 */
afterEach(cleanUp, 60_000);

// Names are user@host (the host as the library would fill it in).
const ALICE = `alice${process.pid}@${localHostLabel()}`;
const BOB = `bob${process.pid}@${localHostLabel()}`;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function twoServices(): Promise<{ alice: Person; bob: Person; a: ServiceClient; b: ServiceClient; bobEvents: ServiceEvent[] }> {
  const alice = person('files-a');
  const bob = person('files-b');
  expect((await run(alice, ['up', '--daemon', '--name', ALICE])).code).toBe(0);
  expect((await run(bob, ['up', '--daemon', '--name', BOB])).code).toBe(0);
  const a = await ServiceClient.connect(alice.paths.socket);
  const b = await ServiceClient.connect(bob.paths.socket);
  const bobEvents: ServiceEvent[] = [];
  b.on('event', (e) => bobEvents.push(e));
  await b.request('files.subscribe', {});
  // Each must see the other: the receiver fetches only from the offerer's advertised address.
  for (const [client, other] of [[a, b], [b, a]] as const) {
    for (let i = 0; i < 200; i++) {
      if ((await client.request('contacts.list', {})).contacts.some((c) => c.name === other.identity.name)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { alice, bob, a, b, bobEvents };
}

function offered(events: ServiceEvent[]): FileTransferJson[] {
  return events.flatMap((e) => (e.event === 'file.offered' ? [e.params] : []));
}

/** Alice sends a 50 MB file `name` to bob with send-file; resolves once bob's service lists the offer. */
async function offerFiftyMegabytes(alice: Person, bobName: string, bobEvents: ServiceEvent[], name: string): Promise<{ bytes: Buffer; sending: ReturnType<typeof run>; id: string }> {
  const bytes = randomBytes(50 * 1024 * 1024);
  const src = join(alice.dir, name);
  writeFileSync(src, bytes);
  const sending = run(alice, ['send-file', bobName, src]);
  await waitFor('the offer', () => offered(bobEvents).length === 1);
  return { bytes, sending, id: offered(bobEvents)[0]!.id };
}

describe('file transfer through the clique service and the CLI', () => {
  it('a 50 MB file: send-file, the offer in `files`, accept-file into a directory, the hash matches', async () => {
    const { alice, bob, a, b, bobEvents } = await twoServices();
    const bytes = randomBytes(50 * 1024 * 1024);
    const src = join(alice.dir, 'big file.bin');
    writeFileSync(src, bytes);
    const sending = run(alice, ['send-file', b.identity.name, src, '--desc', 'fifty megs']);
    await waitFor('bob to be offered the file', () => offered(bobEvents).length === 1);
    const offer = offered(bobEvents)[0]!;
    expect(offer).toMatchObject({ direction: 'in', peer: a.identity.name, name: 'big file.bin', size: bytes.length, sha256: sha256(bytes), desc: 'fifty megs', state: 'offered' });
    const listed = await run(bob, ['files', '--json']);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ id: offer.id, state: 'offered', name: 'big file.bin' }]);
    expect((await run(bob, ['files'])).stdout).toContain(`${offer.id}  in   big file.bin  50.0 MiB  from ${a.identity.name}  offered  "fifty megs"`);
    const accepting = await run(bob, ['accept-file', offer.id, '--dir', bob.dir]);
    expect(accepting.code, accepting.stderr).toBe(0);
    expect(accepting.stdout).toContain(`received big file.bin from ${a.identity.name}: ${join(bob.dir, 'big file.bin')}`);
    expect(sha256(readFileSync(join(bob.dir, 'big file.bin')))).toBe(sha256(bytes));
    const sent = await sending;
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toBe(`big file.bin: accepted by ${b.identity.name}\n`);
    expect((await a.request('files.list', {})).transfers).toMatchObject([{ direction: 'out', state: 'accepted', bytes: bytes.length }]);
    a.close();
    b.close();
  });

  it('a decline: send-file says declined and exits 1; accept-file of a finished offer fails', async () => {
    const { alice, bob, b, bobEvents } = await twoServices();
    const src = join(alice.dir, 'no.txt');
    writeFileSync(src, 'not wanted');
    const sending = run(alice, ['send-file', b.identity.name, src]);
    await waitFor('the offer', () => offered(bobEvents).length === 1);
    const id = offered(bobEvents)[0]!.id;
    const declined = await run(bob, ['decline-file', id]);
    expect(declined.stdout).toContain('declined no.txt');
    const sent = await sending;
    expect(sent.code).toBe(1);
    expect(sent.stdout).toBe(`no.txt: declined by ${b.identity.name}\n`);
    const again = await run(bob, ['accept-file', id]);
    expect(again.code).not.toBe(0);
    b.close();
  });

  it('a cancel mid-way: the receiver cancels after the first bytes; no file or .part is left, the sender hears it failed', async () => {
    const { alice, bob, b, bobEvents } = await twoServices();
    const { bytes, sending, id } = await offerFiftyMegabytes(alice, b.identity.name, bobEvents, 'half.bin');
    b.on('event', (e) => {
      if (e.event === 'file.progress' && e.params.id === id) void b.request('files.cancel', { id });
    });
    await b.request('files.accept', { id, dir: bob.dir });
    await waitFor('the transfer to end', () => bobEvents.some((e) => e.event === 'file.done' && e.params.id === id));
    const done = bobEvents.find((e) => e.event === 'file.done' && e.params.id === id)!.params as FileTransferJson;
    expect(done.state).toBe('cancelled');
    expect(done.bytes).toBeLessThan(bytes.length);
    expect(readdirSync(bob.dir).filter((f) => f.startsWith('half'))).toEqual([]);
    const sent = await sending;
    expect(sent.code).toBe(1);
    expect(sent.stdout).toMatch(/^half\.bin: failed/);
    b.close();
  });

  it('a receiver that crashes mid-way: send-file ends with failed, and the receiver leaves no file under the final name', async () => {
    const { alice, bob, b, bobEvents } = await twoServices();
    const { sending, id } = await offerFiftyMegabytes(alice, b.identity.name, bobEvents, 'crash.bin');
    const pid = servicePid(bob)!;
    b.on('event', (e) => {
      if (e.event === 'file.progress' && e.params.id === id) process.kill(pid, 'SIGKILL');
    });
    await b.request('files.accept', { id, dir: bob.dir });
    await waitFor('bob\'s service to die', () => !isRunning(pid));
    const sent = await sending;
    expect(sent.code).toBe(1);
    expect(sent.stdout).toMatch(/^crash\.bin: failed: .*stopped fetching/);
    expect(readdirSync(bob.dir)).not.toContain('crash.bin');
  });

  it('join shows an offer and /accept receives it into the given directory', async () => {
    const { alice, bob, b } = await twoServices();
    const chat = start(bob, 'bob join', ['join', `files${process.pid}`]);
    const line = (text: string) => (e: Record<string, unknown>): boolean => typeof e['line'] === 'string' && e['line'].includes(text);
    await waitForEvent(chat, 'the chat to start', line('/help for commands'));
    const src = join(alice.dir, 'for join.txt');
    writeFileSync(src, 'via join');
    const sending = run(alice, ['send-file', b.identity.name, src, '--desc', 'see this']);
    await waitForEvent(chat, 'the offer shown', line('offers you a file, for join.txt (8 B): see this'));
    const inbox = join(bob.dir, 'inbox');
    mkdirSync(inbox);
    chat.child.stdin.write(`/accept 1 ${inbox}\n`);
    await waitForEvent(chat, 'the file received', line('received for join.txt'));
    expect(readFileSync(join(inbox, 'for join.txt'), 'utf8')).toBe('via join');
    expect((await sending).stdout).toContain('for join.txt: accepted by');
    chat.child.stdin.end();
  });

  it('online --accept-files receives every offer into its directory while it runs', async () => {
    const { alice, bob, b } = await twoServices();
    const inbox = join(bob.dir, 'inbox');
    mkdirSync(inbox);
    const online = start(bob, 'bob online', ['online', '--json', '--accept-files', inbox]);
    await waitForEvent(online, 'online', (e) => e['event'] === 'online');
    const src = join(alice.dir, 'passwd-like.txt');
    writeFileSync(src, 'hello');
    const sent = await run(alice, ['send-file', b.identity.name, src]);
    expect(sent.code, sent.stderr).toBe(0);
    const got = await waitForEvent(online, 'file received', (e) => e['event'] === 'file');
    expect(got).toMatchObject({ state: 'received', name: 'passwd-like.txt', path: join(inbox, 'passwd-like.txt') });
    expect(readFileSync(join(inbox, 'passwd-like.txt'), 'utf8')).toBe('hello');
    b.close();
  });
});
