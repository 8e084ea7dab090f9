import { afterEach, describe, expect, it } from 'vitest';
import { LinkLocalPresence } from '../../src/linklocal/presence-service.js';
import { RoomBrowser } from '../../src/linklocal/room-browser.js';
import { MdnsResponder } from '../../src/mdns/responder.js';
import { Clique } from '../../src/rooms/clique.js';
import { LOOPBACK, runId } from './mdns-test-helpers.js';
import { sleep, waitFor } from '../support/wait.js';

/**
 * Identity without the service, over real mDNS on loopback (run inside
 * `unshare -n`): a rooms-only Clique still probes its member name, as an
 * unlisted claim, so no two processes ever join as the same member; an
 * explicit name (rename: false) is refused when taken instead of renamed.
 * Also: dotted names published and found by name (RFC 6763 §4.3).
 */
const stoppers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(stoppers.splice(0).map((stop) => stop()));
});

async function roomsOnly(name: string, extra: Parameters<typeof Clique.start>[0] = {}): Promise<Clique> {
  const clique = await Clique.start({ name, interface: LOOPBACK, presence: false, history: false, lookupWaitMs: 0, ...extra });
  stoppers.push(() => clique.stop());
  return clique;
}

/** The member name a rooms-only Clique ends up with: a join waits until its claim is probed. */
async function claimedName(clique: Clique): Promise<string> {
  const room = await clique.join(`n${runId()}`, { address: '239.255.71.62', port: 42062, advertise: false, joinWaitMs: 300 });
  expect(clique.name).toBe(room.selfName);
  return room.selfName;
}

async function presence(user: string, host: string, port: number, rename?: boolean): Promise<LinkLocalPresence> {
  const p = await LinkLocalPresence.start({ interface: LOOPBACK, user, host, port, ...(rename !== undefined ? { rename } : {}) });
  stoppers.push(() => p.stop());
  return p;
}

describe('member names without the service', () => {
  it('a second rooms-only process with the same name probes and becomes user-2@host; an explicit one is refused', async () => {
    const id = runId();
    const host = `h${id}`;
    const first = await roomsOnly(`ann${id}@${host}`);
    expect(await claimedName(first)).toBe(`ann${id}@${host}`);
    const second = await roomsOnly(`ann${id}@${host}`);
    expect(await claimedName(second)).toBe(`ann${id}-2@${host}`);
    const exact = await roomsOnly(`ann${id}@${host}`, { rename: false });
    await expect(exact.join('anything', { address: '239.255.71.62', port: 42062 })).rejects.toMatchObject({
      code: 'mdns-name-in-use',
      message: expect.stringContaining(`ann${id}@${host} is already in use`) as unknown,
    });
  });

  it('a claim and a presence of the same name never coexist, whichever comes first, and a claim is not listed as a person', async () => {
    const id = runId();
    const host = `h${id}`;
    const person = await presence(`bob${id}`, host, 41001);
    const claim = await roomsOnly(`bob${id}@${host}`);
    expect(await claimedName(claim)).toBe(`bob${id}-2@${host}`);

    const early = await roomsOnly(`cat${id}@${host}`);
    expect(await claimedName(early)).toBe(`cat${id}@${host}`);
    const late = await presence(`cat${id}`, host, 41002);
    expect(late.name).toBe(`cat${id}-2@${host}`);
    await expect(presence(`cat${id}`, host, 41003, false)).rejects.toMatchObject({ code: 'mdns-name-in-use' });

    // The people the presence sees: the other presence, never the rooms-only claims.
    await waitFor('bob sees cat-2', () => person.contacts.get(late.name) !== undefined);
    await sleep(1500);
    expect(person.contacts.get(claim.name)).toBeUndefined();
    expect(person.contacts.get(early.name)).toBeUndefined();
  });

  it('two rooms-only processes with one name join a room as two members', async () => {
    const id = runId();
    const host = `h${id}`;
    // Started together: both probe the one name at the same moment (RFC 6762 §8.2 tie-break).
    const [a, b] = await Promise.all([roomsOnly(`dan${id}@${host}`), roomsOnly(`dan${id}@${host}`)]);
    const room = `r${id}`;
    const [roomA, roomB] = await Promise.all([
      a.join(room, { address: '239.255.71.61', port: 42061, joinWaitMs: 1000, advertise: false }),
      b.join(room, { address: '239.255.71.61', port: 42061, joinWaitMs: 1000, advertise: false }),
    ]);
    expect([roomA.selfName, roomB.selfName].sort()).toEqual([`dan${id}-2@${host}`, `dan${id}@${host}`]);
    await waitFor('each sees the other', () => roomA.member(b.name) !== undefined && roomB.member(a.name) !== undefined, 20_000);
    expect(new Set([a.name, b.name]).size).toBe(2);
  });
});

describe('dotted room names on mDNS', () => {
  it.each([['team.alpha'], ['lunch room 2.0'], ['back\\slash. ünï ☕']])('%s is advertised, listed and joined by name', async (base) => {
    const id = runId();
    const name = `${base}${id}`.slice(0, 40);
    const creator = await roomsOnly(`eve${id}@h${id}`);
    const created = await creator.join(name, { joinWaitMs: 500 });
    await created.whenReady();
    // An independent browser lists it under exactly that name.
    const responder = await MdnsResponder.open({ interface: LOOPBACK });
    stoppers.push(() => responder.close());
    const browser = new RoomBrowser(responder);
    await waitFor(`a browser lists ${JSON.stringify(name)}`, () => browser.get(name) !== undefined);
    expect(browser.get(name)).toMatchObject({ name, address: created.address, port: created.port });
    // A joiner finds it by name: the same group, so they meet.
    const joiner = await roomsOnly(`fay${id}@h${id}`, { lookupWaitMs: 5000 });
    const joined = await joiner.join(name, { joinWaitMs: 10_000 });
    expect({ address: joined.address, port: joined.port }).toEqual({ address: created.address, port: created.port });
    await waitFor('they meet', () => created.member(joiner.name) !== undefined && joined.member(creator.name) !== undefined, 20_000);
  });
});
