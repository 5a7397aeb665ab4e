import { z } from 'zod';
import { definePlugin } from './definition.js';
import { notServed } from './native-common.js';

/**
 * Kong 3.x `prometheus` plugin config (kong/plugins/prometheus/schema.lua), with Kong's
 * defaults. Kong's request metrics (kong_http_requests_total, the kong_*_latency_ms histograms,
 * kong_bandwidth_bytes) are counted by the log companion from the entries Envoy's gRPC access
 * logger streams to it for the plugin's routes, and served on the companion's admin /metrics
 * (docs/observability.md says why there); each flag switches its metric on as Kong's does.
 * Envoy's own statistics stay on its admin port. `upstream_health_metrics`
 * (kong_upstream_target_health) is written by the same companion when scraped: the control
 * plane sends it each Kong upstream's targets, its Envoy's admin /clusters their health. AI and
 * Wasm metrics are refused: nothing serves them yet.
 */
export const prometheusConfigSchema = z.strictObject({
  per_consumer: z.boolean().default(false),
  status_code_metrics: z.boolean().default(false),
  latency_metrics: z.boolean().default(false),
  bandwidth_metrics: z.boolean().default(false),
  upstream_health_metrics: z.boolean().default(false),
  ai_metrics: z.boolean().default(false),
  wasm_metrics: z.boolean().default(false),
}).superRefine((c, ctx) => {
  if (c.ai_metrics) ctx.addIssue({ code: 'custom', path: ['ai_metrics'], message: notServed('AI metrics', 'leave ai_metrics at false') });
  if (c.wasm_metrics) ctx.addIssue({ code: 'custom', path: ['wasm_metrics'], message: notServed('Wasm filter metrics', 'leave wasm_metrics at false') });
});

export type PrometheusConfig = z.output<typeof prometheusConfigSchema>;

/** What the IR carries: which of Kong's metrics the plugin's routes are counted in. */
export interface PrometheusFeature {
  perConsumer: boolean;
  statusCode: boolean;
  latency: boolean;
  bandwidth: boolean;
  /** Kong's upstream_health_metrics: kong_upstream_target_health for every upstream (as Kong's, one plugin turning it on is enough). */
  upstreamHealth: boolean;
}

export const prometheusPlugin = definePlugin({
  name: 'prometheus',
  config: prometheusConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['per_consumer', 'status_code_metrics', 'latency_metrics', 'bandwidth_metrics', 'upstream_health_metrics'], refused: ['ai_metrics', 'wasm_metrics'] },
  enforcers: () => ['envoy'],
  feature: (c): PrometheusFeature => ({ perConsumer: c.per_consumer, statusCode: c.status_code_metrics, latency: c.latency_metrics, bandwidth: c.bandwidth_metrics, upstreamHealth: c.upstream_health_metrics }),
});
