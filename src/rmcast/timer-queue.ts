/**
 * Deadline-ordered timers for the sans-IO engine. The engine never sleeps: the
 * driver asks `nextDeadline()` and calls back with the current time, and the
 * engine runs whatever is due via `runDue(now)`. A binary heap with lazy
 * deletion keeps scheduling and cancelling O(log n) even with thousands of
 * per-packet repair timers.
 */
export interface TimerHandle {
  readonly deadline: number;
  /** False once fired or cancelled. */
  readonly active: boolean;
}

interface TimerEntry extends TimerHandle {
  deadline: number;
  active: boolean;
  seq: number;
  callback: () => void;
}

export class TimerQueue {
  private heap: TimerEntry[] = [];
  private seq = 0;
  private cancelled = 0;

  schedule(deadline: number, callback: () => void): TimerHandle {
    const entry: TimerEntry = { deadline, active: true, seq: this.seq++, callback };
    this.push(entry);
    return entry;
  }

  cancel(handle: TimerHandle | undefined): void {
    if (handle === undefined || !handle.active) return;
    (handle as TimerEntry).active = false;
    this.cancelled++;
    // Compact when most of the heap is dead so memory follows live timers.
    if (this.cancelled > 64 && this.cancelled * 2 > this.heap.length) this.compact();
  }

  nextDeadline(): number | undefined {
    this.dropCancelledTop();
    return this.heap[0]?.deadline;
  }

  get size(): number {
    return this.heap.length - this.cancelled;
  }

  /**
   * Fire every timer whose deadline is <= now, in deadline order (ties:
   * scheduling order). `setTime` is told each timer's deadline before it fires,
   * so follow-up timers are scheduled relative to when the timer was due, not
   * to the (possibly much later) call that ran it.
   */
  runDue(now: number, setTime: (time: number) => void): void {
    for (;;) {
      this.dropCancelledTop();
      const top = this.heap[0];
      if (top === undefined || top.deadline > now) return;
      this.pop();
      top.active = false;
      setTime(top.deadline);
      top.callback();
    }
  }

  clear(): void {
    for (const entry of this.heap) entry.active = false;
    this.heap = [];
    this.cancelled = 0;
  }

  private dropCancelledTop(): void {
    while (this.heap.length > 0 && !this.heap[0]!.active) {
      this.pop();
      this.cancelled--;
    }
  }

  private compact(): void {
    this.heap = this.heap.filter((e) => e.active);
    this.cancelled = 0;
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  private less(a: TimerEntry, b: TimerEntry): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
  }

  private push(entry: TimerEntry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      this.siftDown(0);
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(heap[l]!, heap[m]!)) m = l;
      if (r < n && this.less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  }
}
