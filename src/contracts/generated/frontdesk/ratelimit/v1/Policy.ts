// Original file: proto/frontdesk/ratelimit/v1/ratelimit.proto

/**
 * Where the counters live: LOCAL in the service instance's memory; CLUSTER in the service's
 * default Redis (--redis) when it has one, else in its memory; REDIS in `redis`.
 */
export const Policy = {
  POLICY_UNSPECIFIED: 'POLICY_UNSPECIFIED',
  LOCAL: 'LOCAL',
  CLUSTER: 'CLUSTER',
  REDIS: 'REDIS',
} as const;

/**
 * Where the counters live: LOCAL in the service instance's memory; CLUSTER in the service's
 * default Redis (--redis) when it has one, else in its memory; REDIS in `redis`.
 */
export type Policy =
  | 'POLICY_UNSPECIFIED'
  | 0
  | 'LOCAL'
  | 1
  | 'CLUSTER'
  | 2
  | 'REDIS'
  | 3

/**
 * Where the counters live: LOCAL in the service instance's memory; CLUSTER in the service's
 * default Redis (--redis) when it has one, else in its memory; REDIS in `redis`.
 */
export type Policy__Output = typeof Policy[keyof typeof Policy]
