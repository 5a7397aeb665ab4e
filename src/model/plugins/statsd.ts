import { z } from 'zod';
import { definePlugin } from './definition.js';
import { counterNeedsRate, DEPRECATED_BATCHING, kongHost, kongPort, METRICS_SENT_UNBATCHED, type StatsdFeature } from './stream-log-common.js';
import { notServed } from './native-common.js';

/** Kong's statsd metric names (kong/plugins/statsd/schema.lua). */
export const STATSD_METRICS = [
  'kong_latency', 'latency', 'request_count', 'request_per_user', 'request_size', 'response_size', 'status_count', 'status_count_per_user',
  'unique_users', 'upstream_latency', 'status_count_per_workspace', 'status_count_per_user_per_route', 'shdict_usage',
] as const;
export const STATSD_STAT_TYPES = ['counter', 'gauge', 'histogram', 'meter', 'set', 'timer'] as const;
const CONSUMER_IDENTIFIERS = ['consumer_id', 'custom_id', 'username'] as const;
const SERVICE_IDENTIFIERS = ['service_id', 'service_name', 'service_host', 'service_name_or_host'] as const;
const WORKSPACE_IDENTIFIERS = ['workspace_id', 'workspace_name'] as const;

const metricSchema = z.strictObject({
  name: z.enum(STATSD_METRICS),
  stat_type: z.enum(STATSD_STAT_TYPES),
  sample_rate: z.number().gt(0).optional(),
  consumer_identifier: z.enum(CONSUMER_IDENTIFIERS).optional(),
  service_identifier: z.enum(SERVICE_IDENTIFIERS).optional(),
  workspace_identifier: z.enum(WORKSPACE_IDENTIFIERS).optional(),
}).superRefine(counterNeedsRate);

type Metric = z.output<typeof metricSchema>;
const m = (name: Metric['name'], stat_type: Metric['stat_type'], sample_rate?: number): Metric => ({ name, stat_type, ...(sample_rate !== undefined ? { sample_rate } : {}) });

/** Kong 3.x's DEFAULT_METRICS, in its order. */
export const STATSD_DEFAULT_METRICS: readonly Metric[] = [
  m('request_count', 'counter', 1), m('latency', 'timer'), m('request_size', 'counter', 1), m('status_count', 'counter', 1), m('response_size', 'counter', 1),
  m('unique_users', 'set'), m('request_per_user', 'counter', 1), m('upstream_latency', 'timer'), m('kong_latency', 'timer'), m('status_count_per_user', 'counter', 1),
  m('status_count_per_workspace', 'counter', 1), m('status_count_per_user_per_route', 'counter', 1), m('shdict_usage', 'gauge', 1),
];

/**
 * Kong 3.x `statsd` plugin config (kong/plugins/statsd/schema.lua), with Kong's defaults. The
 * log companion sends each request's metrics as StatsD lines (`<prefix>.<stat>:<value>|<type>`)
 * over UDP (or TCP with use_tcp) once Envoy has logged the request. `tag_style` (metric tags)
 * is refused; the deprecated retry_count, queue_size and flush_timeout, and `queue`, load
 * without effect (each request's lines are sent when it is logged). `shdict_usage` (nginx's
 * shared dictionaries, in Kong's default list) has nothing to report in Envoy and is not sent.
 */
export const statsdConfigSchema = z.strictObject({
  host: kongHost.default('localhost'),
  port: kongPort.default(8125),
  prefix: z.string().default('kong'),
  metrics: z.array(metricSchema).default([...STATSD_DEFAULT_METRICS]),
  allow_status_codes: z.array(z.string().regex(/^[0-9]+-[0-9]+$/, 'a status code range is written "200-299"')).optional(),
  udp_packet_size: z.number().min(0).max(65507).default(0),
  use_tcp: z.boolean().default(false),
  hostname_in_prefix: z.boolean().default(false),
  consumer_identifier_default: z.enum(CONSUMER_IDENTIFIERS).default('custom_id'),
  service_identifier_default: z.enum(SERVICE_IDENTIFIERS).default('service_name_or_host'),
  workspace_identifier_default: z.enum(WORKSPACE_IDENTIFIERS).default('workspace_id'),
  ...DEPRECATED_BATCHING,
  tag_style: z.enum(['dogstatsd', 'influxdb', 'librato', 'signalfx']).optional(),
  queue: z.record(z.string(), z.unknown()).optional(),
}).superRefine((c, ctx) => {
  if (c.tag_style !== undefined) ctx.addIssue({ code: 'custom', path: ['tag_style'], message: notServed('metric tags (tag_style)', 'remove tag_style: the metrics are sent with the service, consumer and status in their names') });
});

export type StatsdConfig = z.output<typeof statsdConfigSchema>;

export const statsdPlugin = definePlugin({
  name: 'statsd',
  config: statsdConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: {
    applied: ['host', 'port', 'prefix', 'metrics', 'allow_status_codes', 'udp_packet_size', 'use_tcp', 'hostname_in_prefix',
      'consumer_identifier_default', 'service_identifier_default', 'workspace_identifier_default'],
    refused: ['tag_style'],
    warned: METRICS_SENT_UNBATCHED,
  },
  enforcers: () => ['envoy'],
  feature: (c): StatsdFeature => ({
    kind: 'statsd', host: c.host, port: c.port, prefix: c.prefix, udpPacketSize: c.udp_packet_size, useTcp: c.use_tcp, hostnameInPrefix: c.hostname_in_prefix,
    ...(c.allow_status_codes ? { allowStatusCodes: c.allow_status_codes.map((r) => r.split('-').map(Number) as [number, number]) } : {}),
    metrics: c.metrics.filter((x) => x.name !== 'shdict_usage').map((x) => ({
      name: x.name, statType: x.stat_type, ...(x.sample_rate !== undefined ? { sampleRate: x.sample_rate } : {}),
      consumerIdentifier: x.consumer_identifier ?? c.consumer_identifier_default,
      serviceIdentifier: x.service_identifier ?? c.service_identifier_default,
      workspaceIdentifier: x.workspace_identifier ?? c.workspace_identifier_default,
    })),
  }),
});
