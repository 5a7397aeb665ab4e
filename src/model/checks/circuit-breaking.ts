import { diag } from '../../errors.js';
import type { CircuitBreakerFields, OutlierDetectionFields } from '../entities.js';
import type { Service, Upstream } from '../types.js';
import type { Finding } from './authz.js';

/**
 * Frontdesk's gateway defaults for circuit breaking, and the checks that say where a
 * configuration caps a service below what Kong would pass on. Kong (nginx) puts no limit per
 * upstream: every request it admits is proxied. Envoy's built-in limits per cluster are 1,024
 * connections, pending requests and requests, and 3 concurrent retries. Frontdesk sets every
 * threshold itself, from the one limit an Envoy instance has as a whole: the downstream
 * connections its overload manager admits (runtime/bootstrap.ts). An HTTP/1.1 client has at
 * most one request in flight per connection, so a cluster allowed that many connections,
 * pending requests and requests never refuses a request that Envoy accepted.
 */

/** Downstream connections one Envoy admits (overload manager: global_downstream_max_connections). */
export const DEFAULT_MAX_DOWNSTREAM_CONNECTIONS = 50_000;

/** The thresholds a service cluster gets when its configuration sets none. */
export const DEFAULT_THRESHOLDS = {
  maxConnections: DEFAULT_MAX_DOWNSTREAM_CONNECTIONS,
  maxPendingRequests: DEFAULT_MAX_DOWNSTREAM_CONNECTIONS,
  maxRequests: DEFAULT_MAX_DOWNSTREAM_CONNECTIONS,
  /**
   * Kong retries each failed try up to `retries` times whatever the other requests do. A
   * request has one try in flight at a time, so a budget of 100 % of the active requests lets
   * every one of them retry; the floor covers the moment every try has failed at once (a
   * request waiting for its retry is not active).
   */
  retryBudget: { percent: 100, minConcurrency: DEFAULT_MAX_DOWNSTREAM_CONNECTIONS },
} as const;

/** A service's circuit_breaker over its upstream's, field by field (the service's win). */
export function mergedCircuitBreaker(s: Service, u: Upstream | undefined): CircuitBreakerFields {
  const a = u?.circuit_breaker ?? {};
  const b = s.circuit_breaker ?? {};
  const high = a.high || b.high ? { ...a.high, ...b.high } : undefined;
  const merged: CircuitBreakerFields = { ...a, ...b, ...(high ? { high } : {}) };
  // A cap the service sets replaces the upstream's of the other kind.
  if (b.max_retries !== undefined) delete merged.retry_budget;
  if (b.retry_budget !== undefined) delete merged.max_retries;
  return merged;
}

/** A service's outlier_detection over its upstream's, field by field. */
export function mergedOutlierDetection(s: Service, u: Upstream | undefined): OutlierDetectionFields | undefined {
  if (!s.outlier_detection && !u?.outlier_detection) return undefined;
  return { ...u?.outlier_detection, ...s.outlier_detection };
}

/**
 * How Kong's passive `unhealthy.http_statuses` map onto Envoy's outlier detection, which has no
 * status list: its consecutive_gateway_failure counter counts exactly 502, 503 and 504, its
 * consecutive_5xx counter every 5xx. Returns the counter to use (none when no listed status is
 * a 5xx), and the statuses on which the two disagree.
 */
export function passiveStatusMapping(statuses: readonly number[]): { counter?: 'gateway' | '5xx'; notCounted: number[]; extraCounted: string } {
  const set = new Set(statuses);
  const gateway = [502, 503, 504];
  const fivexx = [...set].filter((c) => c >= 500 && c <= 599);
  const notCounted = [...set].filter((c) => c < 500 || c > 599).sort((x, y) => x - y);
  if (fivexx.length === 0) return { notCounted, extraCounted: '' };
  if (fivexx.every((c) => gateway.includes(c))) {
    const extra = gateway.filter((c) => !set.has(c));
    return { counter: 'gateway', notCounted, extraCounted: extra.join(', ') };
  }
  const listed = fivexx.length === 100;
  return { counter: '5xx', notCounted, extraCounted: listed ? '' : 'every other 5xx' };
}

interface Cap { value: number; field: string }

/** The tightest of the caps on requests in flight or queued for one priority's thresholds. */
function requestCap(t: CircuitBreakerFields | NonNullable<CircuitBreakerFields['high']>, http2: boolean): Cap | undefined {
  const caps: Cap[] = [];
  if (t.max_requests !== undefined) caps.push({ value: t.max_requests, field: 'max_requests' });
  // Over HTTP/1.1 a request in flight holds a connection; the others wait as pending requests.
  if (!http2 && (t.max_connections !== undefined || t.max_pending_requests !== undefined)) {
    const conns = t.max_connections ?? DEFAULT_THRESHOLDS.maxConnections;
    const pending = t.max_pending_requests ?? DEFAULT_THRESHOLDS.maxPendingRequests;
    caps.push({ value: conns + pending, field: t.max_connections !== undefined ? 'max_connections' : 'max_pending_requests' });
  }
  return caps.sort((a, b) => a.value - b.value)[0];
}

/**
 * `validate`'s warnings: a service whose thresholds cap the requests it can have in flight
 * below what the gateway admits (Kong would pass them on; Envoy answers 503), or its retries
 * below the requests it serves; and Kong passive health checks whose statuses Envoy cannot
 * count exactly.
 */
export function checkCircuitBreaking(services: readonly Service[], upstreams: readonly Upstream[]): Finding[] {
  const out: Finding[] = [];
  const byName = new Map(upstreams.map((u) => [u.name, u]));
  for (const s of services) {
    const u = s.upstream ? byName.get(s.upstream) : undefined;
    const cb = mergedCircuitBreaker(s, u);
    const owner = (field: string) => (s.circuit_breaker && field in s.circuit_breaker) || !u ? s.origin : u.origin;
    const http2 = s.protocol === 'grpc' || s.protocol === 'grpcs';
    const cap = requestCap(cb, http2);
    if (cap && cap.value < DEFAULT_MAX_DOWNSTREAM_CONNECTIONS) {
      const o = owner(cap.field);
      out.push({ origin: o, diagnostic: diag('FD_CIRCUIT_CAPPED', [...o.path, 'circuit_breaker', cap.field], s.name, cap.value, cap.field, DEFAULT_MAX_DOWNSTREAM_CONNECTIONS) });
    }
    if (cb.max_retries !== undefined && s.retries > 0) {
      const requests = cap?.value ?? DEFAULT_MAX_DOWNSTREAM_CONNECTIONS;
      if (cb.max_retries < requests) {
        const o = owner('max_retries');
        out.push({ origin: o, diagnostic: diag('FD_CIRCUIT_RETRIES_CAPPED', [...o.path, 'circuit_breaker', 'max_retries'], s.name, cb.max_retries, s.retries) });
      }
    }
  }
  for (const u of upstreams) {
    const p = u.healthchecks.passive.unhealthy;
    if (p.http_failures === 0) continue;
    const m = passiveStatusMapping(p.http_statuses);
    const path = [...u.origin.path, 'healthchecks', 'passive', 'unhealthy', 'http_statuses'];
    if (!m.counter) out.push({ origin: u.origin, diagnostic: diag('FD_PASSIVE_STATUSES_INEXACT', path, u.name, 'none of them is a 5xx: Envoy counts no such failure, so http_failures is not applied') });
    else if (m.notCounted.length || m.extraCounted) {
      const parts = [
        m.extraCounted ? `Envoy also counts ${m.extraCounted}` : '',
        m.notCounted.length ? `Envoy cannot count ${m.notCounted.join(', ')}` : '',
      ].filter(Boolean);
      out.push({ origin: u.origin, diagnostic: diag('FD_PASSIVE_STATUSES_INEXACT', path, u.name, parts.join('; ')) });
    }
  }
  return out;
}
