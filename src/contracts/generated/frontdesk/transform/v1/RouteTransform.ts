// Original file: proto/frontdesk/transform/v1/transform.proto

import type { Operations as _frontdesk_transform_v1_Operations, Operations__Output as _frontdesk_transform_v1_Operations__Output } from '../../../frontdesk/transform/v1/Operations.js';
import type { StandardWebhooks as _frontdesk_transform_v1_StandardWebhooks, StandardWebhooks__Output as _frontdesk_transform_v1_StandardWebhooks__Output } from '../../../frontdesk/transform/v1/StandardWebhooks.js';
import type { ResponseRateLimiting as _frontdesk_transform_v1_ResponseRateLimiting, ResponseRateLimiting__Output as _frontdesk_transform_v1_ResponseRateLimiting__Output } from '../../../frontdesk/transform/v1/ResponseRateLimiting.js';

/**
 * One resource per route that needs the companion, named by the Kong route's name.
 */
export interface RouteTransform {
  'route'?: (string);
  /**
   * request-transformer body operations (JSON or form-urlencoded bodies).
   */
  'request_body'?: (_frontdesk_transform_v1_Operations | null);
  /**
   * request-transformer querystring operations.
   */
  'querystring'?: (_frontdesk_transform_v1_Operations | null);
  /**
   * request-transformer http_method ("" keeps the method).
   */
  'http_method'?: (string);
  /**
   * response-transformer json operations.
   */
  'response_json'?: (_frontdesk_transform_v1_Operations | null);
  /**
   * The resource name: the Kong route's name (Envoy sends it as gRPC metadata).
   */
  'name'?: (string);
  /**
   * request-transformer header operations (only when the config holds a template; names lower case).
   */
  'request_headers'?: (_frontdesk_transform_v1_Operations | null);
  /**
   * request-transformer replace.uri when it holds a template ("" otherwise).
   */
  'uri'?: (string);
  /**
   * The route's regex path (RE2), whose captures templates read as uri_captures ("" for a prefix path).
   */
  'path_regex'?: (string);
  /**
   * Kong's standard-webhooks: the request's webhook-id, webhook-timestamp and webhook-signature
   * checked against its body before anything else is done to it (unset: not checked).
   */
  'standard_webhooks'?: (_frontdesk_transform_v1_StandardWebhooks | null);
  /**
   * Kong's response-ratelimiting of the route (unset: none for requests of no consumer below).
   */
  'response_ratelimiting'?: (_frontdesk_transform_v1_ResponseRateLimiting | null);
  /**
   * A consumer's own response-ratelimiting on this route (Kong's plugin on the consumer), by consumer id.
   */
  'response_ratelimiting_consumers'?: ({[key: string]: _frontdesk_transform_v1_ResponseRateLimiting});
}

/**
 * One resource per route that needs the companion, named by the Kong route's name.
 */
export interface RouteTransform__Output {
  'route': (string);
  /**
   * request-transformer body operations (JSON or form-urlencoded bodies).
   */
  'request_body': (_frontdesk_transform_v1_Operations__Output | null);
  /**
   * request-transformer querystring operations.
   */
  'querystring': (_frontdesk_transform_v1_Operations__Output | null);
  /**
   * request-transformer http_method ("" keeps the method).
   */
  'http_method': (string);
  /**
   * response-transformer json operations.
   */
  'response_json': (_frontdesk_transform_v1_Operations__Output | null);
  /**
   * The resource name: the Kong route's name (Envoy sends it as gRPC metadata).
   */
  'name': (string);
  /**
   * request-transformer header operations (only when the config holds a template; names lower case).
   */
  'request_headers': (_frontdesk_transform_v1_Operations__Output | null);
  /**
   * request-transformer replace.uri when it holds a template ("" otherwise).
   */
  'uri': (string);
  /**
   * The route's regex path (RE2), whose captures templates read as uri_captures ("" for a prefix path).
   */
  'path_regex': (string);
  /**
   * Kong's standard-webhooks: the request's webhook-id, webhook-timestamp and webhook-signature
   * checked against its body before anything else is done to it (unset: not checked).
   */
  'standard_webhooks': (_frontdesk_transform_v1_StandardWebhooks__Output | null);
  /**
   * Kong's response-ratelimiting of the route (unset: none for requests of no consumer below).
   */
  'response_ratelimiting': (_frontdesk_transform_v1_ResponseRateLimiting__Output | null);
  /**
   * A consumer's own response-ratelimiting on this route (Kong's plugin on the consumer), by consumer id.
   */
  'response_ratelimiting_consumers': ({[key: string]: _frontdesk_transform_v1_ResponseRateLimiting__Output});
}
