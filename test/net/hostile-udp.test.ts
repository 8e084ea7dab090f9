import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/base/random.js';
import type { DriverMessage, EngineDriver } from '../../src/net/engine-driver.js';
import { openMulticastNode } from '../../src/net/multicast-node.js';
import { attackDatagram } from '../rmcast/hostile-support.js';
import { LOOPBACK, testGroup } from '../support/multicast-helpers.js';
import { waitFor } from '../support/wait.js';
import { propertySeed } from '../support/fast-check-seed.js';

/**
 * Issue 15, Found item 1, over real UDP on loopback: two forged NO_DATA
 * datagrams (170 random depends each, 1,377 bytes, unknown sender, packet id
 * 1) from a raw socket pinned to 127.0.0.1 used to kill a room for good. The
 * group must keep chatting, and a newcomer must still get in.
 *
 * Opens real multicast sockets: run it in a private network namespace,
 * `unshare -n sh -c 'ip link set lo up && npx vitest run test/net/hostile-udp.test.ts'`.
 * The gathering pause is shortened as in multicast-node.test.ts.
 */

const nodes: EngineDriver[] = [];
const timing = { gatheringQuiet: [600, 800] as [number, number] };
const seed = propertySeed();

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.close()));
});

async function open(name: string, where: { group: string; port: number }): Promise<EngineDriver> {
  const node = await openMulticastNode({ name, ...where, interface: LOOPBACK, timing });
  nodes.push(node);
  return node;
}

async function rawSocket(): Promise<Socket> {
  const socket = createSocket({ type: 'udp4' });
  await new Promise<void>((resolve) => socket.bind({ port: 0, address: LOOPBACK }, () => resolve()));
  socket.setMulticastInterface(LOOPBACK);
  socket.setMulticastTTL(1);
  return socket;
}

describe('the two-datagram attack over real UDP (issue 15)', () => {
  it(`the group keeps chatting and a newcomer joins (seed ${seed})`, { timeout: 90_000 }, async () => {
    const where = testGroup();
    const alice = await open('alice@test', where);
    await new Promise<void>((resolve) => alice.once('connected', () => resolve()));
    const bob = await open('bob@test', where);
    await waitFor('a shared view', () => alice.members.includes('bob@test') && bob.members.includes('alice@test'), 40_000);
    const atAlice: DriverMessage[] = [];
    const atBob: DriverMessage[] = [];
    alice.on('message', (m) => atAlice.push(m));
    bob.on('message', (m) => atBob.push(m));
    const trouble: string[] = [];
    for (const [who, node] of [['alice', alice], ['bob', bob]] as const) {
      node.on('members-lost', (names) => trouble.push(`${who} lost ${names.join(',')}`));
      node.on('reset', (reason, detail) => trouble.push(`${who} reset: ${reason} ${detail}`));
    }
    const say = (node: EngineDriver, text: string): void => node.send(0, new TextEncoder().encode(text));
    say(alice, 'before 1');
    say(bob, 'before 2');
    await waitFor('messages before the attack', () => atBob.length === 1 && atAlice.length === 1);

    const random = new SeededRandom(seed);
    const raw = await rawSocket();
    try {
      for (const datagram of [attackDatagram(random), attackDatagram(random)]) {
        expect(datagram.length).toBe(1377);
        await new Promise<void>((resolve, reject) => raw.send(datagram, where.port, where.group, (e) => (e ? reject(e) : resolve())));
      }
    } finally {
      raw.close();
    }

    // Past the gathering the forgeries start, and a few SESSION intervals on: the room still works.
    for (let i = 0; i < 5; i++) {
      say(alice, `after a${i}`);
      say(bob, `after b${i}`);
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    await waitFor('messages after the attack', () => atBob.length === 6 && atAlice.length === 6, 20_000);
    expect(atBob.map((m) => new TextDecoder().decode(m.data))).toEqual(['before 1', ...[0, 1, 2, 3, 4].map((i) => `after a${i}`)]);
    expect(atAlice.map((m) => new TextDecoder().decode(m.data))).toEqual(['before 2', ...[0, 1, 2, 3, 4].map((i) => `after b${i}`)]);

    const carol = await open('carol@test', where);
    await waitFor(
      'a newcomer after the attack',
      () => ['alice@test', 'bob@test'].every((n) => carol.members.includes(n)) && alice.members.includes('carol@test') && bob.members.includes('carol@test'),
      40_000,
    );
    const atCarol: DriverMessage[] = [];
    carol.on('message', (m) => atCarol.push(m));
    say(alice, 'welcome carol');
    await waitFor('a message in the new view', () => atCarol.length === 1 && atBob.length === 7);
    expect(trouble).toEqual([]);
  });
});
