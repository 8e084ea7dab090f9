import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultSelfName } from '../../src/linklocal/link-local-service.js';
import { sleep } from '../support/wait.js';
import { cleanUp, eventsOf, person, run, start, waitForEvent, type Person, type Proc } from '../service/service-people.js';

/**
 * Names on the wire, with real processes (run inside `unshare -n`), each
 * person with its own HOME and XDG directories but all of one login:
 * - a bad room name or --name is exit 2 before anything starts;
 * - rooms with dots and spaces in their names are advertised and found by name;
 * - no two processes are the same member: two services of one login get
 *   distinct names, `--no-service` commands probe theirs, and an explicit
 *   `--name` that is taken is exit 1 with a clear message.
 */
afterEach(cleanUp, 60_000);

// Explicit names of our own: an explicit --name in use is refused, and other test files may share the namespace.
const ALICE = `alice${process.pid}`;
const BOB = `bob${process.pid}`;
const CAROL = `carol${process.pid}`;
const TAKEN = `alice${process.pid}@lab`;

const self = defaultSelfName();
const at = self.lastIndexOf('@');
const login = self.slice(0, at);
const host = self.slice(at + 1);
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** `<login>@<host>` or `<login>-N@<host>`. */
const ourNames = new RegExp(`^${escapeRe(login)}(-(\\d+))?@${escapeRe(host)}$`);

function nothingStarted(p: Person): void {
  expect(existsSync(p.paths.socket)).toBe(false);
  expect(existsSync(p.paths.lock)).toBe(false);
  expect(existsSync(p.paths.log)).toBe(false);
}

describe('bad names are exit 2 before anything touches the network', () => {
  const long = 'x'.repeat(64);
  const cases: Array<[string, string[], RegExp]> = [
    ['join with an empty room name', ['join', ''], /room name must not be empty/],
    ['join --no-service with a room name over 63 bytes', ['join', long, '--no-service'], /longer than 63 bytes/],
    ['send with 64 bytes of UTF-8 in 32 characters', ['send', 'é'.repeat(32), 'hi'], /longer than 63 bytes/],
    ['send --no-service with a control character', ['send', 'tab\there', 'hi', '--no-service'], /control characters/],
    ['listen with a control character', ['listen', 'bell\u0007', '--json'], /control characters/],
    ['listen --no-service with a --name over 63 bytes', ['listen', 'ok', '--no-service', '--name', `${long}@h`], /--name.*longer than 63 bytes/],
    ['send with a user@host over 63 bytes in all', ['send', 'ok', 'hi', '--name', `${'u'.repeat(40)}@${'h'.repeat(30)}`], /--name.*longer than 63 bytes/],
    ['join with an empty --name', ['join', 'ok', '--name', ''], /--name.*must not be empty/],
    ['up with a control character in --name', ['up', '--name', 'a\u001bb@host'], /--name.*control characters/],
    ['invite to a room name over 63 bytes', ['invite', 'bob@desk', long], /longer than 63 bytes/],
    ['say with a bad --name', ['say', 'bob@desk', 'hi', '--name', '@host'], /--name.*must not be empty/],
  ];

  it.each(cases)('%s', async (_what, args, message) => {
    const p = person('badname');
    const result = await run(p, args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    nothingStarted(p);
  });

  it('names with dots, spaces and backslashes up to 63 bytes pass the check (the command then fails for another reason)', async () => {
    const p = person('goodname');
    // `status` without a service is exit 1: proof that parsing accepted the names and went on.
    for (const name of ['team.alpha', 'lunch room', 'a\\b.c', 'é'.repeat(31)]) {
      const result = await run(p, ['send', name, 'hi', '--address', '239.255.71.1']);
      // Exit 2 from --address without --port (checked after parsing): the room name itself was accepted.
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/--address and --port go together/);
    }
  });
});

describe('rooms with dots and spaces in their names', () => {
  it.each([['team.alpha'], ['lunch room 2.0']])('two people who join %s meet (through their services, and with --no-service)', async (room) => {
    const alice = person('dots-a');
    const bob = person('dots-b');
    const carol = person('dots-c');
    expect((await run(alice, ['up', '--daemon', '--name', `${ALICE}@${host}`])).code).toBe(0);
    expect((await run(bob, ['up', '--daemon', '--name', `${BOB}@${host}`])).code).toBe(0);
    const listens = start(alice, 'alice listen', ['listen', room, '--json']);
    await waitForEvent(listens, 'ready', (e) => e['event'] === 'ready');

    // bob's service finds the room by name on mDNS (without --create an unadvertised room is an error).
    await waitForRoomListed(bob, room);
    const sent = await run(bob, ['send', room, 'hello from bob', '--json']);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    await waitForEvent(listens, 'bob’s line', (e) => e['event'] === 'message' && e['text'] === 'hello from bob');

    // A one-shot member finds it too, and is heard in the same room.
    const oneShot = await run(carol, ['send', room, 'hello from carol', '--no-service', '--name', `${CAROL}@${host}`, '--no-history-file', '--json']);
    expect(oneShot.code, oneShot.stderr).toBe(0);
    expect(JSON.parse(oneShot.stdout.trim())).toMatchObject({ event: 'sent', room, members: expect.arrayContaining([expect.stringMatching(new RegExp(`^${ALICE}@`)), expect.stringMatching(new RegExp(`^${BOB}@`))]) as unknown });
    await waitForEvent(listens, 'carol’s line', (e) => e['event'] === 'message' && e['text'] === 'hello from carol');
  }, 180_000);
});

async function waitForRoomListed(p: Person, room: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const listed = await run(p, ['rooms', '--json']);
    const rooms = listed.code === 0 ? (JSON.parse(listed.stdout) as Array<{ name: string }>) : [];
    if (rooms.some((r) => r.name === room)) return;
    await sleep(500);
  }
  throw new Error(`${p.label} never lists ${JSON.stringify(room)}`);
}

function joinedSelf(proc: Proc): string {
  return eventsOf(proc, 'joined')[0]!['self'] as string;
}

describe('identity on the wire: one login, many processes', () => {
  it('two services of one login (different HOME) get distinct names', async () => {
    const first = person('login-1');
    const second = person('login-2');
    expect((await run(first, ['up', '--daemon'])).code).toBe(0);
    expect((await run(second, ['up', '--daemon'])).code).toBe(0);
    const names = await Promise.all([first, second].map(async (p) => (JSON.parse((await run(p, ['status', '--json'])).stdout) as { service: { name: string } }).service.name));
    expect(names[0]).toMatch(ourNames);
    expect(names[1]).toMatch(ourNames);
    expect(names[1]).not.toBe(names[0]);
    // Goodbyes, not SIGKILL: other files' services of this login may take these names next.
    for (const p of [first, second]) expect((await run(p, ['down'])).code).toBe(0);
  }, 120_000);

  it('--no-service listen and send beside a service of the same login probe their own names: no flapping, no stolen lines', async () => {
    const main = person('ns-main');
    const other = person('ns-listen');
    const third = person('ns-send');
    const room = 'Witchcraft';
    const mainListens = start(main, 'service listen', ['listen', room, '--json']);
    await waitForEvent(mainListens, 'ready', (e) => e['event'] === 'ready');
    const mainName = joinedSelf(mainListens);
    expect(mainName).toMatch(ourNames);

    const oneShotListens = start(other, 'one-shot listen', ['listen', room, '--json', '--no-service', '--no-history-file']);
    await waitForEvent(oneShotListens, 'ready', (e) => e['event'] === 'ready', 60_000);
    const listenName = joinedSelf(oneShotListens);
    expect(listenName).toMatch(ourNames);
    expect(listenName).not.toBe(mainName);
    await waitForEvent(mainListens, 'the one-shot listener joins', (e) => e['event'] === 'member-joined' && e['member'] === listenName);

    const sent = await run(third, ['send', room, 'from a one-shot send', '--no-service', '--no-history-file', '--wait-members', '2', '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    const sendName = (JSON.parse(sent.stdout.trim()) as { self: string }).self;
    expect(sendName).toMatch(ourNames);
    expect(new Set([mainName, listenName, sendName]).size).toBe(3);
    for (const l of [mainListens, oneShotListens]) {
      await waitForEvent(l, 'the line, from the sender’s own name', (e) => e['event'] === 'message' && e['text'] === 'from a one-shot send' && e['sender'] === sendName);
    }
    await waitForEvent(mainListens, 'the sender leaves', (e) => e['event'] === 'member-left' && e['member'] === sendName);
    await sleep(1000);
    // Nobody else came or went: the service and the one-shot listener were never taken for each other.
    expect(eventsOf(mainListens, 'member-joined').map((e) => e['member'])).toEqual([listenName, sendName]);
    expect(eventsOf(mainListens, 'member-left').map((e) => e['member'])).toEqual([sendName]);
    expect(eventsOf(oneShotListens, 'member-left').map((e) => e['member'])).toEqual([sendName]);
    for (const l of [mainListens, oneShotListens]) expect(eventsOf(l, 'message')).toHaveLength(1);
    for (const text of [mainListens.stderr, oneShotListens.stderr, sent.stderr]) expect(text).not.toMatch(/WHOIS_REPLY|our own name/);
    oneShotListens.child.kill('SIGINT');
    expect((await run(main, ['down'])).code).toBe(0);
  }, 180_000);

  it('an explicit --name that someone uses is exit 1 with a clear message, never a silent rename', async () => {
    const holder = person('taken-holder');
    const other = person('taken-other');
    expect((await run(holder, ['up', '--daemon', '--name', TAKEN])).code).toBe(0);
    const inUse = new RegExp(`the name ${TAKEN} is already in use on the network`);

    const send = await run(other, ['send', 'Witchcraft', 'hi', '--no-service', '--name', TAKEN, '--no-history-file', '--create']);
    expect(send.code).toBe(1);
    expect(send.stdout).toBe('');
    expect(send.stderr).toMatch(inUse);
    expect(send.stderr).toMatch(/choose another --name, or leave --name out/);

    const join = await run(other, ['join', 'Witchcraft', '--no-service', '--name', TAKEN, '--no-history-file'], '/quit\n');
    expect(join.code).toBe(1);
    expect(join.stderr).toMatch(inUse);

    // Through the service: the service started on demand with that name refuses to start, and says why.
    const listen = await run(other, ['listen', 'Witchcraft', '--json', '--name', TAKEN]);
    expect(listen.code).toBe(1);
    expect(listen.stderr).toMatch(inUse);
    const up = await run(other, ['up', '--daemon', '--name', TAKEN]);
    expect(up.code).toBe(1);
    expect(up.stderr).toMatch(inUse);
    expect(existsSync(other.paths.socket)).toBe(false);

    // Without --name the same person just gets a free name.
    const free = await run(other, ['send', 'Witchcraft', 'hi', '--no-service', '--no-history-file', '--create', '--wait-members', '0', '--json']);
    expect(free.code, free.stderr).toBe(0);
    expect((JSON.parse(free.stdout.trim()) as { self: string }).self).toMatch(ourNames);
  }, 180_000);
});
