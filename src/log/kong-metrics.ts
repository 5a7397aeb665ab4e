/**
 * Kong's prometheus plugin metrics (kong/plugins/prometheus/exporter.lua, Kong 3.x), counted
 * from the access-log entries Envoy streams to the log companion (HTTPAccessLogEntry, as
 * als-decode.ts reads it). Names, labels and buckets are Kong's, so a Kong user's dashboards
 * and alerts read them unchanged:
 *
 * - kong_http_requests_total{service,route,code,source,workspace,consumer} (status_code_metrics)
 * - kong_kong_latency_ms, kong_upstream_latency_ms, kong_request_latency_ms
 *   {service,route,workspace} histograms (latency_metrics), in Kong's buckets
 * - kong_bandwidth_bytes{service,route,direction,workspace,consumer} (bandwidth_metrics)
 *
 * As Kong's, a request is counted only when it matched a route of a service; the consumer
 * label is the username of the consumer authz identified when per_consumer is set, else "";
 * `source` is "service" when the upstream answered, "kong" when the gateway did; the
 * workspace is Kong's "default" (Kong's open-source edition has no other). Beside Kong's, two
 * of Frontdesk's own, for the deep dive's alerts: frontdesk_rate_limit_hits_total and
 * frontdesk_auth_failures_total{service,route,code}. Pure but for the registry it fills.
 * Observations are gathered per series and added to the registry by flush() (after each
 * message of entries, and before rendering): one label key per series, not per entry.
 */
import { Counter, Histogram, Registry } from '../admin/metrics.js';
import type { AccessLogEntry } from './als-decode.js';

/** Kong's KONG_LATENCY_BUCKETS (ms). */
export const KONG_LATENCY_BUCKETS = [1, 2, 5, 7, 10, 15, 20, 30, 50, 75, 100, 200, 500, 750, 1000];
/** Kong's UPSTREAM_LATENCY_BUCKETS (ms), also those of the total request latency. */
export const UPSTREAM_LATENCY_BUCKETS = [25, 50, 80, 100, 250, 400, 700, 1000, 2000, 5000, 10000, 30000, 60000];

/** Which metrics a sink asks for (Kong's plugin flags). */
export interface MetricsFlags {
  per_consumer: boolean;
  status_code_metrics: boolean;
  latency_metrics: boolean;
  bandwidth_metrics: boolean;
}

const WORKSPACE = 'default';

/** Kong's metrics for every sink of one log companion. */
export class KongMetrics {
  readonly registry = new Registry();
  private readonly requests = this.registry.add(new Counter('kong_http_requests_total', 'HTTP status codes per consumer/service/route', false));
  private readonly kongLatency = this.registry.add(new Histogram('kong_kong_latency_ms', 'Latency added by the gateway and its plugins, per service/route (ms)', KONG_LATENCY_BUCKETS));
  private readonly upstreamLatency = this.registry.add(new Histogram('kong_upstream_latency_ms', 'Latency of the upstream\'s response, per service/route (ms)', UPSTREAM_LATENCY_BUCKETS));
  private readonly requestLatency = this.registry.add(new Histogram('kong_request_latency_ms', 'Total latency of requests, per service/route (ms)', UPSTREAM_LATENCY_BUCKETS));
  private readonly bandwidth = this.registry.add(new Counter('kong_bandwidth_bytes', 'Total bandwidth (ingress/egress) in bytes', false));
  private readonly rateLimited = this.registry.add(new Counter('frontdesk_rate_limit_hits_total', 'Requests refused by a rate limit (429), per service/route', false));
  private readonly authFailures = this.registry.add(new Counter('frontdesk_auth_failures_total', 'Requests the gateway refused with 401 or 403 (the auth plugins, acl, ip-restriction, bot-detection), per service/route', false));

  private readonly pendingCounts = new Map<string, { counter: Counter; labels: Record<string, string>; by: number }>();
  private readonly pendingValues = new Map<string, { histogram: Histogram; labels: Record<string, string>; values: number[] }>();

  private count(counter: Counter, id: string, labels: () => Record<string, string>, by = 1): void {
    const p = this.pendingCounts.get(id);
    if (p) p.by += by;
    else this.pendingCounts.set(id, { counter, labels: labels(), by });
  }

  private value(histogram: Histogram, id: string, labels: () => Record<string, string>, v: number): void {
    const p = this.pendingValues.get(id);
    if (p) p.values.push(v);
    else this.pendingValues.set(id, { histogram, labels: labels(), values: [v] });
  }

  /** Counts one HTTPAccessLogEntry under a sink's flags (in the registry at the next flush). */
  observe(e: AccessLogEntry, flags: MetricsFlags): void {
    const service = e.tags['kong.service'];
    // Kong: "do not record any stats if the service is not present".
    if (!service) return;
    const route = e.tags['kong.route'] ?? '';
    const status = e.status;
    const upTx = e.upstreamTxMs;
    const upRx = e.upstreamRxMs;
    const source = upRx !== undefined ? 'service' : 'kong';
    const consumer = flags.per_consumer ? (e.consumerUsername ?? '') : '';
    const sr = `${service}\u0000${route}`;

    if (flags.status_code_metrics) {
      this.count(this.requests, `r\u0000${sr}\u0000${status}\u0000${source}\u0000${consumer}`, () => ({ service, route, code: String(status), source, workspace: WORKSPACE, consumer }));
    }
    if (flags.latency_metrics) {
      const labels = () => ({ service, route, workspace: WORKSPACE });
      const total = e.totalMs;
      if (total !== undefined) this.value(this.requestLatency, `t\u0000${sr}`, labels, total);
      if (upTx !== undefined && upRx !== undefined) this.value(this.upstreamLatency, `u\u0000${sr}`, labels, Math.max(0, upRx - upTx));
      // Kong's own latency: the time before the request went upstream (all of it when it never did).
      const kong = upTx ?? total;
      if (kong !== undefined) this.value(this.kongLatency, `k\u0000${sr}`, labels, kong);
    }
    if (flags.bandwidth_metrics) {
      // Kong's request.size and response.size: headers and body (nginx's request_length, bytes_sent).
      const ingress = e.requestHeadersBytes + e.requestBodyBytes;
      const egress = e.responseHeadersBytes + e.responseBodyBytes;
      if (ingress > 0) this.count(this.bandwidth, `i\u0000${sr}\u0000${consumer}`, () => ({ service, route, direction: 'ingress', workspace: WORKSPACE, consumer }), ingress);
      if (egress > 0) this.count(this.bandwidth, `e\u0000${sr}\u0000${consumer}`, () => ({ service, route, direction: 'egress', workspace: WORKSPACE, consumer }), egress);
    }
    if (source === 'kong') {
      if (e.rateLimited || status === 429) this.count(this.rateLimited, `l\u0000${sr}`, () => ({ service, route }));
      if (status === 401 || status === 403) this.count(this.authFailures, `a\u0000${sr}\u0000${status}`, () => ({ service, route, code: String(status) }));
    }
  }

  /** Adds what observe() gathered to the registry. */
  flush(): void {
    for (const p of this.pendingCounts.values()) p.counter.inc(p.labels, p.by);
    for (const p of this.pendingValues.values()) p.histogram.observeMany(p.values, p.labels);
    this.pendingCounts.clear();
    this.pendingValues.clear();
  }

  render(): string {
    this.flush();
    return this.registry.render();
  }
}
