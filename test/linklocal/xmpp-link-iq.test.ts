import { afterEach, describe, expect, it } from 'vitest';
import { IqErrorAnswer, IqRouter, MAX_PENDING_IQ_REQUESTS } from '../../src/linklocal/iq-router.js';
import { LinkError } from '../../src/linklocal/link-error.js';
import { silentLogger } from '../../src/base/logger.js';
import { buildIq } from '../../src/xml/stanzas.js';
import { el } from '../../src/xml/xml-element.js';
import { StaticDirectory, startPeer, type TestPeer } from './xmpp-link-kit.js';
import { rejectionOf } from '../support/rejection.js';

let peers: TestPeer[] = [];
afterEach(async () => {
  await Promise.all(peers.map((p) => p.link.stop()));
  peers = [];
});

async function pair(): Promise<{ alice: TestPeer; bob: TestPeer }> {
  const directory = new StaticDirectory();
  const alice = await startPeer(directory, 'alice@laptop', '127.0.0.1', { timeouts: { idleMs: 60_000 } });
  const bob = await startPeer(directory, 'bob@desk', '127.0.0.2', { timeouts: { idleMs: 60_000 } });
  peers.push(alice, bob);
  return { alice, bob };
}

describe('iq requests and answers over the XEP-0174 stream (real TCP)', () => {
  it('an async handler answers after its work, and the requester gets that answer', async () => {
    const { alice, bob } = await pair();
    const seen: string[] = [];
    alice.link.handleIq((request, from) => {
      const ping = request.getChild('ping', 'urn:test');
      if (ping === undefined) return undefined;
      seen.push(from);
      return new Promise((resolve) => setTimeout(() => resolve(buildIq({ type: 'result' }, el('pong', 'urn:test', { n: ping.getAttr('n') }))), 50));
    });
    const answer = await bob.link.requestIq('alice@laptop', buildIq({ type: 'get' }, el('ping', 'urn:test', { n: '7' })));
    expect(answer.getAttr('type')).toBe('result');
    expect(answer.getChild('pong', 'urn:test')?.getAttr('n')).toBe('7');
    expect(seen).toEqual(['bob@desk']);
  });

  it('a request no handler takes gets service-unavailable, as an IqErrorAnswer', async () => {
    const { alice, bob } = await pair();
    alice.link.handleIq((request) => (request.getChild('other', 'urn:test') !== undefined ? buildIq({ type: 'result' }) : undefined));
    const error = await rejectionOf(bob.link.requestIq('alice@laptop', buildIq({ type: 'set' }, el('ping', 'urn:test'))), LinkError);
    expect(error).toBeInstanceOf(IqErrorAnswer);
    expect(error.code).toBe('iq-error');
    expect((error as IqErrorAnswer).condition).toBe('service-unavailable');
  });

  it('a handler that throws costs only that request (the default error goes out), and the next request works', async () => {
    const { alice, bob } = await pair();
    let calls = 0;
    alice.link.handleIq(() => {
      calls += 1;
      if (calls === 1) throw new Error('boom');
      return buildIq({ type: 'result' });
    });
    expect(((await rejectionOf(bob.link.requestIq('alice@laptop', buildIq({ type: 'get' })), LinkError)) as IqErrorAnswer).condition).toBe('service-unavailable');
    expect((await bob.link.requestIq('alice@laptop', buildIq({ type: 'get' }))).getAttr('type')).toBe('result');
  });

  it('a request nobody answers times out, and an aborted one rejects at once', async () => {
    const { alice, bob } = await pair();
    alice.link.handleIq(() => new Promise(() => undefined));
    expect((await rejectionOf(bob.link.requestIq('alice@laptop', buildIq({ type: 'get' }), { timeoutMs: 200 }), LinkError)).code).toBe('iq-timeout');
    const abort = new AbortController();
    const pending = bob.link.requestIq('alice@laptop', buildIq({ type: 'get' }), { signal: abort.signal });
    abort.abort();
    expect((await rejectionOf(pending, LinkError)).code).toBe('iq-aborted');
  });

  it('stopping the messenger fails its waiting requests with stopped', async () => {
    const { alice, bob } = await pair();
    alice.link.handleIq(() => new Promise(() => undefined));
    const pending = bob.link.requestIq('alice@laptop', buildIq({ type: 'get' }));
    await bob.link.stop();
    expect((await rejectionOf(pending, LinkError)).code).toBe('stopped');
  });
});

describe('IqRouter', () => {
  it('an answer counts only from the contact that was asked; a forged one is swallowed, not delivered', async () => {
    const router = new IqRouter(silentLogger);
    const id = router.newId();
    const answer = router.expect('alice@laptop', id, { timeoutMs: 60_000 });
    expect(router.takeAnswer(buildIq({ type: 'result', id }), 'mallory@evil')).toBe(true);
    expect(router.takeAnswer(buildIq({ type: 'result', id: 'unknown' }), 'alice@laptop')).toBe(false);
    expect(router.takeAnswer(buildIq({ type: 'result', id }, el('real')), 'alice@laptop')).toBe(true);
    expect((await answer).getChild('real')).toBeDefined();
    // Settled requests are forgotten: a late duplicate is not taken.
    expect(router.takeAnswer(buildIq({ type: 'result', id }), 'alice@laptop')).toBe(false);
  });

  it('ids are unguessable and distinct, and waiting requests are bounded', async () => {
    const router = new IqRouter(silentLogger);
    const ids = new Set(Array.from({ length: 1000 }, () => router.newId()));
    expect(ids.size).toBe(1000);
    const waiting = Array.from({ length: MAX_PENDING_IQ_REQUESTS }, (_, i) => router.expect('a@b', `id${i}`, { timeoutMs: 60_000 }).catch((e: unknown) => e));
    expect((await rejectionOf(router.expect('a@b', 'one-more'), LinkError)).code).toBe('queue-full');
    router.close(new LinkError('stopped', 'done'));
    expect((await Promise.all(waiting)).every((e) => e instanceof LinkError && e.code === 'stopped')).toBe(true);
  });
});
