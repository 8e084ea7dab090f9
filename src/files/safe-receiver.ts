import { createHash, type Hash } from 'node:crypto';
import { link, open, rename, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { diskErrorCode } from '../base/disk-error.js';
import { clashName, sanitizeFileName } from './file-name.js';
import { FileTransferError } from './file-transfer-error.js';

/** Names tried on a clash before giving up (`name (1).ext` … `name (999).ext`). */
const MAX_CLASH_TRIES = 1000;
/** Space left free on the disk beyond the file itself, so a transfer never fills it to the last byte. */
export const FREE_SPACE_MARGIN_BYTES = 16 * 1024 * 1024;

export interface SafeReceiveOptions {
  /** Directory to receive into (must exist). */
  dir: string;
  /** The name the sender gave (sanitised here). */
  name: string;
  /** Declared size: more is refused, less fails at the end. */
  expectedSize?: number;
  /** Hex SHA-256 the content must have. */
  sha256?: string;
  /** Largest file taken at all. */
  maxBytes: number;
}

/**
 * One incoming file, written safely: into `<name>.part` (a fresh name, never
 * someone's file), counted against the declared size and the limit, hashed as
 * it arrives, and only when complete and verified linked under a final name
 * that did not exist (`name (1).ext` on a clash). Anything else removes the
 * part file, so a cut-off transfer never leaves a half file under the final name.
 */
export class SafeReceiver {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  private closed = false;

  private constructor(
    private readonly handle: FileHandle,
    /** Where the data goes until it is verified. */
    readonly partPath: string,
    private readonly options: SafeReceiveOptions,
    /** The sanitised name. */
    readonly name: string,
  ) {}

  /**
   * Checks the limit and free space, then creates the part file. Throws
   * FileTransferError 'file-too-large' / 'file-no-space', or a DiskError-like
   * system error when the directory cannot be written.
   */
  static async open(options: SafeReceiveOptions): Promise<SafeReceiver> {
    const { expectedSize, maxBytes } = options;
    if (expectedSize !== undefined && expectedSize > maxBytes) {
      throw new FileTransferError('file-too-large', `the file is ${expectedSize} bytes, more than the limit of ${maxBytes}`);
    }
    const fs = await statfs(options.dir);
    const free = Number(fs.bavail) * Number(fs.bsize);
    const needed = (expectedSize ?? 0) + FREE_SPACE_MARGIN_BYTES;
    if (free < needed) {
      throw new FileTransferError('file-no-space', `${options.dir} has ${free} bytes free; the file needs ${expectedSize ?? 0} (and a ${FREE_SPACE_MARGIN_BYTES}-byte margin)`);
    }
    const name = sanitizeFileName(options.name);
    for (let n = 0; n < MAX_CLASH_TRIES; n++) {
      const partPath = join(options.dir, `${clashName(name, n)}.part`);
      try {
        const handle = await open(partPath, 'wx', 0o600);
        return new SafeReceiver(handle, partPath, options, name);
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'EEXIST') throw error;
      }
    }
    throw new FileTransferError('file-no-space', `no free name for ${name} in ${options.dir}`);
  }

  /** Bytes written so far. */
  get received(): number {
    return this.bytes;
  }

  /** Appends a chunk; throws 'file-too-large' when it passes the declared size or the limit (the caller then aborts). */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.closed) throw new FileTransferError('file-cancelled', 'the transfer is already over');
    const total = this.bytes + chunk.length;
    const cap = this.options.expectedSize ?? this.options.maxBytes;
    if (total > cap) {
      throw new FileTransferError('file-too-large', this.options.expectedSize !== undefined
        ? `the sender sent more than the ${cap} bytes it declared`
        : `the file passes the limit of ${cap} bytes`);
    }
    this.hash.update(chunk);
    let offset = 0;
    try {
      while (offset < chunk.length) offset += (await this.handle.write(chunk, offset, chunk.length - offset, this.bytes + offset)).bytesWritten;
    } catch (error) {
      if (diskErrorCode(error) === 'disk-full') throw new FileTransferError('file-no-space', `the disk filled up while receiving ${this.name}`, { cause: error });
      throw error;
    }
    this.bytes = total;
  }

  /**
   * Checks the size and hash, then puts the file under its final name (never
   * replacing a file) and returns that path. On a failed check the part file
   * is removed and FileTransferError 'file-short' / 'file-hash-mismatch' thrown.
   */
  async finish(): Promise<string> {
    if (this.closed) throw new FileTransferError('file-cancelled', 'the transfer is already over');
    const expected = this.options.expectedSize;
    if (expected !== undefined && this.bytes !== expected) {
      await this.abort();
      throw new FileTransferError('file-short', `the transfer ended after ${this.bytes} of ${expected} bytes`);
    }
    const digest = this.hash.digest('hex');
    if (this.options.sha256 !== undefined && digest !== this.options.sha256.toLowerCase()) {
      await this.abort();
      throw new FileTransferError('file-hash-mismatch', `the SHA-256 of ${this.name} is ${digest}, the sender announced ${this.options.sha256}`);
    }
    this.closed = true;
    await this.handle.sync();
    await this.handle.close();
    try {
      return await this.place();
    } catch (error) {
      await unlink(this.partPath).catch(() => undefined);
      throw error;
    }
  }

  /** Gives up: closes and removes the part file. Safe to call more than once. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close().catch(() => undefined);
    await unlink(this.partPath).catch(() => undefined);
  }

  private async place(): Promise<string> {
    for (let n = 0; n < MAX_CLASH_TRIES; n++) {
      const finalPath = join(this.options.dir, clashName(this.name, n));
      try {
        // link() fails with EEXIST rather than replacing: nobody's file is ever overwritten.
        await link(this.partPath, finalPath);
        await unlink(this.partPath);
        return finalPath;
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (code === 'EEXIST') continue;
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw error;
        // File systems without hard links: reserve the name exclusively, then move over our own reservation.
        try {
          await (await open(finalPath, 'wx', 0o600)).close();
        } catch (reserveError) {
          if ((reserveError as { code?: unknown }).code === 'EEXIST') continue;
          throw reserveError;
        }
        await rename(this.partPath, finalPath);
        return finalPath;
      }
    }
    throw new FileTransferError('file-no-space', `no free name for ${this.name} in ${this.options.dir}`);
  }
}

