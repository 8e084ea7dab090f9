import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The protocol cores run on injected time and randomness so simulations
 * replay them exactly: no file of a core reads the clock, sets a timer,
 * draws randomness or opens a socket. Each core has one adapter file that
 * may (its shell's clock), listed here.
 */
const SRC = resolve(import.meta.dirname, '../../src');
const FORBIDDEN = /\bDate\.now\(|\bnew Date\(\)|\bsetTimeout\(|\bsetInterval\(|\bsetImmediate\(|\bMath\.random\(|\brandomUUID\(|\brandomBytes\(|from 'node:(dgram|fs)'|\bcreate(Socket|Server|Connection)\(/;

const CORES: Record<string, { files: (name: string) => boolean; adapters: string[] }> = {
  rmcast: { files: () => true, adapters: [] },
  mdns: { files: (name) => name !== 'transport.ts', adapters: ['mdns-clock.ts'] },
  rooms: {
    files: (name) => /^(room-(core|outbox|advertisement|inbound|roster|topic|merge|stanzas|output)|unheard-lines|recent-ids)\.ts$/.test(name),
    adapters: [],
  },
  // The stream tube shells move bytes between TCP sockets around the pure SI/OOB and guard code (§7.5).
  tubes: { files: (name) => !/^(stream-tube-(host|acceptor)|contact-stream-tubes|tcp-relay|tube-link)\.ts$/.test(name), adapters: [] },
};

describe('sans-I/O cores', () => {
  for (const [folder, { files, adapters }] of Object.entries(CORES)) {
    it(`src/${folder}: no clock, timer, randomness or socket outside ${adapters.length > 0 ? adapters.join(', ') : 'injected inputs'}`, () => {
      const names = readdirSync(join(SRC, folder)).filter((name) => name.endsWith('.ts') && files(name) && !adapters.includes(name));
      expect(names.length).toBeGreaterThan(0);
      const offenders = names.flatMap((name) =>
        readFileSync(join(SRC, folder, name), 'utf8')
          .split('\n')
          .map((line, i) => ({ line: line.replace(/\/\/.*$|^\s*\*.*$/, ''), at: `${folder}/${name}:${i + 1}` }))
          .filter(({ line }) => FORBIDDEN.test(line))
          .map(({ at, line }) => `${at}: ${line.trim()}`),
      );
      expect(offenders).toEqual([]);
    });
  }
});
