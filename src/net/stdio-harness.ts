import type { Readable, Writable } from 'node:stream';
import { CliqueError } from '../base/clique-error.js';
import { silentLogger, type Logger } from '../base/logger.js';
import { CryptoRandom, type RandomSource } from '../base/random.js';
import type { EngineTiming, MulticastEngine } from '../rmcast/engine-types.js';
import { RMulticastEngine } from '../rmcast/rmulticast-engine.js';
import { HARNESS_MAX_DATAGRAM } from '../wire/packet.js';
import type { DatagramTransport } from './datagram-transport.js';
import type { TransportError } from './transport-error.js';
import { EngineDriver } from './engine-driver.js';
import { LineSplitter } from './line-splitter.js';

/**
 * The original test harness's line protocol (`test-r-multicast-transport-io
 * <name>`, spec rmulticast.md A.8 §8.1) on stdin/stdout, so the original's
 * mesh.py-style drivers can run our engine:
 *
 *   out  Starting process <pid> for <name>       (first line)
 *   in   INPUT:<base64>   send on stream 0        out  SEND:<base64>      a datagram to route
 *   in   RECV:<base64>    a datagram arrived      out  OUTPUT:<sender>:<base64>
 *   in   FAIL:<name>      fail that member        out  NEWNODES:<a> <b>  / LOSTNODES:<a>   (trailing space)
 *   in   DISCONNECT       leave (BYEs)            out  CONNECTED: (once), DISCONNECTED: (then exit)
 *
 * Deliberate deviation: the original aborts on an unknown or malformed line;
 * we print an error on stderr and ignore the line. Our own SEND datagrams are
 * fed back to us (loopback), as the original harness does.
 */

/** Bound on one input line (a 16 MiB message is ~22 MiB of base64). */
const MAX_LINE_BYTES = 24 * 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export interface StdioHarnessOptions {
  name: string;
  input: Readable;
  output: Writable;
  errors: Writable;
  timing?: Partial<EngineTiming>;
  logger?: Logger;
  random?: RandomSource;
  /** Printed in the first line. Default process.pid. */
  pid?: number;
  /** For tests with other engines; default the rMulticast engine with the harness's 1500-byte datagrams. */
  createEngine?: (name: string, random: RandomSource) => MulticastEngine;
}

/** Datagrams as SEND lines; RECV lines injected by the harness; own datagrams looped back. */
class StdioTransport implements DatagramTransport {
  readonly maxDatagramSize = HARNESS_MAX_DATAGRAM;
  readonly loopback = true;
  private readonly callbacks: Array<(bytes: Uint8Array) => void> = [];
  closed = false;

  constructor(private readonly writeLine: (line: string) => void) {}

  send(bytes: Uint8Array): void {
    if (this.closed) return;
    this.writeLine(`SEND:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}`);
    // Loop back after the current engine call has been drained, like a socket would.
    const copy = bytes.slice();
    queueMicrotask(() => this.inject(copy));
  }

  inject(bytes: Uint8Array): void {
    if (this.closed) return;
    for (const callback of this.callbacks) callback(bytes);
  }

  onDatagram(callback: (bytes: Uint8Array) => void): void {
    this.callbacks.push(callback);
  }

  onError(_callback: (error: TransportError) => void): void {
    // Writing lines cannot fail in a way the engine could act on.
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Run until DISCONNECT completes or the input ends. Resolves with the exit status. */
export function runStdioHarness(options: StdioHarnessOptions): Promise<number> {
  const logger = options.logger ?? silentLogger;
  const writeLine = (line: string): void => {
    options.output.write(`${line}\n`);
  };
  const complain = (message: string): void => {
    options.errors.write(`error: ${message}\n`);
  };
  writeLine(`Starting process ${options.pid ?? process.pid} for ${options.name}`);

  const random = options.random ?? new CryptoRandom();
  const engine =
    options.createEngine?.(options.name, random) ??
    new RMulticastEngine({
      name: options.name,
      random,
      maxDatagramSize: HARNESS_MAX_DATAGRAM,
      loopback: true,
      ...(options.timing !== undefined ? { timing: options.timing } : {}),
      logger,
    });
  const transport = new StdioTransport(writeLine);
  const driver = new EngineDriver(engine, transport, { logger });

  return new Promise<number>((resolve) => {
    let finished = false;
    let leaving = false;
    let announcedConnected = false;
    const finish = (status: number): void => {
      if (finished) return;
      finished = true;
      options.input.off('data', onData);
      options.input.off('end', onEnd);
      options.input.off('error', onInputError);
      void driver.close().then(() => resolve(status));
    };

    driver.on('connected', () => {
      if (announcedConnected) return; // after a reset the original stays silent
      announcedConnected = true;
      writeLine('CONNECTED:');
    });
    driver.on('message', (message) => {
      writeLine(`OUTPUT:${message.sender}:${Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength).toString('base64')}`);
    });
    driver.on('members-joined', (names) => writeLine(`NEWNODES:${names.map((n) => `${n} `).join('')}`));
    driver.on('members-lost', (names) => writeLine(`LOSTNODES:${names.map((n) => `${n} `).join('')}`));
    driver.on('disconnected', () => {
      writeLine('DISCONNECTED:');
      finish(0);
    });
    driver.on('error', (error) => complain(error.message));

    const handle = (line: string): void => {
      if (finished) return;
      if (line === 'DISCONNECT') {
        if (leaving) return;
        leaving = true;
        void driver.leave().then(() => {
          // Leaving before connecting ends without a 'disconnected' event.
          if (!finished) {
            writeLine('DISCONNECTED:');
            finish(0);
          }
        });
        return;
      }
      const colon = line.indexOf(':');
      const command = colon === -1 ? line : line.slice(0, colon);
      const argument = colon === -1 ? '' : line.slice(colon + 1);
      switch (colon === -1 ? '' : command) {
        case 'INPUT': {
          const bytes = decodeBase64(argument);
          if (bytes === undefined) return complain(`ignoring INPUT line with invalid base64 (${argument.length} characters)`);
          try {
            driver.send(0, bytes);
          } catch (error) {
            complain(`cannot send: ${error instanceof CliqueError ? `${error.message} (${error.code})` : String(error)}`);
          }
          return;
        }
        case 'RECV': {
          const bytes = decodeBase64(argument);
          if (bytes === undefined) return complain(`ignoring RECV line with invalid base64 (${argument.length} characters)`);
          transport.inject(bytes);
          return;
        }
        case 'FAIL':
          if (argument === '') return complain('ignoring FAIL line without a name');
          driver.failMember(argument);
          return;
        default:
          complain(`ignoring unknown line ${JSON.stringify(line.length > 60 ? line.slice(0, 60) + '…' : line)} (the original harness would abort)`);
      }
    };

    const splitter = new LineSplitter(MAX_LINE_BYTES, handle, (bytes) => complain(`ignoring a line of ${bytes} bytes (limit ${MAX_LINE_BYTES})`));
    const onData = (chunk: Buffer | string): void => splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    const onEnd = (): void => {
      splitter.end();
      // No more commands can come: stop without a goodbye (as a killed harness would), unless already leaving.
      if (!leaving) finish(0);
    };
    const onInputError = (error: Error): void => {
      complain(`reading input failed: ${error.message}`);
      finish(1);
    };
    options.input.on('data', onData);
    options.input.on('end', onEnd);
    options.input.on('error', onInputError);
    driver.start();
  });
}

function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
  const buffer = Buffer.from(text, 'base64');
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
