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

/**
 * The event names of every `--json` command that prints events (listen,
 * online, contacts --watch, send, say, invite): one vocabulary, described in
 * docs/events.md and docs/events.schema.json.
 */
export type CliEventName =
  | 'online'
  | 'offline'
  | 'contact-added'
  | 'contact-updated'
  | 'contact-removed'
  | 'name-changed'
  | 'message'
  | 'invitation'
  | 'sent'
  | 'invited'
  | 'history'
  | 'joined'
  | 'ready'
  | 'member-joined'
  | 'member-left'
  | 'member-updated'
  | 'topic'
  | 'warning'
  | 'typing'
  | 'rejected'
  | 'moved'
  | 'left'
  | 'file-offered'
  | 'file';

export interface CliEvent {
  event: CliEventName;
  /** ISO 8601 (UTC, milliseconds); left out, the time of writing. */
  time?: string;
  [field: string]: unknown;
}

/**
 * One event line: `event` first, then `time` (what the event reports happened
 * then: a message's or history entry's own time, else now), then its fields.
 */
export function writeEvent(value: CliEvent, at: Date = new Date()): void {
  const { event, time, ...fields } = value;
  writeJsonLine({ event, time: time ?? at.toISOString(), ...fields });
}
