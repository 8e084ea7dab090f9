import { afterEach, describe, expect, it } from 'vitest';
import { localHostLabel } from '../../src/linklocal/presence-publisher.js';
import { ServiceClient, type ServiceEvent } from '../../src/service/service-client.js';
import { ServiceRequestError } from '../../src/service/service-request-error.js';
import { waitFor } from '../support/wait.js';
import { cleanUp, person, run, start, waitForEvent } from './service-people.js';
import type { ContactJson } from '../../src/service/control-protocol.js';

/**
 * The service's 1-1 side and its typed client, with two real services (run
 * inside `unshare -n`): contacts, 1-1 messages, invitations, room
 * subscriptions through `ServiceClient`, and typed errors.
 */
afterEach(cleanUp, 60_000);

// An explicit --name that is in use is refused: names of our own, as other test files may share the namespace.
const ALICE = `alice${process.pid}`;
const BOB = `bob${process.pid}`;

describe('the clique service: contacts, 1-1 chat and invitations through ServiceClient', () => {
  it('sees the other person, sends and receives 1-1 messages, invites into a room it is in', async () => {
    const alice = person('chat-a');
    const bob = person('chat-b');
    expect((await run(alice, ['up', '--daemon', '--name', `${ALICE}@${localHostLabel()}`, '--nick', 'Alice'])).code).toBe(0);
    expect((await run(bob, ['up', '--daemon', '--name', `${BOB}@${localHostLabel()}`])).code).toBe(0);
    const a = await ServiceClient.connect(alice.paths.socket);
    const b = await ServiceClient.connect(bob.paths.socket);
    expect(a.identity).toMatchObject({ nick: 'Alice', pid: expect.any(Number) as number, interface: '127.0.0.1', socket: alice.paths.socket });
    expect(a.identity.name.startsWith(`${ALICE}@`)).toBe(true);
    const bobEvents: ServiceEvent[] = [];
    b.on('event', (e) => bobEvents.push(e));
    await b.request('chat.subscribe', {});

    let contacts: string[] = [];
    for (let i = 0; i < 200 && !contacts.includes(b.identity.name); i++) {
      contacts = (await a.request('contacts.list', {})).contacts.map((c) => c.name);
      if (!contacts.includes(b.identity.name)) await new Promise((r) => setTimeout(r, 100));
    }
    expect(contacts).toContain(b.identity.name);

    // `clique online --status/--message/--nick` through the service publishes them on the person's one presence.
    const online = start(bob, 'bob online', ['online', '--json', '--status', 'away', '--message', 'At lunch', '--nick', 'Bobby']);
    await waitForEvent(online, 'online', (e) => e['event'] === 'online');
    const bobAsSeen = async (): Promise<ContactJson | undefined> => (await a.request('contacts.list', {})).contacts.find((c) => c.name === b.identity.name);
    let seen = await bobAsSeen();
    for (let i = 0; i < 100 && (seen?.status !== 'away' || seen.alias !== 'Bobby'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = await bobAsSeen();
    }
    expect(seen).toMatchObject({ status: 'away', message: 'At lunch', alias: 'Bobby' });
    online.child.kill('SIGINT');
    // The presence stays the service's after the command ends; a client can set it back.
    expect(await b.request('presence.set', { status: 'avail', message: '' })).toEqual({ status: 'avail', message: null, nick: 'Bobby' });

    await a.request('chat.send', { contact: b.identity.name, text: 'psst <b>&amp;</b>' });
    await a.request('chat.send', { contact: b.identity.name, text: 'waves', kind: 'action' });
    await waitFor(() => `bob to get both: ${JSON.stringify(bobEvents)}`, () => bobEvents.filter((e) => e.event === 'chat.message').length === 2);
    expect(bobEvents.filter((e) => e.event === 'chat.message').map((e) => e.params)).toMatchObject([
      { from: a.identity.name, kind: 'normal', text: 'psst <b>&amp;</b>' },
      { from: a.identity.name, kind: 'action', text: 'waves' },
    ]);

    // Inviting needs a room the service is in.
    await expect(a.request('invite', { contact: b.identity.name, room: 'den' })).rejects.toMatchObject({ code: 'not-joined' });
    const den = await a.request('rooms.join', { room: 'den' });
    expect(den).toMatchObject({ room: 'den', self: a.identity.name, creator: true, joinedNow: true });
    await a.request('invite', { contact: b.identity.name, room: 'den', reason: 'come in' });
    await waitFor(() => `bob to get the invitation: ${JSON.stringify(bobEvents)}`, () => bobEvents.some((e) => e.event === 'chat.invitation'));
    expect(bobEvents.find((e) => e.event === 'chat.invitation')!.params).toMatchObject({ from: a.identity.name, room: 'den', address: den.address, port: den.port, reason: 'come in' });

    // Bob accepts by joining the same group; alice's subscribed client sees him and his line.
    const aliceEvents: ServiceEvent[] = [];
    a.on('event', (e) => aliceEvents.push(e));
    await a.request('rooms.subscribe', { room: 'den' });
    await b.request('rooms.join', { room: 'den', address: den.address, port: den.port });
    await b.request('rooms.send', { room: 'den', texts: ['hi alice'], waitMembers: 1 });
    await waitFor(() => `alice to get bob's line: ${JSON.stringify(aliceEvents)}`, () => aliceEvents.some((e) => e.event === 'room.message' && e.params.text === 'hi alice'));
    expect(aliceEvents.filter((e) => e.event === 'room.member-joined').map((e) => e.params)).toMatchObject([{ room: 'den', member: b.identity.name }]);
    // Topic and nick: bob's service hears alice's, and alice's own client hears her topic too.
    await b.request('rooms.subscribe', { room: 'den' });
    expect(await a.request('rooms.topic', { room: 'den', topic: 'tea & <cake>' })).toEqual({ topic: 'tea & <cake>' });
    await waitFor(() => `bob to see the topic: ${JSON.stringify(bobEvents)}`, () => bobEvents.some((e) => e.event === 'room.topic' && e.params.topic === 'tea & <cake>'));
    expect(aliceEvents.filter((e) => e.event === 'room.topic').map((e) => e.params)).toMatchObject([{ room: 'den', topic: 'tea & <cake>', setBy: a.identity.name }]);
    expect(await a.request('rooms.nick', { room: 'den', nick: 'Ally' })).toEqual({ nick: 'Ally' });
    await waitFor(() => `bob to see the nick: ${JSON.stringify(bobEvents)}`, () => bobEvents.some((e) => e.event === 'room.member-updated' && e.params.nick === 'Ally'));
    const history = await a.request('rooms.history', { room: 'den', limit: 10 });
    expect(history.entries).toMatchObject([
      { sender: b.identity.name, text: 'hi alice', outgoing: false },
      { kind: 'topic', text: 'tea & <cake>', outgoing: true },
    ]);

    // Typed errors for bad params; the connection survives them.
    await expect(a.request('rooms.send', { room: 'den', texts: [] })).rejects.toBeInstanceOf(ServiceRequestError);
    await expect(a.request('rooms.send', { room: 'fresh', texts: ['x'], create: true, failureTimeoutMs: 100 })).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(a.request('rooms.join', { room: 'x'.repeat(64) })).rejects.toMatchObject({ code: 'bad-name' });
    await expect(a.request('rooms.leave', { room: 'den', extra: 1 } as never)).rejects.toMatchObject({ code: 'invalid-params', rpcCode: -32602 });
    expect(await a.request('rooms.leave', { room: 'den' })).toEqual({ left: true });
    await waitFor('alice’s subscription to hear the room close', () => aliceEvents.some((e) => e.event === 'room.left'));
    expect((await a.request('status', {})).rooms).toEqual([]);

    // `clique say` goes through alice's service, which stays present: bob's reply reaches her.
    const aliceChat: ServiceEvent[] = [];
    a.on('event', (e) => e.event === 'chat.message' && aliceChat.push(e));
    await a.request('chat.subscribe', {});
    const said = await run(alice, ['say', b.identity.name, 'are you there?', '--json']);
    expect(said.stderr).toBe('');
    expect(said.code).toBe(0);
    expect(JSON.parse(said.stdout)).toEqual({ event: 'sent', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown, from: a.identity.name, to: b.identity.name, kind: 'normal', text: 'are you there?' });
    await waitFor(() => `bob to get the say: ${JSON.stringify(bobEvents)}`, () => bobEvents.some((e) => e.event === 'chat.message' && e.params.text === 'are you there?'));
    await b.request('chat.send', { contact: a.identity.name, text: 'yes, here' });
    await waitFor(() => `alice to get the reply: ${JSON.stringify(aliceChat)}`, () => aliceChat.length === 1);
    expect(aliceChat[0]!.params).toMatchObject({ from: b.identity.name, text: 'yes, here' });
    const unknown = await run(alice, ['say', 'nobody@nowhere', 'hi', '--timeout', '500']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/nobody@nowhere.*\(contact-not-seen\)/);
    a.close();
    b.close();
  }, 120_000);
});
