import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasTmux, shellQuote, TmuxServer } from '../support/tmux-session.js';
import { personEnv, ROOT, stopServices } from '../support/tmux-people.js';

/**
 * Drives `clique join` like a person: two terminals, typing with send-keys and
 * reading the screen with capture-pane. Everything on 127.0.0.1. Each person
 * has their own HOME and XDG dirs, so the clique service `join` starts on
 * demand is theirs; it is stopped after (`clique down`).
 */
if (!hasTmux) console.log('join-chat: tmux not installed; skipping the terminal session test');

let tmux: TmuxServer | undefined;
const dirs: string[] = [];

function startChat(server: TmuxServer, session: string, room: string, nick: string, dir: string, extra: string[] = []): void {
  const command = shellQuote([
    process.execPath, '--import', 'tsx', 'src/cli/main.ts',
    'join', room, '--nick', nick, '--failure-timeout-ms', '5000', ...extra,
  ]);
  server.start(session, ROOT, command, personEnv(dir, nick));
}

afterEach(() => {
  tmux?.kill();
  stopServices();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('clique join in a terminal', () => {
  it.skipIf(!hasTmux)('two people chat: join, message, reply, action, topic, who, leave, history', async () => {
    const t = (tmux = new TmuxServer());
    const dir = mkdtempSync(join(tmpdir(), 'clique-join-'));
    dirs.push(dir);
    const room = `Tea${process.pid}${Math.floor(Math.random() * 1e6)}`;
    startChat(t, 'alice', room, 'alice', dir);
    await t.waitFor('alice', /you are alone here for now/);
    startChat(t, 'bob', room, 'bob', dir);
    await t.waitFor('bob', /members: alice/);
    await t.waitFor('alice', /\* bob \(.*\) joined/);

    t.type('alice', 'hello bob, fancy some tea?');
    await t.waitFor('bob', /<alice> hello bob, fancy some tea\?/);
    t.type('bob', 'yes please');
    await t.waitFor('alice', /<bob> yes please/);
    t.type('bob', '/me puts the kettle on');
    await t.waitFor('alice', /\* bob puts the kettle on/);
    t.type('alice', '/topic tea time');
    await t.waitFor('bob', /\* alice set the topic: tea time/);
    t.type('alice', '/who');
    const who = await t.waitFor('alice', /\* 2 members:/);
    expect(who).toMatch(/alice .*\(you\)/);

    t.type('bob', '/quit');
    await t.waitFor('bob', /\[exited 0\]/);
    await t.waitFor('alice', /\* bob \(.*\) left/);

    // Each message shows once on each screen (the typed line is replaced by the formatted one).
    const aliceScreen = t.screen('alice');
    expect(aliceScreen.match(/<bob> yes please/g)).toHaveLength(1);
    expect(aliceScreen.match(/hello bob, fancy some tea\?/g)).toHaveLength(1);

    // Rejoining shows what the local history kept.
    startChat(t, 'bob2', room, 'bob', dir);
    await t.waitFor('bob2', /earlier messages? \(local history\)/);
    // A day line first: history says which day its lines are from.
    await t.waitFor('bob2', /local history\) ---\n--- \w+day \d+ \w+ \d{4} ---\n\d\d:\d\d <[^>]+> hello bob, fancy some tea\?\n\d\d:\d\d <[^>]+> yes please/);
    t.type('alice', '/quit');
    await t.waitFor('alice', /\[exited 0\]/);
  }, 180_000);

  it.skipIf(!hasTmux)('--no-service joins in-process, as its own member, and chats with someone joined through their service', async () => {
    const t = (tmux = new TmuxServer());
    const dir = mkdtempSync(join(tmpdir(), 'clique-join-'));
    dirs.push(dir);
    const room = `Attic${process.pid}${Math.floor(Math.random() * 1e6)}`;
    startChat(t, 'oneshot', room, 'oneshot', dir, ['--no-service', '--history-file', join(dir, 'oneshot.sqlite')]);
    await t.waitFor('oneshot', /you are alone here for now/);
    // In-process: it announces its own name, and no service was started for this person.
    expect(t.screen('oneshot')).toMatch(/\* joining .* as /);
    startChat(t, 'served', room, 'served', dir);
    await t.waitFor('served', /members: oneshot/);
    t.type('oneshot', 'from the one-shot join');
    await t.waitFor('served', /<oneshot> from the one-shot join/);
    t.type('served', 'from the service');
    await t.waitFor('oneshot', /<served> from the service/);
    t.type('served', '/quit');
    await t.waitFor('oneshot', /\* served \(.*\) left/);
    t.type('oneshot', '/msg served hi');
    await t.waitFor('oneshot', /needs the clique service/);
    t.type('oneshot', '/quit');
    await t.waitFor('oneshot', /\[exited 0\]/);
    expect(existsSync(join(dir, 'oneshot', 'run', 'clique'))).toBe(false);
  }, 180_000);

  it.skipIf(!hasTmux)('two people starting the same room at once meet in one group; the one that moved is told', async () => {
    const t = (tmux = new TmuxServer());
    const dir = mkdtempSync(join(tmpdir(), 'clique-join-'));
    dirs.push(dir);
    const room = `Witchcraft${process.pid}${Math.floor(Math.random() * 1e6)}`;
    // No look-up wait: neither can have seen the other's advertisement, so both create the room.
    startChat(t, 'morgana', room, 'morgana', dir, ['--lookup-ms', '0']);
    startChat(t, 'merlin', room, 'merlin', dir, ['--lookup-ms', '0']);
    await t.waitFor('morgana', /\* merlin \(.*\) joined|members: merlin/);
    await t.waitFor('merlin', /\* morgana \(.*\) joined|members: morgana/);
    const moved = /\* joined the existing room at (239\.255\.71\.\d+:\d+) \(ours at [\d.:]+ had nobody else\)/;
    const screens = [t.screen('morgana'), t.screen('merlin')];
    const movers = screens.filter((screen) => moved.test(screen));
    expect(movers).toHaveLength(1);
    // The one that moved is now where the other one created the room.
    const other = screens.find((screen) => !moved.test(screen))!;
    expect(other).toContain(`(${moved.exec(movers[0]!)![1]}); waiting for the other members`);
    t.type('merlin', 'well met');
    await t.waitFor('morgana', /<merlin> well met/);
    t.type('morgana', '/quit');
    t.type('merlin', '/quit');
    await t.waitFor('morgana', /\[exited 0\]/);
    await t.waitFor('merlin', /\[exited 0\]/);
  }, 180_000);
});
