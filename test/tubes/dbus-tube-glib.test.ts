import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DBusTube } from '../../src/tubes/dbus-tube.js';
import type { DBusEndian } from '../../src/tubes/dbus-message.js';
import type { DBusTubeMethodCall } from '../../src/tubes/dbus-tube-types.js';
import { decodeDBusMessage } from '../../src/tubes/dbus-unmarshal.js';
import { tubeDBusName } from '../../src/tubes/tube-dbus-name.js';

/**
 * What a DBusTube puts on the wire, read by GLib's own parser (glib-dbus.py:
 * Gio.DBusMessage.new_from_blob through python3-gi): the header fields GLib
 * prints must be the ones we meant, our re-stamped SENDER included.
 */
const PYTHON = '/usr/bin/python3';
const SCRIPT = resolve(import.meta.dirname, 'glib-dbus.py');
const haveGi = spawnSync(PYTHON, ['-c', 'import gi; gi.require_version("Gio", "2.0"); from gi.repository import Gio'], { stdio: 'ignore' }).status === 0;
if (!haveGi) console.log(`dbus-tube-glib: skipped, ${PYTHON} has no gi with Gio 2.0 (install python3-gi)`);

type Parsed = { ok: true; blob: string; text: string } | { ok: false; error: string };

function glibParse(blobs: Uint8Array[]): Parsed[] {
  const input = JSON.stringify({ blobs: blobs.map((b) => Buffer.from(b).toString('hex')) });
  const run = spawnSync(PYTHON, [SCRIPT], { input, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (run.status !== 0) throw new Error(`glib-dbus.py failed: ${run.stderr}`);
  return (JSON.parse(run.stdout) as { parsed: Parsed[] }).parsed;
}

/** GLib's print_() header lines (`  sender -> ':2.x'`, `  reply-serial -> uint32 3`) as plain strings. */
function glibHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const match of text.matchAll(/^ {2}([a-z-]+) -> (?:objectpath |signature |uint32 )?'?(.*?)'?$/gm)) headers[match[1]!] = match[2]!;
  return headers;
}

const A = 'alice@laptop';
const B = 'bob@desk';

/** A calls B twice; B returns one and fails the other; A broadcasts a signal. Everything each sends, in order. */
function conversation(endian: DBusEndian): Uint8Array[] {
  const wire: Uint8Array[] = [];
  const a = new DBusTube({ selfName: A, endian, link: { send: (bytes) => (wire.push(bytes), b.received(A, bytes)) } });
  const b: DBusTube = new DBusTube({ selfName: B, endian, link: { send: (bytes) => (wire.push(bytes), a.received(B, bytes)) } });
  a.memberJoinedTube(B, b.uniqueName);
  b.memberJoinedTube(A, a.uniqueName);
  b.on('method-call', (call: DBusTubeMethodCall) => {
    if (call.member === 'Ping') b.reply(call, { signature: 'sa{sv}', body: ['pong', [['n', { signature: 'x', value: -3n }]]] });
    else b.replyError(call, 'com.example.Chess.Error.IllegalMove', 'no');
  });
  b.attach();
  void a.callMethod({ destination: b.uniqueName, path: '/game', interface: 'com.example.Chess', member: 'Ping', signature: 'ay', body: [Uint8Array.of(1, 2)] });
  void a.callMethod({ destination: b.uniqueName, path: '/game', member: 'Move', signature: 's', body: ['Nz9'] });
  a.emitSignal({ path: '/board', interface: 'com.example.Chess', member: 'Moved', signature: 'su', body: ['e2e4', 1] });
  return wire;
}

describe.skipIf(!haveGi)('DBusTube messages read by GLib', () => {
  it.each(['little', 'big'] as const)('GLib parses every message a tube sends (%s-endian) with the same header fields and body', (endian) => {
    const wire = conversation(endian);
    expect(wire).toHaveLength(5); // call, return, call, error, signal
    const parsed = glibParse(wire);
    const types: string[] = [];
    wire.forEach((bytes, i) => {
      const ours = decodeDBusMessage(bytes);
      const glib = parsed[i]!;
      expect(glib.ok ? 'accepted' : glib.error, `message ${i}`).toBe('accepted');
      if (!glib.ok) return;
      const headers = glibHeaders(glib.text);
      const f = ours.fields;
      const expected: Record<string, string> = {};
      if (f.path !== undefined) expected.path = f.path;
      if (f.interface !== undefined) expected.interface = f.interface;
      if (f.member !== undefined) expected.member = f.member;
      if (f.errorName !== undefined) expected['error-name'] = f.errorName;
      if (f.replySerial !== undefined) expected['reply-serial'] = String(f.replySerial);
      if (f.destination !== undefined) expected.destination = f.destination;
      if (f.signature !== undefined) expected.signature = f.signature;
      expected.sender = f.sender!;
      expect(headers, `message ${i}: ${glib.text}`).toEqual(expected);
      expect(glib.text).toContain(`Serial:  ${ours.serial}\n`);
      types.push(/^Type: +(\S+)/.exec(glib.text)![1]!);
      // GLib's own re-encoding of what it read decodes to the same message
      expect(decodeDBusMessage(Uint8Array.from(Buffer.from(glib.blob, 'hex'))), `message ${i}`).toEqual(ours);
    });
    expect(types).toEqual(['method-call', 'method-return', 'method-call', 'error', 'signal']);
    const senders = parsed.map((p) => (p.ok ? glibHeaders(p.text).sender : undefined));
    expect(senders).toEqual([tubeDBusName(A), tubeDBusName(B), tubeDBusName(A), tubeDBusName(B), tubeDBusName(A)]);
  });
});
