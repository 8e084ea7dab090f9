/**
 * Run by disk-errors.test.ts inside a private mount namespace: opens the
 * history store (the default path, or argv[2]), optionally writes to it until
 * it fails ('fill'), and prints what happened as one JSON line.
 */
import { DiskError } from '../../src/base/disk-error.js';
import { HistoryStore } from '../../src/rooms/history-store.js';
import { RoomError } from '../../src/rooms/room-error.js';

const [, , pathArg, mode] = process.argv;
const path = pathArg === undefined || pathArg === 'default' ? undefined : pathArg;

function report(error: unknown): void {
  const cause = error instanceof Error ? error.cause : undefined;
  process.stdout.write(
    `${JSON.stringify({
      ok: false,
      roomError: error instanceof RoomError,
      code: (error as { code?: unknown }).code,
      message: error instanceof Error ? error.message : String(error),
      cause: cause instanceof DiskError ? { code: cause.code, path: cause.path, errno: cause.errno } : null,
    })}\n`,
  );
}

let store: HistoryStore | undefined;
try {
  store = HistoryStore.open(path === undefined ? {} : { path });
  if (mode === 'fill') {
    const text = 'x'.repeat(8192);
    for (let i = 0; i < 100_000; i++) store.add({ room: 'lunch', id: `m${i}`, sender: 'bob@desk', kind: 'normal', text, time: new Date(), outgoing: false });
  }
  process.stdout.write(`${JSON.stringify({ ok: true, path: store.path })}\n`);
} catch (error) {
  report(error);
} finally {
  try {
    store?.close();
  } catch {
    // a full disk may fail the final checkpoint too
  }
}
