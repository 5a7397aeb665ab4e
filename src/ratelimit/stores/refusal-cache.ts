import type { AlgorithmName, Decision, WindowSpec } from '../algorithms/types.js';
import type { Store } from './store.js';

/**
 * A hot key's refusals answered without a Redis round trip. A refused request consumes nothing
 * (Store), and until its retryAfterMs has passed no request on the same key can be admitted by
 * any gateway instance: the state only moves toward "refused" while nothing is admitted (other
 * instances can only take more), and the time itself admits the request at retryAfterMs at the
 * earliest. So a refusal, kept for retryAfterMs from the moment the question was sent (before
 * Redis evaluated it, so never longer than Redis would refuse), gives the same admissions as
 * asking Redis each time: exactly N admitted across instances still holds.
 *
 * The answer's figures move with time only: for one window of a token bucket or a fixed window,
 * remaining stays 0 while refused and both resetMs and retryAfterMs shrink by the time elapsed,
 * so a cached refusal is reported as Redis would report it then. Decisions over several windows
 * (the other windows' remaining keeps refilling) and the other algorithms always ask the store.
 * While the store is unhealthy (Redis down) the cache is bypassed, so fault_tolerant applies as
 * Kong applies it.
 */

const CACHEABLE: ReadonlySet<AlgorithmName> = new Set(['token-bucket', 'fixed-window']);

interface Entry { decision: Decision; atMs: number; untilMs: number }

export interface RefusalCacheOptions {
  /** The store can be asked (for Redis: the client is ready); false bypasses the cache. */
  healthy(): boolean;
  /** A monotonic clock in ms (default performance.now). */
  nowMs?: () => number;
  /** Refusals kept at most (oldest dropped first); default 10,000. */
  maxEntries?: number;
}

export class RefusalCache implements Store {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly max: number;
  /** Refusals answered from the cache (for metrics and tests). */
  hits = 0;

  constructor(private readonly inner: Store, private readonly opts: RefusalCacheOptions) {
    this.now = opts.nowMs ?? (() => performance.now());
    this.max = opts.maxEntries ?? 10_000;
  }

  decide(key: string, windows: readonly WindowSpec[], cost = 1): Promise<Decision> {
    const w = windows.length === 1 ? windows[0]! : undefined;
    // Not one window of a cacheable algorithm: straight to the store (no promise of its own).
    if (w === undefined || !CACHEABLE.has(w.algorithm)) return this.inner.decide(key, windows, cost);
    // The id is built only when there is something to look up or to keep.
    let id = this.entries.size > 0 ? refusalId(key, w, cost) : undefined;
    if (id !== undefined && this.opts.healthy()) {
      const hit = this.entries.get(id);
      if (hit) {
        const now = this.now();
        if (now < hit.untilMs) {
          this.hits++;
          return Promise.resolve(shifted(hit.decision, Math.floor(now - hit.atMs)));
        }
        this.entries.delete(id);
      }
    }
    const sentMs = this.now();
    return this.inner.decide(key, windows, cost).then((d) => {
      if (!d.allowed && d.retryAfterMs > 0) {
        id ??= refusalId(key, w, cost);
        if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
        this.entries.set(id, { decision: d, atMs: this.now(), untilMs: sentMs + d.retryAfterMs });
      }
      return d;
    });
  }

  close(): Promise<void> {
    this.entries.clear();
    return this.inner.close();
  }
}

function refusalId(key: string, w: WindowSpec, cost: number): string {
  return `${key}\u0000${w.unit}\u0000${w.algorithm}\u0000${w.limit}\u0000${cost}`;
}

/** A refusal `elapsedMs` later: the same counts, every wait shorter by the time gone. */
function shifted(d: Decision, elapsedMs: number): Decision {
  if (elapsedMs <= 0) return d;
  const windows = d.windows.map((w) => ({ ...w, resetMs: Math.max(0, w.resetMs - elapsedMs), retryAfterMs: Math.max(0, w.retryAfterMs - elapsedMs) }));
  const binding = windows[d.windows.indexOf(d.binding)] ?? windows[0]!;
  return { allowed: false, retryAfterMs: Math.max(0, d.retryAfterMs - elapsedMs), windows, binding };
}
