import { planDecision } from '../algorithms/index.js';
import type { Decision, WindowSpec } from '../algorithms/types.js';
import { systemClock } from '../clock.js';
import type { Clock } from '../clock.js';
import type { Store } from './store.js';

/** Options of the in-memory store. */
export interface MemoryStoreOptions {
  clock?: Clock;
  /** Most window states kept; beyond it the least recently used are dropped. Default 100,000. */
  maxEntries?: number;
  /** How often expired states are swept out; 0 disables the timer (call sweep()). Default 10 s. */
  sweepIntervalMs?: number;
}

interface Entry {
  state: unknown;
  expiresAtMs: number;
}

/**
 * The embedded store: window states in a Map, one entry per key, unit and algorithm, each
 * expiring when its state becomes equivalent to a fresh one. Expired entries are swept
 * periodically; the Map is bounded, evicting the least recently used entry (an evicted client
 * starts over with a full allowance, so the bound errs on the side of letting traffic through).
 * Decisions are synchronous under the hood, hence atomic in one process.
 */
export class MemoryStore implements Store {
  private readonly entries = new Map<string, Entry>();
  private readonly clock: Clock;
  private readonly maxEntries: number;
  private readonly timer: NodeJS.Timeout | undefined;
  private evicted = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.maxEntries = options.maxEntries ?? 100_000;
    if (!(Number.isSafeInteger(this.maxEntries) && this.maxEntries > 0)) {
      throw new RangeError(`maxEntries must be a positive integer, got ${this.maxEntries}`);
    }
    const every = options.sweepIntervalMs ?? 10_000;
    if (every > 0) {
      this.timer = setInterval(() => this.sweep(), every);
      this.timer.unref();
    }
  }

  decide(key: string, windows: readonly WindowSpec[], cost = 1): Promise<Decision> {
    try {
      return Promise.resolve(this.decideSync(key, windows, cost));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** decide() without the Promise, for callers on a hot path. */
  decideSync(key: string, windows: readonly WindowSpec[], cost = 1): Decision {
    const now = this.clock.nowMs();
    const ids = windows.map((w) => `${key}\u0000${w.unit}\u0000${w.algorithm}`);
    const states = ids.map((id) => this.read(id, now));
    const plan = planDecision(states, windows, now, cost);
    if (plan.decision.allowed) {
      plan.commit().forEach(({ state, ttlMs }, i) => {
        const id = ids[i];
        if (id !== undefined) this.write(id, { state, expiresAtMs: now + ttlMs });
      });
    }
    return plan.decision;
  }

  /** Removes expired entries; returns how many. */
  sweep(): number {
    const now = this.clock.nowMs();
    let removed = 0;
    for (const [id, entry] of this.entries) {
      if (entry.expiresAtMs <= now) {
        this.entries.delete(id);
        removed++;
      }
    }
    return removed;
  }

  /** Window states held now (expired ones included until swept). */
  get size(): number {
    return this.entries.size;
  }

  /** Live states dropped so far because the store was full. */
  get evictions(): number {
    return this.evicted;
  }

  close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.entries.clear();
    return Promise.resolve();
  }

  /** The state of a window, refreshed as most recently used; undefined when absent or expired. */
  private read(id: string, now: number): unknown {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    this.entries.delete(id);
    if (entry.expiresAtMs <= now) return undefined;
    this.entries.set(id, entry);
    return entry.state;
  }

  private write(id: string, entry: Entry): void {
    this.entries.delete(id);
    this.entries.set(id, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.evicted++;
    }
  }
}
