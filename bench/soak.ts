import { fork, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { Clique } from '../src/rooms/clique.js';
import { RMulticastEngine } from '../src/rmcast/rmulticast-engine.js';
import { RecentIds } from '../src/rooms/recent-ids.js';

/**
 * `npm run soak -- [options]`: 3 room members (each its own process, HOME,
 * XDG dirs and history file, pinned to 127.0.0.1) chat at a total rate for a
 * while; every sample interval each reports its memory (process.memoryUsage,
 * heapUsed after a forced GC, V8 spaces) and the engine's and room's sizes.
 * Run it ONLY inside a private network namespace:
 *
 *   unshare -n sh -c 'ip link set lo up && node build/bench/soak.js --seconds 120'
 *
 * Options: --members N (3) --rate MSG_PER_S total (93) --max-body BYTES (10240)
 * --min-body BYTES (1) --seconds S (120) --sample S (10) --snapshot-at S,S
 * (heap snapshots of member 0 at those seconds, written to --out DIR), --records yes
 * (print each member's sender records: cache size and pointers), --flat-ids yes
 * (experiment: store flat copies of message ids in the room's RecentIds).
 */
const SCRIPT = fileURLToPath(import.meta.url);

interface SoakOptions {
  members: number;
  rate: number;
  minBody: number;
  maxBody: number;
  seconds: number;
  sample: number;
  snapshotAt: number[];
  out: string;
  flatIds: boolean;
}

interface MemberSetup {
  index: number;
  name: string;
  address: string;
  port: number;
  historyPath: string;
  options: SoakOptions;
}

interface Sample {
  kind: 'sample';
  index: number;
  t: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** heapUsed right after global.gc(): the live data. */
  liveHeap: number;
  /** Old space committed (what V8 keeps after a GC high-water mark). */
  oldSpace: number;
  sent: number;
  received: number;
  duplicates: number;
  /** Engine footprint. */
  senderRecords: number;
  cacheEntries: number;
  cachedBytes: number;
  unacked: number;
  timers: number;
  memberRecords: number;
  /** Room internals (private fields, read for diagnostics only). */
  recentIds: number;
  sendQueue: number;
  unheard: number;
  readers: number;
  /** Sends that failed (queue-full and the like). */
  sendErrors: number;
  /** Per sender record: name, state, cache size, pointers (engine internals). */
  records: string;
}

type FromMember = Sample | { kind: 'ready'; index: number } | { kind: 'drained'; index: number } | { kind: 'done'; index: number; receivedFrom: Record<string, number>; sent: number } | { kind: 'snapshot'; index: number; file: string };
type ToMember = { cmd: 'go' } | { cmd: 'stop' } | { cmd: 'snapshot'; file: string } | { cmd: 'finish' } | { cmd: 'exit' };

function parseOptions(argv: string[]): SoakOptions {
  const options: SoakOptions = { members: 3, rate: 93, minBody: 1, maxBody: 10_240, seconds: 120, sample: 10, snapshotAt: [], out: '', flatIds: false };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i];
    const value = argv[i + 1] ?? '';
    switch (key) {
      case '--members': options.members = Number(value); break;
      case '--rate': options.rate = Number(value); break;
      case '--min-body': options.minBody = Number(value); break;
      case '--max-body': options.maxBody = Number(value); break;
      case '--seconds': options.seconds = Number(value); break;
      case '--sample': options.sample = Number(value); break;
      case '--snapshot-at': options.snapshotAt = value.split(',').map(Number); break;
      case '--out': options.out = value; break;
      case '--flat-ids': options.flatIds = value === 'yes'; break;
      case '--records': verbose = value === 'yes'; break;
      default: throw new Error(`unknown option ${key}`);
    }
  }
  return options;
}

// ---------------------------------------------------------------- member process

/**
 * `--flat-ids yes`: an experiment, not a fix. RecentIds keys are built from
 * the message id, a V8 sliced string into the whole decoded stanza; copying
 * the key into a flat string before storing it lets the stanza be collected.
 */
function flattenRecentIds(): void {
  const add = RecentIds.prototype.add;
  RecentIds.prototype.add = function flatAdd(this: RecentIds, sender: string, id: string): boolean {
    return add.call(this, Buffer.from(sender, 'utf8').toString('utf8'), Buffer.from(id, 'utf8').toString('utf8'));
  };
}

/** Engines created in this process (the room API does not expose its engine). */
const engines: RMulticastEngine[] = [];
const originalStart = RMulticastEngine.prototype.start;
RMulticastEngine.prototype.start = function start(this: RMulticastEngine, now: number): void {
  if (!engines.includes(this)) engines.push(this);
  originalStart.call(this, now);
};

interface RecordInternals {
  id: number;
  name: string | undefined;
  state: number;
  isOwn: boolean;
  cache: { size: number };
  firstPacket: number;
  nextInput: number;
  nextOutput: number;
  stableUpTo: number;
}

/** The engine's sender table (private; read for diagnostics only). */
function describeRecords(engine: RMulticastEngine | undefined): string {
  const table = (engine as unknown as { table?: { records: Map<number, RecordInternals>; pendingRemoval: Map<number, RecordInternals> } } | undefined)?.table;
  if (table === undefined) return '';
  const describe = (r: RecordInternals, pending: boolean): string =>
    `${r.name ?? r.id.toString(16)}${r.isOwn ? '*' : ''}${pending ? '(gone)' : ''} st${r.state} cache=${r.cache.size} first=${r.firstPacket} in=${r.nextInput} out=${r.nextOutput} stable=${r.stableUpTo}`;
  return [...[...table.records.values()].map((r) => describe(r, false)), ...[...table.pendingRemoval.values()].map((r) => describe(r, true))].join('; ');
}

interface RoomInternals {
  core: { queued: number; unheard: { size: number }; inbound: { recentIds: { seen: Set<string> } } };
  readers: Set<unknown>;
}

function sendToParent(message: FromMember): void {
  process.send?.(message);
}

function body(size: number, seq: number): string {
  const head = `#${seq} `;
  return head + 'x'.repeat(Math.max(0, size - head.length));
}

async function runMember(setup: MemberSetup): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (setup.options.flatIds) flattenRecentIds();
  const clique = await Clique.start({
    name: setup.name, interface: '127.0.0.1', presence: false, discovery: false,
    history: { path: setup.historyPath },
  });
  const room = await clique.join('soak', { address: setup.address, port: setup.port, advertise: false, joinWaitMs: 3000 });
  const internals = room as unknown as RoomInternals;
  const receivedFrom: Record<string, number> = {};
  const seen = new Set<string>();
  let received = 0;
  let duplicates = 0;
  let sent = 0;
  let sendErrors = 0;
  room.on('message', (m) => {
    if (m.outgoing) return;
    const key = `${m.sender} ${m.text.slice(0, m.text.indexOf(' '))}`;
    if (seen.has(key)) duplicates++;
    seen.add(key);
    received++;
    receivedFrom[m.sender] = (receivedFrom[m.sender] ?? 0) + 1;
  });
  // Start chatting only once everybody is in the view (lines said during a view change may miss a newcomer).
  await room.waitForMembers(setup.options.members - 1, { timeoutMs: 60_000 });
  // The view settles after a quiet gathering period (about 5 s, spec timing gatheringQuiet).
  for (let stableFor = 0, waited = 0; stableFor < 60 && waited < 300; waited++) {
    await new Promise((r) => setTimeout(r, 100));
    stableFor = engines[engines.length - 1]?.stable === true ? stableFor + 1 : 0;
  }
  sendToParent({ kind: 'ready', index: setup.index });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));

  const start = Date.now();
  const { rate, minBody, maxBody, members } = setup.options;
  const intervalMs = (1000 * members) / rate;
  let sending = true;
  const pending = new Set<Promise<unknown>>();
  const sendLoop = (async () => {
    let next = Date.now();
    while (sending) {
      next += intervalMs;
      const p = room.send(body(randomInt(minBody, maxBody + 1), sent++)).catch(() => { sendErrors++; });
      pending.add(p);
      void p.finally(() => pending.delete(p));
      const wait = next - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      else await new Promise((r) => setImmediate(r));
    }
  })();

  const sample = (): void => {
    const before = process.memoryUsage();
    gc?.();
    const after = process.memoryUsage();
    const old = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
    const engine = engines[engines.length - 1];
    const fp = engine?.footprint;
    sendToParent({
      kind: 'sample', index: setup.index, t: Math.round((Date.now() - start) / 1000),
      rss: before.rss, heapUsed: before.heapUsed, heapTotal: before.heapTotal, external: before.external, arrayBuffers: before.arrayBuffers,
      liveHeap: after.heapUsed, oldSpace: old?.space_size ?? 0,
      sent, received, duplicates,
      senderRecords: fp?.senderRecords ?? 0, cacheEntries: fp?.cacheEntries ?? 0, cachedBytes: fp?.cachedBytes ?? 0,
      unacked: engine?.unacknowledgedPackets ?? 0, timers: fp?.timers ?? 0, memberRecords: fp?.memberRecords ?? 0,
      recentIds: internals.core.inbound.recentIds.seen.size, sendQueue: internals.core.queued, unheard: internals.core.unheard.size,
      readers: internals.readers.size, sendErrors, records: describeRecords(engine),
    });
  };
  const sampler = setInterval(sample, setup.options.sample * 1000);
  const commandArrived = (cmd: ToMember['cmd']): Promise<void> =>
    new Promise((resolve) => process.on('message', (m) => { if ((m as ToMember).cmd === cmd) resolve(); }));
  process.on('message', (m) => {
    const command = m as ToMember;
    if (command.cmd === 'snapshot') {
      gc?.();
      sendToParent({ kind: 'snapshot', index: setup.index, file: writeHeapSnapshot(command.file) });
    } else if (command.cmd === 'stop') {
      sending = false;
    }
  });
  while (sending) await new Promise((r) => setTimeout(r, 100));
  await sendLoop;
  clearInterval(sampler);
  await Promise.allSettled([...pending]);
  await room.flush({ acknowledged: true, timeoutMs: 20_000 }).catch(() => undefined);
  // Nobody leaves before everybody has sent everything (a BYE starts a view change that holds sends).
  sendToParent({ kind: 'drained', index: setup.index });
  await commandArrived('finish');
  // Let the others' last messages arrive: until nothing new for 5 s (at most 60 s).
  for (let quiet = 0, last = -1, waited = 0; quiet < 5 && waited < 60; waited++) {
    await new Promise((r) => setTimeout(r, 1000));
    quiet = received === last ? quiet + 1 : 0;
    last = received;
  }
  sample();
  sendToParent({ kind: 'done', index: setup.index, receivedFrom, sent });
  await commandArrived('exit');
  await clique.stop();
  process.exit(0);
}

// ---------------------------------------------------------------- coordinator

const MB = 1024 * 1024;
const mb = (n: number): string => (n / MB).toFixed(1);

function printSample(s: Sample): void {
  console.log([
    String(s.t).padStart(4), String(s.index).padStart(2),
    mb(s.rss).padStart(6), mb(s.heapTotal).padStart(6), mb(s.heapUsed).padStart(6), mb(s.liveHeap).padStart(6), mb(s.oldSpace).padStart(6),
    mb(s.external).padStart(6), mb(s.arrayBuffers).padStart(6),
    String(s.sent).padStart(7), String(s.received).padStart(7), String(s.duplicates).padStart(4),
    String(s.senderRecords).padStart(3), String(s.cacheEntries).padStart(5), mb(s.cachedBytes).padStart(6), String(s.unacked).padStart(4),
    String(s.timers).padStart(5), String(s.recentIds).padStart(5), String(s.sendQueue).padStart(5), String(s.sendErrors).padStart(5),
  ].join(' '));
  if (verbose) console.log(`       m${s.index} records: ${s.records}`);
}

let verbose = false;

const HEADER = '   t  m    rss heapTo heapUs  live   old    ext  arrBuf    sent    recv  dup snd cache  cacheMB ack timers recent queue sErr';

async function coordinate(options: SoakOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'clique-soak-'));
  const out = options.out || dir;
  const address = `239.255.${randomInt(1, 255)}.${randomInt(1, 255)}`;
  const port = randomInt(20_000, 60_000);
  console.log(`soak: ${options.members} members, ${options.rate} msg/s total, bodies ${options.minBody}-${options.maxBody} B, ${options.seconds} s, group ${address}:${port}, dir ${dir}`);
  const children: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  const done: Promise<Extract<FromMember, { kind: 'done' }>>[] = [];
  const drained: Promise<void>[] = [];
  for (let index = 0; index < options.members; index++) {
    const home = join(dir, `m${index}`);
    mkdirSync(join(home, 'data'), { recursive: true });
    mkdirSync(join(home, 'run'), { recursive: true, mode: 0o700 });
    const setup: MemberSetup = { index, name: `m${index}@soak`, address, port, historyPath: join(home, 'history.sqlite'), options };
    const child = fork(SCRIPT, ['--member', JSON.stringify(setup)], {
      execArgv: ['--expose-gc'],
      env: { ...process.env, HOME: home, XDG_DATA_HOME: join(home, 'data'), XDG_RUNTIME_DIR: join(home, 'run'), XDG_CONFIG_HOME: join(home, 'config') },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    ready.push(new Promise((resolve) => child.on('message', (m) => { if ((m as FromMember).kind === 'ready') resolve(); })));
    drained.push(new Promise((resolve) => child.on('message', (m) => { if ((m as FromMember).kind === 'drained') resolve(); })));
    done.push(new Promise((resolve) => child.on('message', (m) => { const f = m as FromMember; if (f.kind === 'done') resolve(f); })));
    child.on('message', (m) => {
      const f = m as FromMember;
      if (f.kind === 'sample') printSample(f);
      if (f.kind === 'snapshot') console.log(`snapshot of member ${f.index}: ${f.file}`);
    });
    // Staggered joins: the first one creates the group.
    await new Promise((r) => setTimeout(r, 500));
  }
  await Promise.all(ready);
  console.log(HEADER);
  for (const child of children) child.send({ cmd: 'go' } satisfies ToMember);
  const timers = options.snapshotAt.map((at, i) => setTimeout(() => {
    children[0]?.send({ cmd: 'snapshot', file: join(out, `m0-${i}-${at}s.heapsnapshot`) } satisfies ToMember);
  }, at * 1000));
  await new Promise((r) => setTimeout(r, options.seconds * 1000));
  timers.forEach(clearTimeout);
  for (const child of children) child.send({ cmd: 'stop' } satisfies ToMember);
  await Promise.all(drained);
  for (const child of children) child.send({ cmd: 'finish' } satisfies ToMember);
  const reports = await Promise.all(done);
  for (const child of children) child.send({ cmd: 'exit' } satisfies ToMember);
  let ok = true;
  for (const report of reports) {
    for (const other of reports) {
      if (other.index === report.index) continue;
      const got = report.receivedFrom[`m${other.index}@soak`] ?? 0;
      if (got !== other.sent) ok = false;
      console.log(`member ${report.index} received ${got} of ${other.sent} from member ${other.index}`);
    }
  }
  console.log(ok ? 'SOAK delivery: every message exactly once' : 'SOAK delivery: MISMATCH');
  if (options.out === '' && options.snapshotAt.length === 0) rmSync(dir, { recursive: true, force: true });
}

if (process.argv[2] === '--member') {
  runMember(JSON.parse(process.argv[3] ?? '{}') as MemberSetup).catch((error: unknown) => {
    console.error('member failed:', error);
    process.exit(1);
  });
} else {
  await coordinate(parseOptions(process.argv.slice(2)));
}
