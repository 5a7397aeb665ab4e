import { z } from 'zod';
import { hostProblem } from '../load/addresses.js';
import { notServed } from './native-common.js';

/**
 * What Kong's tcp-log, udp-log and syslog plugins share: each request's entry (Kong's
 * kong.log.serialize, as http-log's) is streamed by Envoy's gRPC access logger to the log
 * companion, which sends it on as one JSON text. The one IR shape they become.
 */

/** Kong's typedefs.host (required). */
export const kongHost = z.string().superRefine((h, ctx) => {
  const p = hostProblem(h);
  if (p) ctx.addIssue({ code: 'custom', message: p });
});

/** Kong's typedefs.port (required): 0 to 65535. */
export const kongPort = z.number().int().min(0).max(65535);

/** Kong's typedefs.lua_code, refused by name when it holds code. */
export const customFieldsByLua = z.record(z.string(), z.string()).optional();

export function refuseLua(c: { custom_fields_by_lua?: Record<string, string> | undefined }, ctx: z.RefinementCtx): void {
  if (c.custom_fields_by_lua && Object.keys(c.custom_fields_by_lua).length) {
    ctx.addIssue({ code: 'custom', path: ['custom_fields_by_lua'], message: notServed('custom_fields_by_lua (Lua code run per request)', 'remove custom_fields_by_lua') });
  }
}

/** statsd's and datadog's pre-3.0 batching fields (Kong 3.x deprecates them for `queue`): they load. */
export const DEPRECATED_BATCHING = {
  retry_count: z.number().int().optional(),
  queue_size: z.number().int().optional(),
  flush_timeout: z.number().optional(),
};

const written = (v: unknown) => v !== undefined;

/** What loads without effect in statsd and datadog: the companion sends a request's lines when Envoy logs it. */
export const METRICS_SENT_UNBATCHED = {
  retry_count: { when: written, why: 'deprecated in Kong 3.x and without effect there too: metrics are sent as each request is logged' },
  queue_size: { when: written, why: 'deprecated in Kong 3.x: metrics are sent as each request is logged, not batched' },
  flush_timeout: { when: written, why: 'deprecated in Kong 3.x: metrics are sent as each request is logged, not batched' },
  queue: { when: written, why: 'metrics are sent as each request is logged, not batched in a queue' },
};

/** Kong's rule for a statsd or datadog metric: a counter or a gauge has a sample_rate. */
export function counterNeedsRate(m: { stat_type: string; sample_rate?: number | undefined }, ctx: z.RefinementCtx): void {
  if ((m.stat_type === 'counter' || m.stat_type === 'gauge') && m.sample_rate === undefined) {
    ctx.addIssue({ code: 'custom', path: ['sample_rate'], message: `a ${m.stat_type} needs sample_rate (Kong's rule)` });
  }
}

export { SYSLOG_FACILITIES, SYSLOG_SEVERITIES, type SyslogSeverity } from '../../syslog-codes.js';
import type { SyslogSeverity } from '../../syslog-codes.js';

/** One statsd metric, its identifiers resolved (the metric's, else the plugin's default). */
export interface StatsdMetricFeature {
  name: string;
  statType: string;
  sampleRate?: number;
  consumerIdentifier: string;
  serviceIdentifier: string;
  workspaceIdentifier: string;
}

/** What the IR carries for statsd: where the lines go, and which. */
export interface StatsdFeature {
  kind: 'statsd';
  host: string;
  port: number;
  prefix: string;
  metrics: StatsdMetricFeature[];
  /** Inclusive status ranges whose requests are counted; none: every request. */
  allowStatusCodes?: Array<[number, number]>;
  udpPacketSize: number;
  useTcp: boolean;
  hostnameInPrefix: boolean;
}

/** What the IR carries for datadog: where the lines go, the tag names, and the metrics (each with its tags). */
export interface DatadogFeature {
  kind: 'datadog';
  host: string;
  port: number;
  prefix: string;
  serviceNameTag: string;
  statusTag: string;
  consumerTag: string;
  metrics: Array<{ name: string; statType: string; sampleRate?: number; consumerIdentifier?: string; tags: string[] }>;
}

/** What the IR carries for tcp-log, udp-log, syslog, loggly, statsd and datadog: where and how entries are sent. */
export type StreamLogFeature =
  | StatsdFeature
  | DatadogFeature
  | { kind: 'tcp'; host: string; port: number; timeoutMs: number; keepaliveMs: number; tls: boolean; tlsSni?: string }
  | { kind: 'udp'; host: string; port: number; timeoutMs: number }
  | { kind: 'syslog'; facility: string; logLevel: SyslogSeverity; successful: SyslogSeverity; clientErrors: SyslogSeverity; serverErrors: SyslogSeverity }
  | { kind: 'loggly'; host: string; port: number; timeoutMs: number; key: string; tags: string[]; logLevel: SyslogSeverity; successful: SyslogSeverity; clientErrors: SyslogSeverity; serverErrors: SyslogSeverity };
