/**
 * Day-change lines for a chat whose lines carry only HH:MM: before the first
 * line of a new day (local time) comes `--- Saturday 28 November 2026 ---`,
 * as irssi prints "Day changed". History from earlier days gets the same
 * separators, so every line's date is known.
 */
export class DayLines {
  private lastDay: string | undefined;

  /** The separator to print before a line stamped `time`, if its day differs from the last line's. */
  before(time: Date): string | undefined {
    const day = dayKey(time);
    if (day === this.lastDay) return undefined;
    this.lastDay = day;
    return `--- ${dayText(time)} ---`;
  }
}

function dayKey(time: Date): string {
  return `${time.getFullYear()}-${time.getMonth()}-${time.getDate()}`;
}

export function dayText(time: Date): string {
  return time.toLocaleDateString('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' }).replace(',', '');
}
