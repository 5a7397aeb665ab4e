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
 * (kong_upstream_target_health), AI and Wasm metrics are refused: nothing serves them yet.
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
  if (c.upstream_health_metrics) ctx.addIssue({ code: 'custom', path: ['upstream_health_metrics'], message: notServed('kong_upstream_target_health', 'leave upstream_health_metrics at false; Envoy reports each service\'s healthy endpoints on its admin /stats/prometheus (envoy_cluster_membership_healthy)') });
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
}

export const prometheusPlugin = definePlugin({
  name: 'prometheus',
  config: prometheusConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['per_consumer', 'status_code_metrics', 'latency_metrics', 'bandwidth_metrics'], refused: ['upstream_health_metrics', 'ai_metrics', 'wasm_metrics'] },
  enforcers: () => ['envoy'],
  feature: (c): PrometheusFeature => ({ perConsumer: c.per_consumer, statusCode: c.status_code_metrics, latency: c.latency_metrics, bandwidth: c.bandwidth_metrics }),
});
