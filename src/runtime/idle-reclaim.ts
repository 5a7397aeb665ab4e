import { performance } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Gives a companion's heap back to the system when it goes quiet after a busy spell.
 *
 * V8's memory reducer shrinks the heap after a burst only when the heap has grown by at least
 * 10 MB (and by 10 %) since its last run. A companion's heap is small: ~8 MiB live, ~17 MiB
 * committed after a load of rate-limit decisions, so the growth stays under that threshold and
 * the committed pages are kept for good (the ratelimit companion held 67-70 MiB RSS after a
 * load and 20 s idle, against 60-61 before it: bench/ratelimit, docs/ratelimit.md).
 *
 * Every `everyMs` this reads the event loop's utilization since the last look and the heap's
 * committed size. When the loop was quiet for `quietLooks` looks in a row and the heap holds at
 * least `growthBytes` more than after the last reclaim, it runs two full collections: the first
 * frees, the second compacts the pages the first left sparse, and V8 releases the empty ones.
 * The start-up counts as a busy spell: loading the modules and the first policy leaves ~6 MiB of
 * garbage, which V8's reducer gives back in some runs and keeps in others (the ratelimit
 * companion at rest 30 s after its start: 53.5 MiB RSS in one process, 61.3 in another of the
 * same code, same run), so the first quiet spell after the start reclaims whatever the heap's
 * size. Two collections of a companion's heap take a few milliseconds,
 * on an event loop that had nothing to do. The timer is unref'd: it never keeps a process alive.
 *
 * Only for a process that is one companion alone (`frontdesk ratelimit`, `frontdesk authz`,
 * ...): the collections are the whole process's, and the control plane's larger heap is over
 * V8's own threshold.
 */

export interface IdleReclaimOptions {
  /** Time between looks (default 5 s). */
  everyMs?: number;
  /** Quiet looks in a row before a reclaim (default 2: 10 s at the default pace). */
  quietLooks?: number;
  /** Event-loop utilization under which a look counts as quiet (default 0.02). */
  quietUtilization?: number;
  /** Committed heap growth since the last reclaim that makes one worth it (default 4 MiB). */
  growthBytes?: number;
  /** Told after each reclaim: committed heap before and after, and how long it took. */
  onReclaim?(r: { beforeBytes: number; afterBytes: number; ms: number }): void;
}

export interface IdleReclaimState {
  /** Quiet looks in a row so far. */
  quiet: number;
  /** Committed heap after the last reclaim; 0 before the first, so that the start-up's garbage is reclaimed too. */
  baseBytes: number;
}

/**
 * The decision at one look, pure: whether to reclaim now, and the state after the look.
 * `utilization` is the event loop's over the interval; `committedBytes` the heap's now.
 */
export function idleReclaimStep(state: IdleReclaimState, utilization: number, committedBytes: number, o: Required<Pick<IdleReclaimOptions, 'quietLooks' | 'quietUtilization' | 'growthBytes'>>): { reclaim: boolean; state: IdleReclaimState } {
  const quiet = utilization < o.quietUtilization ? state.quiet + 1 : 0;
  // A heap smaller than the base (V8's own reducer ran, or a collection freed pages) lowers it.
  const baseBytes = Math.min(state.baseBytes, committedBytes);
  const reclaim = quiet >= o.quietLooks && committedBytes >= baseBytes + o.growthBytes;
  return { reclaim, state: { quiet: reclaim ? 0 : quiet, baseBytes } };
}

/** A full collection, without a global `gc` in the program's own context (as Jest's heap usage report obtains it). */
function fullCollector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

const committed = () => getHeapStatistics().total_heap_size;

/** Starts looking; the returned function stops it. */
export function startIdleReclaim(o: IdleReclaimOptions = {}): () => void {
  const limits = { quietLooks: o.quietLooks ?? 2, quietUtilization: o.quietUtilization ?? 0.02, growthBytes: o.growthBytes ?? 4 * 2 ** 20 };
  const gc = fullCollector();
  let state: IdleReclaimState = { quiet: 0, baseBytes: 0 };
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const step = idleReclaimStep(state, performance.eventLoopUtilization(now, last).utilization, committed(), limits);
    last = now;
    state = step.state;
    if (!step.reclaim) return;
    const beforeBytes = committed();
    const t0 = performance.now();
    gc();
    gc();
    const afterBytes = committed();
    state = { ...state, baseBytes: afterBytes };
    o.onReclaim?.({ beforeBytes, afterBytes, ms: performance.now() - t0 });
  }, o.everyMs ?? 5000);
  timer.unref();
  return () => clearInterval(timer);
}
