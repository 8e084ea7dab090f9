import { SeededRandom } from '../src/base/random.js';
import { SEND_WINDOW } from '../src/rmcast/engine-defaults.js';
import { RMulticastEngine } from '../src/rmcast/rmulticast-engine.js';

/**
 * `node build/bench/engine-cost.js`: the engine's own CPU per message on a
 * fixed workload, without sockets, timers or other processes: one sender and
 * two receivers in one process, every datagram handed to every engine (as
 * multicast loopback does), messages sent in bursts of 32 with virtual time moving
 * 0.25 ms between bursts. It
 * times the receivers' `receive` + `drain` and the sender's `send` + `drain`
 * + `receive` (its own echoes and the receivers' acknowledgements) apart, so
 * a change to the hot path shows in the engine's share alone, far less noisy
 * than the socket benchmark (`npm run bench -- --throughput`).
 *
 * Options: --runs N (default 5; the least is reported: interference only adds), --seed N.
 */
const argument = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const RUNS = argument('--runs', 5);
const SEED = argument('--seed', 20261128);
const BATCH = 32;
const STEP_MS = 0.25;

class Member {
  readonly inbox: Uint8Array[] = [];
  nanos = 0n;
  constructor(readonly engine: RMulticastEngine) {}
}

class Bench {
  readonly members: Member[];
  now = 0;

  constructor(seed: number) {
    const random = new SeededRandom(seed);
    this.members = ['sender', 'receiver1', 'receiver2'].map((name) => new Member(new RMulticastEngine({ name, random: random.fork() })));
  }

  get sender(): Member {
    return this.members[0]!;
  }

  /** Hand out everything produced until nobody produces more; time each member's receives. */
  route(): void {
    for (let busy = true; busy; ) {
      busy = false;
      for (const m of this.members) this.collect(m);
      for (const m of this.members) {
        if (m.inbox.length === 0) continue;
        busy = true;
        const inbox = m.inbox.splice(0);
        const t0 = process.hrtime.bigint();
        for (const d of inbox) {
          m.engine.receive(d, this.now);
          m.engine.drain().datagrams.forEach((out) => this.post(out));
        }
        m.nanos += process.hrtime.bigint() - t0;
      }
    }
  }

  post(datagram: Uint8Array): void {
    for (const m of this.members) m.inbox.push(datagram);
  }

  collect(m: Member): void {
    for (const d of m.engine.drain().datagrams) this.post(d);
  }

  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      let next = until;
      for (const m of this.members) {
        const d = m.engine.nextDeadline();
        if (d !== undefined && d < next) next = d;
      }
      this.now = Math.max(this.now, next);
      for (const m of this.members) {
        const d = m.engine.nextDeadline();
        if (d !== undefined && d <= this.now) {
          m.engine.tick(this.now);
          this.collect(m);
        }
      }
      this.route();
      if (next >= until) return;
    }
  }

  connect(): void {
    for (const m of this.members) m.engine.start(this.now);
    for (let i = 0; i < 60_000; i++) {
      this.advance(1);
      if (this.members.every((m) => m.engine.members.length === 2 && m.engine.stable)) return;
    }
    throw new Error('members did not see each other within 60 s virtual');
  }

  /** Send `count` messages of `size` bytes; per-message nanoseconds of the sender and of each receiver. */
  run(count: number, size: number): number[] {
    for (const m of this.members) m.nanos = 0n;
    const payload = new Uint8Array(size).fill(7);
    const sender = this.sender;
    for (let seq = 0; seq < count; ) {
      while (sender.engine.unacknowledgedPackets > SEND_WINDOW) this.advance(STEP_MS);
      const t0 = process.hrtime.bigint();
      for (const end = Math.min(count, seq + BATCH); seq < end; seq++) {
        sender.engine.send(1, payload, this.now);
        this.collect(sender);
      }
      sender.nanos += process.hrtime.bigint() - t0;
      this.advance(STEP_MS);
    }
    this.advance(50);
    return this.members.map((m) => Number(m.nanos) / count);
  }
}

function best(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[0]!;
}

const bench = new Bench(SEED);
bench.connect();
bench.run(20_000, 1000); // warm-up: JIT and heap settle
for (const [count, size] of [[20_000, 1000], [100_000, 64]] as const) {
  const runs = Array.from({ length: RUNS }, () => bench.run(count, size));
  const [sender, ...receivers] = [0, 1, 2].map((i) => best(runs.map((r) => r[i]!)));
  console.log(
    `${count} x ${size} B: engine ns per message (best of ${RUNS}): sender ${sender!.toFixed(0)}, ` +
      `receivers ${receivers.map((r) => r.toFixed(0)).join(' / ')}`,
  );
}
