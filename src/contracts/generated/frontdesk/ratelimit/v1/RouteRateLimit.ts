// Original file: proto/frontdesk/ratelimit/v1/ratelimit.proto

import type { RateLimitPolicy as _frontdesk_ratelimit_v1_RateLimitPolicy, RateLimitPolicy__Output as _frontdesk_ratelimit_v1_RateLimitPolicy__Output } from '../../../frontdesk/ratelimit/v1/RateLimitPolicy.js';
import type { ConsumerRateLimit as _frontdesk_ratelimit_v1_ConsumerRateLimit, ConsumerRateLimit__Output as _frontdesk_ratelimit_v1_ConsumerRateLimit__Output } from '../../../frontdesk/ratelimit/v1/ConsumerRateLimit.js';

/**
 * The limits of one Kong route.
 */
export interface RouteRateLimit {
  /**
   * The resource name: the Kong route's name (the `fd_route` descriptor value).
   */
  'name'?: (string);
  /**
   * The Kong service the route belongs to: the identifier of limit_by "service".
   */
  'service'?: (string);
  /**
   * The route's own limit after Kong's precedence (route > service > global); absent when only
   * consumer-scoped plugins limit this route.
   */
  'policy'?: (_frontdesk_ratelimit_v1_RateLimitPolicy | null);
  /**
   * Consumer-scoped plugins: they replace `policy` for requests of that consumer.
   */
  'consumers'?: (_frontdesk_ratelimit_v1_ConsumerRateLimit)[];
}

/**
 * The limits of one Kong route.
 */
export interface RouteRateLimit__Output {
  /**
   * The resource name: the Kong route's name (the `fd_route` descriptor value).
   */
  'name': (string);
  /**
   * The Kong service the route belongs to: the identifier of limit_by "service".
   */
  'service': (string);
  /**
   * The route's own limit after Kong's precedence (route > service > global); absent when only
   * consumer-scoped plugins limit this route.
   */
  'policy': (_frontdesk_ratelimit_v1_RateLimitPolicy__Output | null);
  /**
   * Consumer-scoped plugins: they replace `policy` for requests of that consumer.
   */
  'consumers': (_frontdesk_ratelimit_v1_ConsumerRateLimit__Output)[];
}
