import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A child process that prints one JSON event per line (clique's --json output, test peers). */
export interface JsonLinesProcess {
  label: string;
  child: ChildProcessWithoutNullStreams;
  /** Each stdout line parsed; a line that is not JSON becomes `{ event: 'text', line }`. */
  events: Array<Record<string, unknown>>;
  /** When each event line arrived (Date.now()), same index as events. */
  times: number[];
  stderr: string;
  exit: number | null | undefined;
}

/** Starts collecting a spawned child's JSON lines, stderr and exit code. */
export function followJsonLines(label: string, child: ChildProcessWithoutNullStreams): JsonLinesProcess {
  const proc: JsonLinesProcess = { label, child, events: [], times: [], stderr: '', exit: undefined };
  createInterface({ input: child.stdout }).on('line', (line) => {
    proc.times.push(Date.now());
    try {
      proc.events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      proc.events.push({ event: 'text', line });
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (proc.stderr += chunk));
  child.on('exit', (code) => (proc.exit = code));
  return proc;
}
