/**
 * Helpers for the XEP-0174 tests: a static contact directory, peers bound to
 * distinct loopback addresses (so that identification by source address is
 * meaningful), a raw TCP peer for hostile or iChat-like behaviour, and waiting
 * on conditions (never on wall-clock thresholds).
 */
import net from 'node:net';
import type { Contact, ContactDirectory } from '../../src/linklocal/contact.js';
import { LinkLocalMessenger, type ChatMessageEvent, type InvitationEvent, type LinkLocalMessengerOptions, type StreamEvent } from '../../src/linklocal/link-local-messenger.js';
import { normalizeAddress } from '../../src/linklocal/tcp-connect.js';
import { Logger, type LogRecord } from '../../src/base/logger.js';
import { sleep, waitFor } from '../support/wait.js';

export class StaticDirectory implements ContactDirectory {
  private readonly contacts = new Map<string, Contact>();

  add(name: string, address: string, port: number): Contact {
    const contact: Contact = { name, addresses: [address], port, status: 'avail', txt: {} };
    this.contacts.set(name, contact);
    return contact;
  }

  get(name: string): Contact | undefined {
    return this.contacts.get(name);
  }

  findByAddress(address: string): Contact | undefined {
    const wanted = normalizeAddress(address);
    return [...this.contacts.values()].find((c) => c.addresses.includes(wanted));
  }

  list(): Contact[] {
    return [...this.contacts.values()];
  }
}

/** Everything one peer received, for assertions. */
export class TestPeer {
  readonly messages: ChatMessageEvent[] = [];
  readonly invitations: InvitationEvent[] = [];
  readonly opened: StreamEvent[] = [];
  readonly closed: StreamEvent[] = [];

  constructor(
    readonly name: string,
    readonly address: string,
    readonly link: LinkLocalMessenger,
    readonly logs: LogRecord[] = [],
  ) {
    link.on('message', (m) => this.messages.push(m));
    link.on('invitation', (i) => this.invitations.push(i));
    link.on('stream-opened', (e) => this.opened.push(e));
    link.on('stream-closed', (e) => this.closed.push(e));
  }

  get port(): number {
    return this.link.port ?? 0;
  }

  texts(from?: string): string[] {
    return this.messages.filter((m) => from === undefined || m.from === from).map((m) => m.text);
  }
}

export type PeerOptions = Partial<Omit<LinkLocalMessengerOptions, 'selfName' | 'contacts' | 'bindAddress' | 'port'>>;

/** Starts a messenger on `address` (any free port) and registers it in the directory. CLIQUE_LOG=debug prints its log. */
export async function startPeer(directory: StaticDirectory, name: string, address: string, options: PeerOptions = {}): Promise<TestPeer> {
  const logs: LogRecord[] = [];
  const echo = process.env['CLIQUE_LOG'] === 'debug';
  const logger = new Logger({
    level: 'debug',
    scope: name,
    sink: (record) => {
      logs.push(record);
      if (logs.length > 5000) logs.shift();
      if (echo) process.stderr.write(`${record.level} [${record.scope}] ${record.message} ${JSON.stringify(record.fields ?? {})}\n`);
    },
  });
  const link = new LinkLocalMessenger({ selfName: name, contacts: directory, bindAddress: address, port: 0, logger, ...options });
  const { port } = await link.start();
  directory.add(name, address, port);
  return new TestPeer(name, address, link, logs);
}

/** A hand-driven TCP peer: connects (or is accepted), writes raw bytes, records what it receives. */
export class RawPeer {
  received = Buffer.alloc(0);
  closed = false;
  private readonly closedPromise: Promise<void>;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
    });
    socket.on('error', () => undefined);
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        resolve();
      }),
    );
  }

  static connect(port: number, host: string, localAddress?: string): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, ...(localAddress !== undefined ? { localAddress } : {}) });
      socket.once('connect', () => resolve(new RawPeer(socket)));
      socket.once('error', reject);
    });
  }

  get text(): string {
    return this.received.toString('utf8');
  }

  write(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed || !this.socket.writable) {
        resolve();
        return;
      }
      this.socket.write(data, () => resolve());
    });
  }

  async waitForText(fragment: string, timeoutMs?: number): Promise<void> {
    await waitFor(() => `raw peer to receive ${JSON.stringify(fragment)} (got ${JSON.stringify(this.text.slice(-300))})`, () => this.text.includes(fragment), timeoutMs);
  }

  waitClosed(timeoutMs = 15_000): Promise<void> {
    return Promise.race([
      this.closedPromise,
      sleep(timeoutMs).then(() => {
        throw new Error('raw peer connection was not closed by the other side');
      }),
    ]);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A TCP server standing in for a contact; hands each accepted connection over as a RawPeer. */
export async function rawServer(host: string): Promise<{ port: number; accepted: RawPeer[]; close(): Promise<void> }> {
  const accepted: RawPeer[] = [];
  const server = net.createServer((socket) => accepted.push(new RawPeer(socket)));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    accepted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const peer of accepted) peer.destroy();
        server.close(() => resolve());
      }),
  };
}

export const STREAM_NS = "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'";
export const DECLARATION = "<?xml version='1.0' encoding='UTF-8'?>";

/** What an initiator sends first, optionally without from/to (iChat). */
export function header(from?: string, to?: string): string {
  const attrs = `${to !== undefined ? ` to="${to}"` : ''}${from !== undefined ? ` from="${from}"` : ''}`;
  return `${DECLARATION}<stream:stream ${STREAM_NS}${attrs} version="1.0">`;
}
