import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebError } from './web-error.js';

/**
 * Where the built page is: next to this module in the package (dist/web/assets),
 * or, when running from source, in the build output (`npm run build:web`).
 */
export function defaultAssetsDir(): string {
  const candidates = [fileURLToPath(new URL('./assets/', import.meta.url)), fileURLToPath(new URL('../../dist/web/assets/', import.meta.url))];
  const found = candidates.find((dir) => existsSync(join(dir, 'app.js')));
  if (found === undefined) throw new WebError('no-assets', `the web page is not built (looked in ${candidates.join(' and ')}); run npm run build:web`);
  return found;
}
