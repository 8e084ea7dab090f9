import { describe, expect, it } from 'vitest';
import { parseHexArgument } from '../../src/cli/commands/packet.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { runClique, type CliRun } from '../support/cli-runner.js';


function clique(...args: string[]): Promise<CliRun> {
  return runClique(args, { timeoutMs: 30_000 });
}

function expectOneLineUsageError(run: CliRun, pattern: RegExp): void {
  expect(run.code).toBe(2);
  expect(run.stdout).toBe('');
  const lines = run.stderr.split('\n').filter((l) => l !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^clique: /);
  expect(lines[0]).toMatch(pattern);
}

// Spec rmulticast.md §2.7 E3, E4 and E11.
const E3 = '436c6971756501012222222205' + '63726f6e65';
const E4 = '436c6971756501' + '0f11111111000001000222222222000000503333333300abcdef03000000000005' + '68656c6c6f';
const E4_JSON = {
  type: 'data',
  typeCode: 15,
  version: 1,
  sender: 0x11111111,
  packetId: 0x100,
  depends: [
    { senderId: 0x22222222, packetId: 0x50 },
    { senderId: 0x33333333, packetId: 0xabcdef },
  ],
  flags: 3,
  start: true,
  end: true,
  streamId: 0,
  totalSize: 5,
  payload: 'aGVsbG8=',
};
const E11 = '436c6971756501131111111100000104' + '022222222200000051444444440000000101' + '33333333';

describe.concurrent('clique packet (spawned CLI)', () => {
  it('decodes golden vector E4 to the expected one-line JSON', async () => {
    const run = await clique('packet', 'decode', E4);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.endsWith('\n')).toBe(true);
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toEqual(E4_JSON);
  });

  it('accepts 0x, spaces and colons in hex, and hex split over several arguments', async () => {
    const spaced = `0x${E4.match(/../g)!.join(':').toUpperCase()}`;
    const a = await clique('packet', 'decode', spaced);
    const b = await clique('packet', 'decode', ...E4.match(/.{1,8}/g)!);
    expect(JSON.parse(a.stdout)).toEqual(E4_JSON);
    expect(JSON.parse(b.stdout)).toEqual(E4_JSON);
  });

  it.each([
    ['E3', E3],
    ['E4', E4],
    ['E11', E11],
  ])('encode(decode(%s)) gives back the same bytes', async (_name, hex) => {
    const decoded = await clique('packet', 'decode', hex);
    expect(decoded.code).toBe(0);
    const encoded = await clique('packet', 'encode', decoded.stdout.trim());
    expect(encoded.stderr).toBe('');
    expect(encoded.code).toBe(0);
    expect(encoded.stdout).toBe(`${hex}\n`);
  });

  it('encodes hand-written JSON with hex-string ids to lowercase hex (spec E13)', async () => {
    const run = await clique('packet', 'encode', '{"type":"bye","sender":"0x11111111","packetId":"0x106","depends":[]}');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('436c697175650114111111110000010600\n');
  });

  it('bad hex: exit 2 and one line on stderr', async () => {
    expectOneLineUsageError(await clique('packet', 'decode', '436c69717565zz'), /bad hex input/);
    expectOneLineUsageError(await clique('packet', 'decode', '436c6'), /odd number of hex digits/);
  });

  it('an undecodable packet: exit 2 and one line naming the PacketError code', async () => {
    expectOneLineUsageError(await clique('packet', 'decode', E4.slice(0, 40)), /cannot decode packet: .*\(truncated\)$/);
    expectOneLineUsageError(await clique('packet', 'decode', '436c69717565011511111111'), /\(bad-type\)$/);
  });

  it('bad JSON, missing fields and unencodable packets: exit 2 and one line', async () => {
    expectOneLineUsageError(await clique('packet', 'encode', '{"type":'), /cannot encode packet: not valid JSON.*\(bad-json\)$/);
    expectOneLineUsageError(await clique('packet', 'encode', '{"type":"bye","sender":1,"packetId":1}'), /depends is missing \(missing-field\)$/);
    expectOneLineUsageError(await clique('packet', 'encode', '{"type":"whois-reply","sender":1,"name":"a\\u0000b"}'), /NUL.*\(bad-field\)$/);
    expectOneLineUsageError(
      await clique('packet', 'encode', '--max-size', '16', '{"type":"bye","sender":1,"packetId":1,"depends":[]}'),
      /exceeds the 16-byte datagram limit \(too-large\)$/,
    );
  });

  it('a missing argument is a usage error too (exit 2)', async () => {
    const run = await clique('packet', 'decode');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/missing required argument/);
  });

  it('--help lists both subcommands', async () => {
    const run = await clique('packet', '--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\s+decode <hex\.\.\.>/m);
    expect(run.stdout).toMatch(/^\s+encode \[options\] <json>/m);
  });
});

describe('parseHexArgument', () => {
  it('accepts separators, a 0x prefix and either case', () => {
    expect(parseHexArgument(' 0x43:6C 69\t71\n ')).toEqual(new Uint8Array([0x43, 0x6c, 0x69, 0x71]));
    expect(parseHexArgument('0X00ff')).toEqual(new Uint8Array([0, 255]));
    expect(parseHexArgument('')).toEqual(new Uint8Array(0));
  });
  it('rejects non-hex characters, a 0x in the middle and odd digit counts', () => {
    expect(() => parseHexArgument('43-6c')).toThrow(UsageError);
    expect(() => parseHexArgument('43 0x6c')).toThrow(/unexpected character "x"/);
    expect(() => parseHexArgument('abc')).toThrow(/odd number/);
    expect(() => parseHexArgument('Q2xpcXVl')).toThrow(UsageError);
  });
});
