/**
 * LinkLocalService over real sockets on 127.0.0.1: mDNS presence on loopback
 * multicast, XEP-0174 TCP streams between the peers. Every run uses fresh
 * names so parallel runs on one host never see each other.
 */
import { userInfo } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import type { Contact } from '../../src/linklocal/contact.js';
import type { ChatMessageEvent, InvitationEvent } from '../../src/linklocal/link-local-messenger.js';
import { LinkLocalServiceError } from '../../src/linklocal/link-local-service-error.js';
import { defaultSelfName, LinkLocalService, splitSelfName, type LinkLocalServiceOptions } from '../../src/linklocal/link-local-service.js';
import { MdnsError } from '../../src/mdns/mdns-error.js';
import { localHostLabel } from '../../src/linklocal/presence-publisher.js';
import { RoomDirectory } from '../../src/linklocal/room-directory.js';
import { LinkLocalPresence } from '../../src/linklocal/presence-service.js';
import { LOOPBACK, runId } from './mdns-test-helpers.js';
import { waitFor } from '../support/wait.js';
import { startPeer as startLinkPeer, StaticDirectory, type TestPeer } from './xmpp-link-kit.js';

const running: LinkLocalService[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await Promise.all(running.splice(0).map((s) => s.stop()));
});

/** A peer and everything it heard. */
interface Peer {
  service: LinkLocalService;
  messages: ChatMessageEvent[];
  invitations: InvitationEvent[];
  removed: string[];
}

async function startPeer(name: string, options: Partial<LinkLocalServiceOptions> = {}): Promise<Peer> {
  const service = await LinkLocalService.start({ name, interface: LOOPBACK, port: 0, ...options });
  running.push(service);
  const peer: Peer = { service, messages: [], invitations: [], removed: [] };
  service.on('message', (m) => peer.messages.push(m));
  service.on('invitation', (i) => peer.invitations.push(i));
  service.on('contact-removed', (c) => peer.removed.push(c.name));
  return peer;
}

const seesAll = (peer: Peer, others: Peer[]): boolean => others.every((o) => peer.service.contacts.get(o.service.name) !== undefined);

describe('LinkLocalService between peers on loopback', () => {
  it('two peers see each other, chat both ways, invite, and see each other leave', async () => {
    const id = runId();
    const host = `h${id}`;
    const alice = await startPeer(`alice${id}@${host}`, { nick: 'Alice', status: 'away', message: 'at lunch' });
    const bob = await startPeer(`bob${id}@${host}`);
    expect(alice.service.name).toBe(`alice${id}@${host}`);
    expect(alice.service.port).toBeGreaterThan(0);

    const bobSeesAlice = await bob.service.waitForContact(alice.service.name, { timeoutMs: 20_000 });
    expect(bobSeesAlice).toMatchObject({ addresses: [LOOPBACK], port: alice.service.port, status: 'away', message: 'at lunch', alias: 'Alice' });
    const aliceSeesBob = await alice.service.waitForContact(bob.service.name, { timeoutMs: 20_000 });
    expect(aliceSeesBob.port).toBe(bob.service.port);

    await alice.service.sendMessage(aliceSeesBob, 'hello bob');
    await bob.service.sendMessage(alice.service.name, 'waves back', { kind: 'action' });
    await bob.service.sendMessage(alice.service.name, 'a notice', { kind: 'notice' });
    await waitFor('bob hears alice', () => bob.messages.length === 1);
    await waitFor('alice hears bob twice', () => alice.messages.length === 2);
    expect(bob.messages[0]).toMatchObject({ from: alice.service.name, kind: 'normal', text: 'hello bob', type: 'chat' });
    expect(alice.messages.map((m) => [m.from, m.kind, m.text])).toEqual([
      [bob.service.name, 'action', 'waves back'],
      [bob.service.name, 'notice', 'a notice'],
    ]);

    await alice.service.sendInvitation(bob.service.name, { room: `lunch${id}`, address: '239.255.71.23', port: 40123, reason: 'join us' });
    await waitFor('bob gets the invitation', () => bob.invitations.length === 1);
    expect(bob.invitations[0]).toMatchObject({
      from: alice.service.name,
      invitation: { room: `lunch${id}`, address: '239.255.71.23', port: 40123, reason: 'join us' },
    });
    // An invitation is never shown as chat (§5.3).
    expect(bob.messages).toHaveLength(1);

    const aliceName = alice.service.name;
    await alice.service.stop();
    await waitFor('bob sees alice leave', () => bob.removed.includes(aliceName));
    expect(bob.service.contacts.get(aliceName)).toBeUndefined();
  });

  it('three peers: everyone sees everyone, messages reach the right peer, a leaver is removed for both others', async () => {
    const id = runId();
    const host = `h${id}`;
    const [a, b, c] = await Promise.all([startPeer(`a${id}@${host}`), startPeer(`b${id}@${host}`), startPeer(`c${id}@${host}`)]);
    await waitFor('a sees b and c', () => seesAll(a, [b, c]));
    await waitFor('b sees a and c', () => seesAll(b, [a, c]));
    await waitFor('c sees a and b', () => seesAll(c, [a, b]));
    expect(a.service.contacts.list().map((x) => x.name)).not.toContain(a.service.name);

    await Promise.all([
      a.service.sendMessage(b.service.name, 'a to b'),
      a.service.sendMessage(c.service.name, 'a to c'),
      b.service.sendMessage(c.service.name, 'b to c'),
      c.service.sendInvitation(a.service.name, { room: `r${id}`, address: '239.255.71.99', port: 41000 }),
    ]);
    await waitFor('b has 1, c has 2, a has an invitation', () => b.messages.length === 1 && c.messages.length === 2 && a.invitations.length === 1);
    expect(b.messages.map((m) => `${m.from}:${m.text}`)).toEqual([`${a.service.name}:a to b`]);
    expect(c.messages.map((m) => `${m.from}:${m.text}`).sort()).toEqual([`${a.service.name}:a to c`, `${b.service.name}:b to c`].sort());
    expect(a.invitations[0]?.invitation).toMatchObject({ room: `r${id}`, address: '239.255.71.99', port: 41000, reason: '' });
    expect(a.messages).toEqual([]);

    const bName = b.service.name;
    await b.service.stop();
    await waitFor('a and c see b leave', () => a.removed.includes(bName) && c.removed.includes(bName));
    expect(a.service.contacts.get(c.service.name)).toBeDefined();
    // The two who stayed still talk.
    await c.service.sendMessage(a.service.name, 'still here');
    await waitFor('a hears c', () => a.messages.length === 1);
  });

  it('a status change reaches the others as contact-updated', async () => {
    const id = runId();
    const alice = await startPeer(`alice${id}@h${id}`);
    const bob = await startPeer(`bob${id}@h${id}`);
    await bob.service.waitForContact(alice.service.name, { timeoutMs: 20_000 });
    const updates: Contact[] = [];
    bob.service.on('contact-updated', (c) => updates.push(c));
    alice.service.setStatus('dnd', 'coding');
    await waitFor('bob sees dnd', () => bob.service.contacts.get(alice.service.name)?.status === 'dnd');
    expect(bob.service.contacts.get(alice.service.name)?.message).toBe('coding');
    expect(updates.some((c) => c.name === alice.service.name && c.status === 'dnd')).toBe(true);
    expect(alice.service.info).toMatchObject({ status: 'dnd', message: 'coding' });
  });

  it('a second peer with the same name is renamed, and messages to and from it use the new name', async () => {
    const id = runId();
    const name = `same${id}@h${id}`;
    const first = await startPeer(name);
    const second = await startPeer(name);
    expect(first.service.name).toBe(name);
    expect(second.service.name).toBe(`same${id}-2@h${id}`);
    await second.service.waitForContact(name, { timeoutMs: 20_000 });
    await first.service.waitForContact(second.service.name, { timeoutMs: 20_000 });
    await second.service.sendMessage(name, 'from the renamed one');
    await first.service.sendMessage(second.service.name, 'to the renamed one');
    await waitFor('both hear', () => first.messages.length === 1 && second.messages.length === 1);
    expect(first.messages[0]?.from).toBe(second.service.name);
    expect(second.messages[0]?.from).toBe(name);
  });

  it('waitForRoom finds a room advertised on _clique._udp; rooms are listed with events', async () => {
    const id = runId();
    const peer = await startPeer(`r${id}@h${id}`);
    const added: string[] = [];
    peer.service.on('room-added', (r) => added.push(r.name));
    const directory = await RoomDirectory.open({ interface: LOOPBACK });
    cleanups.push(() => directory.close());
    const room = { name: `room${id}`, address: '239.255.71.77', port: 40777 };
    expect(await directory.advertise(room)).toBe('advertised');
    expect(await peer.service.waitForRoom(room.name, { timeoutMs: 20_000 })).toEqual(room);
    expect(peer.service.rooms.get(room.name)).toEqual(room);
    expect(added).toContain(room.name);
  });

  it('waiting for someone who is not there fails with a clear error naming who was seen', async () => {
    const id = runId();
    const alice = await startPeer(`alice${id}@h${id}`);
    const bob = await startPeer(`bob${id}@h${id}`);
    await alice.service.waitForContact(bob.service.name, { timeoutMs: 20_000 });
    const missing = `nobody${id}@h${id}`;
    const error = await alice.service.waitForContact(missing, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LinkLocalServiceError);
    expect((error as LinkLocalServiceError).code).toBe('contact-not-seen');
    expect((error as Error).message).toContain(missing);
    expect((error as Error).message).toMatch(/contacts seen: .*bob/);
    expect((error as Error).message).toContain(bob.service.name);
    const noRoom = await alice.service.waitForRoom(`noroom${id}`, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(noRoom).toMatchObject({ code: 'room-not-seen' });
    // A wait the caller aborts ends with the caller's reason and leaves no listener behind.
    const controller = new AbortController();
    const aborted = alice.service.waitForContact(missing, { timeoutMs: 60_000, signal: controller.signal }).catch((e: unknown) => e);
    const reason = new Error('the user gave up');
    controller.abort(reason);
    expect(await aborted).toBe(reason);
    expect(alice.service.listenerCount('contact-added') + alice.service.listenerCount('contact-updated')).toBe(0);
    // Sending to an unknown contact fails at once with the link layer's error.
    await expect(alice.service.sendMessage(missing, 'hi')).rejects.toMatchObject({ code: 'unknown-contact' });
  });

  it('stop() ends the async iterators and pending waits', async () => {
    const id = runId();
    const alice = await startPeer(`alice${id}@h${id}`);
    const bob = await startPeer(`bob${id}@h${id}`);
    await bob.service.waitForContact(alice.service.name, { timeoutMs: 20_000 });
    const received: string[] = [];
    const reading = (async () => {
      for await (const m of alice.service.messages()) received.push(m.text);
    })();
    const pending = alice.service.waitForContact(`never${id}@h${id}`, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    await bob.service.sendMessage(alice.service.name, 'one');
    await waitFor('iterator sees one', () => received.length === 1);
    await alice.service.stop();
    await reading;
    expect(received).toEqual(['one']);
    expect(await pending).toMatchObject({ code: 'stopped' });
    await expect(alice.service.waitForRoom(`noroom${id}`)).rejects.toMatchObject({ code: 'stopped' });
    await expect(alice.service.sendMessage(bob.service.name, 'late')).rejects.toMatchObject({ code: 'stopped' });
  });

  it('rejects a name that cannot be published, before opening anything', async () => {
    await expect(LinkLocalService.start({ name: `${'x'.repeat(64)}@host`, interface: LOOPBACK, port: 0 })).rejects.toBeInstanceOf(MdnsError);
    await expect(LinkLocalService.start({ name: '@host', interface: LOOPBACK, port: 0 })).rejects.toMatchObject({ code: 'mdns-name' });
    await expect(LinkLocalService.start({ name: `ok${runId()}@h`, interface: '192.0.2.55', port: 0 })).rejects.toMatchObject({ code: 'mdns-interface' });
  });
});

/**
 * A contact that does not know us yet (it has not processed our announcement)
 * drops our stream before opening it. Here that contact is a bare messenger
 * whose directory we control, published on mDNS under its own name.
 */
describe('sending to a contact that does not know us yet', () => {
  async function unawarePeer(id: string): Promise<{ peer: TestPeer; directory: StaticDirectory }> {
    const directory = new StaticDirectory();
    const name = `unaware${id}@h${id}`;
    const peer = await startLinkPeer(directory, name, LOOPBACK);
    cleanups.push(() => peer.link.stop());
    const [user = '', host = ''] = name.split('@');
    const presence = await LinkLocalPresence.start({ interface: LOOPBACK, user, host, port: peer.port });
    cleanups.push(() => presence.stop());
    return { peer, directory };
  }
  const refusals = (peer: TestPeer): number => peer.logs.filter((r) => r.message === 'incoming stream from an unknown contact').length;

  it('is retried until the contact knows us, and the message arrives once', async () => {
    const id = runId();
    const { peer, directory } = await unawarePeer(id);
    const alice = await startPeer(`alice${id}@h${id}`, { unknownToPeerRetryMs: 60_000 });
    await alice.service.waitForContact(peer.name, { timeoutMs: 20_000 });
    const sending = alice.service.sendMessage(peer.name, 'are you there?');
    await waitFor('the first stream is refused', () => refusals(peer) >= 1);
    directory.add(alice.service.name, LOOPBACK, alice.service.port);
    await sending;
    await waitFor('the message arrives', () => peer.messages.length === 1);
    expect(peer.messages.map((m) => [m.from, m.text])).toEqual([[alice.service.name, 'are you there?']]);
  });

  it('gives up after unknownToPeerRetryMs with the stream error', async () => {
    const id = runId();
    const { peer } = await unawarePeer(id);
    const alice = await startPeer(`alice${id}@h${id}`, { unknownToPeerRetryMs: 500 });
    await alice.service.waitForContact(peer.name, { timeoutMs: 20_000 });
    await expect(alice.service.sendMessage(peer.name, 'hello?')).rejects.toMatchObject({ code: 'stream-closed' });
    expect(refusals(peer)).toBeGreaterThanOrEqual(1);
    expect(peer.messages).toEqual([]);
  });
});

describe('names', () => {
  it('defaults to <login>@<host> without domain', () => {
    const login = userInfo().username.replace(/\./g, '-');
    expect(defaultSelfName()).toBe(`${login}@${localHostLabel()}`);
    expect(defaultSelfName()).not.toContain('.');
  });

  it('splits user@host, keeps a bare user for this host, drops .local', () => {
    expect(splitSelfName('alice@laptop')).toEqual({ user: 'alice', host: 'laptop' });
    expect(splitSelfName('alice@laptop.local')).toEqual({ user: 'alice', host: 'laptop' });
    expect(splitSelfName('alice')).toEqual({ user: 'alice' });
    expect(() => splitSelfName('alice@')).toThrow(MdnsError);
    expect(() => splitSelfName('')).toThrow(MdnsError);
  });
});
