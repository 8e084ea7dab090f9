import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: spawned CLI processes run from here. */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** argv prefix that runs the CLI from source (tsx), as a child of this Node. */
export const CLI_ARGS = ['--import', 'tsx', 'src/cli/main.ts'];

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `clique ...args` to completion and collect its exit status and output. */
export function runClique(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...CLI_ARGS, ...args],
      { cwd: repoRoot, timeout: options.timeoutMs ?? 60_000, env: { ...process.env, NO_COLOR: '1', ...options.env } },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error);
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}
