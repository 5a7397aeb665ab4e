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

/** What the IR carries for tcp-log, udp-log, syslog, statsd and datadog: where and how entries are sent. */
export type StreamLogFeature =
  | StatsdFeature
  | DatadogFeature
  | { kind: 'tcp'; host: string; port: number; timeoutMs: number; keepaliveMs: number; tls: boolean; tlsSni?: string }
  | { kind: 'udp'; host: string; port: number; timeoutMs: number }
  | { kind: 'syslog'; facility: string; logLevel: SyslogSeverity; successful: SyslogSeverity; clientErrors: SyslogSeverity; serverErrors: SyslogSeverity };
