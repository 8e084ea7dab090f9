import { execFileSync, spawnSync } from 'node:child_process';

/**
 * Terminal programs driven like a person: each session is a tmux window on a
 * private tmux server (its own socket), typed into with send-keys and read
 * with capture-pane.
 */
export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

export class TmuxServer {
  readonly socket = `clique-test-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;

  run(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }

  /** Start `command` (a shell line) in a new session; the pane stays after it exits and shows `[exited N]`. */
  start(session: string, cwd: string, command: string, env: Record<string, string> = {}): void {
    const exports = Object.entries(env).map(([k, v]) => `export ${k}='${v}'; `).join('');
    this.run('new-session', '-d', '-s', session, '-x', '120', '-y', '40', '-c', cwd, `${exports}${command}; echo "[exited $?]"; sleep 600`);
  }

  type(session: string, text: string): void {
    this.run('send-keys', '-t', session, '-l', text);
    this.run('send-keys', '-t', session, 'Enter');
  }

  screen(session: string): string {
    return this.run('capture-pane', '-p', '-J', '-S', '-200', '-t', session);
  }

  async waitFor(session: string, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.screen(session);
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`${session}: ${pattern} did not appear; the screen shows:\n${text}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server']);
  }
}

/** Quote for a POSIX shell. */
export function shellQuote(args: string[]): string {
  return args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
}
