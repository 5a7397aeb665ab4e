import { z } from 'zod';
import { headerName, notServed } from './native-common.js';

/**
 * What Kong's tracing plugins (opentelemetry, zipkin) share, and the one shape both become in
 * the IR: Envoy's tracer is configured once per listener (its HTTP connection manager), so the
 * exporter part of the feature (where spans go, how) must be the same for every instance on a
 * configuration (model/checks/tracing.ts refuses two that differ), while the sampling rate is
 * per route (Envoy's route.tracing.random_sampling).
 */

/** A collector address, from Kong's endpoint URL. */
export interface CollectorAddress {
  tls: boolean;
  host: string;
  port: number;
  /** The path with its query string. */
  path: string;
  /** Host header value: host, and :port unless the scheme's default. */
  authority: string;
}

/** Kong's typedefs.url for a collector: http or https, parsed once. */
export const collectorUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).transform((u): CollectorAddress => {
  const url = new URL(u);
  const tls = url.protocol === 'https:';
  const port = url.port ? Number(url.port) : tls ? 443 : 80;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { tls, host, port, path: `${url.pathname}${url.search}`, authority: url.host };
});

/** Kong's typedefs.timeout: ms, 0 to 2^31-2. */
export const timeoutMs = (def: number) => z.number().int().min(0).max(2 ** 31 - 2).default(def);

/** Kong's typedefs.queue (kong/tools/queue_schema.lua) defaults. */
const QUEUE_DEFAULTS = {
  max_batch_size: 1, max_coalescing_delay: 1, max_entries: 10000, max_retry_time: 60,
  initial_retry_delay: 0.01, max_retry_delay: 60, concurrency_limit: 1,
} as const;

/**
 * Kong's queue record, for a tracing plugin: Envoy's tracer batches spans itself, so the
 * queue loads at Kong's defaults (deck dump writes them; `maxBatchSize` is the plugin's own
 * default) and a tuned value is refused by name.
 */
export function tracingQueue(maxBatchSize: number) {
  return z.strictObject({
    max_batch_size: z.number().optional(),
    max_coalescing_delay: z.number().optional(),
    max_entries: z.number().optional(),
    max_bytes: z.number().optional(),
    max_retry_time: z.number().optional(),
    initial_retry_delay: z.number().optional(),
    max_retry_delay: z.number().optional(),
    concurrency_limit: z.number().optional(),
  }).optional().superRefine((q, ctx) => {
    if (!q) return;
    const defaults: Record<string, number> = { ...QUEUE_DEFAULTS, max_batch_size: maxBatchSize };
    for (const [k, v] of Object.entries(q)) {
      if (v !== undefined && v !== defaults[k]) {
        ctx.addIssue({ code: 'custom', path: [k], message: notServed(`a tuned tracing queue (${k})`, "remove it: Envoy's tracer batches and sends spans itself") });
      }
    }
  });
}

/** Extra headers sent to the collector (Kong's `headers`). */
export const collectorHeaders = z.record(headerName, z.string()).default({});

/** The exporter of a listener's tracer: one per configuration, whatever plugin instance asks. */
export type TraceExporter =
  | {
    kind: 'opentelemetry';
    collector: CollectorAddress;
    headers: Record<string, string>;
    /** service.name and the rest (Kong's resource_attributes, service.name "kong" by default). */
    serviceName: string;
    resourceAttributes: Record<string, string>;
    connectTimeoutMs: number;
    timeoutMs: number;
  }
  | {
    kind: 'zipkin';
    collector: CollectorAddress;
    serviceName: string;
    traceId128: boolean;
    connectTimeoutMs: number;
    timeoutMs: number;
  };

/** What the IR carries for a tracing plugin on a route (or globally). */
export interface TracingFeature {
  exporter: TraceExporter;
  /** Share of requests traced, 0-100 (a caller's sampled trace is continued). */
  samplingPercent: number;
  /** A response header carrying the trace id (Kong's http_response_header_for_traceid). */
  responseTraceIdHeader?: string;
  /** Request headers removed before the upstream (Kong's propagation.clear). */
  clearHeaders: string[];
  /** Static span tags (zipkin's static_tags). */
  staticTags: Record<string, string>;
}

/** The header formats Envoy's tracer reads and writes: W3C trace context (opentelemetry), B3 (zipkin). */
export function propagationSchema(format: 'w3c' | 'b3') {
  const formats = z.enum(['w3c', 'b3', 'b3-single', 'jaeger', 'ot', 'aws', 'gcp', 'datadog', 'instana']);
  const onlyOurs = (what: string) => (v: readonly string[] | string | undefined, ctx: z.RefinementCtx) => {
    const list = v === undefined ? [] : typeof v === 'string' ? [v] : v;
    for (const f of list) {
      if (f !== format && f !== 'preserve') ctx.addIssue({ code: 'custom', message: notServed(`the "${f}" header format in ${what}`, `use "${format}" (Envoy's ${format === 'w3c' ? 'OpenTelemetry' : 'Zipkin'} tracer reads and writes ${format === 'w3c' ? 'traceparent' : 'B3'} headers)`) });
    }
  };
  return z.strictObject({
    extract: z.array(formats).optional().superRefine(onlyOurs('propagation.extract')),
    inject: z.array(z.union([formats, z.literal('preserve')])).optional().superRefine(onlyOurs('propagation.inject')),
    clear: z.array(headerName).default([]),
    default_format: formats.default(format).superRefine(onlyOurs('propagation.default_format')),
  }).default({ clear: [], default_format: format });
}

/** Kong's header_type (deprecated for propagation): "preserve" or the plugin's own format load. */
export function headerTypeSchema(format: 'w3c' | 'b3') {
  return z.enum(['preserve', 'ignore', 'b3', 'b3-single', 'w3c', 'jaeger', 'ot', 'aws', 'gcp', 'datadog', 'instana']).default('preserve').superRefine((v, ctx) => {
    if (v !== 'preserve' && v !== format) ctx.addIssue({ code: 'custom', message: notServed(`header_type "${v}"`, `use "preserve" or "${format}"`) });
  });
}
