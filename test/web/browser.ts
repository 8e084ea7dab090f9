import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { repoRoot } from '../support/cli-runner.js';

/**
 * Debian's chromium driven by playwright-core (nothing downloads a browser).
 * Tests skip, saying why, when it is missing; `.ci/run` installs it.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const noChromium: string | undefined = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`;

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const profiles: string[] = [];
const contexts: BrowserContext[] = [];

/** A browser of its own (fresh profile), like a second person's machine. */
export async function openBrowser(viewport = { width: 1200, height: 800 }): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'clq-chromium-'));
  profiles.push(profile);
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport });
  contexts.push(context);
  return context;
}

export async function closeBrowsers(): Promise<void> {
  for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
  for (const profile of profiles.splice(0)) rmSync(profile, { recursive: true, force: true });
}

/** `chromium --headless --dump-dom URL`, as the acceptance check runs it. */
export function dumpDom(url: string): Promise<{ code: number; stdout: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'clq-chromium-dump-'));
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM, [...CHROMIUM_ARGS, `--user-data-dir=${profile}`, '--dump-dom', url], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      rmSync(profile, { recursive: true, force: true });
      if (error && typeof error.code !== 'number') return reject(error);
      resolve({ code: error ? (error.code as number) : 0, stdout });
    });
  });
}

/** Builds the page's assets into dist/web/assets (where a run from source finds them). */
export function buildPage(): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['scripts/build-web.mjs'], { cwd: repoRoot }, (error, _stdout, stderr) => (error ? reject(new Error(`build:web failed: ${stderr}`)) : resolve()));
  });
}
