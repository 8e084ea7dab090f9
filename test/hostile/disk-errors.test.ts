import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskError, diskErrorFrom, makeDirectories } from '../../src/base/disk-error.js';
import { CLI_ARGS, repoRoot } from '../support/cli-runner.js';

/**
 * A read-only or full disk gives an error that says so, names the path and
 * what to do, instead of `ENOENT … mkdir`. Root ignores permissions, so the
 * disks are real: a tmpfs mounted read-only, or one of 128 KiB, each inside a
 * private mount (and network) namespace that vanishes with the process.
 */
const work = mkdtempSync(join(tmpdir(), 'clique-disk-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function environmentMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to mount file systems in a private namespace';
  const probe = spawnSync('unshare', ['-m', '-n', 'sh', '-c', `mount -t tmpfs -o ro tmpfs ${JSON.stringify(work)}`], { encoding: 'utf8' });
  if (probe.status !== 0) return `cannot mount in a private namespace: ${probe.stderr.trim() || probe.error?.message}`;
  return undefined;
}
const missing = environmentMissing();
if (missing !== undefined) console.log(`skipping disk tests: ${missing}`);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `script` (sh) in private mount and network namespaces, with loopback up. */
function inNamespace(script: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-m', '-n', 'sh', '-c', `set -e; ip link set lo up; ${script}`], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1', CLIQUE_LOG: 'error', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const node = JSON.stringify(process.execPath);
const probe = `${node} --import tsx test/hostile/history-disk-probe.ts`;
const cli = `${node} ${CLI_ARGS.join(' ')}`;

function lastJson(run: Run): Record<string, unknown> {
  const lines = run.stdout.trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1] ?? '') as Record<string, unknown>;
  } catch {
    throw new Error(`no JSON result (exit ${run.code}): ${run.stdout}\n${run.stderr}`);
  }
}

function freshDir(name: string): string {
  const dir = join(work, name);
  spawnSync('mkdir', ['-p', dir]);
  return dir;
}

describe('disk errors are named (no namespace needed)', () => {
  it('maps system and SQLite codes to DiskError codes', () => {
    expect(diskErrorFrom({ code: 'EROFS' }, 'write', '/x')?.code).toBe('disk-read-only');
    expect(diskErrorFrom({ code: 'EACCES' }, 'write', '/x')?.code).toBe('disk-permission-denied');
    expect(diskErrorFrom({ code: 'EPERM' }, 'write', '/x')?.code).toBe('disk-permission-denied');
    expect(diskErrorFrom({ code: 'ENOSPC' }, 'write', '/x')?.code).toBe('disk-full');
    expect(diskErrorFrom({ code: 'EDQUOT' }, 'write', '/x')?.code).toBe('disk-full');
    expect(diskErrorFrom({ code: 'SQLITE_FULL' }, 'write', '/x')?.code).toBe('disk-full');
    expect(diskErrorFrom({ code: 'EBADF' }, 'write', '/x')).toBeUndefined();
    const error = diskErrorFrom({ code: 'EROFS' }, 'create the history directory', '/home/me/.local');
    expect(error?.message).toBe('cannot create the history directory /home/me/.local: the file system is read-only (EROFS)');
  });

  it('makeDirectories names the directory that could not be made', () => {
    const file = join(work, 'a-file');
    writeFileSync(file, 'x');
    let caught: unknown;
    try {
      makeDirectories(join(file, 'sub', 'dir'), 0o700);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(DiskError);
    expect(caught).toMatchObject({ code: 'disk-path-missing', path: join(file, 'sub'), errno: 'ENOTDIR' });
  });
});

describe.skipIf(missing !== undefined)('history on a read-only or full disk (private mount namespace)', () => {
  it('a read-only HOME: the error says read-only and names the directory it could not create', async () => {
    const home = freshDir('ro-home');
    const run = await inNamespace(`mount -t tmpfs -o ro tmpfs ${home}; HOME=${home} XDG_DATA_HOME= ${probe} default`);
    const result = lastJson(run);
    expect(result).toMatchObject({ ok: false, roomError: true, code: 'history-failed', cause: { code: 'disk-read-only', path: join(home, '.local'), errno: 'EROFS' } });
    expect(result['message']).toContain(`${join(home, '.local')}: the file system is read-only (EROFS)`);
    expect(result['message']).not.toMatch(/ENOENT/);
  });

  it('a read-only directory that already exists (SQLite only says "unable to open"): diagnosed as read-only', async () => {
    const home = freshDir('ro-existing');
    const dir = join(home, '.local', 'share', 'clique');
    const run = await inNamespace(`mount -t tmpfs tmpfs ${home}; mkdir -p ${dir}; mount -o remount,ro ${home}; HOME=${home} XDG_DATA_HOME= ${probe} default`);
    expect(lastJson(run)).toMatchObject({ ok: false, code: 'history-failed', cause: { code: 'disk-read-only', path: dir, errno: 'EROFS' } });
  });

  it('a full disk: writing a message fails with disk-full naming the database', async () => {
    const disk = freshDir('full');
    const db = join(disk, 'history.sqlite');
    const run = await inNamespace(`mount -t tmpfs -o size=128k tmpfs ${disk}; ${probe} ${db} fill`);
    const result = lastJson(run);
    expect(result).toMatchObject({ ok: false, code: 'history-failed', cause: { code: 'disk-full', path: db } });
    expect(result['message']).toContain('free some space');
  });

  it('the CLI on a read-only HOME exits 1 saying so and how to go on; --no-history-file then works', async () => {
    const home = freshDir('ro-cli');
    const env = { HOME: home, XDG_DATA_HOME: '' };
    const room = ['--address', '239.255.71.77', '--port', '40777', '--interface', '127.0.0.1'];
    // Through the clique service (the default): it cannot make its data directory.
    const viaService = await inNamespace(`mount -t tmpfs -o ro tmpfs ${home}; exec ${cli} send lunch hello --timeout 1000 ${room.join(' ')}`, env);
    expect(viaService.code).toBe(1);
    expect(viaService.stderr).toContain(`clique: cannot create the clique data directory ${join(home, '.local')}: the file system is read-only (EROFS)`);
    expect(viaService.stderr).toContain('--no-service --no-history-file');
    expect(viaService.stderr).not.toMatch(/ENOENT|at .*\.ts:/);

    // On its own (--no-service): the history store cannot make its directory.
    const failed = await inNamespace(`mount -t tmpfs -o ro tmpfs ${home}; exec ${cli} send lunch hello --no-service --wait-members 0 --timeout 1000 ${room.join(' ')}`, env);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`clique: cannot create the history directory ${join(home, '.local')}: the file system is read-only (EROFS)`);
    expect(failed.stderr).toContain('--no-history-file');
    expect(failed.stderr).not.toMatch(/ENOENT|at .*\.ts:/);

    const worked = await inNamespace(`mount -t tmpfs -o ro tmpfs ${home}; exec ${cli} send lunch hello --no-service --wait-members 0 --timeout 1000 --no-history-file ${room.join(' ')}`, env);
    expect(worked.stderr).toBe('');
    expect(worked.code).toBe(0);
    expect(worked.stdout).toContain('sent 1 message to lunch');
  });
});
