import { AUTHZ_TYPE } from '../contracts/authz.js';
import { LOG_TYPE_URL, METRICS_TYPE_URL, STREAM_LOG_TYPE_URL, UPSTREAM_TARGETS_TYPE_URL } from '../contracts/log.js';
import { RATELIMIT_TYPE_URL } from '../contracts/ratelimit.js';
import { TRACING_TYPE_URL } from '../contracts/tracing.js';
import { TRANSFORM_TYPE_URL } from '../contracts/transform.js';
import { ENVOY_PUSH_ORDER } from '../resources/type-urls.js';
import type { Identity } from '../tls.js';

/**
 * What each identity may hold over ADS. An Envoy: Envoy's own types (its fleet's, chosen by
 * the session from the certificate); a companion: its own policy types and nothing else (the
 * authz companion alone sees consumers and their credentials); the control plane: nothing.
 */
export const COMPANION_TYPES: Readonly<Record<string, readonly string[]>> = {
  authz: [AUTHZ_TYPE.consumer, AUTHZ_TYPE.routePolicy, TRACING_TYPE_URL],
  ratelimit: [RATELIMIT_TYPE_URL, TRACING_TYPE_URL],
  transform: [TRANSFORM_TYPE_URL, TRACING_TYPE_URL],
  log: [LOG_TYPE_URL, METRICS_TYPE_URL, STREAM_LOG_TYPE_URL, UPSTREAM_TARGETS_TYPE_URL],
};

export function mayHold(identity: Identity, typeUrl: string): boolean {
  if (identity.role === 'envoy') return ENVOY_PUSH_ORDER.includes(typeUrl);
  if (identity.role === 'companion') return COMPANION_TYPES[identity.name]?.includes(typeUrl) ?? false;
  return false;
}
