/**
 * Timestamps for text that is read as a chat log (`clique listen`): each
 * line starts with the local time `HH:MM:SS`, and a line of its own gives the
 * date, before the first line and whenever the day changes:
 *
 *   --- Sat 2026-11-28 (UTC+01:00)
 *   16:25:40 <alice> hello
 *   --- Day changed: Sun 2026-11-29
 *   00:00:03 <bob> late
 *
 * Why this and not a full ISO stamp on every line: it is the layout of irssi
 * and weechat logs, which chat-log readers (people and the tools they grep
 * with) expect; lines stay short, local time is what the reader lived, and
 * every line is still dated without ambiguity by the last day line above it
 * (the first one says the UTC offset). Scripts that want exact instants use
 * `--json`, whose every event has an ISO 8601 `time`.
 */
export class LogClock {
  private day: string | undefined;

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** `text` (one or more lines) stamped with `at` (default: now), after a day line when the date changed. */
  stamp(text: string, at: Date = this.now()): string {
    const day = dayOf(at);
    let out = '';
    if (day !== this.day) {
      out = this.day === undefined ? `--- ${day} (${utcOffset(at)})\n` : `--- Day changed: ${day}\n`;
      this.day = day;
    }
    const time = `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
    return out + text.split('\n').map((line) => `${time} ${line}`).join('\n');
  }
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function dayOf(at: Date): string {
  return `${WEEKDAYS[at.getDay()]} ${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}`;
}

/** `UTC+01:00` for local time at `at` (getTimezoneOffset is minutes west of UTC). */
function utcOffset(at: Date): string {
  const east = -at.getTimezoneOffset();
  const sign = east < 0 ? '-' : '+';
  const abs = Math.abs(east);
  return `UTC${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}
