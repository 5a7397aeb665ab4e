import { z } from 'zod';
import { definePlugin } from './definition.js';
import { headerName, notServed } from './native-common.js';
import { collectorHeaders, collectorUrl, headerTypeSchema, propagationSchema, timeoutMs, tracingQueue, type TracingFeature } from './tracing-common.js';

/** Kong's tracing_sampling_rate default (kong.conf), used when the plugin sets no sampling_rate. */
export const KONG_TRACING_SAMPLING_RATE = 0.01;

/**
 * Kong 3.x `opentelemetry` plugin config (kong/plugins/opentelemetry/schema.lua), with Kong's
 * defaults: spans exported as OTLP/HTTP protobuf to `traces_endpoint` (or the older `endpoint`)
 * by Envoy's OpenTelemetry tracer, W3C trace context read from callers and sent upstream.
 * `logs_endpoint` (OTLP logs) is refused: use file-log.
 */
export const opentelemetryConfigSchema = z.strictObject({
  traces_endpoint: collectorUrl.optional(),
  endpoint: collectorUrl.optional(),
  logs_endpoint: z.string().optional(),
  headers: collectorHeaders,
  resource_attributes: z.record(z.string(), z.string().min(1, 'required field missing')).default({}),
  queue: tracingQueue(200),
  batch_span_count: z.number().int().optional(),
  batch_flush_delay: z.number().int().optional(),
  connect_timeout: timeoutMs(1000),
  send_timeout: timeoutMs(5000),
  read_timeout: timeoutMs(5000),
  http_response_header_for_traceid: headerName.optional(),
  header_type: headerTypeSchema('w3c'),
  sampling_rate: z.number().min(0).max(1).optional(),
  sampling_strategy: z.enum(['parent_drop_probability_fallback', 'parent_probability_fallback']).optional(),
  propagation: propagationSchema('w3c'),
}).superRefine((c, ctx) => {
  if (!c.traces_endpoint && !c.endpoint) {
    ctx.addIssue({ code: 'custom', path: ['traces_endpoint'], message: c.logs_endpoint ? notServed('OTLP logs (logs_endpoint)', 'set traces_endpoint; for logs use file-log') : "at least one of these fields must be non-empty: 'config.traces_endpoint', 'config.logs_endpoint'" });
  } else if (c.logs_endpoint) {
    ctx.addIssue({ code: 'custom', path: ['logs_endpoint'], message: notServed('OTLP logs (logs_endpoint)', 'remove logs_endpoint; for logs use file-log') });
  }
  if (c.batch_span_count !== undefined && c.batch_span_count !== 200) ctx.addIssue({ code: 'custom', path: ['batch_span_count'], message: notServed('a tuned span batch', "remove it: Envoy's tracer batches spans itself") });
  if (c.batch_flush_delay !== undefined && c.batch_flush_delay !== 3) ctx.addIssue({ code: 'custom', path: ['batch_flush_delay'], message: notServed('a tuned flush delay', "remove it: Envoy's tracer flushes spans itself") });
  if (c.sampling_strategy === 'parent_probability_fallback') ctx.addIssue({ code: 'custom', path: ['sampling_strategy'], message: notServed('sampling_strategy "parent_probability_fallback"', 'leave it at "parent_drop_probability_fallback"') });
});

export type OpentelemetryConfig = z.output<typeof opentelemetryConfigSchema>;

export const opentelemetryPlugin = definePlugin({
  name: 'opentelemetry',
  config: opentelemetryConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: {
    applied: ['traces_endpoint', 'endpoint', 'headers', 'resource_attributes', 'connect_timeout', 'send_timeout', 'read_timeout', 'http_response_header_for_traceid', 'header_type', 'sampling_rate', 'sampling_strategy', 'propagation.extract', 'propagation.inject', 'propagation.clear', 'propagation.default_format'],
    refused: ['logs_endpoint', 'queue.max_batch_size', 'queue.max_coalescing_delay', 'queue.max_entries', 'queue.max_bytes', 'queue.max_retry_time', 'queue.initial_retry_delay', 'queue.max_retry_delay', 'queue.concurrency_limit', 'batch_span_count', 'batch_flush_delay'],
  },
  enforcers: () => ['envoy'],
  feature: (c): TracingFeature => {
    const { 'service.name': serviceName = 'kong', ...rest } = c.resource_attributes;
    return {
      exporter: {
        kind: 'opentelemetry',
        collector: (c.traces_endpoint ?? c.endpoint)!,
        headers: c.headers,
        serviceName,
        resourceAttributes: rest,
        connectTimeoutMs: c.connect_timeout,
        timeoutMs: c.send_timeout + c.read_timeout,
      },
      samplingPercent: (c.sampling_rate ?? KONG_TRACING_SAMPLING_RATE) * 100,
      ...(c.http_response_header_for_traceid ? { responseTraceIdHeader: c.http_response_header_for_traceid } : {}),
      clearHeaders: c.propagation.clear.map((h) => h.toLowerCase()),
      staticTags: {},
    };
  },
});
