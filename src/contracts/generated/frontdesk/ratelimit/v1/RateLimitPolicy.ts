// Original file: proto/frontdesk/ratelimit/v1/ratelimit.proto

import type { LimitBy as _frontdesk_ratelimit_v1_LimitBy, LimitBy__Output as _frontdesk_ratelimit_v1_LimitBy__Output } from '../../../frontdesk/ratelimit/v1/LimitBy.js';
import type { Window as _frontdesk_ratelimit_v1_Window, Window__Output as _frontdesk_ratelimit_v1_Window__Output } from '../../../frontdesk/ratelimit/v1/Window.js';
import type { Algorithm as _frontdesk_ratelimit_v1_Algorithm, Algorithm__Output as _frontdesk_ratelimit_v1_Algorithm__Output } from '../../../frontdesk/ratelimit/v1/Algorithm.js';
import type { Policy as _frontdesk_ratelimit_v1_Policy, Policy__Output as _frontdesk_ratelimit_v1_Policy__Output } from '../../../frontdesk/ratelimit/v1/Policy.js';
import type { Redis as _frontdesk_ratelimit_v1_Redis, Redis__Output as _frontdesk_ratelimit_v1_Redis__Output } from '../../../frontdesk/ratelimit/v1/Redis.js';

/**
 * One Kong rate-limiting plugin instance, as the service enforces it.
 */
export interface RateLimitPolicy {
  /**
   * The counter namespace: Kong keys its counters by the plugin's own route and service
   * (ratelimit:<route_id>:<service_id>:<identifier>:...), so routes share counters exactly
   * when they share a plugin scope: "route:<name>", "service:<name>" or "global".
   */
  'scope'?: (string);
  'limit_by'?: (_frontdesk_ratelimit_v1_LimitBy);
  /**
   * limit_by HEADER: the header's name, lower case.
   */
  'header_name'?: (string);
  /**
   * limit_by PATH: the path a request must have to be counted by path (others count by ip).
   */
  'path'?: (string);
  /**
   * One per period set in the plugin (second ... year), shortest first.
   */
  'windows'?: (_frontdesk_ratelimit_v1_Window)[];
  'algorithm'?: (_frontdesk_ratelimit_v1_Algorithm);
  'policy'?: (_frontdesk_ratelimit_v1_Policy);
  /**
   * policy REDIS: the Redis the plugin names (Kong's redis.* and redis_* fields, merged).
   */
  'redis'?: (_frontdesk_ratelimit_v1_Redis | null);
  'fault_tolerant'?: (boolean);
  'hide_client_headers'?: (boolean);
  /**
   * The status of a refused request (Kong's error_code, 429 by default).
   */
  'error_code'?: (number);
  /**
   * The refused request's body is {"message": error_message}.
   */
  'error_message'?: (string);
  /**
   * The Envoy ratelimit filter stage that asks about this policy (one stage per distinct
   * error_code and failure mode; see docs/ratelimit.md).
   */
  'stage'?: (number);
}

/**
 * One Kong rate-limiting plugin instance, as the service enforces it.
 */
export interface RateLimitPolicy__Output {
  /**
   * The counter namespace: Kong keys its counters by the plugin's own route and service
   * (ratelimit:<route_id>:<service_id>:<identifier>:...), so routes share counters exactly
   * when they share a plugin scope: "route:<name>", "service:<name>" or "global".
   */
  'scope': (string);
  'limit_by': (_frontdesk_ratelimit_v1_LimitBy__Output);
  /**
   * limit_by HEADER: the header's name, lower case.
   */
  'header_name': (string);
  /**
   * limit_by PATH: the path a request must have to be counted by path (others count by ip).
   */
  'path': (string);
  /**
   * One per period set in the plugin (second ... year), shortest first.
   */
  'windows': (_frontdesk_ratelimit_v1_Window__Output)[];
  'algorithm': (_frontdesk_ratelimit_v1_Algorithm__Output);
  'policy': (_frontdesk_ratelimit_v1_Policy__Output);
  /**
   * policy REDIS: the Redis the plugin names (Kong's redis.* and redis_* fields, merged).
   */
  'redis': (_frontdesk_ratelimit_v1_Redis__Output | null);
  'fault_tolerant': (boolean);
  'hide_client_headers': (boolean);
  /**
   * The status of a refused request (Kong's error_code, 429 by default).
   */
  'error_code': (number);
  /**
   * The refused request's body is {"message": error_message}.
   */
  'error_message': (string);
  /**
   * The Envoy ratelimit filter stage that asks about this policy (one stage per distinct
   * error_code and failure mode; see docs/ratelimit.md).
   */
  'stage': (number);
}
