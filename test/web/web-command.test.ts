import { describe, expect, it } from 'vitest';
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

  it('documents the token and --listen in --help', async () => {
    const help = await runClique(['web', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--listen <address>');
    expect(help.stdout).toContain('--open');
    expect(help.stdout).toContain('token');
  });
});
