import { spawn } from 'node:child_process';
import type { Command, Option } from 'commander';
import { Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { CLI_ARGS, repoRoot } from '../support/cli-runner.js';

/** Every command of the tree, subcommands included (`packet decode`). */
function allCommands(program: Command): Command[] {
  return program.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** Runs clique with its stdout already closed by the reader (`clique ... | head -0`). */
function runWithClosedStdout(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI_ARGS, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    // The reader goes away before the CLI writes anything: its first write fails with EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('a closed output pipe', () => {
  // Golden vector E4 of the packet tests: decoding prints one JSON line, no network.
  const E4 = '436c6971756501' + '0f11111111000001000222222222000000503333333300abcdef03000000000005' + '68656c6c6f';
  it.each([
    ['send --help', ['send', '--help']],
    ['--help', ['--help']],
    ['packet decode', ['packet', 'decode', E4]],
  ])('`clique %s | head -0` ends quietly, exit 0, no EPIPE stack', async (_what, args) => {
    const run = await runWithClosedStdout(args);
    expect(run.stderr).toBe('');
    expect(run.signal).toBe(null);
    expect(run.code).toBe(0);
  });
});

describe('--help', () => {
  const help = new Help();
  const commands = allCommands(buildProgram());

  it.each(commands.map((c) => [c.name(), c] as const))('%s: each option states its default once', (_name, command) => {
    for (const option of command.options as Option[]) {
      const text = help.optionDescription(option);
      expect(text.match(/\(default/g)?.length ?? 0, `${command.name()} ${option.flags}: ${text}`).toBeLessThanOrEqual(1);
    }
  });

  it('every command that takes --nick also takes -n for it', () => {
    const withNick = commands.filter((c) => c.options.some((o) => o.long === '--nick'));
    expect(withNick.map((c) => c.name()).sort()).toEqual(expect.arrayContaining(['invite', 'join', 'listen', 'online', 'say', 'send', 'up']));
    for (const command of withNick) {
      const nick = command.options.find((o) => o.long === '--nick')!;
      expect(nick.short, command.name()).toBe('-n');
    }
  });

  it('-n means --nick on online, say and invite (parsed, not only listed)', async () => {
    for (const args of [['online'], ['say', 'bob@desk', 'hi'], ['invite', 'bob@desk', 'lunch']]) {
      const program = buildProgram();
      const command = program.commands.find((c) => c.name() === args[0])!;
      let seen: unknown;
      // Replace the action: only the parse is under test here.
      command.action((...actionArgs: unknown[]) => {
        seen = (actionArgs[actionArgs.length - 2] as { nick?: string }).nick;
      });
      await program.parseAsync(['node', 'clique', ...args, '-n', 'Alice'], { from: 'node' });
      expect(seen, args[0]).toBe('Alice');
    }
  });
});

describe('the command that accepts an invitation', () => {
  it('names the room (shell-quoted: a peer chose it), its group and port, and our interface', async () => {
    const { acceptCommand, shellWord } = await import('../../src/cli/invitation-command.js');
    expect(acceptCommand({ room: 'lunch', address: '239.255.71.5', port: 4000 }, '127.0.0.1')).toBe('clique join lunch --address 239.255.71.5 --port 4000 --interface 127.0.0.1');
    expect(acceptCommand({ room: "Bob's room; rm -rf ~", address: '239.255.71.5', port: 4000 }, undefined)).toBe(`clique join 'Bob'\\''s room; rm -rf ~' --address 239.255.71.5 --port 4000`);
    expect(acceptCommand({ room: 'tea', address: 'ff15::1234', port: 4001 }, undefined)).toBeUndefined();
    expect(acceptCommand({ room: 'bell\u0007', address: '239.255.71.5', port: 4000 }, undefined)).toBeUndefined();
    // What a POSIX shell makes of the quoted word is the room name again.
    const { execFileSync } = await import('node:child_process');
    for (const room of ["it's", 'a b', '$(x)', '`x`', 'é ☕', '"q"\\']) {
      expect(execFileSync('sh', ['-c', `printf %s ${shellWord(room)}`], { encoding: 'utf8' })).toBe(room);
    }
  });
});
