// Original file: proto/frontdesk/transform/v1/transform.proto

import type { ResponseLimit as _frontdesk_transform_v1_ResponseLimit, ResponseLimit__Output as _frontdesk_transform_v1_ResponseLimit__Output } from '../../../frontdesk/transform/v1/ResponseLimit.js';
import type { Redis as _frontdesk_ratelimit_v1_Redis, Redis__Output as _frontdesk_ratelimit_v1_Redis__Output } from '../../../frontdesk/ratelimit/v1/Redis.js';

/**
 * Kong's response-ratelimiting plugin config, as the companion counts it.
 */
export interface ResponseRateLimiting {
  /**
   * The counters' namespace: the plugin's scope (route:NAME, service:NAME or global).
   */
  'scope'?: (string);
  /**
   * consumer, credential or ip (Kong falls back to the client's address).
   */
  'limit_by'?: (string);
  /**
   * local (this companion's memory) or redis.
   */
  'policy'?: (string);
  'fault_tolerant'?: (boolean);
  'block_on_first_violation'?: (boolean);
  'hide_client_headers'?: (boolean);
  /**
   * The upstream response header spending the quotas, lower case.
   */
  'header_name'?: (string);
  'limits'?: (_frontdesk_transform_v1_ResponseLimit)[];
  /**
   * policy redis: where the counters are.
   */
  'redis'?: (_frontdesk_ratelimit_v1_Redis | null);
  /**
   * Whether the request's X-Consumer-ID and X-Credential-Identifier are the gateway's (an auth
   * plugin on the route set them, a client's copy removed); else the client's address is used.
   */
  'identity_headers'?: (boolean);
}

/**
 * Kong's response-ratelimiting plugin config, as the companion counts it.
 */
export interface ResponseRateLimiting__Output {
  /**
   * The counters' namespace: the plugin's scope (route:NAME, service:NAME or global).
   */
  'scope': (string);
  /**
   * consumer, credential or ip (Kong falls back to the client's address).
   */
  'limit_by': (string);
  /**
   * local (this companion's memory) or redis.
   */
  'policy': (string);
  'fault_tolerant': (boolean);
  'block_on_first_violation': (boolean);
  'hide_client_headers': (boolean);
  /**
   * The upstream response header spending the quotas, lower case.
   */
  'header_name': (string);
  'limits': (_frontdesk_transform_v1_ResponseLimit__Output)[];
  /**
   * policy redis: where the counters are.
   */
  'redis': (_frontdesk_ratelimit_v1_Redis__Output | null);
  /**
   * Whether the request's X-Consumer-ID and X-Credential-Identifier are the gateway's (an auth
   * plugin on the route set them, a client's copy removed); else the client's address is used.
   */
  'identity_headers': (boolean);
}
