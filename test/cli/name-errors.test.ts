import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanUp, person, run } from '../service/service-people.js';

/**
 * Bad names are refused while the command line is parsed (exit 2, nothing
 * started), with a message that helps: an XEP-0174 name needs its `@`, and a
 * pasted paragraph as a room name is not echoed back whole.
 */
afterEach(cleanUp, 60_000);

describe('--name must be user@host', () => {
  it.each([
    ['say', ['say', 'bob@desk', 'hi']],
    ['online', ['online']],
    ['up', ['up']],
    ['send', ['send', 'room', 'hi', '--no-service']],
    ['join', ['join', 'room']],
    ['invite', ['invite', 'bob@desk', 'room']],
  ])('%s --name "no at sign" is exit 2 with a usage error', async (_what, args) => {
    const p = person('noat');
    const result = await run(p, [...args, '--name', 'no at sign']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('clique: --name: "no at sign" is not user@host (XEP-0174 names are user@host, e.g. alice@laptop; leave --name out for <login>@<host>)\n');
    expect(existsSync(p.paths.socket)).toBe(false);
  });
});

describe('an over-long room name', () => {
  const long = `${'lorem ipsum '.repeat(40)}END`;
  it.each([
    ['join', ['join', long]],
    ['send', ['send', long, 'hi']],
    ['listen', ['listen', long, '--no-service']],
    ['invite', ['invite', 'bob@desk', long]],
  ])('%s: the error quotes its start with an ellipsis and gives the limit', async (_what, args) => {
    const p = person('longroom');
    const result = await run(p, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`clique: room name "lorem ipsum lorem ipsum "… is ${Buffer.byteLength(long)} bytes, longer than 63 bytes of UTF-8 (the limit)\n`);
    expect(result.stderr).not.toContain('END');
  });

  it('a long --name is cut the same way', async () => {
    const p = person('longname');
    const result = await run(p, ['up', '--name', `${'x'.repeat(100)}@host`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^clique: --name "x{24}"… is 105 bytes, longer than 63 bytes of UTF-8 \(the limit\)\n$/);
  });
});
