import { z } from 'zod';
import { definePlugin } from './definition.js';
import { headerName, notServed } from './native-common.js';
import { collectorUrl, headerTypeSchema, propagationSchema, timeoutMs, tracingQueue, type TracingFeature } from './tracing-common.js';

/**
 * Kong 3.x `zipkin` plugin config (kong/plugins/zipkin/schema.lua), with Kong's defaults:
 * spans sent as Zipkin v2 JSON to `http_endpoint` by Envoy's Zipkin tracer, B3 headers read
 * from callers and sent upstream. Kong without `http_endpoint` only propagates headers;
 * Envoy's tracer needs a collector, so Frontdesk requires it.
 */
export const zipkinConfigSchema = z.strictObject({
  local_service_name: z.string().min(1).default('kong'),
  http_endpoint: collectorUrl.optional(),
  sample_ratio: z.number().min(0).max(1).default(0.001),
  default_service_name: z.string().optional(),
  include_credential: z.boolean().default(true),
  traceid_byte_count: z.union([z.literal(8), z.literal(16)]).default(16),
  header_type: headerTypeSchema('b3'),
  default_header_type: z.enum(['b3', 'b3-single', 'w3c', 'jaeger', 'ot', 'aws', 'datadog', 'gcp', 'instana']).default('b3'),
  tags_header: headerName.default('Zipkin-Tags'),
  static_tags: z.array(z.strictObject({ name: z.string().min(1), value: z.string() })).default([]),
  http_span_name: z.enum(['method', 'method_path']).default('method'),
  connect_timeout: timeoutMs(2000),
  send_timeout: timeoutMs(5000),
  read_timeout: timeoutMs(5000),
  http_response_header_for_traceid: headerName.optional(),
  phase_duration_flavor: z.enum(['annotations', 'tags']).default('annotations'),
  queue: tracingQueue(1),
  propagation: propagationSchema('b3'),
}).superRefine((c, ctx) => {
  if (!c.http_endpoint) ctx.addIssue({ code: 'custom', path: ['http_endpoint'], message: notServed('propagating B3 headers without a collector', 'set http_endpoint to your Zipkin collector (http://zipkin:9411/api/v2/spans)') });
  if (c.local_service_name !== 'kong') {
    ctx.addIssue({ code: 'custom', path: ['local_service_name'], message: notServed('a local_service_name', "remove it: Envoy's Zipkin tracer names the service after the Envoy node's cluster (the fleet, \"frontdesk\" by default)") });
  }
  if (c.default_header_type !== 'b3' && c.default_header_type !== 'b3-single') {
    ctx.addIssue({ code: 'custom', path: ['default_header_type'], message: notServed(`default_header_type "${c.default_header_type}"`, 'use "b3" (Envoy\'s Zipkin tracer writes B3 headers)') });
  }
});

export type ZipkinConfig = z.output<typeof zipkinConfigSchema>;

export const zipkinPlugin = definePlugin({
  name: 'zipkin',
  config: zipkinConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: {
    applied: ['http_endpoint', 'sample_ratio', 'traceid_byte_count', 'static_tags', 'http_response_header_for_traceid', 'header_type', 'default_header_type', 'propagation.extract', 'propagation.inject', 'propagation.clear', 'propagation.default_format', 'connect_timeout', 'send_timeout', 'read_timeout'],
    refused: ['local_service_name', 'queue.max_batch_size', 'queue.max_coalescing_delay', 'queue.max_entries', 'queue.max_bytes', 'queue.max_retry_time', 'queue.initial_retry_delay', 'queue.max_retry_delay', 'queue.concurrency_limit'],
    warned: {
      include_credential: { default: true, when: (v) => v === true, why: 'spans carry no credential tag' },
      tags_header: { default: 'Zipkin-Tags', when: () => false, why: 'no span tags are read from a request header' },
      http_span_name: { default: 'method', when: () => false, why: 'spans are named after the route' },
      phase_duration_flavor: { default: 'annotations', when: () => false, why: 'spans have no phase annotations' },
      default_service_name: { why: 'the upstream span is not named after a default service' },
    },
  },
  enforcers: () => ['envoy'],
  feature: (c): TracingFeature => ({
    exporter: {
      kind: 'zipkin',
      collector: c.http_endpoint!,
      serviceName: c.local_service_name,
      traceId128: c.traceid_byte_count === 16,
      connectTimeoutMs: c.connect_timeout,
      timeoutMs: c.send_timeout + c.read_timeout,
    },
    samplingPercent: c.sample_ratio * 100,
    ...(c.http_response_header_for_traceid ? { responseTraceIdHeader: c.http_response_header_for_traceid } : {}),
    clearHeaders: c.propagation.clear.map((h) => h.toLowerCase()),
    staticTags: Object.fromEntries(c.static_tags.map((t) => [t.name, t.value])),
  }),
});
