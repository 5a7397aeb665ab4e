import type { Decision, WindowSpec } from '../algorithms/types.js';

/**
 * Where rate-limit state lives. `decide` checks a request against all of its windows and, if
 * every window admits it, consumes `cost` from each, atomically: concurrent decisions on the
 * same key never both take the last unit. A refused request consumes nothing.
 * A store that cannot reach its backend rejects with a RateLimitStoreError, so the caller
 * can apply the plugin's fault_tolerant setting.
 */
export interface Store {
  decide(key: string, windows: readonly WindowSpec[], cost?: number): Promise<Decision>;
  /** Releases the store's timers and connections. */
  close(): Promise<void>;
}
