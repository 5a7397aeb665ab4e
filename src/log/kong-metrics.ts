/**
 * Kong's prometheus plugin metrics (kong/plugins/prometheus/exporter.lua, Kong 3.x), counted
 * from the access-log entries Envoy streams to the log companion (HTTPAccessLogEntry, as
 * protobufjs decodes it). Names, labels and buckets are Kong's, so a Kong user's dashboards
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
 */
import { Counter, Histogram, Registry } from '../admin/metrics.js';

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

type Obj = { [k: string]: unknown };
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' ? (v as Obj) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function ms(d: unknown): number | undefined {
  const o = obj(d);
  if (o.seconds === undefined && o.nanos === undefined) return undefined;
  return Math.round(Number(o.seconds ?? 0) * 1000 + Number(o.nanos ?? 0) / 1e6);
}

function structString(s: unknown, key: string): string | undefined {
  const v = obj(obj(obj(s).fields)[key]);
  return str(v.string_value ?? v.stringValue);
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
  private readonly authFailures = this.registry.add(new Counter('frontdesk_auth_failures_total', 'Requests the gateway refused with 401 or 403 (the auth plugins, acl, ip-restriction), per service/route', false));

  /** Counts one HTTPAccessLogEntry under a sink's flags. */
  observe(e: Obj, flags: MetricsFlags): void {
    const c = obj(e.common_properties);
    const tags = obj(c.custom_tags);
    const service = str(tags['kong.service']);
    // Kong: "do not record any stats if the service is not present".
    if (!service) return;
    const route = str(tags['kong.route']) ?? '';
    const req = obj(e.request);
    const res = obj(e.response);
    const status = Number(obj(res.response_code).value ?? 0);
    const upTx = ms(c.time_to_first_upstream_tx_byte);
    const upRx = ms(c.time_to_first_upstream_rx_byte);
    const source = upRx !== undefined ? 'service' : 'kong';
    const authz = obj(obj(obj(c.metadata).filter_metadata)['envoy.filters.http.ext_authz']);
    const consumer = flags.per_consumer ? (structString(authz, 'consumer_username') ?? '') : '';
    const flagsSet = obj(c.response_flags);

    if (flags.status_code_metrics) this.requests.inc({ service, route, code: String(status), source, workspace: WORKSPACE, consumer });
    if (flags.latency_metrics) {
      const labels = { service, route, workspace: WORKSPACE };
      const total = ms(c.time_to_last_downstream_tx_byte);
      if (total !== undefined) this.requestLatency.observe(total, labels);
      if (upTx !== undefined && upRx !== undefined) this.upstreamLatency.observe(Math.max(0, upRx - upTx), labels);
      // Kong's own latency: the time before the request went upstream (all of it when it never did).
      const kong = upTx ?? total;
      if (kong !== undefined) this.kongLatency.observe(kong, labels);
    }
    if (flags.bandwidth_metrics) {
      // Kong's request.size and response.size: headers and body (nginx's request_length, bytes_sent).
      const ingress = Number(req.request_headers_bytes ?? 0) + Number(req.request_body_bytes ?? 0);
      const egress = Number(res.response_headers_bytes ?? 0) + Number(res.response_body_bytes ?? 0);
      if (ingress > 0) this.bandwidth.inc({ service, route, direction: 'ingress', workspace: WORKSPACE, consumer }, ingress);
      if (egress > 0) this.bandwidth.inc({ service, route, direction: 'egress', workspace: WORKSPACE, consumer }, egress);
    }
    if (source === 'kong') {
      if (flagsSet.rate_limited === true || status === 429) this.rateLimited.inc({ service, route });
      if (status === 401 || status === 403) this.authFailures.inc({ service, route, code: String(status) });
    }
  }

  render(): string {
    return this.registry.render();
  }
}
