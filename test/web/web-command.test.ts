import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { servicePaths } from '../../src/service/service-paths.js';
import { runClique } from '../support/cli-runner.js';

/** `clique web` refuses what it cannot serve safely before it touches the service. */
describe('clique web: its options', () => {
  it('refuses a wildcard or a host name for --listen (exit 2)', async () => {
    const wildcard = await runClique(['web', '--listen', '0.0.0.0']);
    expect(wildcard.code).toBe(2);
    expect(wildcard.stderr).toContain('not the wildcard 0.0.0.0');
    expect(wildcard.stdout).toBe('');
    const name = await runClique(['web', '--listen', 'example.com']);
    expect(name.code).toBe(2);
    expect(name.stderr).toContain('is not an IP address');
  });

  it('warns before serving beyond loopback, and takes the address before starting any service', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clq-web-cmd-'));
    const env = { HOME: join(dir, 'home'), XDG_RUNTIME_DIR: join(dir, 'run'), XDG_DATA_HOME: join(dir, 'data'), CLIQUE_INTERFACE: '127.0.0.1' };
    try {
      // 192.0.2.1 (TEST-NET-1) is no address of this machine: the warning comes, then the bind fails.
      const far = await runClique(['web', '--listen', '192.0.2.1'], { env });
      expect(far.code).toBe(1);
      expect(far.stderr).toContain('warning: serving the page on 192.0.2.1, beyond this machine');
      expect(far.stderr).toContain('cannot serve on 192.0.2.1');
      expect(far.stdout).toBe('');
      expect(existsSync(servicePaths('127.0.0.1', env).socket)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('documents the token and --listen in --help', async () => {
    const help = await runClique(['web', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--listen <address>');
    expect(help.stdout).toContain('--open');
    expect(help.stdout).toContain('token');
  });
});
