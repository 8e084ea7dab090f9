import { escapeUnsafeInJson, safeJsonStringify } from '../base/safe-text.js';

/**
 * Every JSON the CLI prints goes through here: peers' names and texts may hold
 * C1 controls and bidi overrides, which JSON.stringify leaves raw; these
 * writers escape them as `\uXXXX` (the document parses to the same values).
 */
export function writeJsonLine(value: unknown): void {
  process.stdout.write(`${safeJsonStringify(value)}\n`);
}

/** A whole document, indented (`clique rooms --json`, `clique contacts --json`). */
export function writeJsonDocument(value: unknown): void {
  process.stdout.write(`${safeJsonStringify(value, undefined, 2)}\n`);
}

/** JSON text made elsewhere (e.g. the packet decoder's), with the same escapes. */
export function writeJsonText(json: string): void {
  process.stdout.write(`${escapeUnsafeInJson(json)}\n`);
}
