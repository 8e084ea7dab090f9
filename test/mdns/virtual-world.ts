import { afterEach } from 'vitest';
import { SeededRandom } from '../../src/base/random.js';
import { PRESENCE_SERVICE_TYPE } from '../../src/linklocal/presence-publisher.js';
import { LinkLocalPresence } from '../../src/linklocal/presence-service.js';
import { serviceInstanceName, type MdnsMessage, type MdnsRecord } from '../../src/mdns/records.js';
import { MdnsResponder } from '../../src/mdns/responder.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { VirtualMdnsLink } from '../../src/testing/virtual-mdns-link.js';

/**
 * People on one virtual link, on virtual time: what the mDNS virtual-time
 * tests share. Every world comes from one seed, so a run replays exactly.
 */
export interface World {
  clock: VirtualClock;
  link: VirtualMdnsLink;
  people: LinkLocalPresence[];
}

export function newWorld(seed: number): World {
  const clock = new VirtualClock(new SeededRandom(seed));
  return { clock, link: new VirtualMdnsLink(clock), people: [] };
}

/** Stops everyone (goodbyes need virtual time to go out). */
export async function endWorld(world: World): Promise<void> {
  const stopping = Promise.all(world.people.splice(0).map((p) => p.stop()));
  await world.clock.advance(5_000);
  await stopping;
}

export async function virtualResponder(w: World, address: string): Promise<MdnsResponder> {
  return MdnsResponder.open({ interface: address, transport: w.link.attach(address), clock: w.clock });
}

export async function person(w: World, address: string, user: string, host: string, ttls?: { host: number; other: number }): Promise<LinkLocalPresence> {
  const responder = await virtualResponder(w, address);
  const starting = LinkLocalPresence.start({ interface: address, responder, user, host, port: 5298, ...(ttls ? { ttls } : {}) });
  let started: LinkLocalPresence | undefined;
  void starting.then((p) => (started = p));
  await w.clock.until(`${user}@${host} online`, () => started !== undefined);
  w.people.push(started!);
  return started!;
}

/** An unsolicited answer claiming presence `name` on `host` at `address` (what an attacker or a rival sends). */
export function forgedAnswer(name: string, host: string, address: string): MdnsMessage {
  const instance = serviceInstanceName(name, PRESENCE_SERVICE_TYPE);
  const answers: MdnsRecord[] = [
    { name: instance, type: 'SRV', ttl: 120, cacheFlush: true, data: { priority: 0, weight: 0, port: 6666, target: `${host}.local` } },
    { name: `${host}.local`, type: 'A', ttl: 120, cacheFlush: true, data: address },
  ] as MdnsRecord[];
  return { id: 0, response: true, truncated: false, questions: [], answers, authorities: [], additionals: [] };
}

/** Probes (queries proposing records) that `address` put on the link, with their send times. */
export function probesFrom(w: World, address: string): MdnsMessage[] {
  return w.link.sent.filter((s) => s.from === address && !s.message.response && s.message.authorities.length > 0).map((s) => s.message);
}

/** One world per test: returns the function that makes it; it is ended after each test. */
export function worldPerTest(): (seed: number) => World {
  let world: World | undefined;
  afterEach(async () => {
    if (world === undefined) return;
    const w = world;
    world = undefined;
    await endWorld(w);
  });
  return (seed) => (world = newWorld(seed));
}
