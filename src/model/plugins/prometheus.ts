import { z } from 'zod';
import { asIs, definePlugin } from './definition.js';
import { notServed } from './native-common.js';

/**
 * Kong 3.x `prometheus` plugin config (kong/plugins/prometheus/schema.lua), with Kong's
 * defaults. Nothing is added to the data path: Envoy already counts requests by status,
 * latency and bytes per listener, route and cluster, and upstream health per cluster (scrape
 * its admin /stats/prometheus; Frontdesk's own metrics are on its admin /metrics). Per-consumer
 * and AI metrics are refused: Envoy's stats carry no consumer label.
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
  if (c.per_consumer) ctx.addIssue({ code: 'custom', path: ['per_consumer'], message: notServed('metrics labelled by consumer', 'leave per_consumer at false') });
  if (c.ai_metrics) ctx.addIssue({ code: 'custom', path: ['ai_metrics'], message: notServed('AI metrics', 'leave ai_metrics at false') });
  if (c.wasm_metrics) ctx.addIssue({ code: 'custom', path: ['wasm_metrics'], message: notServed('Wasm filter metrics', 'leave wasm_metrics at false') });
});

export type PrometheusConfig = z.output<typeof prometheusConfigSchema>;

export const prometheusPlugin = definePlugin({
  name: 'prometheus',
  config: prometheusConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['per_consumer', 'status_code_metrics', 'latency_metrics', 'bandwidth_metrics', 'upstream_health_metrics', 'ai_metrics', 'wasm_metrics'] },
  enforcers: () => ['envoy'],
  feature: asIs,
});
