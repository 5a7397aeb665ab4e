import { z } from 'zod';
import { definePlugin } from './definition.js';
import { headerName, notServed } from './native-common.js';
import { timeoutMs } from './tracing-common.js';

/**
 * Kong 3.x `http-log` plugin config (kong/plugins/http-log/schema.lua), with Kong's defaults:
 * each request's log entry POSTed (or PUT/PATCH) to `http_endpoint`, batched by Kong's queue
 * (typedefs.queue: one entry per request by default, up to 10,000 held, retried for 60 s with
 * exponential back-off from 0.01 s to 60 s). Envoy streams the entries to the log companion
 * over its gRPC access-log service; the companion keeps the queue. `custom_fields_by_lua` is
 * refused (Lua code); the pre-3.0 `retry_count`, `queue_size` and `flush_timeout` load at
 * Kong's old defaults only.
 */
export const httpLogQueueSchema = z.strictObject({
  max_batch_size: z.number().int().min(1).max(1_000_000).default(1),
  max_coalescing_delay: z.number().min(0).max(3600).default(1),
  max_entries: z.number().int().min(1).max(1_000_000).default(10000),
  max_bytes: z.number().int().min(1).optional(),
  max_retry_time: z.number().min(0).default(60),
  initial_retry_delay: z.number().min(0.001).max(1_000_000).default(0.01),
  max_retry_delay: z.number().min(0.001).max(1_000_000).default(60),
  concurrency_limit: z.union([z.literal(-1), z.literal(1)]).default(1),
});

export const httpLogConfigSchema = z.strictObject({
  http_endpoint: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  method: z.enum(['POST', 'PUT', 'PATCH']).default('POST'),
  content_type: z.enum(['application/json', 'application/json; charset=utf-8']).default('application/json'),
  timeout: timeoutMs(10000),
  keepalive: timeoutMs(60000),
  headers: z.record(headerName, z.string()).default({}),
  queue: httpLogQueueSchema.default(httpLogQueueSchema.parse({})),
  retry_count: z.literal(10).optional(),
  queue_size: z.literal(1).optional(),
  flush_timeout: z.literal(2).optional(),
  custom_fields_by_lua: z.record(z.string(), z.string()).optional(),
}).superRefine((c, ctx) => {
  if (c.custom_fields_by_lua && Object.keys(c.custom_fields_by_lua).length) {
    ctx.addIssue({ code: 'custom', path: ['custom_fields_by_lua'], message: notServed('custom_fields_by_lua (Lua code run per request)', 'remove custom_fields_by_lua') });
  }
  if (c.queue.max_bytes !== undefined) ctx.addIssue({ code: 'custom', path: ['queue', 'max_bytes'], message: notServed('a byte bound on the queue', 'bound it by entries (max_entries)') });
});

export type HttpLogConfig = z.output<typeof httpLogConfigSchema>;

/** What the IR carries: one sink (where and how entries are sent, and the queue's bounds). */
export interface HttpLogFeature {
  endpoint: string;
  method: 'POST' | 'PUT' | 'PATCH';
  contentType: string;
  timeoutMs: number;
  keepaliveMs: number;
  headers: Record<string, string>;
  queue: { maxBatchSize: number; maxCoalescingDelayS: number; maxEntries: number; maxRetryTimeS: number; initialRetryDelayS: number; maxRetryDelayS: number; concurrencyLimit: number };
}

export const httpLogPlugin = definePlugin({
  name: 'http-log',
  config: httpLogConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: {
    applied: ['http_endpoint', 'method', 'content_type', 'timeout', 'keepalive', 'headers', 'queue.max_batch_size', 'queue.max_coalescing_delay', 'queue.max_entries',
      'queue.max_retry_time', 'queue.initial_retry_delay', 'queue.max_retry_delay', 'queue.concurrency_limit', 'retry_count', 'queue_size', 'flush_timeout'],
    refused: ['custom_fields_by_lua', 'queue.max_bytes'],
  },
  enforcers: () => ['envoy'],
  feature: (c): HttpLogFeature => ({
    endpoint: c.http_endpoint, method: c.method, contentType: c.content_type, timeoutMs: c.timeout, keepaliveMs: c.keepalive, headers: c.headers,
    queue: {
      maxBatchSize: c.queue.max_batch_size, maxCoalescingDelayS: c.queue.max_coalescing_delay, maxEntries: c.queue.max_entries,
      maxRetryTimeS: c.queue.max_retry_time, initialRetryDelayS: c.queue.initial_retry_delay, maxRetryDelayS: c.queue.max_retry_delay,
      concurrencyLimit: c.queue.concurrency_limit,
    },
  }),
});
