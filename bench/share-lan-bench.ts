import { createHash, randomBytes, randomInt } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { canRunTestbed, startTestbed, type Testbed } from '../test/support/testbed.js';
import { waitFor } from '../test/support/wait.js';
import { describeMembers, sees, spawnMember, type Member } from '../test/testbed/testbed-members.js';

/**
 * `node build/bench/share-lan-bench.js [--mb N] [--rates 100mbit,1gbit]`
 * (root: network namespaces; run from the project's root, the members are
 * `test/testbed/share-member.ts` under tsx).
 *
 * Issue 12's comparison where a LAN's wire, not one machine's CPU, is the
 * limit: four hosts on a bridge (`test/support/testbed.ts`), the sender's
 * link shaped to a LAN rate with a token bucket (this kernel has tbf, no
 * netem). One `share` puts the file on the sender's link once, and the bridge
 * floods it to the three members; three HTTP copies, one after the other, put
 * it there three times. On loopback (`share-bench.ts`) there is no wire and
 * the share is bound by per-datagram CPU instead. Nothing leaves the
 * namespaces.
 */
const MB = 1024 * 1024;

function argument(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] ?? fallback : fallback;
}

export interface LanShareFigures {
  rate: string;
  bytes: number;
  shareMs: number;
  httpMs: number;
  ratio: number;
  /** Bytes the sender's shaped link carried during the share (Ethernet frames: data, repairs, SESSIONs) / file size. */
  shareWireRatio: number;
  /** The same during the three HTTP copies. */
  httpWireRatio: number;
  /** Packets the token bucket dropped (queue over its latency) during the share and during the copies. */
  shareDrops: number;
  httpDrops: number;
  /** CPU seconds of the four member processes during the share / its wall time: near 2, this machine's cores are the limit, not the link. */
  shareCores: number;
  /** Busy CPU seconds of the whole machine (softirq forwarding, other work) during the share / its wall time. */
  machineCores: number;
}

/** Why the LAN bench cannot run here, or undefined when it can. */
export function lanSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces';
  if (!canRunTestbed()) return 'root, but network namespaces cannot be made here';
  try {
    execFileSync('tc', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'no tc (iproute2) to shape the link';
  }
  return undefined;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Runs `command args` in host `host` to its end; rejects with its stderr on failure. */
function runIn(bed: Testbed, host: number, command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = bed.spawn(host, command, args);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(' ')} in host ${host}: exit ${code}: ${err}`))));
  });
}

/** The sender's token bucket so far: bytes it passed to eth0 (Ethernet frames) and packets it dropped. */
async function linkStats(bed: Testbed): Promise<{ bytes: number; drops: number }> {
  const [tbf] = JSON.parse(await runIn(bed, 1, 'tc', ['-s', '-j', 'qdisc', 'show', 'dev', 'eth0'])) as Array<{ bytes: number; drops: number }>;
  return { bytes: tbf!.bytes, drops: tbf!.drops };
}

/** CPU seconds (user + system) of these processes so far: `ip netns exec` execs the command, so the child's pid is the member's. */
function cpuSeconds(members: readonly Member[]): number {
  let ticks = 0;
  for (const m of members) {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${m.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  // USER_HZ is 100 on Linux whatever the kernel's own tick rate.
  return ticks / 100;
}

/** Busy CPU seconds of the whole machine so far (all but idle and iowait in /proc/stat). */
function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal ...; guest time is already inside user.
  return ticks.slice(0, 8).reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + t!), 0) / 100;
}

/** A plain HTTP server of one file (Node's http), as a LocalSend-like sender would run. */
const SERVE = `
const http = require('node:http'); const fs = require('node:fs');
const [file, address] = process.argv.slice(1);
const size = fs.statSync(file).size;
const server = http.createServer((_req, res) => { res.writeHead(200, { 'content-length': String(size) }); fs.createReadStream(file).pipe(res); });
server.listen(0, address, () => console.log(server.address().port));
`;

/** One HTTP GET streamed to disk; prints its own milliseconds from request to the last byte written. */
const FETCH = `
const http = require('node:http'); const fs = require('node:fs'); const { pipeline } = require('node:stream/promises');
const [host, port, out] = process.argv.slice(1);
const started = performance.now();
http.get({ host, port: Number(port), path: '/file.bin' }, (res) => pipeline(res, fs.createWriteStream(out)).then(() => console.log(performance.now() - started), (e) => { console.error(e); process.exit(1); })).on('error', (e) => { console.error(e); process.exit(1); });
`;

export async function lanShareRun(rate: string, totalBytes: number): Promise<LanShareFigures> {
  const bed = startTestbed(4);
  const members: Member[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'clique-share-lan-'));
  let server: ReturnType<Testbed['spawn']> | undefined;
  try {
    // The sender's egress is the LAN: every byte it sends (one multicast copy, or each HTTP copy) crosses it.
    await runIn(bed, 1, 'tc', ['qdisc', 'add', 'dev', 'eth0', 'root', 'tbf', 'rate', rate, 'burst', '256kb', 'latency', '400ms']);
    const src = join(dir, 'file.bin');
    const bytes = randomBytes(totalBytes);
    writeFileSync(src, bytes);
    const group = `239.255.76.${randomInt(1, 254)}`;
    const port = randomInt(20000, 60000);
    const inDirs = [2, 3, 4].map((h) => mkdtempSync(join(dir, `in-${h}-`)));
    const sharer = spawnMember(bed, 1, 'ann@n1', 'share-member.ts', [group, String(port), '-'], members);
    [2, 3, 4].forEach((h, i) => spawnMember(bed, h, `member${h}@n${h}`, 'share-member.ts', [group, String(port), inDirs[i]!], members));
    await waitFor(() => `all four see each other\n${describeMembers(members)}`, () => members.every((m) => members.every((o) => o === m || sees(m, o.name))), 90_000);

    const done = (m: Member): Record<string, unknown> | undefined => m.events.find((e) => e['event'] === 'done');
    const before = await linkStats(bed);
    const cpuBefore = cpuSeconds(members);
    const machineBefore = machineBusySeconds();
    const started = performance.now();
    sharer.say(src);
    await waitFor(() => `every member done\n${describeMembers(members)}`, () => members.every((m) => done(m) !== undefined), 600_000);
    const shareMs = performance.now() - started;
    const shareCores = (cpuSeconds(members) - cpuBefore) / (shareMs / 1000);
    const machineCores = (machineBusySeconds() - machineBefore) / (shareMs / 1000);
    const afterShare = await linkStats(bed);
    const want = sha256(bytes);
    for (const [i, m] of members.slice(1).entries()) {
      if (done(m)?.['state'] !== 'received') throw new Error(`${m.name} did not receive the share: ${JSON.stringify(done(m))}`);
      if (sha256(readFileSync(join(inDirs[i]!, readdirSync(inDirs[i]!)[0]!))) !== want) throw new Error(`${m.name}: SHA-256 differs`);
    }
    for (const m of members) m.child.stdin.end();

    server = bed.spawn(1, process.execPath, ['-e', SERVE, src, bed.address(1)]);
    const httpPort = await new Promise<string>((resolve, reject) => {
      server!.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
      server!.once('exit', (code) => reject(new Error(`HTTP server exited ${code}`)));
    });
    let httpMs = 0;
    for (const h of [2, 3, 4]) {
      const out = join(dir, `http-${h}.bin`);
      httpMs += Number(await runIn(bed, h, process.execPath, ['-e', FETCH, bed.address(1), httpPort, out]));
      if (sha256(readFileSync(out)) !== want) throw new Error(`HTTP copy ${h}: SHA-256 differs`);
    }
    const afterHttp = await linkStats(bed);
    return {
      rate,
      bytes: totalBytes,
      shareMs,
      httpMs,
      ratio: shareMs / httpMs,
      // The members' goodbyes after the share count toward the copies' bytes: a few datagrams against 300 MB.
      shareWireRatio: (afterShare.bytes - before.bytes) / totalBytes,
      httpWireRatio: (afterHttp.bytes - afterShare.bytes) / totalBytes,
      shareDrops: afterShare.drops - before.drops,
      httpDrops: afterHttp.drops - afterShare.drops,
      shareCores,
      machineCores,
    };
  } finally {
    server?.kill('SIGKILL');
    for (const m of members) m.child.kill('SIGKILL');
    bed.down();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One run's lines, as both `npm run bench` and the standalone run print them. */
export function describeLanRun(f: LanShareFigures): string {
  return (
    `room share over a ${f.rate} LAN (4 hosts on a bridge, the sender's link shaped; real processes), ${f.bytes / MB} MB to 3 members: ` +
    `${(f.shareMs / 1000).toFixed(1)} s shared once, ${(f.httpMs / 1000).toFixed(1)} s as 3 HTTP copies one after the other\n` +
    `  the sender's link carried ${f.shareWireRatio.toFixed(3)}x the file for the share (${f.shareDrops} packets dropped by its token bucket), ` +
    `${f.httpWireRatio.toFixed(3)}x for the copies (${f.httpDrops} dropped); during the share the members used ${f.shareCores.toFixed(2)} cores, the machine ${f.machineCores.toFixed(2)} of its ${availableParallelism()}\n` +
    `share_lan_${f.rate}_vs_3_http=${f.ratio.toFixed(3)} share_lan_${f.rate}_wire_ratio=${f.shareWireRatio.toFixed(3)}`
  );
}

// `node build/bench/share-lan-bench.js`: these lines alone.
if (process.argv[1]?.endsWith('share-lan-bench.js')) {
  const skip = lanSkipReason();
  if (skip !== undefined) {
    console.log(`share over a shaped LAN: skipped (${skip})`);
    process.exit(0);
  }
  const mb = Number(argument('--mb', '100'));
  for (const rate of argument('--rates', '100mbit,1gbit').split(',')) console.log(describeLanRun(await lanShareRun(rate, mb * MB)));
  process.exit(0);
}
