import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Testbed } from '../support/testbed.js';

/** A room member process (chat-member.ts, share-member.ts) on a testbed host, and what it printed. */
export interface Member {
  name: string;
  child: ChildProcessWithoutNullStreams;
  events: Array<Record<string, unknown>>;
  stderr: string[];
  say(text: string): void;
}

/** Starts chat-member.ts as `name` on `host`, in the room at group:port; adds it to `members`. */
export function startMember(bed: Testbed, host: number, name: string, where: { group: string; port: number; failureTimeoutMs: number }, members: Member[]): Member {
  return spawnMember(bed, host, name, 'chat-member.ts', [where.group, String(where.port), String(where.failureTimeoutMs)], members);
}

/**
 * Starts the member script `test/testbed/<script>` as `name` on `host`
 * (arguments NAME ADDRESS, then `args`), following the JSON lines it prints;
 * adds it to `members`.
 */
export function spawnMember(bed: Testbed, host: number, name: string, script: string, args: string[], members: Member[]): Member {
  const child = bed.spawn(host, process.execPath, ['--import', 'tsx', `test/testbed/${script}`, name, bed.address(host), ...args]);
  const member: Member = { name, child, events: [], stderr: [], say: (text) => child.stdin.write(`${text}\n`) };
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      member.events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      member.stderr.push(`stdout: ${line}`);
    }
  });
  createInterface({ input: child.stderr }).on('line', (line) => member.stderr.push(line));
  members.push(member);
  return member;
}

export const received = (m: Member): Array<Record<string, unknown>> => m.events.filter((e) => e['event'] === 'message');
export const texts = (m: Member): string[] => received(m).map((e) => String(e['text']));

/** Whether `m` has `other` in its room now, by the events it printed. */
export function sees(m: Member, other: string): boolean {
  let present = false;
  for (const e of m.events) {
    if (e['event'] === 'ready') present = (e['members'] as string[]).includes(other);
    if (e['event'] === 'member-joined' && e['member'] === other) present = true;
    if (e['event'] === 'member-left' && e['member'] === other) present = false;
  }
  return present;
}

export function describeMembers(members: readonly Member[]): string {
  return members.map((m) => `${m.name}: ${JSON.stringify(m.events.slice(-12))}\n  stderr: ${m.stderr.slice(-8).join('\n  ')}`).join('\n');
}
