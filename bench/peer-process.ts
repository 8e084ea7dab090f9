import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromPeer, PeerSetup } from './bench-protocol.js';

/** The orchestrator's handle on one forked bench peer (bench/peer.ts) and its IPC inbox. */
const PEER_SCRIPT = fileURLToPath(new URL('./peer.js', import.meta.url));

export interface Peer {
  child: ChildProcess;
  name: string;
  inbox: FromPeer[];
  waiters: Array<() => void>;
}

export function startPeer(setup: PeerSetup): Peer {
  // BENCH_PEER_NODE_ARGS: extra node flags for every peer (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
  const extra = (process.env['BENCH_PEER_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  const child = fork(PEER_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...extra] });
  const peer: Peer = { child, name: setup.name, inbox: [], waiters: [] };
  child.on('message', (m) => {
    const message = m as FromPeer;
    if (message.kind === 'error') console.error(`peer ${message.name}: ${message.message}`);
    peer.inbox.push(message);
    for (const w of peer.waiters.splice(0)) w();
  });
  child.send(setup);
  return peer;
}

/** The first message of `kind` (removed from the inbox) that passes `accept`. */
export async function next<K extends FromPeer['kind']>(
  peer: Peer,
  kind: K,
  timeoutMs: number,
  accept: (message: Extract<FromPeer, { kind: K }>) => boolean = () => true,
): Promise<Extract<FromPeer, { kind: K }>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const index = peer.inbox.findIndex((m) => m.kind === kind && accept(m as Extract<FromPeer, { kind: K }>));
    if (index >= 0) return peer.inbox.splice(index, 1)[0] as Extract<FromPeer, { kind: K }>;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`peer ${peer.name}: no ${kind} within ${timeoutMs} ms`);
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, left);
      peer.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/** Ask each peer to stop; SIGKILL whoever has not exited after 5 s. */
export async function stopPeers(peers: Peer[]): Promise<void> {
  await Promise.all(
    peers.map((p) => new Promise<void>((resolve) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
      const t = setTimeout(() => { p.child.kill('SIGKILL'); resolve(); }, 5000);
      p.child.once('exit', () => { clearTimeout(t); resolve(); });
      if (p.child.connected) p.child.send({ cmd: 'stop' });
    })),
  );
}
