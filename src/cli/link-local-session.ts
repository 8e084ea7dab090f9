import { InvalidArgumentError } from 'commander';
import { levelFromEnv, Logger } from '../base/logger.js';
import type { Contact, PresenceStatus } from '../linklocal/contact.js';
import { LinkLocalService } from '../linklocal/link-local-service.js';
import { MdnsError } from '../mdns/mdns-error.js';
import { printable } from './terminal-text.js';
import { UsageError } from './usage-error.js';

/** Options shared by `say`, `invite` and `online`. */
export interface PresenceCliOptions {
  interface?: string;
  name?: string;
  nick?: string;
  status?: PresenceStatus;
  message?: string;
  /** TCP listener port; undefined = 5298, else 5299, else any. */
  tcpPort?: number;
}

/**
 * Comes online for a CLI command. The user's own mistakes (an unknown
 * interface, a name that cannot be published) are usage errors (exit 2).
 */
export async function startCliService(options: PresenceCliOptions): Promise<LinkLocalService> {
  try {
    return await LinkLocalService.start({
      ...(options.name !== undefined ? { name: options.name, rename: false } : {}),
      ...(options.nick !== undefined ? { nick: options.nick } : {}),
      ...(options.status !== undefined ? { status: options.status } : {}),
      ...(options.message !== undefined ? { message: options.message } : {}),
      ...(options.interface !== undefined ? { interface: options.interface } : {}),
      ...(options.tcpPort !== undefined ? { port: options.tcpPort } : {}),
      logger: new Logger({ level: levelFromEnv() }),
    });
  } catch (error) {
    if (error instanceof MdnsError && error.code === 'mdns-interface') throw new UsageError(`--interface: ${error.message}`);
    if (error instanceof MdnsError && error.code === 'mdns-name') throw new UsageError(`--name: ${error.message}`);
    throw error;
  }
}

/** `--tcp-port`: 0 (any free port) or 1..65535. */
export function parseTcpPort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('not a port number (0 = any, or 1-65535)');
  return port;
}

/** `239.255.71.23:40123`, `[ff02::1]:40123`. */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The contact object of `clique contacts --json`. */
export function contactJson(c: Contact): Record<string, unknown> {
  return { name: c.name, alias: c.alias ?? null, status: c.status, message: c.message ?? null, addresses: c.addresses, port: c.port, txt: { ...c.txt } };
}

/** The contact line of `clique contacts`. */
export function contactLine(c: Pick<Contact, 'name' | 'alias' | 'status' | 'message' | 'addresses' | 'port'>): string {
  const where = hostPort(c.addresses[0] ?? '?', c.port);
  const alias = c.alias !== undefined ? ` (${printable(c.alias)})` : '';
  const message = c.message !== undefined ? ` "${printable(c.message)}"` : '';
  return `${printable(c.name)}${alias}  ${c.status}${message}  ${where}`;
}

export function writeLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** One JSON object per line (the shared safe writer). */
export { writeJsonLine as writeJson } from './json-output.js';
