import type { RatePolicy } from '../../contracts/ratelimit.js';

/**
 * Kong's `policy: local` and Envoy's own local_ratelimit filter (envoy.filters.http.
 * local_ratelimit): when could Envoy enforce a limit by itself, with no call to the ratelimit
 * service? Only where it gives exactly what Kong gives, and this module says where that is.
 *
 * Kong's local policy keeps the counters in the memory of each Kong node. The ratelimit
 * service's memory store is the same thing for each service instance (`frontdesk start` runs
 * one per gateway node), so it serves `policy: local` whenever Envoy's filter cannot. In Envoy
 * 1.40 that is always, for these reasons (each a behaviour a Kong user would see change):
 *
 * - body: local_ratelimit answers with the fixed body `local_rate_limited` (text/plain); Kong
 *   answers `{"message": error_message}` as JSON. There is no field to change it; only the
 *   connection manager's local_reply_config could, for every filter at once.
 * - headers: Kong sends live counts (X-RateLimit-Remaining-<Unit>, RateLimit-Remaining,
 *   RateLimit-Reset, Retry-After); local_ratelimit adds only fixed headers, or the draft-03
 *   `x-ratelimit-*` names. Only `hide_client_headers: true` avoids the difference.
 * - keys: a bucket per client (limit_by consumer, credential, ip, header, and path's ip
 *   fallback) needs dynamic descriptors. Envoy 1.40 keeps at most max_dynamic_descriptors of
 *   them (20 by default, least recently used evicted: an evicted client starts over with a full
 *   bucket), and the Envoy API protos Frontdesk loads (@grpc/grpc-js-xds deps) predate them.
 * - algorithm: a token bucket only; Kong's fixed window and the other extensions cannot be
 *   expressed.
 * - several windows: Envoy takes a token from each matching bucket in turn and does not give
 *   the first back when a later one refuses; Kong counts a refused request in no window.
 * - scope: a bucket belongs to one listener's filter (or one Envoy route), while Kong shares a
 *   plugin's counters across every route and listener of its scope on the node.
 */

/** Why Envoy's local_ratelimit cannot enforce this policy exactly as Kong would; empty when it can. */
export function localRateLimitBlockers(p: RatePolicy): string[] {
  if (p.policy !== 'local') return ['only policy local keeps counters per node; cluster and redis share them between nodes'];
  const out = ['local_ratelimit answers with the fixed body "local_rate_limited", not {"message": error_message}'];
  if (!p.hideClientHeaders) out.push('Kong\'s X-RateLimit-*/RateLimit-*/Retry-After headers carry live counts that local_ratelimit cannot send');
  if (p.limitBy !== 'service') out.push(`limit_by ${p.limitBy} needs a bucket per client (dynamic descriptors: bounded LRU in Envoy 1.40, absent from the API protos Frontdesk loads)`);
  if (p.algorithm !== 'token-bucket') out.push(`algorithm ${p.algorithm}: local_ratelimit is a token bucket only`);
  if (p.windows.length > 1) out.push('several windows: tokens taken from one bucket are not given back when another refuses');
  if (!p.scope.startsWith('route:')) {
    out.push(`scope ${p.scope}: Kong shares these counters across routes and listeners; a local_ratelimit bucket is per listener filter or per Envoy route`);
  }
  return out;
}

/**
 * Which store serves a policy: Envoy's local_ratelimit when it can enforce the policy exactly
 * (never, in Envoy 1.40: see above), else the ratelimit service.
 */
export function servedLocallyByEnvoy(p: RatePolicy): boolean {
  return localRateLimitBlockers(p).length === 0;
}
