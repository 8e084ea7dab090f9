import { afterEach, describe, expect, it } from 'vitest';
import { hasTmux, TmuxServer } from '../support/tmux-session.js';
import { cleanUp, startJoinInTmux, eventsOf, person, run, start, waitForEvent } from './service-people.js';

/**
 * `clique join` is a client of the person's service (real processes, tmux,
 * run inside `unshare -n`): alice chats in `join` while, from the same login,
 * `clique send` puts lines in the room and `clique listen --json` follows it;
 * bob (another HOME, so another service) chats in his own `join`. Every line
 * shows exactly once everywhere, and the sends cause no join/leave. Then 1-1
 * chat where people are: `/msg <nick>` and `/query <nick>` between the two
 * `join` windows.
 */
if (!hasTmux) console.log('service-join: tmux not installed; skipping the terminal session test');

let tmux: TmuxServer | undefined;
afterEach(async () => {
  tmux?.kill();
  await cleanUp();
}, 60_000);

function count(text: string, pattern: RegExp): number {
  return text.match(new RegExp(pattern.source, 'g'))?.length ?? 0;
}

describe('clique join through the service', () => {
  it.skipIf(!hasTmux)('join beside send and listen of the same login, and another person: each line once everywhere, no noise; /msg and /query by nick', async () => {
    const t = (tmux = new TmuxServer());
    const alice = person('join-alice');
    const bob = person('join-bob');
    const room = `Cauldron${process.pid}`;

    startJoinInTmux(t, alice, room, 'alice', 5000);
    await t.waitFor(alice.label, /you are alone here for now/);
    const aliceListen = start(alice, 'alice listen', ['listen', room, '--json']);
    await waitForEvent(aliceListen, 'ready', (e) => e['event'] === 'ready');
    const aliceName = eventsOf(aliceListen, 'joined')[0]!['self'] as string;

    startJoinInTmux(t, bob, room, 'bob', 5000);
    await t.waitFor(bob.label, /members: alice/);
    await t.waitFor(alice.label, /\* bob \(.*\) joined/);
    const bobName = /\* bob \((.*)\) joined/.exec(t.screen(alice.label))![1]!;
    expect(bobName).not.toBe(aliceName);
    await waitForEvent(aliceListen, 'bob joins', (e) => e['event'] === 'member-joined' && e['member'] === bobName);

    const sends = ['sent one', 'sent <two> & "three"', 'sent four'];
    for (const text of sends) {
      const sent = await run(alice, ['send', room, text]);
      expect(sent.stderr).toBe('');
      expect(sent.code).toBe(0);
    }
    t.type(alice.label, 'typed in the chat');
    t.type(bob.label, 'hello from bob');

    const all = [...sends, 'typed in the chat', 'hello from bob'];
    const escaped = (s: string): RegExp => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    for (const text of all) {
      await t.waitFor(alice.label, escaped(text));
      await t.waitFor(bob.label, escaped(text));
      await waitForEvent(aliceListen, `listen gets ${text}`, (e) => e['event'] === 'message' && e['text'] === text);
    }
    // Lines arriving late (a duplicate) would show after a moment: let the room settle, then count.
    await new Promise((r) => setTimeout(r, 2000));
    const aliceScreen = t.screen(alice.label);
    const bobScreen = t.screen(bob.label);
    for (const text of all) {
      expect(count(aliceScreen, escaped(text)), `alice's join: ${text}`).toBe(1);
      expect(count(bobScreen, escaped(text)), `bob's join: ${text}`).toBe(1);
      expect(eventsOf(aliceListen, 'message').filter((e) => e['text'] === text), `alice's listen: ${text}`).toHaveLength(1);
    }
    // Alice's own lines come to her listen as hers, outgoing; bob's as his.
    for (const e of eventsOf(aliceListen, 'message')) {
      expect(e['outgoing']).toBe(e['text'] !== 'hello from bob');
      expect(e['sender']).toBe(e['text'] === 'hello from bob' ? bobName : aliceName);
    }
    expect(aliceScreen).toMatch(/<alice> sent one/);
    expect(bobScreen).toMatch(/<alice> sent one/);
    // No join/leave noise from the sends: bob saw alice join once and never leave; alice's listen saw only bob join.
    expect(count(bobScreen, / joined/)).toBe(1);
    expect(count(bobScreen, / left/)).toBe(0);
    expect(eventsOf(aliceListen, 'member-joined').map((e) => e['member'])).toEqual([bobName]);
    expect(eventsOf(aliceListen, 'member-left')).toHaveLength(0);

    // 1-1 where people are: a room nick is accepted as the contact.
    t.type(bob.label, '/msg alice psst, just you');
    await t.waitFor(alice.label, new RegExp(`\\[from ${escaped(bobName).source}\\] <${escaped(bobName).source}> psst, just you`));
    await t.waitFor(bob.label, new RegExp(`\\[to ${escaped(aliceName).source}\\] <bob> psst, just you`));
    t.type(alice.label, '/query bob');
    await t.waitFor(alice.label, /lines now go 1-1 to /);
    t.type(alice.label, 'only for bob');
    t.type(alice.label, '/me whispers');
    await t.waitFor(bob.label, new RegExp(`\\[from ${escaped(aliceName).source}\\] <${escaped(aliceName).source}> only for bob`));
    await t.waitFor(bob.label, new RegExp(`\\[from ${escaped(aliceName).source}\\] \\* ${escaped(aliceName).source} whispers`));
    t.type(alice.label, '/query');
    await t.waitFor(alice.label, /closed; lines go to the room/);
    t.type(alice.label, 'back in the room');
    await t.waitFor(bob.label, /<alice> back in the room/);
    await waitForEvent(aliceListen, 'the room line', (e) => e['event'] === 'message' && e['text'] === 'back in the room');
    // The 1-1 lines never went to the room.
    expect(eventsOf(aliceListen, 'message').filter((e) => String(e['text']).includes('only for bob') || String(e['text']).includes('psst'))).toHaveLength(0);
    // A name nobody has: nothing is sent, and it says so.
    t.type(alice.label, '/msg nobody-here hello?');
    await t.waitFor(alice.label, /nobody called nobody-here/);
    // A message that could not be sent fails with its reason, and is never shown as sent.
    t.type(alice.label, '/msg ghost@nowhere are you there?');
    await t.waitFor(alice.label, /! .*ghost@nowhere.*\(contact-not-seen\)|! no contact "ghost@nowhere"/, 30_000);
    expect(t.screen(alice.label)).not.toMatch(/\[to ghost@nowhere\]/);

    // Alice closes her chat window: her listen still holds the room, so she stays in it (bob sees no leave).
    t.type(alice.label, '/quit');
    await t.waitFor(alice.label, /\[exited 0\]/);
    t.type(bob.label, 'still there?');
    await waitForEvent(aliceListen, 'a line after the chat closed', (e) => e['event'] === 'message' && e['text'] === 'still there?');
    expect(count(t.screen(bob.label), / left/)).toBe(0);
    // Bob closes his: his service leaves the room, which alice's listen sees as a clean leave.
    t.type(bob.label, '/quit');
    await t.waitFor(bob.label, /\[exited 0\]/);
    await waitForEvent(aliceListen, 'bob leaves', (e) => e['event'] === 'member-left' && e['member'] === bobName);
  }, 240_000);
});
