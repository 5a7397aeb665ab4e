/**
 * Why a store could not decide:
 * - unavailable: no connection (refused, closed, not ready yet, cluster down, loading);
 * - timeout: the backend did not answer in time;
 * - rejected: the backend answered with an error (script error, out of memory, wrong type);
 * - bad-reply: the backend answered something the store does not understand.
 */
export type StoreFailure = 'unavailable' | 'timeout' | 'rejected' | 'bad-reply';

/**
 * A rate-limit store failed to decide. The service answers it with the plugin's
 * fault_tolerant setting: let the request through (and count it) or refuse it.
 */
export class RateLimitStoreError extends Error {
  readonly code = 'FD_RATELIMIT_STORE';

  constructor(
    readonly reason: StoreFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RateLimitStoreError';
  }
}

/** Redis error replies that mean "not serving right now" rather than "your request is wrong". */
const TRANSIENT_REPLIES = ['LOADING', 'BUSY', 'MASTERDOWN', 'CLUSTERDOWN', 'TRYAGAIN', 'READONLY'];

/** Wraps anything a Redis client threw into a RateLimitStoreError with the right reason. */
export function fromRedisError(err: unknown): RateLimitStoreError {
  if (err instanceof RateLimitStoreError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  let reason: StoreFailure = 'unavailable';
  if (/timed out/i.test(e.message)) reason = 'timeout';
  else if (e.name === 'ReplyError' && !TRANSIENT_REPLIES.some((p) => e.message.startsWith(p))) reason = 'rejected';
  return new RateLimitStoreError(reason, `redis rate-limit store ${reason}: ${e.message}`, { cause: err });
}
