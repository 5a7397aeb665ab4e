// Original file: proto/frontdesk/ratelimit/v1/ratelimit.proto

import type { RateLimitPolicy as _frontdesk_ratelimit_v1_RateLimitPolicy, RateLimitPolicy__Output as _frontdesk_ratelimit_v1_RateLimitPolicy__Output } from '../../../frontdesk/ratelimit/v1/RateLimitPolicy.js';

/**
 * A consumer-scoped rate-limiting plugin on a route.
 */
export interface ConsumerRateLimit {
  /**
   * The consumer's id, as the authz companion puts it in Envoy's dynamic metadata
   * (envoy.filters.http.ext_authz / consumer_id).
   */
  'consumer_id'?: (string);
  'policy'?: (_frontdesk_ratelimit_v1_RateLimitPolicy | null);
}

/**
 * A consumer-scoped rate-limiting plugin on a route.
 */
export interface ConsumerRateLimit__Output {
  /**
   * The consumer's id, as the authz companion puts it in Envoy's dynamic metadata
   * (envoy.filters.http.ext_authz / consumer_id).
   */
  'consumer_id': (string);
  'policy': (_frontdesk_ratelimit_v1_RateLimitPolicy__Output | null);
}
