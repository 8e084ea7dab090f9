/** Two XEP-0174 peers on 127.0.0.1 and 127.0.0.2 with FileTransfers on each, for the files tests. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FileLink } from '../../src/files/file-transfer-types.js';
import { FileTransfers, type FileTransfersOptions } from '../../src/files/file-transfers.js';
import { StaticDirectory, startPeer, type TestPeer } from '../linklocal/xmpp-link-kit.js';

/** A messenger seen as the FileLink that LinkLocalService provides. */
export function fileLink(peer: TestPeer, directory: StaticDirectory): FileLink {
  return {
    name: peer.name,
    contacts: directory,
    interfaceAddress: peer.address,
    requestIq: (contact, request, options) => peer.link.requestIq(contact, request, options),
    handleIq: (handler) => peer.link.handleIq(handler),
    streamAddresses: (contact) => {
      for (const s of peer.link.streamsOf(contact)) {
        if (s.state === 'open' && s.localAddress !== undefined && s.remoteAddress !== undefined) return { local: s.localAddress, remote: s.remoteAddress };
      }
      return undefined;
    },
    holdStream: (contact) => peer.link.holdStream(contact),
  };
}

export interface Side {
  peer: TestPeer;
  files: FileTransfers;
  link: FileLink;
}

export class FileKit {
  private readonly cleanups: Array<() => Promise<void> | void> = [];
  readonly directory = new StaticDirectory();

  async side(name: string, address: string, options: FileTransfersOptions = {}): Promise<Side> {
    const peer = await startPeer(this.directory, name, address, { timeouts: { idleMs: 60_000 } });
    const link = fileLink(peer, this.directory);
    const files = await FileTransfers.start(link, options);
    this.cleanups.push(async () => {
      await files.close();
      await peer.link.stop();
    });
    return { peer, files, link };
  }

  dir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'clique-files-'));
    this.cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  /** A file of random bytes; returns its path and hex SHA-256. */
  file(name: string, size: number): { path: string; sha256: string; bytes: Buffer } {
    const bytes = randomBytes(size);
    const path = join(this.dir(), name);
    writeFileSync(path, bytes);
    return { path, sha256: sha256(bytes), bytes };
  }

  async close(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) await cleanup();
  }
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
