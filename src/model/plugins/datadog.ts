import { z } from 'zod';
import { definePlugin } from './definition.js';
import { counterNeedsRate, DEPRECATED_BATCHING, kongHost, kongPort, METRICS_SENT_UNBATCHED, type DatadogFeature } from './stream-log-common.js';

const STAT_NAMES = ['kong_latency', 'latency', 'request_count', 'request_size', 'response_size', 'upstream_latency'] as const;
const STAT_TYPES = ['counter', 'gauge', 'histogram', 'meter', 'set', 'timer', 'distribution'] as const;

const metricSchema = z.strictObject({
  name: z.enum(STAT_NAMES),
  stat_type: z.enum(STAT_TYPES),
  tags: z.array(z.string().regex(/^.*[^:]$/, 'a tag may not end with ":"')).optional(),
  sample_rate: z.number().min(0).max(1).optional(),
  consumer_identifier: z.enum(['consumer_id', 'custom_id', 'username']).optional(),
}).superRefine(counterNeedsRate);

type Metric = z.output<typeof metricSchema>;
const m = (name: Metric['name'], stat_type: Metric['stat_type'], sample_rate?: number): Metric =>
  ({ name, stat_type, ...(sample_rate !== undefined ? { sample_rate } : {}), tags: ['app:kong'], consumer_identifier: 'custom_id' });

/** Kong 3.x's DEFAULT_METRICS for datadog, in its order. */
export const DATADOG_DEFAULT_METRICS: readonly Metric[] = [
  m('request_count', 'counter', 1), m('latency', 'timer'), m('request_size', 'timer'), m('response_size', 'timer'), m('upstream_latency', 'timer'), m('kong_latency', 'timer'),
];

/**
 * Kong 3.x `datadog` plugin config (kong/plugins/datadog/schema.lua), with Kong's defaults. The
 * log companion sends each request's metrics as DogStatsD lines over UDP once Envoy has logged
 * the request. The deprecated retry_count, queue_size and flush_timeout, and `queue`, load
 * without effect (each request's lines are sent when it is logged).
 */
export const datadogConfigSchema = z.strictObject({
  host: kongHost.default('localhost'),
  port: kongPort.default(8125),
  prefix: z.string().default('kong'),
  service_name_tag: z.string().default('name'),
  status_tag: z.string().default('status'),
  consumer_tag: z.string().default('consumer'),
  ...DEPRECATED_BATCHING,
  queue: z.record(z.string(), z.unknown()).optional(),
  metrics: z.array(metricSchema).default([...DATADOG_DEFAULT_METRICS]),
});

export const datadogPlugin = definePlugin({
  name: 'datadog',
  config: datadogConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: {
    applied: ['host', 'port', 'prefix', 'service_name_tag', 'status_tag', 'consumer_tag', 'metrics'],
    warned: METRICS_SENT_UNBATCHED,
  },
  enforcers: () => ['envoy'],
  feature: (c): DatadogFeature => ({
    kind: 'datadog', host: c.host, port: c.port, prefix: c.prefix, serviceNameTag: c.service_name_tag, statusTag: c.status_tag, consumerTag: c.consumer_tag,
    metrics: c.metrics.map((x) => ({
      name: x.name, statType: x.stat_type, ...(x.sample_rate !== undefined ? { sampleRate: x.sample_rate } : {}),
      ...(x.consumer_identifier ? { consumerIdentifier: x.consumer_identifier } : {}), tags: x.tags ?? [],
    })),
  }),
});
