/**
 * Bounds applied to every parsed stanza. They exist so that a hostile peer can
 * cost us at most a few MiB and a bounded amount of CPU per connection or per
 * multicast message; legitimate Clique traffic is far below all of them.
 */
export interface XmlLimits {
  /** Bytes of one stanza (for a stream: since the end of the previous stanza). */
  maxStanzaBytes: number;
  /** Nesting depth of a stanza; its root is depth 1. */
  maxDepth: number;
  /** Elements in one stanza, root included. */
  maxElements: number;
  /** Attributes (namespace declarations included) on one element. */
  maxAttributes: number;
  /** Length of an element or attribute name, prefix included, in UTF-16 code units. */
  maxNameLength: number;
  /** Bytes before the end of the `<stream:stream ...>` start tag (declaration included). */
  maxHeaderBytes: number;
}

export const DEFAULT_XML_LIMITS: Readonly<XmlLimits> = Object.freeze({
  maxStanzaBytes: 1024 * 1024,
  maxDepth: 32,
  maxElements: 10_000,
  maxAttributes: 64,
  maxNameLength: 256,
  maxHeaderBytes: 16 * 1024,
});

export function resolveLimits(limits: Partial<XmlLimits> = {}): XmlLimits {
  const merged = { ...DEFAULT_XML_LIMITS };
  for (const key of Object.keys(merged) as Array<keyof XmlLimits>) {
    const value = limits[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`XML limit ${key} must be a positive integer, got ${value}`);
    merged[key] = value;
  }
  return merged;
}
