/**
 * Kong's queue (kong/tools/queue.lua) for one sink, in memory: entries are batched (up to
 * max_batch_size, or whatever has arrived max_coalescing_delay seconds after the first), a
 * failed batch is retried with exponential back-off (initial_retry_delay, doubling, at most
 * max_retry_delay) until max_retry_time has passed, then dropped; at most max_entries are held,
 * and a full queue drops its oldest entry to take a new one (counted), so `push` never waits.
 * The clock and timers are injected, so the tests drive time.
 */

export interface QueueLimits {
  maxBatchSize: number;
  maxCoalescingDelayS: number;
  maxEntries: number;
  maxRetryTimeS: number;
  initialRetryDelayS: number;
  maxRetryDelayS: number;
  /** 1: one batch in flight; -1: no limit. */
  concurrencyLimit: number;
}

export interface QueueClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(t: unknown): void;
}

export const REAL_CLOCK: QueueClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); t.unref?.(); return t; },
  clearTimeout: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
};

export interface QueueCounts {
  /** Entries dropped because the queue was full (the oldest first). */
  droppedFull: number;
  /** Entries dropped with their batch after max_retry_time. */
  droppedRetries: number;
  /** Entries the sink accepted. */
  sent: number;
}

export class KongQueue<E> {
  private readonly entries: E[] = [];
  private inFlight = 0;
  private inFlightEntries = 0;
  private timer: unknown;
  private closed = false;
  readonly counts: QueueCounts = { droppedFull: 0, droppedRetries: 0, sent: 0 };

  constructor(
    private readonly limits: QueueLimits,
    /** Sends one batch; resolves when the sink accepted it, rejects to retry. */
    private readonly send: (batch: E[]) => Promise<void>,
    private readonly clock: QueueClock = REAL_CLOCK,
    private readonly onDrop: (count: number, why: 'full' | 'retries') => void = () => undefined,
  ) {}

  get length(): number {
    return this.entries.length;
  }

  /** Entries waiting and in batches being sent or retried. */
  get held(): number {
    return this.entries.length + this.inFlightEntries;
  }

  /** Takes an entry; never waits. */
  push(e: E): void {
    if (this.closed) return;
    if (this.entries.length >= this.limits.maxEntries) {
      this.entries.shift();
      this.counts.droppedFull++;
      this.onDrop(1, 'full');
    }
    this.entries.push(e);
    this.schedule();
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private canSend(): boolean {
    return this.limits.concurrencyLimit === -1 || this.inFlight < this.limits.concurrencyLimit;
  }

  private schedule(): void {
    if (this.closed || !this.entries.length || !this.canSend()) return;
    if (this.entries.length >= this.limits.maxBatchSize) {
      if (this.timer !== undefined) { this.clock.clearTimeout(this.timer); this.timer = undefined; }
      this.flush();
      return;
    }
    this.timer ??= this.clock.setTimeout(() => { this.timer = undefined; this.flush(); }, this.limits.maxCoalescingDelayS * 1000);
  }

  private flush(): void {
    if (this.closed || !this.entries.length || !this.canSend()) return;
    const batch = this.entries.splice(0, this.limits.maxBatchSize);
    this.inFlight++;
    this.inFlightEntries += batch.length;
    void this.deliver(batch, this.clock.now(), 0).finally(() => {
      this.inFlight--;
      this.inFlightEntries -= batch.length;
      this.schedule();
    });
    this.schedule();
  }

  private async deliver(batch: E[], firstTry: number, attempt: number): Promise<void> {
    for (;;) {
      try {
        await this.send(batch);
        this.counts.sent += batch.length;
        return;
      } catch {
        const delayMs = Math.min(this.limits.initialRetryDelayS * 2 ** attempt, this.limits.maxRetryDelayS) * 1000;
        attempt++;
        if (this.closed || this.clock.now() + delayMs - firstTry > this.limits.maxRetryTimeS * 1000) {
          this.counts.droppedRetries += batch.length;
          this.onDrop(batch.length, 'retries');
          return;
        }
        await new Promise<void>((r) => this.clock.setTimeout(r, delayMs));
      }
    }
  }
}
