import { afterEach, describe, expect, it } from 'vitest';
import { LogClock } from '../../src/cli/log-clock.js';
import { cleanUp, person, run, start, waitForEvent } from '../service/service-people.js';

/**
 * `clique listen` text output reads as a chat log: local HH:MM:SS on every
 * line, and a date line first and at each day change (irssi/weechat layout).
 */
afterEach(cleanUp, 60_000);

describe('LogClock', () => {
  it('stamps each line with local HH:MM:SS and says the date first and at each day change', () => {
    const previousTz = process.env['TZ'];
    process.env['TZ'] = 'Europe/Paris';
    try {
      const clock = new LogClock();
      // 23:59:58 and 00:00:03 in Paris (UTC+01:00 in November).
      expect(clock.stamp('<alice> late', new Date('2026-11-28T22:59:58Z'))).toBe('--- Sat 2026-11-28 (UTC+01:00)\n23:59:58 <alice> late');
      expect(clock.stamp('<bob> same day', new Date('2026-11-28T22:59:59Z'))).toBe('23:59:59 <bob> same day');
      expect(clock.stamp('* bob left\n* bob is away', new Date('2026-11-28T23:00:03Z'))).toBe('--- Day changed: Sun 2026-11-29\n00:00:03 * bob left\n00:00:03 * bob is away');
    } finally {
      if (previousTz === undefined) delete process.env['TZ'];
      else process.env['TZ'] = previousTz;
    }
  });
});

describe('clique listen (text)', () => {
  it('prints a date line, then every line with its time', async () => {
    const listener = person('log-listen');
    const sender = person('log-send');
    const room = `log${process.pid}`;
    const group = ['--address', '239.255.71.77', '--port', '40777'];
    // TZ fixed so the date line's offset is known; the times themselves are the machine's clock.
    listener.env['TZ'] = 'UTC';
    const listen = start(listener, 'listen', ['listen', room, '--no-service', '--no-history-file', ...group]);
    await waitForEvent(listen, 'joined', (e) => typeof e['line'] === 'string' && / \* joined /.test(e['line']));
    const sent = await run(sender, ['send', room, 'hello log', '--no-service', '--no-history-file', '--wait-members', '1', ...group]);
    expect(sent.code, sent.stderr).toBe(0);
    await waitForEvent(listen, 'the message', (e) => typeof e['line'] === 'string' && e['line'].endsWith(' hello log'));
    const lines = listen.events.map((e) => e['line'] as string);
    expect(lines[0]).toMatch(/^--- (Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d\d-\d\d \(UTC\+00:00\)$/);
    for (const line of lines.slice(1)) {
      if (line.startsWith('--- Day changed: ')) continue;
      expect(line).toMatch(/^\d\d:\d\d:\d\d /);
    }
    expect(lines.some((l) => /^\d\d:\d\d:\d\d <[^>]+> hello log$/.test(l))).toBe(true);
    expect(lines.some((l) => /^\d\d:\d\d:\d\d \* joined /.test(l))).toBe(true);
  });
});
