import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasTmux, shellQuote, TmuxServer } from '../support/tmux-session.js';
import { personEnv, ROOT, stopServices } from '../support/tmux-people.js';

/**
 * `clique join` at irssi level, driven in tmux like a person (issue 14): two
 * `join`s and a `listen` of three identities (own HOME and XDG dirs each, so
 * three services) on 127.0.0.1. Checks nick colours (ANSI through
 * capture-pane -e), the bell and bold line of a mention (the pane's raw
 * output, through pipe-pane), Tab completion, the question a multi-line
 * paste asks, /paste mode, the typing indicator, day lines, and a clean
 * redraw under a 300-character input line while messages arrive.
 */
if (!hasTmux) console.log('join-terminal: tmux not installed; skipping the terminal session test');

let tmux: TmuxServer | undefined;
const dirs: string[] = [];

function clique(t: TmuxServer, session: string, dir: string, args: string[]): void {
  t.start(session, ROOT, shellQuote([process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...args]), personEnv(dir, session));
}

afterEach(() => {
  tmux?.kill();
  stopServices();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const count = (text: string, part: string): number => text.split(part).length - 1;

describe('clique join in a terminal, irssi-style', () => {
  it.skipIf(!hasTmux)('colours, mention bell, Tab, paste question, /paste, typing, and a clean redraw under a long input line', async () => {
    const t = (tmux = new TmuxServer());
    const dir = mkdtempSync(join(tmpdir(), 'clique-term-'));
    dirs.push(dir);
    const room = `Den${process.pid}${Math.floor(Math.random() * 1e6)}`;
    clique(t, 'alice', dir, ['join', room, '--nick', 'alice']);
    await t.waitFor('alice', /you are alone here for now/);
    clique(t, 'bob', dir, ['join', room, '--nick', 'bob']);
    await t.waitFor('bob', /members: alice/);
    await t.waitFor('alice', /\* bob \(.*\) joined/);
    clique(t, 'carol', dir, ['listen', room]);
    await t.waitFor('carol', /members: /);
    const raw = join(dir, 'bob.raw');
    t.run('pipe-pane', '-o', '-t', 'bob', `cat >> ${shellQuote([raw])}`);

    // A mention: bold and a bell at bob; alice's name in a colour of its own.
    t.type('alice', 'hey bob, look');
    await t.waitFor('bob', /<alice> hey bob, look/);
    await t.waitFor('bob', /never/, 500).catch(() => undefined); // let pipe-pane write
    const bytes = readFileSync(raw, 'utf8');
    expect(bytes).toContain('\x07');
    expect(bytes).toMatch(/\x1b\[1m[^\n]*<\x1b\[(3[1-6]|9[1-6])malice\x1b\[39m> hey bob, look/);
    expect(t.run('capture-pane', '-p', '-e', '-t', 'bob')).toMatch(/<\x1b\[(3[1-6]|9[1-6])malice\x1b\[39m>/);

    // Tab completes a nick (with ": " as the line's first word) and a command.
    t.run('send-keys', '-t', 'bob', '-l', 'ali');
    t.run('send-keys', '-t', 'bob', 'Tab');
    await t.waitFor('bob', /\] alice:\s*$/m, 10_000);
    t.type('bob', 'tea?');
    await t.waitFor('alice', /<bob> alice: tea\?/);
    t.run('send-keys', '-t', 'bob', '-l', '/to');
    t.run('send-keys', '-t', 'bob', 'Tab');
    await t.waitFor('bob', /\] \/topic\s*$/m, 10_000);
    t.run('send-keys', '-t', 'bob', 'C-u');

    // A paste of three lines asks first; "y" sends them as one message.
    t.run('set-buffer', '-b', 'three', 'line one\nline two\nline three\n');
    t.run('paste-buffer', '-b', 'three', '-t', 'bob');
    await t.waitFor('bob', /you pasted 3 lines/);
    expect(t.screen('alice')).not.toContain('line one');
    await new Promise((r) => setTimeout(r, 300)); // a person reads the question before answering
    t.type('bob', 'y');
    await t.waitFor('alice', /<bob> line one\n +line two\n +line three/);
    await t.waitFor('carol', /line one/);

    // /paste mode: one message of the lines typed, sent by a line with a single dot.
    t.type('alice', '/paste');
    await t.waitFor('alice', /paste mode/);
    t.type('alice', 'first row');
    t.type('alice', 'second row');
    t.type('alice', '.');
    await t.waitFor('bob', /<alice> first row\n +second row/);

    // Bob types a 300-character line without sending it: alice sees him typing, and
    // messages arriving meanwhile leave his screen clean (each line once, no stale rows).
    const long = Array.from({ length: 300 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('').replace(/^a/, 'Q');
    t.run('send-keys', '-t', 'bob', '-l', long);
    await t.waitFor('alice', /\(bob typing\)/, 10_000);
    for (const n of [1, 2, 3]) {
      t.type('alice', `while you type ${n}`);
      await t.waitFor('bob', new RegExp(`<alice> while you type ${n}`));
    }
    const screen = t.screen('bob');
    expect(count(screen, long)).toBe(1);
    expect(count(screen, long.slice(0, 40))).toBe(1);
    expect(screen.trimEnd().endsWith(long)).toBe(true);
    for (const n of [1, 2, 3]) expect(count(screen, `while you type ${n}`)).toBe(1);
    expect(screen).toMatch(/--- \w+day \d+ \w+ \d{4} ---/);
    t.run('send-keys', '-t', 'bob', 'Enter');
    await t.waitFor('alice', new RegExp(`<bob> ${long.slice(0, 50)}`));
    await t.waitFor('alice', /\[[^\]]+\] $/m, 10_000); // bob no longer shown typing once his line arrived

    // Leaving with a half-typed line: the line goes with the prompt, "* leaving…" starts a clean row.
    t.run('send-keys', '-t', 'bob', '-l', 'some unsent text');
    await t.waitFor('bob', /some unsent text/);
    t.run('send-keys', '-t', 'bob', 'C-c');
    await t.waitFor('bob', /^\* leaving…$/m);
    expect(t.screen('bob')).not.toContain('some unsent text');
    t.type('alice', '/quit');
    await t.waitFor('bob', /\[exited 0\]/);
    await t.waitFor('alice', /\[exited 0\]/);
  }, 240_000);
});
