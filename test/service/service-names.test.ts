import { afterEach, describe, expect, it } from 'vitest';
import { hasTmux, TmuxServer } from '../support/tmux-session.js';
import { cleanUp, startJoinInTmux, eventsOf, person, start, waitForEvent, type Person, type Proc } from './service-people.js';

/**
 * Names people see, with real processes (run inside `unshare -n`): bob
 * follows a room in `clique join` (tmux) and `clique listen --json`, both
 * through his service; carol and dave each join on their own
 * (`--no-service`, lines piped in) under the same nick. Bob's screen tells
 * the twins apart while both are there, announces dave's nick change, and
 * shows dave, killed, as `left (timed out)` but carol, who quits, as `left`;
 * the JSON events carry the same reasons.
 */
if (!hasTmux) console.log('service-names: tmux not installed; skipping the terminal session test');

/** Short silence timeout (ms) everywhere, so a killed member is noticed in seconds. */
const FAILURE_TIMEOUT_MS = '4000';

let tmux: TmuxServer | undefined;
afterEach(async () => {
  tmux?.kill();
  await cleanUp();
}, 60_000);

/** A one-shot `clique join` of its own (no service), typed into through a pipe. */
function pipedJoin(p: Person, room: string, name: string, nick: string): Proc {
  return start(p, `${p.label} join`, ['join', room, '--no-service', '--name', name, '--nick', nick, '--failure-timeout-ms', FAILURE_TIMEOUT_MS, '--no-history-file']);
}

function type(proc: Proc, line: string): void {
  proc.child.stdin.write(`${line}\n`);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('names people see', () => {
  it.skipIf(!hasTmux)('shared nicks show the identity, nick changes are announced, a member lost by silence shows as left (timed out)', async () => {
    const t = (tmux = new TmuxServer());
    const id = `${process.pid}${Math.floor(Math.random() * 1e6)}`;
    const room = `Names${id}`;
    const bob = person('names-bob');
    const carol = person('names-carol');
    const dave = person('names-dave');
    const carolName = `carol-${id}@test`;
    const daveName = `dave-${id}@test`;

    startJoinInTmux(t, bob, room, 'bob', Number(FAILURE_TIMEOUT_MS));
    await t.waitFor(bob.label, /you are alone here for now/);
    const bobListens = start(bob, 'bob listen', ['listen', room, '--json']);
    await waitForEvent(bobListens, 'ready', (e) => e['event'] === 'ready');

    // /nick alone shows our nick.
    t.type(bob.label, '/nick');
    await t.waitFor(bob.label, /\* your nick here is bob \(you are .*\)/);

    const carolJoins = pipedJoin(carol, room, carolName, 'twin');
    await t.waitFor(bob.label, new RegExp(`\\* twin \\(${escape(carolName)}\\) joined`));
    type(carolJoins, 'alone with the name');
    // Only one twin so far: her line shows the nick alone.
    await t.waitFor(bob.label, /<twin> alone with the name/);

    const daveJoins = pipedJoin(dave, room, daveName, 'twin');
    await t.waitFor(bob.label, new RegExp(`\\* twin \\(${escape(daveName)}\\) joined`));
    await waitForEvent(carolJoins, 'carol sees dave', (e) => e['event'] === 'text' && String(e['line']).includes(`(${daveName}) joined`));
    type(carolJoins, 'which of us is which?');
    type(daveJoins, 'I am the other one');
    await t.waitFor(bob.label, new RegExp(`<twin \\(${escape(carolName)}\\)> which of us is which\\?`));
    await t.waitFor(bob.label, new RegExp(`<twin \\(${escape(daveName)}\\)> I am the other one`));
    // The twins tell each other apart too (a one-shot join, not through a service).
    await waitForEvent(carolJoins, 'dave shown with his identity', (e) => e['event'] === 'text' && String(e['line']).endsWith(`<twin (${daveName})> I am the other one`));

    // Dave takes another nick: announced under the name he showed as, and carol is the only twin again.
    type(daveJoins, '/nick Dave_W');
    await t.waitFor(bob.label, new RegExp(`\\* twin \\(${escape(daveName)}\\) is now known as Dave_W`));
    await waitForEvent(bobListens, 'the nick change', (e) => e['event'] === 'member-updated' && e['member'] === daveName && e['nick'] === 'Dave_W');
    // A one-shot join announces it the same way.
    await waitForEvent(carolJoins, 'carol sees the nick change', (e) => e['event'] === 'text' && e['line'] === `* twin (${daveName}) is now known as Dave_W`);
    type(carolJoins, 'just me now');
    await t.waitFor(bob.label, /<twin> just me now/);

    // Dave's process dies without a word: lost by silence.
    daveJoins.child.kill('SIGKILL');
    await t.waitFor(bob.label, new RegExp(`\\* Dave_W \\(${escape(daveName)}\\) left \\(timed out\\)`), 60_000);
    const daveLeft = await waitForEvent(bobListens, 'dave lost', (e) => e['event'] === 'member-left' && e['member'] === daveName, 60_000);
    expect(daveLeft).toMatchObject({ reason: 'timed-out', nick: 'Dave_W' });

    // Carol quits: a clean leave (BYE).
    type(carolJoins, '/quit');
    await waitFor(carolJoins);
    expect(carolJoins.exit, carolJoins.stderr).toBe(0);
    const carolLeft = await waitForEvent(bobListens, 'carol leaves', (e) => e['event'] === 'member-left' && e['member'] === carolName, 30_000);
    expect(carolLeft).toMatchObject({ reason: 'left', nick: 'twin' });
    const screen = await t.waitFor(bob.label, new RegExp(`\\* twin \\(${escape(carolName)}\\) left`));
    expect(screen).not.toMatch(new RegExp(`\\* twin \\(${escape(carolName)}\\) left \\(timed out\\)`));
    expect(eventsOf(bobListens, 'member-left').map((e) => `${String(e['member'])} ${String(e['reason'])}`)).toEqual([`${daveName} timed-out`, `${carolName} left`]);

    // Our own nick: set, then shown.
    t.type(bob.label, '/nick Bobby');
    await t.waitFor(bob.label, /\* you are now Bobby/);
    t.type(bob.label, '/nick');
    await t.waitFor(bob.label, /\* your nick here is Bobby/);
    t.type(bob.label, '/quit');
    await t.waitFor(bob.label, /\[exited 0\]/);
  }, 180_000);
});

/** Until the process exited. */
async function waitFor(proc: Proc): Promise<void> {
  if (proc.exit !== undefined) return;
  await new Promise<void>((resolve) => proc.child.once('exit', () => resolve()));
}
