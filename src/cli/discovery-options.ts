import { InvalidArgumentError } from 'commander';
import { MdnsError } from '../mdns/mdns-error.js';
import { MdnsResponder } from '../mdns/responder.js';
import { defaultInterfaceAddress } from '../mdns/transport.js';
import { Logger, levelFromEnv } from '../base/logger.js';
import { UsageError } from './usage-error.js';

/** `--timeout <ms>`: a positive whole number of milliseconds. */
export function parseTimeoutMs(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive number of milliseconds');
  return n;
}

/**
 * Opens mDNS for a discovery command on `--interface` (or the first
 * non-loopback IPv4 interface). A bad interface is the user's input: exit 2.
 */
export async function openCliResponder(interfaceAddress: string | undefined): Promise<MdnsResponder> {
  try {
    const address = interfaceAddress ?? defaultInterfaceAddress();
    return await MdnsResponder.open({ interface: address, logger: new Logger({ level: levelFromEnv() }) });
  } catch (error) {
    if (error instanceof MdnsError && error.code === 'mdns-interface') throw new UsageError(`--interface: ${error.message}`);
    throw error;
  }
}

/** Resolves after `ms`, or at SIGINT/SIGTERM, whichever comes first. */
export function untilTimeoutOrSignal(ms: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
