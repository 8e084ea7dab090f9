import { ORIGINAL_TIMING } from '../../src/testing/original-timing.js';
import { afterEach, describe, expect, it } from 'vitest';
import { CryptoRandom } from '../../src/base/random.js';
import { EngineDriver, type DriverMessage } from '../../src/net/engine-driver.js';
import { UdpMulticastTransport } from '../../src/net/udp-multicast-transport.js';
import { SEND_WINDOW } from '../../src/rmcast/engine-defaults.js';
import { RMulticastEngine } from '../../src/rmcast/rmulticast-engine.js';
import { LOOPBACK, testGroup } from '../support/multicast-helpers.js';
import { waitFor } from '../support/wait.js';

/**
 * Issue 10 over real UDP loopback multicast and real timers: beside a member
 * that behaves like the original (acknowledges only in its own reliable
 * packets, so a listener acknowledges every 180 s), a 300-message burst under
 * flow control arrives because the member's SESSIONs count as progress.
 * Before, it stalled after SEND_WINDOW packets until that keepalive, far past
 * this test's timeout. Run inside a private network namespace (see
 * common rules): `unshare -n sh -c 'ip link set lo up && npx vitest run ...'`.
 */

const drivers: EngineDriver[] = [];

async function node(name: string, where: { group: string; port: number }, imitateOriginal: boolean): Promise<EngineDriver> {
  const engine = new RMulticastEngine({ name, random: new CryptoRandom(), imitateOriginal, ...(imitateOriginal ? { timing: ORIGINAL_TIMING } : {}) });
  const transport = await UdpMulticastTransport.open({ ...where, interfaceAddress: LOOPBACK });
  const driver = new EngineDriver(engine, transport);
  drivers.push(driver);
  driver.start();
  return driver;
}

afterEach(async () => {
  await Promise.all(drivers.splice(0).map((d) => d.close()));
});

describe('flow control beside an original-like member over UDP (issue 10)', () => {
  it('300 messages sent under flow control reach a member that acknowledges only by SESSION', { timeout: 120_000 }, async () => {
    const where = testGroup();
    const us = await node('us', where, false);
    const original = await node('original', where, true);
    await waitFor('the two to see each other', () => us.members.includes('original') && original.members.includes('us'), 30_000);

    const received: DriverMessage[] = [];
    original.on('message', (m) => received.push(m));
    const engine = us.engine as RMulticastEngine;
    let maxCached = 0;
    const started = performance.now();
    for (let i = 0; i < 300; i++) {
      // What the room's flow-controlled sender does: send only while fewer than SEND_WINDOW are outstanding.
      await us.whenUnacknowledgedAtMost(SEND_WINDOW - 1);
      us.send(0, new TextEncoder().encode(`message ${i}`));
      maxCached = Math.max(maxCached, engine.ownCachedPackets);
    }
    // 60 s: completes in seconds with the fix; the 180 s keepalive stall would fail it.
    await waitFor('all 300 at the original-like member', () => received.length === 300, 60_000);
    // For the report only (no wall-clock threshold in tests).
    console.log(`300 messages beside an original-like member in ${Math.round(performance.now() - started)} ms, at most ${maxCached} own packets cached`);
    expect(received.map((m) => new TextDecoder().decode(m.data))).toEqual(Array.from({ length: 300 }, (_, i) => `message ${i}`));
    // It acknowledged nothing in depends meanwhile: the old rule (cache size) would have stopped at the window.
    expect(maxCached).toBeGreaterThan(SEND_WINDOW);
  });
});
