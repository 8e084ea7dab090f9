import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { completionScript } from '../../src/cli/completion.js';
import { buildProgram } from '../../src/cli/program.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { runClique } from '../support/cli-runner.js';

/**
 * `clique completion bash|zsh|fish` (made from the program, so it follows
 * new commands and options), `clique help <topic>`, and the config file
 * `$XDG_CONFIG_HOME/clique/config.json` (CLI flags, then the environment,
 * then the file, then built-in defaults).
 */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'clique-cfg-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const commandNames = (program: Command): string[] => program.commands.map((c) => c.name());
const longOptions = (program: Command, name: string): string[] =>
  program.commands.find((c) => c.name() === name)!.options.map((o) => o.long).filter((l): l is string => l !== undefined);

describe('clique completion', () => {
  let bash: string;
  beforeAll(async () => {
    const run = await runClique(['completion', 'bash']);
    expect(run.code, run.stderr).toBe(0);
    bash = run.stdout;
  });

  /** What bash's completion offers for the words typed so far (the last one is being completed). */
  function complete(...words: string[]): string[] {
    const file = join(dir, 'clique.bash');
    writeFileSync(file, bash);
    const script = `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _clique; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return execFileSync('bash', ['-c', script], { encoding: 'utf8' }).split('\n').filter((l) => l !== '');
  }

  it('bash: every command, each command’s options, and the values of options with choices', () => {
    const program = buildProgram();
    expect(complete('clique', '')).toEqual(expect.arrayContaining(commandNames(program)));
    expect(complete('clique', 'li')).toEqual(['listen']);
    for (const name of ['join', 'listen', 'online', 'send', 'contacts']) {
      expect(complete('clique', name, '--'), name).toEqual(expect.arrayContaining(longOptions(program, name)));
    }
    expect(complete('clique', 'online', '--status', '')).toEqual(['avail', 'away', 'dnd']);
    expect(complete('clique', 'completion', '')).toEqual(expect.arrayContaining(['bash', 'zsh', 'fish']));
  });

  it('zsh and fish scripts name every command and option', async () => {
    const program = buildProgram();
    const zsh = (await runClique(['completion', 'zsh'])).stdout;
    const fish = (await runClique(['completion', 'fish'])).stdout;
    expect(zsh.startsWith('#compdef clique\n')).toBe(true);
    expect(zsh).toContain('compdef _clique clique');
    for (const name of commandNames(program)) {
      expect(zsh).toMatch(new RegExp(`^    '${name}:`, 'm'));
      expect(fish).toContain(`-n __fish_use_subcommand -a '${name}'`);
      for (const long of longOptions(program, name)) {
        expect(zsh, `${name} ${long}`).toContain(`'${long}[`);
        expect(fish, `${name} ${long}`).toMatch(new RegExp(`__fish_seen_subcommand_from ${name}'.* -l ${long.slice(2)}\\b`));
      }
    }
    expect(fish).toContain("-l status -x -a 'avail away dnd'");
  });

  it('follows the program: a new command and option show up without editing the scripts', () => {
    const program = buildProgram();
    program.command('frobnicate').description('a command added later').option('--widget <w>', 'which widget');
    for (const shell of ['bash', 'zsh', 'fish'] as const) {
      const script = completionScript(shell, program);
      expect(script, shell).toContain('frobnicate');
      expect(script, shell).toContain('widget');
    }
  });

  it('refuses an unknown shell (exit 2)', async () => {
    const run = await runClique(['completion', 'powershell']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bash, zsh, fish/);
  });
});

describe('clique help <topic>', () => {
  it.each([
    ['rooms', /--address 239\.255\.71\.23 --port 40123/],
    ['contacts', /user@host/],
    ['json', /docs\/events\.md/],
    ['config', /clique\/config\.json/],
    ['completion', /clique completion bash/],
  ])('help %s explains it', async (topic, expected) => {
    const run = await runClique(['help', topic]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(expected);
  });

  it('help COMMAND is that command’s --help; help alone lists the topics; an unknown one is exit 2', async () => {
    const [help, dashHelp] = await Promise.all([runClique(['help', 'send']), runClique(['send', '--help'])]);
    expect(help.stdout).toBe(dashHelp.stdout);
    const all = await runClique(['help']);
    expect(all.code).toBe(0);
    for (const topic of ['rooms', 'contacts', 'json', 'config']) expect(all.stdout).toMatch(new RegExp(`^  ${topic} `, 'm'));
    const unknown = await runClique(['help', 'nosuch']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no help topic or command "nosuch"/);
  });
});

describe('the config file', () => {
  let home: string;
  const saved = { xdg: process.env['XDG_CONFIG_HOME'], iface: process.env['CLIQUE_INTERFACE'] };
  afterEach(() => {
    for (const [key, value] of [['XDG_CONFIG_HOME', saved.xdg], ['CLIQUE_INTERFACE', saved.iface]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  function writeConfig(text: string): string {
    home = mkdtempSync(join(dir, 'xdg-'));
    mkdirSync(join(home, 'clique'));
    const path = join(home, 'clique', 'config.json');
    writeFileSync(path, text);
    process.env['XDG_CONFIG_HOME'] = home;
    return path;
  }

  /** The options `clique ...args` would run with (its action replaced: only option resolution is under test). */
  async function optionsOf(...args: string[]): Promise<Record<string, unknown>> {
    const program = buildProgram();
    const command = program.commands.find((c) => c.name() === args[0])!;
    let seen: Record<string, unknown> = {};
    command.action((...actionArgs: unknown[]) => {
      seen = actionArgs[actionArgs.length - 2] as Record<string, unknown>;
    });
    await program.parseAsync(['node', 'clique', ...args], { from: 'node' });
    return seen;
  }

  it('gives defaults: top-level for every command, "commands" for one; the command line and the environment win', async () => {
    writeConfig(JSON.stringify({ nick: 'fromfile', interface: '10.1.2.3', logLevel: 'debug', commands: { send: { waitMembers: 0, timeout: 1234, nick: 'sendnick' } } }));
    delete process.env['CLIQUE_INTERFACE'];
    expect(await optionsOf('listen', 'room')).toMatchObject({ nick: 'fromfile', interface: '10.1.2.3', logLevel: 'debug' });
    expect(await optionsOf('online')).toMatchObject({ nick: 'fromfile', interface: '10.1.2.3' });
    expect(await optionsOf('send', 'room', 'hi')).toMatchObject({ nick: 'sendnick', waitMembers: 0, timeout: 1234 });
    expect(await optionsOf('send', 'room', 'hi', '-n', 'typed', '-w', '3')).toMatchObject({ nick: 'typed', waitMembers: 3, timeout: 1234 });
    process.env['CLIQUE_INTERFACE'] = '10.9.9.9';
    expect(await optionsOf('listen', 'room')).toMatchObject({ interface: '10.9.9.9' });
    expect(await optionsOf('listen', 'room', '-i', '127.0.0.1')).toMatchObject({ interface: '127.0.0.1' });
  });

  it('checks values as the command line does, and refuses unknown settings, naming the file', async () => {
    let path = writeConfig(JSON.stringify({ commands: { send: { waitMembers: 'lots' } } }));
    await expect(optionsOf('send', 'room', 'hi')).rejects.toThrow(new UsageError(`${path}: "waitMembers": must be a whole number from 0 to 1000`));
    path = writeConfig(JSON.stringify({ nikc: 'typo' }));
    await expect(optionsOf('listen', 'room')).rejects.toThrow(UsageError);
    await expect(optionsOf('listen', 'room')).rejects.toThrow(`${path}: unknown setting "nikc"`);
    path = writeConfig(JSON.stringify({ name: 'no at sign' }));
    await expect(optionsOf('online')).rejects.toThrow(`${path}: "name": "no at sign" is not user@host`);
    path = writeConfig(JSON.stringify({ commands: { online: { status: 'asleep' } } }));
    await expect(optionsOf('online')).rejects.toThrow(`${path}: "status" must be one of avail, away, dnd`);
  });

  it('a broken file is exit 2 with one line naming the file, line and column', async () => {
    const path = writeConfig('{\n  "nick": "alice",\n  interface: "127.0.0.1"\n}\n');
    const run = await runClique(['send', 'room', 'hi', '--no-service'], { env: { XDG_CONFIG_HOME: home } });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^clique: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:3: not valid JSON: .+\n$`));
    // Help still works: it is where one reads how to fix the file.
    const help = await runClique(['help', 'config'], { env: { XDG_CONFIG_HOME: home } });
    expect(help.code, help.stderr).toBe(0);
  });
});
