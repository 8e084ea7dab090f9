import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hasTmux, TmuxServer } from '../support/tmux-session.js';

/**
 * The README's quick start, run as written: its two commands are extracted
 * from README.md: the first installs and chats (CI installs on a clean clone;
 * this test runs its chat part), the second installs and tests (`.ci/run` is
 * exactly it). The chat runs in two terminals of one login: alice as written,
 * bob as the README says to play both sides (`--no-service`, his own member)
 * — through `npx clique`, the built package.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Commands'));
const commands = [...quickStart.matchAll(/```sh\n([^\n]+)\n```/g)].map((m) => m[1]!);
/** The second person, as the README's text gives it (the line may wrap). */
const secondPerson = /`(npx clique join \S+ --nick bob\s+--interface 127\.0\.0\.1 --no-service)`/.exec(quickStart)?.[1]?.replace(/\s+/g, ' ');
let tmux: TmuxServer | undefined;
let home: string | undefined;
/** Each person's environment: their own HOME and XDG dirs, so `join` starts a service of their own. */
const people: Array<Record<string, string>> = [];

function personEnv(who: string): Record<string, string> {
  const dir = join(home!, who);
  for (const d of ['home', 'run', 'data']) mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
  const env = { HOME: join(dir, 'home'), XDG_RUNTIME_DIR: join(dir, 'run'), XDG_DATA_HOME: join(dir, 'data'), npm_config_cache: join(home!, 'npm') };
  people.push(env);
  return env;
}

afterEach(() => {
  tmux?.kill();
  // The services `join` started: `clique down` each.
  for (const env of people.splice(0)) {
    try {
      execFileSync(process.execPath, [join(ROOT, 'dist/cli/main.js'), 'down', '--interface', '127.0.0.1'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: 'ignore', timeout: 30_000 });
    } catch {
      // Not running: nothing to stop.
    }
  }
  if (home !== undefined) rmSync(home, { recursive: true, force: true });
});

describe('README quick start', () => {
  it('has exactly two commands: install and chat first, then install and test', () => {
    expect(commands).toHaveLength(2);
    expect(commands[0]).toMatch(/^npm ci && npx clique join \S+ --nick alice --interface 127\.0\.0\.1$/);
    expect(commands[1]).toBe('npm ci && npm test');
    const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8').trim().split('\n');
    expect(ci[ci.length - 1]).toBe(commands[1]);
  });

  describe('the chat command, in two terminals', () => {
    beforeAll(() => {
      // What `npm ci` does through `prepare`: the package's bin is the build.
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json')]);
    }, 120_000);

    it.skipIf(!hasTmux)('two people find each other by room name and chat', async () => {
      const t = (tmux = new TmuxServer());
      home = mkdtempSync(join(tmpdir(), 'clique-readme-'));
      // The install part is what CI does on a clean clone; the chat part runs here as written.
      const alice = commands[0]!.replace(/^npm ci && /, '');
      expect(secondPerson).toBeDefined();
      const bob = secondPerson!;
      const env = personEnv('alice');
      t.start('alice', ROOT, alice, env);
      await t.waitFor('alice', /you are alone here for now/);
      t.start('bob', ROOT, bob, env);
      await t.waitFor('bob', /members: alice/);
      t.type('alice', 'hello bob');
      await t.waitFor('bob', /<alice> hello bob/);
      t.type('bob', '/me waves');
      await t.waitFor('alice', /\* bob waves/);
      t.type('bob', '/quit');
      await t.waitFor('alice', /\* bob .* left/);
      t.type('alice', '/quit');
      await t.waitFor('alice', /\[exited 0\]/);
    }, 180_000);
  });
});
