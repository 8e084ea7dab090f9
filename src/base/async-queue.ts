/**
 * A bounded async iterator fed by pushes: what `for await (const m of room)`
 * reads. A reader that falls more than `limit` items behind is cut off with
 * the error from `overflow()` rather than letting memory grow without bound.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private readonly waiting: Array<{ resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void }> = [];
  private done = false;
  private failure: unknown;

  constructor(
    private readonly limit: number,
    private readonly overflow: () => Error,
    private readonly detach: () => void,
  ) {}

  get ended(): boolean {
    return this.done;
  }

  /** False if the reader was too far behind (the queue then fails and detaches). */
  push(value: T): boolean {
    if (this.done) return true;
    const waiter = this.waiting.shift();
    if (waiter !== undefined) {
      waiter.resolve({ value, done: false });
      return true;
    }
    if (this.buffer.length >= this.limit) {
      this.buffer.length = 0;
      this.fail(this.overflow());
      return false;
    }
    this.buffer.push(value);
    return true;
  }

  /** Ends the iteration after what is buffered. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.detach();
    for (const waiter of this.waiting.splice(0)) waiter.resolve({ value: undefined, done: true });
  }

  private fail(error: unknown): void {
    this.failure = error;
    this.done = true;
    this.detach();
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift() as T, done: false });
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined; // reported once; afterwards the iterator is simply done
      return Promise.reject(failure);
    }
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.buffer.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
