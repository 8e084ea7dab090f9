import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Every ```ts block of the README must type-check against the real API: an
 * example that drifts from the code fails here. Imports from 'clique' point at
 * src/index.ts; a block's body runs inside an async function so top-level
 * await is fine; a few free variables (now, datagram, bytes) are declared.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const OUT = join(ROOT, 'test', '.readme-examples');

function examples(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe('README', () => {
  it('has TypeScript examples, and every one type-checks', () => {
    const blocks = examples();
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    rmSync(OUT, { recursive: true, force: true });
    mkdirSync(OUT, { recursive: true });
    const files: string[] = [];
    blocks.forEach((block, i) => {
      const lines = block.split('\n');
      const imports = lines.filter((l) => /^import .* from 'clique';$/.test(l)).map((l) => l.replace("'clique'", "'../../src/index.js'"));
      const body = lines.filter((l) => !/^import /.test(l)).join('\n');
      const file = join(OUT, `example-${i + 1}.ts`);
      writeFileSync(
        file,
        `${imports.join('\n')}\ndeclare const now: number;\ndeclare const datagram: Uint8Array;\ndeclare const bytes: Uint8Array;\nexport async function example(): Promise<void> {\n${body}\n}\n`,
      );
      files.push(file);
    });
    writeFileSync(
      join(OUT, 'tsconfig.json'),
      JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { noEmit: true, noUnusedLocals: false, rootDir: '../..' }, include: ['*.ts'] }),
    );
    let output = '';
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(OUT, 'tsconfig.json')], { encoding: 'utf8' });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    rmSync(OUT, { recursive: true, force: true });
    expect(output).toBe('');
  }, 120_000);
});
