import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceClient, type ServiceEvent } from '../../src/service/service-client.js';
import { validate, type Schema } from '../cli/json-schema-subset.js';
import { waitFor } from '../support/wait.js';
import { cleanUp, person, run, start, waitForEvent, type Person } from './service-people.js';

/**
 * The room share (issue 12 item 2) between three real services of distinct
 * identities (run inside `unshare -n`): `clique share ROOM FILE` sends the
 * file once over the room's rMulticast; bob takes it with
 * `clique listen ROOM --accept-files DIR`, carol does not accept and gets
 * an offer and nothing on disk, until she accepts late and her service
 * fetches it 1-1 from alice.
 */
afterEach(cleanUp, 60_000);

const eventSchema = JSON.parse(readFileSync(new URL('../../docs/events.schema.json', import.meta.url), 'utf8')) as Schema;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Every file under `dir`, recursively (to show nothing of the share landed anywhere). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile());
}

async function up(p: Person, name: string): Promise<ServiceClient> {
  const started = await run(p, ['up', '--daemon', '--name', name]);
  expect(started.code, started.stderr).toBe(0);
  return ServiceClient.connect(p.paths.socket);
}

describe('a file shared to a room of three services', () => {
  it('50 MB shared once reaches the member that accepts (hash matches); the one that did not accept has an offer and nothing on disk, then fetches it 1-1 late', async () => {
    const alice = person('share-a');
    const bob = person('share-b');
    const carol = person('share-c');
    const a = await up(alice, `alice${process.pid}@desk`);
    const b = await up(bob, `bob${process.pid}@desk`);
    const c = await up(carol, `carol${process.pid}@desk`);
    const den = await a.request('rooms.join', { room: 'den', create: true, hold: 'stay' });

    // Bob listens with --accept-files; carol's service is in the room too, and only watches.
    const inbox = join(bob.dir, 'inbox');
    mkdirSync(inbox);
    const listening = start(bob, 'bob listen', ['listen', 'den', '--json', '--address', den.address, '--port', String(den.port), '--accept-files', inbox]);
    await waitForEvent(listening, 'joined', (e) => e['event'] === 'joined');
    const carolEvents: ServiceEvent[] = [];
    c.on('event', (e) => carolEvents.push(e));
    await c.request('files.subscribe', {});
    await c.request('rooms.join', { room: 'den', address: den.address, port: den.port, hold: 'stay' });
    await a.request('rooms.send', { room: 'den', texts: ['files coming'], waitMembers: 2, timeoutMs: 30_000 });

    const bytes = randomBytes(50 * 1024 * 1024);
    const src = join(alice.dir, 'big share.bin');
    writeFileSync(src, bytes);
    const shared = await run(alice, ['share', 'den', src], undefined, 180_000);
    expect(shared.code, shared.stderr).toBe(0);
    expect(shared.stdout).toBe('big share.bin: sent to den\n');
    expect((await a.request('files.list', {})).transfers).toMatchObject([{ direction: 'out', room: 'den', state: 'sent', bytes: bytes.length, sha256: sha256(bytes) }]);

    const offered = await waitForEvent(listening, 'the offer', (e) => e['event'] === 'file-offered');
    expect(offered).toMatchObject({ from: a.identity.name, room: 'den', name: 'big share.bin', size: bytes.length, sha256: sha256(bytes) });
    const received = await waitForEvent(listening, 'the file', (e) => e['event'] === 'file', 120_000);
    expect(received).toMatchObject({ from: a.identity.name, room: 'den', state: 'received', path: join(inbox, 'big share.bin') });
    expect(readdirSync(inbox)).toEqual(['big share.bin']);
    expect(sha256(readFileSync(join(inbox, 'big share.bin')))).toBe(sha256(bytes));
    // listen's new file events keep the --json contract (docs/events.schema.json).
    for (const e of listening.events) expect(validate(e, eventSchema), JSON.stringify(e)).toEqual([]);

    // Carol: the offer, still 'offered' (its chunks went by unaccepted), listed by `clique files`; no data anywhere.
    await waitFor(() => `carol's offer: ${JSON.stringify(carolEvents)}`, () => carolEvents.some((e) => e.event === 'file.offered'));
    const carolOffer = carolEvents.find((e) => e.event === 'file.offered')!.params as { id: string; room: string | null; name: string };
    expect(carolOffer).toMatchObject({ room: 'den', name: 'big share.bin' });
    const listed = await run(carol, ['files', '--json']);
    expect(JSON.parse(listed.stdout)).toMatchObject([{ id: carolOffer.id, direction: 'in', room: 'den', state: 'offered', bytes: 0 }]);
    expect(filesUnder(carol.dir).filter((f) => f.includes('big share'))).toEqual([]);

    // Carol takes it late: her service fetches it 1-1 (OOB) from alice, who shared it; the hash matches.
    for (const [client, other] of [[a, c], [c, a]] as const) {
      for (let i = 0; i < 200; i++) {
        if ((await client.request('contacts.list', {})).contacts.some((x) => x.name === other.identity.name)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const carolInbox = join(carol.dir, 'inbox');
    mkdirSync(carolInbox);
    const late = await run(carol, ['accept-file', carolOffer.id, '--dir', carolInbox], undefined, 120_000);
    expect(late.code, late.stderr).toBe(0);
    expect(late.stdout).toContain(`received big share.bin from ${a.identity.name}`);
    expect(readdirSync(carolInbox)).toEqual(['big share.bin']);
    expect(sha256(readFileSync(join(carolInbox, 'big share.bin')))).toBe(sha256(bytes));
    // Alice made that 1-1 offer only because carol is in the room she shared into.
    expect((await a.request('files.list', {})).transfers).toMatchObject([
      { direction: 'out', room: null, peer: c.identity.name, state: 'accepted' },
      { direction: 'out', room: 'den', state: 'sent' },
    ]);
    a.close();
    b.close();
    c.close();
  }, 300_000);
});
