import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Each folder under src/ is a layer and may import only from itself and the
 * layers before it; no file may take part in an import cycle. The root
 * src/index.ts is the public face and may import anything. src/testing is the
 * test machinery (simulator, checker): it may import any layer, no production
 * file may import it, and the build leaves it out of dist/.
 */
const LAYERS = ['base', 'wire', 'rmcast', 'net', 'xml', 'mdns', 'linklocal', 'rooms', 'tubes', 'files', 'service', 'web', 'cli'];
const TESTING = 'testing';
const SRC = resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function localImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)].map((m) => m[1]!);
  return specifiers.map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts')));
}

function layerOf(file: string): string | undefined {
  const rel = relative(SRC, file);
  return rel.includes('/') ? rel.split('/')[0] : undefined;
}

describe('architecture', () => {
  const files = sourceFiles(SRC);
  const graph = new Map(files.map((f) => [f, localImports(f)]));

  it('every folder under src/ is a known layer', () => {
    const folders = new Set(files.map(layerOf).filter((l): l is string => l !== undefined));
    for (const folder of folders) expect([...LAYERS, TESTING], `unknown layer folder src/${folder}`).toContain(folder);
  });

  it('layers import only downward', () => {
    const violations: string[] = [];
    for (const [file, imports] of graph) {
      const from = layerOf(file);
      for (const target of imports) {
        const to = layerOf(target);
        if (to === TESTING && from !== TESTING) {
          violations.push(`${relative(SRC, file)} is production code and imports the test machinery ${relative(SRC, target)}`);
        } else if (from === undefined || from === TESTING) {
          continue;
        } else if (to === undefined) {
          violations.push(`${relative(SRC, file)} imports the public root ${relative(SRC, target)}`);
        } else if (LAYERS.indexOf(to) > LAYERS.indexOf(from)) {
          violations.push(`${relative(SRC, file)} (${from}) imports ${relative(SRC, target)} (${to})`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('there are no import cycles', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(' -> '));
        return;
      }
      state.set(file, 'visiting');
      for (const target of graph.get(file) ?? []) if (graph.has(target)) visit(target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('every relative import resolves to a file', () => {
    const missing = [...graph].flatMap(([file, imports]) =>
      imports.filter((t) => !graph.has(t)).map((t) => `${relative(SRC, file)} -> ${relative(SRC, t)}`),
    );
    expect(missing).toEqual([]);
  });

  it('the build leaves the test machinery out of dist/', () => {
    const config = JSON.parse(readFileSync(resolve(SRC, '../tsconfig.build.json'), 'utf8')) as { exclude?: string[] };
    expect(config.exclude ?? []).toContain(`src/${TESTING}`);
  });
});
