import { afterEach, describe, expect, it } from 'vitest';
import type { RoomInvitation } from '../../src/rooms/clique.js';
import { testGroup } from '../support/multicast-helpers.js';
import { observer, record, runId, startClique, stopAll } from './room-test-kit.js';
import { waitFor } from '../support/wait.js';

/**
 * Rooms found and advertised over real mDNS on loopback (`_clique._udp`),
 * joined by name, by address (private) and by invitation over XEP-0174.
 */
afterEach(async () => {
  await stopAll();
});

describe('rooms on mDNS', () => {
  it('created by name and advertised once connected; joined by name at the advertised group; withdrawn when the last member leaves', async () => {
    const room = `lunch-${runId()}`;
    const watcher = await observer();
    const alice = await startClique('alice@test', { discovery: true, lookupWaitMs: 500 });
    const atAlice = await alice.join(room);
    expect(atAlice.creator).toBe(true); // nobody advertised it: a new random group
    await waitFor('the room on mDNS', () => watcher.get(room) !== undefined);
    expect(watcher.get(room)).toEqual({ name: room, address: atAlice.address, port: atAlice.port });
    await waitFor('alice lists her own room', () => alice.rooms().some((r) => r.name === room));

    const bob = await startClique('bob@test', { discovery: true, lookupWaitMs: 10_000 });
    const atBob = await bob.join(room);
    expect(atBob.creator).toBe(false);
    expect([atBob.address, atBob.port]).toEqual([atAlice.address, atAlice.port]);
    const bobLog = record(atBob);
    await waitFor('alice and bob together', () => atAlice.members.length === 2 && atBob.members.length === 2);
    await atAlice.send('found you');
    await waitFor('message at bob', () => bobLog.messages.length === 1);

    // Cooperative advertising: the room stays listed while a member remains.
    await atAlice.leave();
    await waitFor('alice gone at bob', () => atBob.members.length === 1);
    expect(bob.rooms().some((r) => r.name === room)).toBe(true);
    await atBob.leave();
    await waitFor('the room withdrawn', () => watcher.get(room) === undefined);
  });

  it('a private room is joined by address with no lookup, and need not be advertised', async () => {
    const room = `secret-${runId()}`;
    const watcher = await observer();
    // A decoy: a public room of the same name elsewhere.
    const decoy = await startClique('decoy@test', { discovery: true, lookupWaitMs: 0 });
    const atDecoy = await decoy.join(room);
    await waitFor('decoy advertised', () => watcher.get(room) !== undefined);

    const alice = await startClique('alice@test', { discovery: true });
    const bob = await startClique('bob@test', { discovery: true });
    const { group, port } = testGroup();
    const atAlice = await alice.join(room, { address: group, port, advertise: false, joinWaitMs: 300 });
    const atBob = await bob.join(room, { address: group, port, advertise: false });
    expect([atAlice.address, atAlice.port]).toEqual([group, port]);
    await waitFor('alice and bob together', () => atAlice.members.length === 2 && atBob.members.length === 2);
    expect(atAlice.members.map((m) => m.name).sort()).toEqual(['alice@test', 'bob@test']); // not the decoy
    expect(watcher.get(room)).toEqual({ name: room, address: atDecoy.address, port: atDecoy.port });
  });

  it('invitations over XEP-0174: the invitee accepts and joins the inviter’s group', async () => {
    const id = runId();
    const room = `party-${id}`;
    const alice = await startClique(`alice-${id}@test`, { presence: true, tcpPort: 0 });
    const bob = await startClique(`bob-${id}@test`, { presence: true, tcpPort: 0 });
    expect(alice.name).toBe(`alice-${id}@test`);
    const atAlice = await alice.join(room);
    const aliceLog = record(atAlice);
    const invitations: RoomInvitation[] = [];
    bob.on('invitation', (inv) => invitations.push(inv));
    await alice.link!.waitForContact(bob.name, { timeoutMs: 20_000 });
    await atAlice.invite(bob.name, 'come over');
    await waitFor('the invitation at bob', () => invitations.length === 1);
    expect(invitations[0]).toMatchObject({ from: alice.name, room, address: atAlice.address, port: atAlice.port, reason: 'come over' });

    const atBob = await bob.acceptInvitation(invitations[0]!);
    expect(atBob.creator).toBe(false);
    await waitFor('bob in alice’s room', () => aliceLog.joined.includes(bob.name));
    // Members that are also contacts on the link carry their presence.
    expect(atAlice.member(bob.name)?.contact?.name).toBe(bob.name);
    // ... and follow it: a new nick published on the link shows in the room.
    const updated: string[] = [];
    atAlice.on('member-updated', (m) => updated.push(`${m.name} ${m.displayName}`));
    bob.link!.setNick('Bobby');
    await waitFor('bob’s new nick at alice', () => atAlice.member(bob.name)?.displayName === 'Bobby');
    expect(updated).toEqual([`${bob.name} Bobby`]);
    // Accepting again (or a second invitation) returns the room we are in.
    expect(await bob.acceptInvitation({ ...invitations[0]!, port: 1 })).toBe(atBob);
  });

  it('bad names and arguments are refused before touching the network', async () => {
    const clique = await startClique('x@test');
    await expect(clique.join('')).rejects.toMatchObject({ code: 'bad-name' });
    await expect(clique.join('x'.repeat(64))).rejects.toMatchObject({ code: 'bad-name' });
    await expect(clique.join('bell\u0007')).rejects.toMatchObject({ code: 'bad-name' });
    await expect(clique.join('ok', { address: '239.255.71.1' })).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(clique.join('ok', { address: '10.0.0.1', port: 4000 })).rejects.toMatchObject({ code: 'bad-argument' });
    await expect(clique.join('ok', { failureTimeoutMs: 100 })).rejects.toMatchObject({ code: 'bad-argument' });
    const room = await clique.join('ok');
    await expect(room.invite('someone@else')).rejects.toMatchObject({ code: 'no-link' });
    expect(await clique.join('ok')).toBe(room); // joining again returns the same room
  });
});
