import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * People for the terminal tests: each gets its own HOME, XDG_RUNTIME_DIR and
 * XDG_DATA_HOME under a test directory (so `clique join` starts a service of
 * its own) on 127.0.0.1; `stopServices` runs `clique down` for each after.
 */
export const ROOT = resolve(import.meta.dirname, '../..');
const homes = new Set<string>();

function envOf(home: string): Record<string, string> {
  return { HOME: join(home, 'home'), XDG_RUNTIME_DIR: join(home, 'run'), XDG_DATA_HOME: join(home, 'data'), CLIQUE_INTERFACE: '127.0.0.1' };
}

export function personEnv(dir: string, who: string): Record<string, string> {
  const home = join(dir, who);
  for (const d of ['home', 'run', 'data']) mkdirSync(join(home, d), { recursive: true, mode: 0o700 });
  homes.add(home);
  return envOf(home);
}

export function stopServices(): void {
  for (const home of homes) {
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'down'], { cwd: ROOT, env: { ...process.env, ...envOf(home) }, stdio: 'ignore', timeout: 30_000 });
    } catch {
      // Not running (or already gone): nothing to stop.
    }
  }
  homes.clear();
}
