import fc from 'fast-check';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/base/random.js';
import { runStdioHarness } from '../../src/net/stdio-harness.js';
import { encodePacket } from '../../src/wire/codec.js';
import { propertySeed } from '../support/fast-check-seed.js';
import { waitFor } from '../support/wait.js';

const seed = propertySeed();

/** Hostile harness input: junk, near-miss commands, valid commands with random or mutated packets. */
const hostileLine = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.constantFrom('INPUT', 'RECV', 'FAIL', 'DISCONNECT ', 'disconnect', 'RECV:', 'INPUT:', 'FAIL:', ':', 'RECV:====', 'INPUT:a'),
  fc.tuple(fc.constantFrom('INPUT:', 'RECV:', 'FAIL:'), fc.string({ maxLength: 40 })).map(([c, s]) => c + s),
  fc.uint8Array({ maxLength: 1600 }).map((b) => `RECV:${Buffer.from(b).toString('base64')}`),
  fc
    .tuple(fc.nat({ max: 0xffffffff }), fc.uint8Array({ maxLength: 40 }), fc.nat(), fc.nat({ max: 255 }))
    .map(([sender, payload, at, value]) => {
      const bytes = encodePacket({ type: 'data', sender, packetId: 7, depends: [], flags: 3, streamId: 0, totalSize: payload.length, payload });
      bytes[at % bytes.length] = value;
      return `RECV:${Buffer.from(bytes).toString('base64')}`;
    }),
  fc.uint8Array({ maxLength: 200 }).map((b) => `INPUT:${Buffer.from(b).toString('base64')}`),
);

const PROTOCOL_LINE = /^(Starting process \d+ for .+|SEND:[A-Za-z0-9+/=]+|OUTPUT:.*:[A-Za-z0-9+/=]*|NEWNODES:(\S+ )+|LOSTNODES:(\S+ )+|CONNECTED:|DISCONNECTED:)$/;

describe(`stdio harness under hostile input (seed ${seed}; replay with CLIQUE_SEED=${seed})`, () => {
  it('ignores or reports every bad line, keeps speaking the protocol, and still leaves on DISCONNECT', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    const errors = new PassThrough();
    let out = '';
    let err = '';
    output.on('data', (c: Buffer) => (out += c.toString()));
    errors.on('data', (c: Buffer) => (err += c.toString()));
    const done = runStdioHarness({ name: 'fuzzed', input, output, errors, random: new SeededRandom(seed >>> 0), pid: 1 });
    await waitFor('CONNECTED:', () => out.includes('CONNECTED:'));
    const lines = fc.sample(hostileLine, { seed, numRuns: 400 }).filter((l) => l !== 'DISCONNECT');
    for (const line of lines) input.write(`${line}\n`);
    input.write(`INPUT:${Buffer.from('still fine').toString('base64')}\n`);
    input.write('DISCONNECT\n');
    expect(await done).toBe(0);
    const printed = out.trimEnd().split('\n');
    for (const line of printed) expect(line).toMatch(PROTOCOL_LINE);
    expect(printed[printed.length - 1]).toBe('DISCONNECTED:');
    expect(err).toMatch(/^error: /);
    for (const line of err.trimEnd().split('\n')) expect(line).toMatch(/^error: /);
  });
});
