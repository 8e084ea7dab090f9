import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { README_EXAMPLES, readmeExampleTests } from '../support/readme-examples.js';
import { repoRoot } from '../support/cli-runner.js';

/**
 * The package as a user gets it: `npm pack` (its prepack builds dist once),
 * then installed from the tarball into an empty project and imported by
 * name, and a global install checked to be quiet. Installs come from npm's
 * local cache (--prefer-offline); they skip better-sqlite3's native build
 * (--ignore-scripts: importing does not load the addon) or only plan
 * (--dry-run, which prints npm's install-script advisory all the same).
 */
const run = promisify(execFile);
let dir: string;
let tarball: string;

async function npm(args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  return await run('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'warn'], { cwd, timeout: 240_000, env: { ...process.env, NO_COLOR: '1' } });
}

function emptyProject(name: string, extra: Record<string, unknown> = {}): string {
  const project = join(dir, name);
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module', ...extra }, null, 2));
  return project;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'clique-pack-'));
  const { stdout } = await npm(['pack', '--pack-destination', dir], repoRoot);
  tarball = join(dir, stdout.trim().split('\n').at(-1)!);
}, 240_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the packed package', () => {
  it('has a LICENSE, exports with types, and no script of its own that runs on install', async () => {
    const { stdout } = await run('tar', ['tzf', tarball]);
    expect(stdout.split('\n')).toEqual(expect.arrayContaining(['package/LICENSE', 'package/README.md', 'package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/cli/main.js']));
    const manifest = JSON.parse((await run('tar', ['xzOf', tarball, 'package/package.json'])).stdout) as { exports: unknown; scripts: Record<string, string>; license: string };
    expect(manifest.exports).toEqual({ '.': { types: './dist/index.d.ts', import: './dist/index.js' }, './package.json': './package.json' });
    expect(manifest.license).toBe('MIT');
    for (const script of ['preinstall', 'install', 'postinstall', 'prepare']) expect(manifest.scripts[script], script).toBeUndefined();
    // The working package.json got its prepare back after packing.
    expect((JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts['prepare']).toBeDefined();
    const license = (await run('tar', ['xzOf', tarball, 'package/LICENSE'])).stdout;
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 clique contributors\n/);
  });

  it("installs into an empty project and `import { ... } from 'clique'` works", async () => {
    const project = emptyProject('uses-clique');
    await npm(['install', '--ignore-scripts', tarball], project);
    writeFileSync(
      join(project, 'main.js'),
      "import { Clique, LinkLocalService, openMulticastNode, RMulticastEngine, CryptoRandom, RoomError } from 'clique';\n" +
        'const engine = new RMulticastEngine({ name: "a@b", random: new CryptoRandom() });\n' +
        'console.log([Clique, LinkLocalService, openMulticastNode, RoomError].map((x) => typeof x).join(","), engine.state);\n',
    );
    const { stdout } = await run(process.execPath, ['main.js'], { cwd: project });
    expect(stdout.trim()).toMatch(/^function,function,function,function \S+$/);
  }, 240_000);

  it('installs quietly: in a project that allows better-sqlite3, and globally with --allow-scripts=better-sqlite3', async () => {
    const project = emptyProject('quiet', { allowScripts: { 'better-sqlite3': true } });
    const local = await npm(['install', '--dry-run', tarball], project);
    // A dry run plans into an existing prefix.
    for (const prefix of ['global', 'global2']) mkdirSync(join(dir, prefix, 'lib'), { recursive: true });
    expect(local.stderr).not.toMatch(/install-scripts|not yet covered/);
    const global = await npm(['install', '--global', '--dry-run', '--allow-scripts=better-sqlite3', '--prefix', join(dir, 'global'), tarball], dir);
    expect(global.stderr).not.toMatch(/install-scripts|not yet covered/);
    // Without the allowance npm names better-sqlite3 (its native build) and nothing of ours.
    const bare = await npm(['install', '--global', '--dry-run', '--prefix', join(dir, 'global2'), tarball], dir);
    expect(bare.stderr).toMatch(/better-sqlite3/);
    expect(bare.stderr).not.toMatch(/clique@/);
  }, 240_000);
});

/*
 * The README's examples run here only (not also against src in a file of their own): they use fixed names
 * and groups, and two files running them at once would talk to each other's peers.
 */
describe('the README library examples, run from the package installed in an empty project', () => {
  it('has the five examples', () => {
    expect(README_EXAMPLES).toHaveLength(5);
  });
  let project: string;
  beforeAll(async () => {
    project = emptyProject('readme-examples');
    await npm(['install', '--ignore-scripts', tarball], project);
    // --ignore-scripts skipped better-sqlite3's native build (the history store): the repo's, built for this Node, is the same.
    cpSync(join(repoRoot, 'node_modules/better-sqlite3/build'), join(project, 'node_modules/better-sqlite3/build'), { recursive: true });
  }, 240_000);
  readmeExampleTests(() => ({ kind: 'installed', project }));
});
