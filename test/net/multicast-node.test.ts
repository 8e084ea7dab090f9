import { afterEach, describe, expect, it } from 'vitest';
import type { DriverMessage, EngineDriver } from '../../src/net/engine-driver.js';
import { openMulticastNode } from '../../src/net/multicast-node.js';
import { LOOPBACK, testGroup } from '../support/multicast-helpers.js';
import { waitFor } from '../support/wait.js';

/**
 * Two real rMulticast nodes in one process over loopback multicast (real sockets, real timers).
 * The gathering pause is shortened to keep the test quick; protocol timing itself is covered by
 * the simulator scenarios and the spawned-process tests, which use the defaults.
 */
const nodes: EngineDriver[] = [];
const timing = { gatheringQuiet: [600, 800] as [number, number] };

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.close()));
});

describe('openMulticastNode over loopback multicast', () => {
  it('two nodes join, exchange messages in both directions, and one leaves', async () => {
    const where = testGroup();
    const alice = await openMulticastNode({ name: 'alice@test', ...where, interface: LOOPBACK, timing });
    nodes.push(alice);
    await new Promise<void>((resolve) => alice.once('connected', () => resolve()));
    const bob = await openMulticastNode({ name: 'bob@test', ...where, interface: LOOPBACK, timing });
    nodes.push(bob);

    await waitFor('a shared view', () => alice.members.includes('bob@test') && bob.members.includes('alice@test'), 40_000);
    const atBob: DriverMessage[] = [];
    const atAlice: DriverMessage[] = [];
    bob.on('message', (m) => atBob.push(m));
    alice.on('message', (m) => atAlice.push(m));
    const big = new Uint8Array(5000).map((_, i) => i & 0xff); // four fragments at 1440 bytes
    alice.send(0, new TextEncoder().encode('hello bob'));
    alice.send(3, big);
    bob.send(0, new TextEncoder().encode('hello alice'));
    await waitFor('three messages', () => atBob.length === 2 && atAlice.length === 1);
    expect(atBob[0]).toMatchObject({ sender: 'alice@test', streamId: 0 });
    expect(new TextDecoder().decode(atBob[0]!.data)).toBe('hello bob');
    expect(atBob[1]!.streamId).toBe(3);
    expect(Buffer.from(atBob[1]!.data).equals(Buffer.from(big))).toBe(true);
    expect(new TextDecoder().decode(atAlice[0]!.data)).toBe('hello alice');

    const lost = new Promise<string[]>((resolve) => alice.once('members-lost', resolve));
    await bob.leave();
    expect(await lost).toEqual(['bob@test']);
    expect(alice.members).toEqual([]);
    expect(alice.stats.malformed).toBe(0);
  });

  it('delivers messages whose bytes stay as they were while later datagrams arrive (no buffer reuse)', async () => {
    const where = testGroup();
    const alice = await openMulticastNode({ name: 'alice@test', ...where, interface: LOOPBACK, timing });
    nodes.push(alice);
    await new Promise<void>((resolve) => alice.once('connected', () => resolve()));
    const bob = await openMulticastNode({ name: 'bob@test', ...where, interface: LOOPBACK, timing });
    nodes.push(bob);
    await waitFor('a shared view', () => alice.members.includes('bob@test') && bob.members.includes('alice@test'), 40_000);
    const atBob: DriverMessage[] = [];
    bob.on('message', (m) => atBob.push(m));
    // Every message a distinct pattern, one fragment each (the zero-copy path), a few multi-fragment ones between.
    const pattern = (n: number, size: number): Uint8Array => new Uint8Array(size).map((_, i) => (i * 7 + n * 13) & 0xff);
    const sizes = Array.from({ length: 150 }, (_, n) => (n % 25 === 24 ? 3000 : 1 + ((n * 97) % 1300)));
    for (let n = 0; n < sizes.length; n++) {
      if (n % 32 === 31) await new Promise((r) => setTimeout(r, 20)); // stay inside the send window
      alice.send(1, pattern(n, sizes[n]!));
    }
    await waitFor('every message', () => atBob.length === sizes.length, 20_000);
    // Checked only now, after all the later datagrams went through bob's socket and engine.
    for (let n = 0; n < sizes.length; n++) {
      expect(Buffer.from(atBob[n]!.data).equals(Buffer.from(pattern(n, sizes[n]!))), `message ${n}`).toBe(true);
    }
  });

  it('rejects a name the protocol cannot carry, without leaking the socket', async () => {
    await expect(openMulticastNode({ name: 'x'.repeat(300), ...testGroup(), interface: LOOPBACK })).rejects.toMatchObject({ code: 'bad-name' });
  });
});
