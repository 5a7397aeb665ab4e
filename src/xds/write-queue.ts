import type { Response } from './wire.js';

/**
 * Back-pressure for the responses written to xDS streams. A stream's queue holds shared
 * bodies by reference (a response with a nonce of the stream's own is a copy, only while it is
 * being written). Each stream writes one response at a time (the next once the transport took the
 * last, which a client that does not read delays), and all the streams together have at most
 * `maxBytes` being written; the others wait their turn, first come first served. So a fleet of
 * slow clients costs the bytes of the budget, not one copy of the configuration per client.
 *
 * A write the transport has not finished after `stuckMs` stops counting against the budget
 * (its stream still waits for it), so a few clients that stopped reading cannot stall the rest.
 */
export class WriteBudget {
  private used = 0;
  private readonly waiting: StreamWriter[] = [];

  constructor(readonly maxBytes = 32 * 1024 * 1024, readonly stuckMs = 10_000) {}

  /** Bytes being written now. */
  get inUse(): number {
    return this.used;
  }

  /** Streams waiting for the budget. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Takes `bytes` if they fit (a write bigger than the whole budget goes alone). */
  take(bytes: number): boolean {
    if (this.used > 0 && this.used + bytes > this.maxBytes) return false;
    this.used += bytes;
    return true;
  }

  wait(w: StreamWriter): void {
    if (!this.waiting.includes(w)) this.waiting.push(w);
  }

  forget(w: StreamWriter): void {
    const i = this.waiting.indexOf(w);
    if (i >= 0) this.waiting.splice(i, 1);
  }

  release(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
    while (this.waiting.length && this.waiting[0]!.pump()) this.waiting.shift();
  }
}

/** One stream's queue of responses. `write` hands bytes to the transport and calls `done` once it took them. */
export class StreamWriter {
  private readonly queue: { r: Response; written?: () => void }[] = [];
  private writing = false;
  private closed = false;

  constructor(
    private readonly budget: WriteBudget,
    private readonly write: (r: Response, done: () => void) => void,
  ) {}

  /** Responses waiting (not yet written). */
  get pending(): number {
    return this.queue.length;
  }

  /** Queues `r`; `written` is called once the transport took it. */
  push(r: Response, written?: () => void): void {
    if (this.closed) return;
    this.queue.push({ r, written });
    if (!this.pump()) this.budget.wait(this);
  }

  /** Writes the next response if the stream and the budget allow; false when it must wait for the budget. */
  pump(): boolean {
    if (this.closed || this.writing || this.queue.length === 0) return true;
    const { r, written } = this.queue[0]!;
    const size = r.shared.framed.length + (r.ownNonce?.length ?? 0);
    if (!this.budget.take(size)) return false;
    this.queue.shift();
    this.writing = true;
    let held = size;
    const free = () => { if (held) { const b = held; held = 0; this.budget.release(b); } };
    const stuck = setTimeout(free, this.budget.stuckMs);
    stuck.unref();
    this.write(r, () => {
      clearTimeout(stuck);
      this.writing = false;
      free();
      written?.();
      if (!this.pump()) this.budget.wait(this);
    });
    this.finish = () => { clearTimeout(stuck); free(); };
    return true;
  }

  private finish?: () => void;

  /** The stream ended: drops what waits and gives back what its write held. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.budget.forget(this);
    this.finish?.();
  }
}
