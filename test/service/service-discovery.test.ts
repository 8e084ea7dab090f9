import { afterEach, describe, expect, it } from 'vitest';
import { ServiceClient } from '../../src/service/service-client.js';
import type { ServiceEvent } from '../../src/service/service-client.js';
import { waitFor } from '../support/wait.js';
import { cleanUp, isRunning, person, run, servicePid, start, waitForEvent } from './service-people.js';

/**
 * `clique contacts` and `clique rooms` as clients of the person's service
 * (real processes, run inside `unshare -n`): they list what the service sees;
 * a service started by the command first browses for --timeout.
 */
afterEach(cleanUp, 60_000);

describe('contacts, rooms and invite through the service', () => {
  it('list the people and rooms the service sees; invite to a room the service is not in', async () => {
    const alice = person('disc-a');
    const bob = person('disc-b');
    expect((await run(bob, ['up', '--daemon', '--nick', 'Bob'])).code).toBe(0);
    const room = `Lair${process.pid}`;
    const created = await run(bob, ['send', room, 'anyone?', '--create', '--wait-members', '0']);
    expect(created.code, created.stderr).toBe(0);

    // Starts alice's service, which browses --timeout first.
    const first = await run(alice, ['contacts', '--json', '--timeout', '3000']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(servicePid(alice)).toBeDefined();
    const bobEntry = (JSON.parse(first.stdout) as Array<{ name: string; alias: string | null }>).find((c) => c.alias === 'Bob');
    expect(bobEntry).toBeDefined();
    // The service is running now: the list comes at once and holds the same person.
    const again = await run(alice, ['contacts']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`${bobEntry!.name} (Bob)  avail`);

    const rooms = await run(alice, ['rooms', '--json']);
    expect(rooms.stderr).toBe('');
    expect(rooms.code).toBe(0);
    expect(JSON.parse(rooms.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ name: room, address: expect.stringMatching(/^239\./) as unknown as string })]));

    // invite: the room is found where it is advertised, though alice's service is not in it.
    const bobClient = await ServiceClient.connect(bob.paths.socket);
    const invitations: ServiceEvent[] = [];
    bobClient.on('event', (e) => {
      if (e.event === 'chat.invitation') invitations.push(e);
    });
    await bobClient.request('chat.subscribe', {});
    const invited = await run(alice, ['invite', bobEntry!.name, room, '--reason', 'tea & cake']);
    expect(invited.stderr).toBe('');
    expect(invited.code).toBe(0);
    expect(invited.stdout).toMatch(new RegExp(`^invited ${bobEntry!.name} to ${room} \\(239\\.`));
    await waitFor('bob to get the invitation', () => invitations.length > 0);
    expect(invitations[0]!.params).toMatchObject({ room, reason: 'tea & cake' });
    bobClient.close();

    // online: what bob's service receives, printed until Ctrl-C; the service stays online after.
    const bobOnline = start(bob, 'bob online', ['online', '--json']);
    await waitForEvent(bobOnline, 'online', (e) => e['event'] === 'online' && e['service'] === servicePid(bob));
    const said = await run(alice, ['say', bobEntry!.name, 'are you online?']);
    expect(said.code, said.stderr).toBe(0);
    await waitForEvent(bobOnline, 'the message', (e) => e['event'] === 'message' && e['text'] === 'are you online?' && e['kind'] === 'normal');
    bobOnline.child.kill('SIGINT');
    await waitFor('bob online to exit', () => bobOnline.exit !== undefined);
    expect(bobOnline.exit).toBe(0);
    expect(isRunning(servicePid(bob)!)).toBe(true);
    // A room nobody advertises, without an address: refused with the reason, exit 1.
    const nowhere = await run(alice, ['invite', bobEntry!.name, `Nowhere${process.pid}`]);
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toMatch(/nobody advertises a room of that name .*\(not-joined\)/);
  }, 120_000);
});
