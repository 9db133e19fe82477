/**
 * Bounded FIFO queues and loop helpers shared by the notifier and remote-write out.
 *
 * {@link BoundedQueue} drops the OLDEST entries when full. Entries carry a sequence number, so a
 * sender can peek a batch, send it, and acknowledge exactly what it sent even if overflow pushed
 * part of that batch out meanwhile: a failed batch simply stays at the front (order is kept).
 */

/** A bounded FIFO queue that drops the oldest entries on overflow. */
export class BoundedQueue<T> {
  private items: T[] = [];
  private seqs: number[] = [];
  private head = 0;
  private nextSeq = 0;

  /** @param capacity maximum number of entries (at least 1). */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
  }

  /** Number of queued entries. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Appends entries; returns how many of the oldest entries were dropped to make room. */
  push(entries: readonly T[]): number {
    // Entries that would be pushed out at once are never stored (but still take a sequence number).
    const skip = Math.max(0, entries.length - this.capacity);
    this.nextSeq += skip;
    for (let i = skip; i < entries.length; i++) {
      this.items.push(entries[i]!);
      this.seqs.push(this.nextSeq++);
    }
    const over = Math.max(0, this.length - this.capacity);
    this.head += over;
    this.compact();
    return skip + over;
  }

  /** The first `n` entries (without removing them) and the sequence number of the last one. */
  peek(n: number): { readonly items: T[]; readonly lastSeq: number } {
    const end = Math.min(this.items.length, this.head + Math.max(0, n));
    const items = this.items.slice(this.head, end);
    return { items, lastSeq: end > this.head ? this.seqs[end - 1]! : -1 };
  }

  /** Removes every entry with a sequence number ≤ `lastSeq` (the acknowledged batch). Returns how many. */
  ack(lastSeq: number): number {
    let n = 0;
    while (this.head < this.items.length && this.seqs[this.head]! <= lastSeq) {
      this.head++;
      n++;
    }
    this.compact();
    return n;
  }

  /** Removes everything; returns how many entries were removed. */
  clear(): number {
    const n = this.length;
    this.items = [];
    this.seqs = [];
    this.head = 0;
    return n;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.seqs = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.seqs = this.seqs.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * Wakes a sleeping loop. `wait()` resolves on the next `wake()` (or at once if one happened since
 * the last wait), or after `timeoutMs`. Timers are unref'd so an idle loop never keeps the
 * process alive.
 */
export class Waker {
  private pending = false;
  private resolve: (() => void) | undefined;

  /** Wakes the waiter (or the next one). */
  wake(): void {
    const r = this.resolve;
    if (r !== undefined) {
      this.resolve = undefined;
      r();
    } else {
      this.pending = true;
    }
  }

  /** Waits for a wake-up or the timeout. Only one waiter at a time is supported. */
  wait(timeoutMs?: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((res) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        if (this.resolve === done) this.resolve = undefined;
        res();
      };
      if (timeoutMs !== undefined) {
        timer = setTimeout(done, Math.max(0, timeoutMs));
        timer.unref();
      }
      this.resolve = done;
    });
  }
}

/** Sleeps `ms`, resolving early when `signal` aborts. Never rejects. The timer is unref'd. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((res) => {
    if (signal?.aborted) return res();
    const onAbort = (): void => {
      clearTimeout(timer);
      res();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      res();
    }, Math.max(0, ms));
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Backoff settings (ms). */
export interface BackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
  /** Random source in [0, 1) for jitter (tests pass a constant). */
  readonly random?: () => number;
}

/**
 * Exponential backoff with "equal jitter": attempt k waits between d/2 and d, where
 * d = min(max, initial·2^k).
 */
export class Backoff {
  private attempt = 0;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 100;
    this.maxMs = opts.maxMs ?? 10_000;
    this.random = opts.random ?? Math.random;
  }

  /** The delay before the next retry; each call doubles the base delay up to the maximum. */
  next(): number {
    const d = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 40));
    this.attempt++;
    return Math.round(d / 2 + (d / 2) * this.random());
  }

  /** Back to the initial delay (after a success). */
  reset(): void {
    this.attempt = 0;
  }

  /** Consecutive failures since the last reset. */
  get failures(): number {
    return this.attempt;
  }
}
