import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli-runner.js';
import { cleanUp, LOOPBACK, person, run, start, waitForEvent, type Proc } from '../service/service-people.js';
import { validate, type Schema } from './json-schema-subset.js';

/**
 * One event vocabulary for every `--json` command that prints events, with
 * docs/events.schema.json as its contract: the real output of listen,
 * online, contacts --watch, send, say and invite (run as processes, inside
 * `unshare -n`, with and without the service) is validated against it.
 */
afterEach(cleanUp, 60_000);

const schema = JSON.parse(readFileSync(join(repoRoot, 'docs/events.schema.json'), 'utf8')) as Schema;
const eventNames = (schema['oneOf'] as Schema[]).map((s) => ((s['properties'] as Record<string, Schema>)['event'] as Schema)['const'] as string);

function expectValid(events: Array<Record<string, unknown>>, where: string): void {
  expect(events.length, where).toBeGreaterThan(0);
  for (const e of events) expect(validate(e, schema), `${where}: ${JSON.stringify(e)}`).toEqual([]);
}

const linesOf = (stdout: string): Array<Record<string, unknown>> =>
  stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('docs/events.schema.json', () => {
  it('names each event once, and the validator refuses what the schema forbids', () => {
    expect(new Set(eventNames).size).toBe(eventNames.length);
    expect(eventNames).toEqual(expect.arrayContaining(['contact-added', 'contact-updated', 'contact-removed', 'message', 'member-joined', 'sent']));
    expect(eventNames).not.toContain('added');
    const time = '2026-11-28T16:00:00.000Z';
    expect(validate({ event: 'left', time, reason: 'left' }, schema)).toEqual([]);
    // No time; an old event name; a wrong type; a message of neither shape.
    expect(validate({ event: 'left', reason: 'left' }, schema)).not.toEqual([]);
    expect(validate({ event: 'added', time, contact: {} }, schema)).not.toEqual([]);
    expect(validate({ event: 'moved', time, address: '239.1.1.1', port: '1' }, schema)).not.toEqual([]);
    expect(validate({ event: 'message', time, kind: 'normal', text: 'x' }, schema)).not.toEqual([]);
    expect(validate({ event: 'left', time: 'yesterday', reason: 'left' }, schema)).not.toEqual([]);
  });
});

describe('real --json output matches the schema', () => {
  it('listen and send without the service', async () => {
    const a = person('ev-listen');
    const b = person('ev-send');
    const room = `ev${process.pid}`;
    const group = ['--address', '239.255.71.78', '--port', '40778'];
    const listen = start(a, 'listen', ['listen', room, '--no-service', '--json', '--no-history-file', '--failure-timeout-ms', '3500', ...group]);
    await waitForEvent(listen, 'joined', (e) => e['event'] === 'joined');
    const sent = await run(b, ['send', room, 'one', '--no-service', '--json', '--no-history-file', '--wait-members', '1', ...group]);
    expect(sent.code, sent.stderr).toBe(0);
    await waitForEvent(listen, 'the message', (e) => e['event'] === 'message' && e['text'] === 'one');
    await waitForEvent(listen, 'the sender left', (e) => e['event'] === 'member-left');
    listen.child.kill('SIGTERM');
    await waitForEvent(listen, 'left', (e) => e['event'] === 'left');
    expectValid(listen.events, 'listen');
    expect(listen.events.map((e) => e['event'])).toEqual(expect.arrayContaining(['joined', 'ready', 'member-joined', 'message', 'member-left', 'left']));
    expectValid(linesOf(sent.stdout), 'send');
  }, 120_000);

  it('online, say, invite and contacts --watch without the service', async () => {
    const id = process.pid;
    const bob = `bob${id}@ev${id}`;
    const alice = `alice${id}@ev${id}`;
    const watcher = person('ev-watch');
    const watch = start(watcher, 'contacts --watch', ['contacts', '--watch', '--json', '--no-service', '-i', LOOPBACK, '--timeout', '60000']);
    const online = start(person('ev-online'), 'online', ['online', '--no-service', '--json', '--name', bob, '-i', LOOPBACK, '--tcp-port', '0']);
    await waitForEvent(online, 'online', (e) => e['event'] === 'online');
    const p = person('ev-say');
    const said = await run(p, ['say', bob, 'hello', '--no-service', '--json', '--name', alice, '-i', LOOPBACK, '--timeout', '30000']);
    expect(said.code, said.stderr).toBe(0);
    const invited = await run(p, ['invite', bob, 'lunch', '--no-service', '--json', '--address', '239.255.71.5', '--port', '4000', '--name', alice, '-i', LOOPBACK, '--timeout', '30000']);
    expect(invited.code, invited.stderr).toBe(0);
    await waitForEvent(online, 'invitation', (e) => e['event'] === 'invitation');
    await waitForEvent(watch, 'bob seen', (e) => e['event'] === 'contact-added' && (e['contact'] as { name: string }).name === bob);
    online.child.kill('SIGTERM');
    await waitForEvent(online, 'offline', (e) => e['event'] === 'offline');
    await waitForEvent(watch, 'bob gone', (e) => e['event'] === 'contact-removed' && (e['contact'] as { name: string }).name === bob);
    expectValid(online.events, 'online');
    expect(online.events.map((e) => e['event'])).toEqual(expect.arrayContaining(['online', 'contact-added', 'message', 'invitation', 'offline']));
    expectValid(watch.events, 'contacts --watch');
    expectValid(linesOf(said.stdout), 'say');
    expectValid(linesOf(invited.stdout), 'invite');
  }, 120_000);

  it('listen, send and online through the service', async () => {
    const c = person('ev-service');
    const room = `evs${process.pid}`;
    const listen = start(c, 'listen', ['listen', room, '--json', '--history', '5']);
    await waitForEvent(listen, 'ready', (e) => e['event'] === 'ready');
    const sent = await run(c, ['send', room, 'through the service', '--json', '--wait-members', '0']);
    expect(sent.code, sent.stderr).toBe(0);
    await waitForEvent(listen, 'own line', (e) => e['event'] === 'message' && e['outgoing'] === true);
    // A second listener gets the first line from history.
    const again = start(c, 'listen again', ['listen', room, '--json', '--history', '5']);
    await waitForEvent(again, 'history', (e) => e['event'] === 'history');
    const online = start(c, 'online', ['online', '--json']);
    await waitForEvent(online, 'online', (e) => e['event'] === 'online');
    for (const proc of [listen, again]) proc.child.kill('SIGTERM');
    await Promise.all([listen, again].map((proc: Proc) => waitForEvent(proc, 'left', (e) => e['event'] === 'left')));
    expectValid(listen.events, 'listen (service)');
    expectValid(again.events, 'listen --history (service)');
    expectValid(online.events, 'online (service)');
    expectValid(linesOf(sent.stdout), 'send (service)');
    await run(c, ['down']);
  }, 120_000);
});
