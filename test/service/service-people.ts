import { shellQuote, type TmuxServer } from '../support/tmux-session.js';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readHolder } from '../../src/service/service-lock.js';
import { servicePaths, type ServicePaths } from '../../src/service/service-paths.js';
import { CLI_ARGS, repoRoot, type CliRun } from '../support/cli-runner.js';
import { waitFor } from '../support/wait.js';
import { followJsonLines, type JsonLinesProcess } from '../support/json-lines-process.js';

/**
 * Test people for the service's process tests: each has its own HOME,
 * XDG_RUNTIME_DIR and XDG_DATA_HOME (so its own service, socket and history)
 * and uses interface 127.0.0.1. Run these tests inside a private network
 * namespace (`unshare -n`).
 */
export const LOOPBACK = '127.0.0.1';

export interface Person {
  label: string;
  dir: string;
  env: NodeJS.ProcessEnv;
  paths: ServicePaths;
}

/** A long-running clique process whose stdout is JSON lines. */
export type Proc = JsonLinesProcess;

const people: Person[] = [];
const procs: Proc[] = [];

export function person(label: string): Person {
  const dir = mkdtempSync(join(tmpdir(), `clq-${label}-`));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: join(dir, 'home'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    XDG_DATA_HOME: join(dir, 'data'),
    CLIQUE_INTERFACE: LOOPBACK,
    CLIQUE_LOG: 'warn',
    NO_COLOR: '1',
  };
  for (const d of [env.HOME!, env.XDG_RUNTIME_DIR!]) mkdirSync(d, { recursive: true, mode: 0o700 });
  const p: Person = { label, dir, env, paths: servicePaths(LOOPBACK, env) };
  people.push(p);
  return p;
}

/** Runs `clique ...args` as this person to completion. */
export function run(p: Person, args: string[], input?: string, timeoutMs = 90_000): Promise<CliRun & { ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [...CLI_ARGS, ...args], { cwd: repoRoot, timeout: timeoutMs, env: p.env }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: error ? (error.code as number) : 0, stdout, stderr, ms: Date.now() - started });
    });
    child.stdin?.end(input ?? '');
  });
}

/** Starts a long-running `clique ...args` as this person (listen, up). */
export function start(p: Person, label: string, args: string[]): Proc {
  const proc = followJsonLines(label, spawn(process.execPath, [...CLI_ARGS, ...args], { cwd: repoRoot, env: p.env }));
  procs.push(proc);
  return proc;
}

export function eventsOf(proc: Proc, event: string): Array<Record<string, unknown>> {
  return proc.events.filter((e) => e['event'] === event);
}

export async function waitForEvent(proc: Proc, what: string, match: (e: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  await waitFor(() => `${proc.label}: ${what}; has ${JSON.stringify(proc.events)}; stderr ${proc.stderr}`, () => proc.events.some(match), timeoutMs);
  return proc.events.find(match)!;
}

/** The pid of this person's running service (from its lock), if any. */
export function servicePid(p: Person): number | undefined {
  return readHolder(p.paths.lock);
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Ends every process and service the tests started, and removes the people's directories. */
export async function cleanUp(): Promise<void> {
  await Promise.all(
    procs.splice(0).map(
      (p) =>
        new Promise<void>((resolve) => {
          if (p.exit !== undefined) return resolve();
          p.child.once('exit', () => resolve());
          p.child.kill('SIGKILL');
        }),
    ),
  );
  for (const p of people.splice(0)) {
    const pid = servicePid(p);
    if (pid !== undefined && isRunning(pid)) {
      process.kill(pid, 'SIGKILL');
      await waitFor(`${p.label}'s service to die`, () => !isRunning(pid), 10_000).catch(() => undefined);
    }
    rmSync(p.dir, { recursive: true, force: true });
  }
}

/** `clique join ROOM --nick NICK` as this person (through its service) in a tmux window of `tmux`. */
export function startJoinInTmux(tmux: TmuxServer, p: Person, room: string, nick: string, failureTimeoutMs: number): void {
  const env = { HOME: p.env.HOME!, XDG_RUNTIME_DIR: p.env.XDG_RUNTIME_DIR!, XDG_DATA_HOME: p.env.XDG_DATA_HOME!, CLIQUE_INTERFACE: '127.0.0.1' };
  tmux.start(p.label, repoRoot, shellQuote([process.execPath, ...CLI_ARGS, 'join', room, '--nick', nick, '--failure-timeout-ms', String(failureTimeoutMs)]), env);
}
