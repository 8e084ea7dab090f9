import { afterEach, describe, expect, it } from 'vitest';
import { SEND_WINDOW } from '../../src/rmcast/engine-defaults.js';
import { HistoryStore } from '../../src/rooms/history-store.js';
import { RoomError } from '../../src/rooms/room-error.js';
import type { TopicChange, TypingEvent } from '../../src/rooms/room-types.js';
import { NS_STANZA_ID } from '../../src/rooms/room-stanzas.js';
import { record, runId, startClique, stopAll } from './room-test-kit.js';
import { waitFor } from '../support/wait.js';

/**
 * The room library over real UDP multicast on loopback, several members in
 * one process: chat, membership, topic, typing, status, history, flow control.
 */
afterEach(stopAll);

describe('rooms over loopback multicast', () => {
  it('two members: both ways, all kinds, replies, nick, members list, leave', async () => {
    const room = `lunch-${runId()}`;
    const alice = await startClique('alice@test');
    const bob = await startClique('bob@test');
    const atAlice = await alice.join(room);
    expect(atAlice.creator).toBe(true);
    expect(atAlice.address).toMatch(/^239\.255\.71\.(\d+)$/);
    expect(atAlice.port).toBeGreaterThanOrEqual(1024);
    await atAlice.whenReady(); // the creator is a member at once (§3.2)
    expect(atAlice.members.map((m) => m.name)).toEqual(['alice@test']);
    const aliceLog = record(atAlice);

    const atBob = await bob.join(room, { address: atAlice.address, port: atAlice.port, nick: 'Bobby' });
    expect(atBob.creator).toBe(false);
    const bobLog = record(atBob);
    // Sent while still joining: it waits until bob is a member, or it would reach nobody.
    expect(atBob.state).toBe('joining');
    const early = atBob.send('early bird');
    await atBob.whenReady();
    await atAlice.waitForMembers(1);
    expect(bobLog.events.slice(0, 2)).toEqual(['joined alice@test', 'ready']); // the others first, then ourselves
    expect(atBob.members.map((m) => [m.name, m.self])).toEqual([
      ['bob@test', true],
      ['alice@test', false],
    ]);
    expect(aliceLog.joined).toEqual(['bob@test']);
    await early;
    await waitFor('the early message at alice', () => aliceLog.messages.length === 1);
    expect(aliceLog.messages[0]).toMatchObject({ sender: 'bob@test', text: 'early bird' });
    await waitFor('bob’s nick at alice', () => atAlice.member('bob@test')?.nick === 'Bobby');
    expect(atAlice.member('bob@test')?.displayName).toBe('Bobby');

    const hello = await atAlice.send('hello bob');
    expect(hello).toMatchObject({ outgoing: true, sender: 'alice@test', kind: 'normal', text: 'hello bob' });
    await atAlice.sendAction('waves');
    await atAlice.sendNotice('the pizza is here');
    await waitFor('three messages at bob', () => bobLog.messages.length === 3);
    expect(bobLog.messages.map((m) => [m.sender, m.kind, m.text, m.outgoing])).toEqual([
      ['alice@test', 'normal', 'hello bob', false],
      ['alice@test', 'action', 'waves', false],
      ['alice@test', 'notice', 'the pizza is here', false],
    ]);
    expect(bobLog.messages[0]?.id).toBe(hello.id);
    expect(bobLog.messages[0]?.stanza.getChild('origin-id', NS_STANZA_ID)?.getAttr('id')).toBe(hello.id);

    const reply = await atBob.send('on my way', { replyTo: bobLog.messages[0]! });
    await waitFor('the reply at alice', () => aliceLog.messages.length === 2);
    expect(aliceLog.messages[1]).toMatchObject({ id: reply.id, sender: 'bob@test', senderName: 'Bobby', text: 'on my way', replyTo: { id: hello.id, to: 'alice@test' } });
    // rMulticast never delivers our own messages back.
    expect(aliceLog.messages.some((m) => m.sender === 'alice@test')).toBe(false);

    const left = new Promise<string>((resolve) => atBob.once('left', resolve));
    await atBob.leave();
    expect(await left).toBe('left');
    expect(atBob.state).toBe('left');
    expect(bob.room(room)).toBeUndefined();
    await expect(atBob.send('too late')).rejects.toMatchObject({ code: 'not-joined' });
    await waitFor('bob reported gone at alice', () => aliceLog.left.includes('bob@test'));
    expect(atAlice.members.map((m) => m.name)).toEqual(['alice@test']);
  });

  it('three members: every message reaches every other member exactly once, in causal order', async () => {
    const room = `trio-${runId()}`;
    const [a, b, c] = await Promise.all(['a@test', 'b@test', 'c@test'].map((n) => startClique(n)));
    const ra = await a!.join(room);
    const [rb, rc] = await Promise.all([b!, c!].map((x) => x.join(room, { address: ra.address, port: ra.port })));
    if (rb === undefined || rc === undefined) throw new Error('unreachable');
    const rooms = [ra, rb, rc];
    const logs = rooms.map(record);
    await waitFor('everyone sees everyone', () => rooms.every((r) => r.members.length === 3));

    // b answers each of a's messages as soon as it sees it: every member must see the question first.
    rb.on('message', (m) => {
      if (m.sender === 'a@test') void rb.send(`re: ${m.text}`, { replyTo: m });
    });
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      sends.push(ra.send(`a${i}`));
      sends.push(rc.send(`c${i}`));
    }
    await Promise.all(sends);
        await waitFor('all messages everywhere', () => logs.every((log) => log.messages.length === 20));

    for (const [i, r] of rooms.entries()) {
      const texts = logs[i]!.messages.map((m) => m.text);
      expect(new Set(texts).size, `duplicates at ${r.selfName}`).toBe(texts.length);
      expect(logs[i]!.messages.every((m) => m.sender !== r.selfName)).toBe(true);
      // FIFO per sender.
      for (const sender of ['a', 'c']) {
        if (`${sender}@test` === r.selfName) continue;
        expect(texts.filter((t) => t.startsWith(sender))).toEqual([...Array(10).keys()].map((n) => `${sender}${n}`));
      }
      // Causal: b's answer to aN comes after aN wherever both are seen.
      for (let n = 0; n < 10; n++) {
        const question = texts.indexOf(`a${n}`);
        const answer = texts.indexOf(`re: a${n}`);
        if (question >= 0 && answer >= 0) expect(question, `a${n} before its answer at ${r.selfName}`).toBeLessThan(answer);
      }
    }
  });

  it('topic: seen live, re-announced once to a late joiner, which gets no old messages; history only from when we were there', async () => {
    const room = `topic-${runId()}`;
    const cStore = HistoryStore.open({ path: ':memory:' });
    try {
      const a = await startClique('a@test');
      const b = await startClique('b@test');
      const c = await startClique('c@test', { history: cStore });
      const ra = await a.join(room);
      const rb = await b.join(room, { address: ra.address, port: ra.port });
      const bLog = record(rb);
      const bTopics: TopicChange[] = [];
      rb.on('topic', (t) => bTopics.push(t));
      await waitFor('a and b together', () => ra.members.length === 2 && rb.members.length === 2);

      const set = await ra.setTopic('pizza at noon');
      await ra.send('old message');
      await waitFor('topic and old message at b', () => bTopics.length === 1 && bLog.messages.length === 1);
      expect(bTopics[0]).toMatchObject({ topic: 'pizza at noon', setBy: 'a@test', announcedBy: 'a@test', replay: false, id: set.id });
      expect(rb.topic?.topic).toBe('pizza at noon');

      // The late joiner.
      const rc = await c.join(room, { address: ra.address, port: ra.port });
      const cLog = record(rc);
      const cTopics: TopicChange[] = [];
      rc.on('topic', (t) => cTopics.push(t));
      await waitFor('c in the room everywhere', () => [ra, rb, rc].every((r) => r.members.length === 3));
      await ra.send('new from a');
      await rb.send('new from b');
      await waitFor('both new messages at c', () => cLog.messages.length === 2);
      expect(cLog.messages.map((m) => m.text).sort()).toEqual(['new from a', 'new from b']);
      // Both old members' messages were sent after their (possible) re-announcement: exactly one came.
      expect(cTopics).toHaveLength(1);
      expect(cTopics[0]).toMatchObject({ topic: 'pizza at noon', setBy: 'a@test', replay: true, id: set.id });
      expect(bTopics).toHaveLength(1); // old members are not told again
      expect(rc.history(50).map((e) => [e.kind, e.text])).toEqual([
        ['topic', 'pizza at noon'],
        ['normal', cLog.messages[0]!.text],
        ['normal', cLog.messages[1]!.text],
      ]);

      // c leaves and comes back: its local history now shows what it saw before, nothing from its absence.
      await rc.leave();
      await waitFor('c gone', () => ra.members.length === 2 && rb.members.length === 2);
      await ra.send('while c was away');
      const rc2 = await c.join(room, { address: ra.address, port: ra.port });
      const c2Log = record(rc2);
      await waitFor('c back everywhere', () => [ra, rb, rc2].every((r) => r.members.length === 3));
      await ra.send('welcome back');
      await waitFor('welcome at c', () => c2Log.messages.length === 1);
      expect(c2Log.messages[0]?.text).toBe('welcome back');
      const texts = rc2.history(50).map((e) => e.text);
      expect(texts).toContain('new from a');
      expect(texts).toContain('welcome back');
      expect(texts).not.toContain('old message');
      expect(texts).not.toContain('while c was away');
      expect(texts.filter((t) => t === 'pizza at noon')).toHaveLength(1); // the re-announcement is not stored twice
    } finally {
      cStore.close();
    }
  });

  it('typing (XEP-0085) and status/nick changes reach the others', async () => {
    const room = `typing-${runId()}`;
    const a = await startClique('a@test');
    const b = await startClique('b@test', { nick: 'Bee' });
    const ra = await a.join(room);
    const rb = await b.join(room, { address: ra.address, port: ra.port, status: 'away', statusMessage: 'at lunch' });
    await waitFor('b at a', () => ra.members.length === 2);
    await waitFor('b’s status at a', () => ra.member('b@test')?.status === 'away');
    expect(ra.member('b@test')).toMatchObject({ nick: 'Bee', statusMessage: 'at lunch', typing: 'active' });

    const typing: TypingEvent[] = [];
    ra.on('typing', (t) => typing.push(t));
    await rb.setTyping('composing');
    await rb.setTyping('composing'); // no change: nothing sent
    await waitFor('composing at a', () => typing.length === 1);
    expect(typing[0]).toEqual({ room, member: 'b@test', state: 'composing' });
    expect(ra.member('b@test')?.typing).toBe('composing');
    await rb.send('done typing');
    await waitFor('active at a', () => typing.length === 2);
    expect(typing[1]?.state).toBe('active');

    const updates: string[] = [];
    ra.on('member-updated', (m, previous) => updates.push(`${previous.status}->${m.status} ${m.nick ?? ''}`));
    await rb.setStatus('dnd', 'busy');
    await rb.setNick('B2');
    await waitFor('two updates at a', () => updates.length === 2);
    expect(updates).toEqual(['away->dnd Bee', 'dnd->dnd B2']);
    expect(ra.member('b@test')).toMatchObject({ status: 'dnd', statusMessage: 'busy', displayName: 'B2' });
  });

  it('flow control: a burst of 600 sends and a 100 KB message arrive whole and in order; sends never overrun the window', async () => {
    const room = `flood-${runId()}`;
    const a = await startClique('a@test');
    const b = await startClique('b@test');
    const ra = await a.join(room);
    const rb = await b.join(room, { address: ra.address, port: ra.port });
    const bLog = record(rb);
    await waitFor('together', () => ra.members.length === 2 && rb.members.length === 2);

    let worst = 0;
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 600; i++) {
      sends.push(
        ra.send(`burst ${i} ${'x'.repeat(i % 3 === 0 ? 3000 : 20)}`).then(() => {
          worst = Math.max(worst, ra.unacknowledgedPackets);
        }),
      );
    }
    const big = 'é'.repeat(50_000); // 100 KB of UTF-8, twice in the stanza (body + XHTML-IM copy): ~150 fragments
    sends.push(ra.send(big));
    await Promise.all(sends);
    expect(worst).toBeLessThanOrEqual(SEND_WINDOW);
    await waitFor('all 601 at b', () => bLog.messages.length === 601, 60_000);
    expect(bLog.messages.slice(0, 600).map((m) => Number(m.text.split(' ')[1]))).toEqual([...Array(600).keys()]);
    expect(bLog.messages[600]?.text).toBe(big);

    // Bigger than the room's stanza limit: refused locally, nothing sent.
    await expect(ra.send('y'.repeat(300 * 1024))).rejects.toMatchObject({ code: 'too-large' });
    await expect(ra.send('')).rejects.toBeInstanceOf(RoomError);
  });

  it('a messages() iterator yields the others’ messages and ends when the room is left', async () => {
    const room = `iter-${runId()}`;
    const a = await startClique('a@test');
    const b = await startClique('b@test');
    const ra = await a.join(room);
    const rb = await b.join(room, { address: ra.address, port: ra.port });
    await waitFor('together', () => ra.members.length === 2 && rb.members.length === 2);
    const received: string[] = [];
    const reading = (async () => {
      for await (const m of rb) {
        received.push(m.text);
        if (received.length === 3) void rb.leave();
      }
    })();
    for (const text of ['one', 'two', 'three']) await ra.send(text);
    await reading; // ends because the room was left
    expect(received).toEqual(['one', 'two', 'three']);
  });
});
