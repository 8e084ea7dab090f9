#!/usr/bin/env node
// Builds the web page (src/web/page) into dist/web/assets/: one bundled ES module and one stylesheet.
// esbuild compiles it (tsc does not: the page uses the DOM library; tsconfig.web.json type-checks it).
// Usage: node scripts/build-web.mjs [OUTDIR]
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = resolve(process.argv[2] ?? join(root, 'dist/web/assets'));
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: [join(root, 'src/web/page/main.ts')],
  outfile: join(outdir, 'app.js'),
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(join(root, 'src/web/page/app.css'), join(outdir, 'app.css'));
