import { afterEach, describe, expect, it } from 'vitest';
import { localHostLabel } from '../../src/linklocal/presence-publisher.js';
import { ServiceClient } from '../../src/service/service-client.js';
import { sleep, waitFor } from '../support/wait.js';
import { cleanUp, eventsOf, person, run, servicePid, start, waitForEvent, type Proc } from './service-people.js';

/**
 * One person, one presence (real processes, run inside `unshare -n`): several
 * `listen` and `send` commands of one login share the service's one
 * membership; every listener sees every line exactly once; the sender's name
 * is stable and sends cause no join/leave. Also measures the time from
 * `clique send` to the line at another member, warm (service in the room)
 * against a cold `--no-service` send, and prints it (no thresholds).
 */
afterEach(cleanUp, 60_000);

const ROOM = 'Witchcraft';
// An explicit --name that is in use is refused: a name of our own, as other test files may share the namespace.
const BOB = `bob${process.pid}`;
const LINES = ['one', 'two & <three>', 'four', 'five', 'six'];

function messages(proc: Proc): Array<Record<string, unknown>> {
  return eventsOf(proc, 'message');
}

describe('the clique service: one login, many commands', () => {
  it('two listens and five sends of one login share one membership; every listener (theirs and another person’s) sees each line exactly once', async () => {
    const alice = person('same-a');
    const bob = person('same-b');
    const carol = person('same-c');

    expect((await run(bob, ['up', '--daemon', '--name', `${BOB}@${localHostLabel()}`])).code).toBe(0);
    const bobListens = start(bob, 'bob listen', ['listen', ROOM, '--json']);
    await waitForEvent(bobListens, 'ready', (e) => e['event'] === 'ready');

    // Both start alice's service on demand at the same moment: one service, one membership.
    const aliceListens = [start(alice, 'alice listen 1', ['listen', ROOM, '--json']), start(alice, 'alice listen 2', ['listen', ROOM, '--json'])];
    for (const l of aliceListens) {
      await waitForEvent(l, 'ready with bob', (e) => e['event'] === 'ready' && Array.isArray(e['members']) && (e['members'] as string[]).some((m) => m.startsWith(`${BOB}@`)), 60_000);
    }
    const aliceClient = await ServiceClient.connect(alice.paths.socket);
    const aliceName = aliceClient.identity.name;
    aliceClient.close();
    const bobName = (eventsOf(bobListens, 'joined')[0]!['self'] as string);
    expect(eventsOf(aliceListens[0]!, 'joined')[0]!['self']).toBe(aliceName);
    expect(eventsOf(aliceListens[1]!, 'joined')[0]!['self']).toBe(aliceName);
    await waitForEvent(bobListens, 'alice joins', (e) => e['event'] === 'member-joined' && e['member'] === aliceName);

    const membershipEvents = (l: Proc): Array<Record<string, unknown>> => [...eventsOf(l, 'member-joined'), ...eventsOf(l, 'member-left')];
    const aliceMembershipBefore = aliceListens.map(membershipEvents);
    const warm: number[] = [];
    for (const text of LINES) {
      const started = Date.now();
      const sent = await run(alice, ['send', ROOM, text, '--json']);
      expect(sent.stderr).toBe('');
      expect(sent.code).toBe(0);
      expect(JSON.parse(sent.stdout.trim())).toMatchObject({ event: 'sent', room: ROOM, self: aliceName, text, members: [bobName] });
      await waitForEvent(bobListens, `bob gets ${text}`, (e) => e['event'] === 'message' && e['text'] === text);
      const index = bobListens.events.findIndex((e) => e['event'] === 'message' && e['text'] === text);
      warm.push(bobListens.times[index]! - started);
    }
    for (const l of aliceListens) await waitFor(() => `${l.label} to get all lines: ${JSON.stringify(messages(l))}`, () => messages(l).length >= LINES.length);

    // Exactly once each, in order, with one stable sender name; alice's own listeners get them as outgoing.
    expect(messages(bobListens).map((m) => [m['text'], m['sender']])).toEqual(LINES.map((t) => [t, aliceName]));
    for (const l of aliceListens) {
      expect(messages(l).map((m) => [m['text'], m['sender'], m['outgoing']])).toEqual(LINES.map((t) => [t, aliceName, true]));
    }
    // Sending into a room the service is in makes no join or leave: alice joined bob's room once and never left.
    expect(eventsOf(bobListens, 'member-joined').map((e) => e['member'])).toEqual([aliceName]);
    expect(eventsOf(bobListens, 'member-left')).toEqual([]);
    aliceListens.forEach((l, i) => expect(membershipEvents(l)).toEqual(aliceMembershipBefore[i]));
    for (const l of aliceListens) expect(eventsOf(l, 'member-left')).toEqual([]);

    // The same through the library's client, without starting a process: the service's own share of the time.
    const direct: number[] = [];
    const client = await ServiceClient.connect(alice.paths.socket);
    for (const text of ['direct one', 'direct two', 'direct three']) {
      const started = Date.now();
      await client.request('rooms.send', { room: ROOM, texts: [text] });
      await waitForEvent(bobListens, `bob gets ${text}`, (e) => e['event'] === 'message' && e['text'] === text);
      const index = bobListens.events.findIndex((e) => e['event'] === 'message' && e['text'] === text);
      direct.push(bobListens.times[index]! - started);
    }
    client.close();

    // Cold sends, as before the service: a one-shot member joins, sends, leaves.
    const cold: number[] = [];
    for (const [i, text] of ['cold one', 'cold two'].entries()) {
      const started = Date.now();
      const sent = await run(carol, ['send', ROOM, text, '--no-service', '--name', `carol${i}@${localHostLabel()}`, '--no-history-file', '--json']);
      expect(sent.code).toBe(0);
      await waitForEvent(bobListens, `bob gets ${text}`, (e) => e['event'] === 'message' && e['text'] === text);
      const index = bobListens.events.findIndex((e) => e['event'] === 'message' && e['text'] === text);
      cold.push(bobListens.times[index]! - started);
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `send → line at another member: warm (service in the room) ${warm.join(', ')} ms (median ${median(warm)}); ` +
        `warm via ServiceClient (no process start) ${direct.join(', ')} ms (median ${median(direct)}); ` +
        `cold (--no-service) ${cold.join(', ')} ms (median ${median(cold)})`,
    );

    // The listeners go; the service stays in the room (lingering), so alice does not leave.
    const alicePid = servicePid(alice);
    for (const l of aliceListens) l.child.kill('SIGINT');
    await waitFor('alice’s listeners to exit', () => aliceListens.every((l) => l.exit !== undefined));
    expect(aliceListens.map((l) => l.exit)).toEqual([0, 0]);
    const status = JSON.parse((await run(alice, ['status', '--json'])).stdout) as { service: { pid: number }; rooms: Array<Record<string, unknown>> };
    expect(status.service.pid).toBe(alicePid);
    expect(status.rooms).toMatchObject([{ room: ROOM, holders: 0, stay: false, subscribers: 0, members: [{ member: bobName }] }]);
    expect(status.rooms[0]!['lingerUntil']).not.toBeNull();
    const later = await run(alice, ['send', ROOM, 'still here']);
    expect(later.code).toBe(0);
    expect(later.stdout.startsWith(`sent 1 message to Witchcraft (${BOB}@`)).toBe(true);
    await waitForEvent(bobListens, 'bob gets the later line', (e) => e['event'] === 'message' && e['text'] === 'still here');
    await sleep(500);
    expect(eventsOf(bobListens, 'member-left').map((e) => e['member'])).not.toContain(aliceName);
  }, 240_000);

  it('send to a room nobody advertises says so and exits 1; --create makes it, and the service then stays in it', async () => {
    const alice = person('nowhere');
    const refused = await run(alice, ['send', 'Nowhere', 'hello?']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/nobody advertises a room named "Nowhere" \(create it with --create\) \(no-such-room\)/);
    const created = await run(alice, ['send', 'Nowhere', 'hello', '--create', '--wait-members', '0']);
    expect(created.code).toBe(0);
    expect(created.stdout).toBe('sent 1 message to Nowhere (nobody)\n');
    const again = await run(alice, ['send', 'Nowhere', 'again', '--wait-members', '0', '--json']);
    expect(again.code).toBe(0);
    const status = JSON.parse((await run(alice, ['status', '--json'])).stdout) as { lingerMs: number; rooms: Array<Record<string, unknown>> };
    expect(status.rooms.map((r) => r['room'])).toEqual(['Nowhere']);
    // The service's history (its database, its only writer) is what listen --history shows.
    const listen = start(alice, 'listen --history', ['listen', 'Nowhere', '--json', '--history', '5']);
    await waitForEvent(listen, 'ready', (e) => e['event'] === 'ready');
    expect(listen.events.map((e) => [e['event'], e['text'] ?? null, e['outgoing'] ?? null])).toEqual([
      ['history', 'hello', true],
      ['history', 'again', true],
      ['joined', null, null],
      ['ready', null, null],
    ]);
    listen.child.kill('SIGTERM');
    await waitForEvent(listen, 'left', (e) => e['event'] === 'left');
    expect(status.lingerMs).toBe(300_000);
    const help = await run(alice, ['send', '--help']);
    expect(help.stdout).toMatch(/stays in the room for 5 minutes/);
    expect(help.stdout).toMatch(/--no-service/);
    const down = await run(alice, ['down']);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/^stopped clique service /);
    expect((await run(alice, ['status'])).code).toBe(1);
  }, 120_000);

  it('two services of one login (different HOME) get distinct names: the second is renamed by the mDNS probe', async () => {
    const first = person('twin-1');
    const second = person('twin-2');
    expect((await run(first, ['up', '--daemon'])).code).toBe(0);
    expect((await run(second, ['up', '--daemon'])).code).toBe(0);
    const a = await ServiceClient.connect(first.paths.socket);
    const b = await ServiceClient.connect(second.paths.socket);
    expect(a.identity.name).not.toBe(b.identity.name);
    expect(b.identity.name).toBe(a.identity.name.replace('@', '-2@'));
    a.close();
    b.close();
  }, 60_000);

  it('a room joined only for sends is left after the linger time', async () => {
    const alice = person('linger');
    expect((await run(alice, ['up', '--daemon', '--linger-ms', '1500'])).code).toBe(0);
    expect((await run(alice, ['send', 'brief', 'in and out', '--create', '--wait-members', '0'])).code).toBe(0);
    const client = await ServiceClient.connect(alice.paths.socket);
    const status = await client.request('status', {});
    expect(status.lingerMs).toBe(1500);
    expect(status.rooms.map((r) => r.room)).toEqual(['brief']);
    let rooms = ['brief'];
    for (let i = 0; i < 300 && rooms.length > 0; i++) {
      await sleep(100);
      rooms = (await client.request('status', {})).rooms.map((r) => r.room);
    }
    expect(rooms).toEqual([]);
    client.close();
  }, 60_000);
});
