/**
 * The log companion's contract (proto/frontdesk/log/v1/log.proto): its type URL, its messages
 * (types generated from the .proto), and the IR → `HttpLogSink` resources, one per distinct
 * http-log configuration, named by a hash of its content: Envoy's access logger names the sink
 * in every stream (log_name), so an Envoy and a companion a version apart can never send one
 * configuration's entries to another's endpoint. Pure: no I/O, no clock, no logger.
 */
import { createHash } from 'node:crypto';
import type { FeatureOf, GatewayIR, PluginName } from '../ir/types.js';
import { byName, companionResource, type CompanionResource } from './companion.js';
import type { HttpLogSink, HttpLogSink__Output } from './generated/frontdesk/log/v1/HttpLogSink.js';
import type { MetricsSink, MetricsSink__Output } from './generated/frontdesk/log/v1/MetricsSink.js';
import type { StreamLogSink, StreamLogSink__Output } from './generated/frontdesk/log/v1/StreamLogSink.js';
import type { UpstreamTargets, UpstreamTargets__Output } from './generated/frontdesk/log/v1/UpstreamTargets.js';

export type { HttpLogSink, HttpLogSink__Output, MetricsSink, MetricsSink__Output, StreamLogSink, StreamLogSink__Output, UpstreamTargets, UpstreamTargets__Output };

export const LOG_TYPE_URL = 'type.googleapis.com/frontdesk.log.v1.HttpLogSink';
export const METRICS_TYPE_URL = 'type.googleapis.com/frontdesk.log.v1.MetricsSink';
export const STREAM_LOG_TYPE_URL = 'type.googleapis.com/frontdesk.log.v1.StreamLogSink';
/** The access-log entry's custom tag naming, comma-separated, the request headers of Envoy's own entry fields (user-agent, x-forwarded-for, x-request-id) not to log: a key-auth plugin reads a key from them. */
export const UNLOGGED_TAG = 'unlogged_headers';
export const UPSTREAM_TARGETS_TYPE_URL = 'type.googleapis.com/frontdesk.log.v1.UpstreamTargets';

/** The log type URLs' messages, as the companion decodes them. */
export interface LogMessages {
  [LOG_TYPE_URL]: HttpLogSink__Output;
  [METRICS_TYPE_URL]: MetricsSink__Output;
  [STREAM_LOG_TYPE_URL]: StreamLogSink__Output;
  [UPSTREAM_TARGETS_TYPE_URL]: UpstreamTargets__Output;
}

type HttpLog = FeatureOf<'http-log'>;

/** The sink's name: a hash of everything that says where and how its entries go. */
export function sinkName(f: HttpLog): string {
  return `http-log-${createHash('sha256').update(JSON.stringify(f)).digest('hex').slice(0, 16)}`;
}

function sink(f: HttpLog): HttpLogSink {
  const q = f.queue;
  return {
    name: sinkName(f), http_endpoint: f.endpoint, method: f.method, content_type: f.contentType, timeout_ms: f.timeoutMs, keepalive_ms: f.keepaliveMs,
    headers: Object.entries(f.headers).sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, value]) => ({ name, value })),
    queue: {
      max_batch_size: q.maxBatchSize, max_coalescing_delay: q.maxCoalescingDelayS, max_entries: q.maxEntries, max_retry_time: q.maxRetryTimeS,
      initial_retry_delay: q.initialRetryDelayS, max_retry_delay: q.maxRetryDelayS, concurrency_limit: q.concurrencyLimit,
    },
  };
}

/** Each configuration of plugin `p` the IR uses, the global one then each route's, into `out` by its sink's name. */
function collect<P extends PluginName>(ir: GatewayIR, p: P, name: (f: FeatureOf<P>) => string, out: Map<string, FeatureOf<P>>): void {
  const global = ir.globalPlugins[p]?.feature;
  if (global) out.set(name(global), global);
  for (const r of ir.routes) {
    const f = r.plugins[p]?.feature;
    if (f) out.set(name(f), f);
  }
}

/** Every http-log configuration the IR uses (global and per route), once each. */
export function httpLogFeatures(ir: GatewayIR): HttpLog[] {
  const out = new Map<string, HttpLog>();
  collect(ir, 'http-log', sinkName, out);
  return [...out.values()];
}

/** IR → the companion's HttpLogSink resources. */
export function httpLogResources(ir: GatewayIR): CompanionResource[] {
  return byName(httpLogFeatures(ir).map((f) => companionResource(LOG_TYPE_URL, sinkName(f), sink(f))));
}

type Prometheus = FeatureOf<'prometheus'>;

/** A metrics sink's name: a hash of the metrics it asks for (the access logger's log_name). */
export function metricsSinkName(f: Prometheus): string {
  return `prometheus-${createHash('sha256').update(JSON.stringify([f.perConsumer, f.statusCode, f.latency, f.bandwidth])).digest('hex').slice(0, 16)}`;
}

/** Every prometheus configuration the IR uses (global and per route), once each. */
export function prometheusFeatures(ir: GatewayIR): Prometheus[] {
  const out = new Map<string, Prometheus>();
  collect(ir, 'prometheus', metricsSinkName, out);
  return [...out.values()];
}

/** IR → the companion's MetricsSink resources. */
export function metricsResources(ir: GatewayIR): CompanionResource[] {
  return byName(prometheusFeatures(ir).map((f) => companionResource<MetricsSink>(METRICS_TYPE_URL, metricsSinkName(f), {
    name: metricsSinkName(f), per_consumer: f.perConsumer, status_code_metrics: f.statusCode, latency_metrics: f.latency, bandwidth_metrics: f.bandwidth,
  })));
}

/** The plugins whose entries the companion sends on as texts (tcp-log, udp-log, syslog, loggly: JSON; statsd, datadog: StatsD lines). */
export const STREAM_LOG_PLUGINS = ['tcp-log', 'udp-log', 'syslog', 'loggly', 'statsd', 'datadog'] as const;
export type StreamLogPlugin = (typeof STREAM_LOG_PLUGINS)[number];
type StreamLog = FeatureOf<StreamLogPlugin>;

/** Whether a statsd config names services by id or host (then the entries carry them: Kong's service_id, service_host). */
export function namesServicesByIdOrHost(f: StreamLog): boolean {
  return f.kind === 'statsd' && f.metrics.some((m) => m.serviceIdentifier === 'service_id' || m.serviceIdentifier === 'service_host');
}

/** A stream sink's name: its kind and a hash of where and how its entries go. */
export function streamSinkName(f: StreamLog): string {
  return `${f.kind}-log-${createHash('sha256').update(JSON.stringify(f)).digest('hex').slice(0, 16)}`;
}

/** Every tcp-log, udp-log, syslog, loggly, statsd and datadog configuration the IR uses (global and per route), once each. */
export function streamLogFeatures(ir: GatewayIR, plugins: readonly StreamLogPlugin[] = STREAM_LOG_PLUGINS): StreamLog[] {
  const out = new Map<string, StreamLog>();
  for (const p of plugins) collect<StreamLogPlugin>(ir, p, streamSinkName, out);
  return [...out.values()];
}

function streamSink(f: StreamLog): StreamLogSink {
  const name = streamSinkName(f);
  if (f.kind === 'syslog') {
    return {
      name, kind: 'SYSLOG', facility: f.facility, log_level: f.logLevel, successful_severity: f.successful, client_errors_severity: f.clientErrors, server_errors_severity: f.serverErrors,
    };
  }
  if (f.kind === 'loggly') {
    return {
      name, kind: 'LOGGLY', host: f.host, port: f.port, timeout_ms: f.timeoutMs, loggly_key: f.key, loggly_tags: f.tags,
      log_level: f.logLevel, successful_severity: f.successful, client_errors_severity: f.clientErrors, server_errors_severity: f.serverErrors,
    };
  }
  if (f.kind === 'udp') return { name, kind: 'UDP', host: f.host, port: f.port, timeout_ms: f.timeoutMs };
  if (f.kind === 'datadog') {
    return {
      name, kind: 'DATADOG', host: f.host, port: f.port, prefix: f.prefix, service_name_tag: f.serviceNameTag, status_tag: f.statusTag, consumer_tag: f.consumerTag,
      metrics: f.metrics.map((m) => ({ name: m.name, stat_type: m.statType, sample_rate: m.sampleRate ?? 0, consumer_identifier: m.consumerIdentifier ?? '', tags: m.tags })),
    };
  }
  if (f.kind === 'statsd') {
    return {
      name, kind: 'STATSD', host: f.host, port: f.port, prefix: f.prefix, udp_packet_size: f.udpPacketSize, use_tcp: f.useTcp, hostname_in_prefix: f.hostnameInPrefix,
      status_filter: f.allowStatusCodes !== undefined, allow_status_codes: (f.allowStatusCodes ?? []).map(([from, to]) => ({ from, to })),
      metrics: f.metrics.map((m) => ({
        name: m.name, stat_type: m.statType, sample_rate: m.sampleRate ?? 0,
        consumer_identifier: m.consumerIdentifier, service_identifier: m.serviceIdentifier, workspace_identifier: m.workspaceIdentifier,
      })),
    };
  }
  return { name, kind: 'TCP', host: f.host, port: f.port, timeout_ms: f.timeoutMs, keepalive_ms: f.keepaliveMs, tls: f.tls, tls_sni: f.tlsSni ?? '' };
}

/** IR → the companion's StreamLogSink resources. */
export function streamLogResources(ir: GatewayIR): CompanionResource[] {
  return byName(streamLogFeatures(ir).map((f) => companionResource(STREAM_LOG_TYPE_URL, streamSinkName(f), streamSink(f))));
}

/** Whether any Envoy logger of the IR streams to the log companion (http-log, prometheus, tcp-log, udp-log, syslog, loggly, statsd, datadog). */
export function usesLogCompanion(ir: GatewayIR): boolean {
  return httpLogFeatures(ir).length > 0 || prometheusFeatures(ir).length > 0 || streamLogFeatures(ir).length > 0;
}
