import { InvalidArgumentError, type Command } from 'commander';
import { decodePacket, encodePacket } from '../../wire/codec.js';
import { PacketError } from '../../wire/packet-error.js';
import { PacketJsonError } from '../../wire/packet-json-error.js';
import { formatPacketJson, parsePacketJson } from '../../wire/packet-json.js';
import { DEFAULT_MAX_DATAGRAM } from '../../wire/packet.js';
import { UsageError } from '../usage-error.js';
import { writeJsonText } from '../json-output.js';

/**
 * `clique packet decode <hex>` / `clique packet encode <json>`: look at and craft
 * rMulticast datagrams by hand (debugging, interop checks against the original).
 */
export function registerPacketCommand(program: Command): void {
  const packet = program
    .command('packet')
    .description('decode or encode one rMulticast packet (hex <-> JSON)');

  packet
    .command('decode')
    .description('print a datagram given in hex as one line of JSON')
    .argument('<hex...>', 'the datagram in hex; spaces, colons and a 0x prefix are allowed')
    .action((hexParts: string[]) => {
      const datagram = parseHexArgument(hexParts.join(' '));
      let json: string;
      try {
        json = formatPacketJson(decodePacket(datagram));
      } catch (error) {
        throw usageErrorFrom(error, 'cannot decode packet');
      }
      writeJsonText(json);
    });

  packet
    .command('encode')
    .description('print the datagram described by packet JSON (as printed by decode) in lowercase hex')
    .argument('<json>', 'packet JSON; ids may be numbers or "0x…" strings, payload is base64')
    .option('--max-size <bytes>', 'refuse packets larger than this many bytes', parseMaxSize, DEFAULT_MAX_DATAGRAM)
    .action((jsonText: string, options: { maxSize: number }) => {
      let hex: string;
      try {
        hex = Buffer.from(encodePacket(parsePacketJson(jsonText), options.maxSize)).toString('hex');
      } catch (error) {
        throw usageErrorFrom(error, 'cannot encode packet');
      }
      process.stdout.write(`${hex}\n`);
    });
}

/** Hex digits with optional whitespace/colon separators and one leading 0x. */
export function parseHexArgument(text: string): Uint8Array {
  let digits = text.trim();
  if (/^0x/i.test(digits)) digits = digits.slice(2);
  digits = digits.replace(/[\s:]/g, '');
  const bad = /[^0-9a-fA-F]/.exec(digits);
  if (bad) throw new UsageError(`bad hex input: unexpected character ${JSON.stringify(bad[0])}`);
  if (digits.length % 2 !== 0) throw new UsageError(`bad hex input: odd number of hex digits (${digits.length})`);
  return new Uint8Array(Buffer.from(digits, 'hex'));
}

function parseMaxSize(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('must be a positive integer');
  }
  return n;
}

function usageErrorFrom(error: unknown, what: string): unknown {
  if (error instanceof PacketError || error instanceof PacketJsonError) {
    return new UsageError(`${what}: ${error.message} (${error.code})`);
  }
  return error;
}
