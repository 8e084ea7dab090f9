import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { sanitizeFileName } from '../files/file-name.js';
import { WebError } from './web-error.js';

/**
 * Where the page's files go and come from. A file the person picks in the
 * browser is streamed up (POST /upload) into `uploadDir` (private, made by
 * `clique web`), and the service offers it from there; the page may offer no
 * other path. A file accepted from the page lands in `downloadDir`, whatever
 * directory the page names.
 */
export interface WebFiles {
  uploadDir: string;
  downloadDir: string;
  /** Bytes one upload may take (default 4 GiB). */
  maxUploadBytes?: number;
}

export const DEFAULT_MAX_UPLOAD_BYTES = 4 * 1024 ** 3;

/** Streams one upload to `<uploadDir>/<random>/<sanitised name>`; resolves with its path. Throws WebError 'upload-refused'. */
export async function receiveUpload(req: IncomingMessage, files: WebFiles): Promise<string> {
  const header = req.headers['x-file-name'];
  let name: string;
  try {
    name = sanitizeFileName(decodeURIComponent(typeof header === 'string' ? header : ''));
  } catch {
    throw new WebError('upload-refused', 'X-File-Name must be a URI-encoded file name');
  }
  const limit = files.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw new WebError('upload-refused', `the file is larger than ${limit} bytes`);
  const dir = join(files.uploadDir, randomBytes(12).toString('hex'));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, name);
  let seen = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen > limit) return done(new WebError('upload-refused', `the file is larger than ${limit} bytes`));
      done(null, chunk);
    },
  });
  try {
    await pipeline(req, cap, createWriteStream(path, { flags: 'wx', mode: 0o600 }));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error instanceof WebError ? error : new WebError('upload-refused', 'the upload broke off');
  }
  return path;
}

/** Whether `path` is a file the page uploaded (inside uploadDir, after resolving `..`). */
export function isUploaded(path: string, files: WebFiles): boolean {
  const root = resolve(files.uploadDir) + sep;
  return resolve(path).startsWith(root);
}
