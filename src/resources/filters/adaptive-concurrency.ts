import type { Backend, GatewayIR } from '../../ir/types.js';
import { anyMessage, duration, type JsonObject } from '../builders.js';
import type { FilterGroup, HttpFilter } from './registry.js';

const ADAPTIVE = 'envoy.extensions.filters.http.adaptive_concurrency.v3.AdaptiveConcurrency';
const FILTER_CONFIG = 'envoy.config.route.v3.FilterConfig';

/** The chain name of one backend's adaptive_concurrency instance. */
export const adaptiveFilterName = (backend: string) => `frontdesk.adaptive_concurrency.${backend}`;

/** envoy.extensions.filters.http.adaptive_concurrency.v3.AdaptiveConcurrency (gradient controller) for one backend. */
function config(a: NonNullable<Backend['adaptiveConcurrency']>): JsonObject {
  return anyMessage(ADAPTIVE, {
    gradient_controller_config: {
      sample_aggregate_percentile: { value: a.samplePercentile },
      concurrency_limit_params: { max_concurrency_limit: a.maxConcurrencyLimit, concurrency_update_interval: duration(a.concurrencyUpdateIntervalMs) },
      min_rtt_calc_params: {
        interval: duration(a.minRttIntervalMs),
        request_count: a.minRttRequestCount,
        jitter: { value: a.jitterPercent },
        min_concurrency: a.minConcurrency,
        buffer: { value: a.bufferPercent },
      },
    },
    // Refused requests get 503 (Envoy's default), answered as Kong-style JSON by the listener's local replies.
    concurrency_limit_exceeded_status: { code: 'ServiceUnavailable' },
  });
}

/**
 * The `adaptive_concurrency` extension: one Envoy adaptive_concurrency filter per backend that
 * asks for it, so each service has its own limit (the filter keeps one limit per instance).
 * Envoy cannot switch a filter on for a route without a per-route config, which this filter
 * has none of, so each instance is on in the chain and switched off (FilterConfig disabled) on
 * every route of another backend. Envoy's own answers (Kong's 404 for no route, redirects) pass
 * it too, as requests of almost no latency. Envoy counts refusals in
 * http.<listener>.adaptive_concurrency.gradient_controller.rq_blocked (one prefix for every instance).
 */
export const adaptiveConcurrencyFilters: FilterGroup = { group: 'adaptive_concurrency', expand: adaptiveConcurrencyInstances };

function adaptiveConcurrencyInstances(ir: GatewayIR): HttpFilter[] {
  return ir.backends.filter((b) => b.adaptiveConcurrency).map((b): HttpFilter => {
    const name = adaptiveFilterName(b.name);
    return {
      name,
      httpFilter(listener) {
        if (!listener.routes.some((r) => r.service && r.action.backend === b.name)) return undefined;
        return { name, typed_config: config(b.adaptiveConcurrency!) };
      },
      perRoute(route) {
        return route.service && route.action.backend === b.name ? undefined : anyMessage(FILTER_CONFIG, { disabled: true });
      },
    };
  });
}
