import type { AlgorithmName, Unit } from '../algorithms/types.js';

/** The default namespace of Frontdesk's rate-limit keys in Redis. */
export const DEFAULT_KEY_PREFIX = 'fd:rl:';

const NEEDS_ENCODING = /[%{}]/;

/**
 * The Redis key of one window of one rate-limit key:
 * `<prefix>{k:<key>}:<unit>:<algorithm>`, e.g. `fd:rl:{k:route-a|ip|10.0.0.1}:minute:token-bucket`.
 * The braces are a Redis Cluster hash tag: every window of a key hashes to the same slot, so
 * one script can touch them all. Braces and `%` inside the key are percent-encoded so the tag
 * always ends where the key does, and the `k:` keeps it non-empty.
 */
export function windowKey(prefix: string, key: string, unit: Unit, algorithm: AlgorithmName): string {
  return `${prefix}{k:${NEEDS_ENCODING.test(key) ? key.replace(/[%{}]/g, encodeURIComponent) : key}}:${unit}:${algorithm}`;
}

/** Checks a key prefix: it must not contain braces, or it would move the hash tag. */
export function assertValidPrefix(prefix: string): void {
  if (/[{}]/.test(prefix)) throw new RangeError(`rate-limit key prefix must not contain braces: "${prefix}"`);
}
