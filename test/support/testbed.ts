import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * A private L2 testbed like ../shared/testbed/testbed-up.sh, under names of
 * this test run's own (so parallel runs and the shared cq-* testbed do not
 * meet): hosts `<prefix>-n1..N` with eth0 10.77.0.i/24 on a bridge in
 * `<prefix>-br`, multicast routed to eth0. Needs root and iproute2; the root
 * namespace is never touched, so nothing leaves through the real card.
 */
export interface Testbed {
  readonly hosts: number;
  address(host: number): string;
  /** Runs `command` inside host `host`'s namespace. */
  spawn(host: number, command: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcessWithoutNullStreams;
  /** Host `host`'s bridge port down: it hears nobody and nobody hears it (a silent cut). */
  cut(host: number): void;
  uncut(host: number): void;
  /**
   * Frames host `host` sends are dropped at the bridge with probability
   * `percent` %, independently for each receiver (nftables in the bridge's
   * namespace; this kernel has no netem). Needs `nft` (canLoseFrames).
   */
  loseFrom(host: number, percent: number): void;
  /** Frames the loseFrom rules dropped so far. */
  framesLost(): number;
  down(): void;
}

/** Whether `nft` is there for Testbed.loseFrom. */
export function canLoseFrames(): boolean {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function canRunTestbed(): boolean {
  if (process.getuid?.() !== 0) return false;
  // A container may give root without the right to make namespaces: try one.
  const probe = `cqt${process.pid}-probe`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function startTestbed(hosts: number): Testbed {
  const prefix = `cqt${process.pid}`;
  const bridge = `${prefix}-br`;
  const host = (i: number): string => `${prefix}-n${i}`;
  const ip = (...args: string[]): void => {
    execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const down = (): void => {
    for (let i = 1; i <= hosts; i++) killAll(host(i));
    for (const ns of [bridge, ...Array.from({ length: hosts }, (_, i) => host(i + 1))]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // not created
      }
    }
  };
  try {
    ip('netns', 'add', bridge);
    ip('-n', bridge, 'link', 'set', 'lo', 'up');
    ip('-n', bridge, 'link', 'add', 'br0', 'type', 'bridge');
    // No IGMP querier on this bridge: flood multicast rather than trust snooping.
    ip('-n', bridge, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0');
    ip('-n', bridge, 'link', 'set', 'br0', 'up');
    for (let i = 1; i <= hosts; i++) {
      const ns = host(i);
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `p${i}`);
      ip('-n', ns, 'link', 'set', `p${i}`, 'netns', bridge);
      ip('-n', bridge, 'link', 'set', `p${i}`, 'master', 'br0');
      ip('-n', bridge, 'link', 'set', `p${i}`, 'up');
      ip('-n', ns, 'addr', 'add', `10.77.0.${i}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0');
    }
  } catch (error) {
    down();
    throw error;
  }
  return {
    hosts,
    address: (i) => `10.77.0.${i}`,
    spawn: (i, command, args, env) => spawn('ip', ['netns', 'exec', host(i), command, ...args], { cwd: process.cwd(), env: env ?? process.env }),
    cut: (i) => ip('-n', bridge, 'link', 'set', `p${i}`, 'down'),
    uncut: (i) => ip('-n', bridge, 'link', 'set', `p${i}`, 'up'),
    loseFrom: (i, percent) => {
      const nft = (script: string): void => {
        execFileSync('ip', ['netns', 'exec', bridge, 'nft', '-f', '-'], { input: script, stdio: ['pipe', 'ignore', 'pipe'] });
      };
      nft('table bridge fault {\n  chain lossy { type filter hook forward priority 0; policy accept; }\n}\n');
      nft(`add rule bridge fault lossy iifname "p${i}" numgen random mod 100 < ${percent} counter drop\n`);
    },
    framesLost: () => {
      const listing = execFileSync('ip', ['netns', 'exec', bridge, 'nft', 'list', 'table', 'bridge', 'fault'], { encoding: 'utf8' });
      return [...listing.matchAll(/counter packets (\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    },
    down,
  };
}

function killAll(ns: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  } catch {
    // no such namespace
  }
}
