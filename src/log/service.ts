import { Agent, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { startAdminServer } from '../admin/server.js';
import { adminPortOf, xdsList, xdsTarget, type CompanionDefinition, type CompanionOptions, type RunningCompanion, type XdsAddresses } from '../contracts/companion.js';
import { LOG_TYPE_URL, METRICS_TYPE_URL, STREAM_LOG_TYPE_URL, UPSTREAM_TARGETS_TYPE_URL, type HttpLogSink__Output, type LogMessages, type MetricsSink__Output, type StreamLogSink__Output, type UpstreamTargets__Output } from '../contracts/log.js';
import { COMPANION_ADMIN_OFFSET, DEFAULT_PORTS } from '../default-ports.js';
import { serveGrpc } from '../grpc-raw.js';
import type { Logger } from '../logger.js';
import { envoysOnly, isLoopback, TlsSource } from '../tls.js';
import { startCompanionClient } from '../xds/companion-client.js';
import { messageType } from '../xds/proto-registry.js';
import { decodeAccessLogs, type AccessLogEntry, type AccessLogsMessage } from './als-decode.js';
import { kongEntry } from './entry.js';
import { KongMetrics } from './kong-metrics.js';
import { KongQueue, REAL_CLOCK, type QueueClock } from './queue.js';
import { startStreamSink, type StreamSink } from './stream-sinks.js';
import { EnvoyClustersReader, renderTargetHealth, targetHealth } from './upstream-health.js';

const STREAM_METHOD = '/envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs';
/** The custom tags naming an entry's sinks (the plugins' route metadata namespaces, resources/filters/companion-log.ts). */
const HTTP_LOG_TAG = 'frontdesk.http_log';
const PROMETHEUS_TAG = 'frontdesk.prometheus';

export interface LogServiceOptions {
  xds: XdsAddresses;
  host: string;
  port: number;
  nodeId: string;
  logger: Logger;
  clock?: QueueClock;
  /** mTLS: the companion's certificate, and only Envoy may stream to it. */
  tls?: TlsSource;
  /** The admin HTTP server (/healthz, /readyz, /status, /metrics: Kong's prometheus metrics); none when absent. */
  adminPort?: number;
  /** Where the admin server listens: loopback unless asked (it serves no secret and takes no write, as Kong's Status API). */
  adminHost?: string;
  /** Where the syslog plugin's messages go (RFC 5424 over UDP): the host's syslog daemon, 127.0.0.1:514 by default. */
  syslog?: { host: string; port: number };
  /**
   * Its Envoy's admin address (host:port, loopback of the same host): where the health of the
   * upstreams' targets is read for kong_upstream_target_health (prometheus' upstream_health_metrics).
   */
  envoyAdmin?: string;
}

export interface RunningLog extends RunningCompanion {
  /** The bound admin port, when it has one. */
  adminPort?: number;
  /** Kong's prometheus metrics, as /metrics serves them (kong_upstream_target_health read from Envoy's admin). */
  metrics(): Promise<string>;
  /** Per sink: what its queue holds, sent and dropped. */
  counts(): Record<string, { queued: number; sent: number; droppedFull: number; droppedRetries: number }>;
}

interface Sink { config: HttpLogSink__Output; queue: KongQueue<object>; agent: Agent }

/** POSTs (or PUTs, PATCHes) one batch as Kong's http-log does: one object, or an array when batches hold more than one. */
function sender(s: HttpLogSink__Output, agent: Agent): (batch: object[]) => Promise<void> {
  const headers: Record<string, string> = { 'content-type': s.content_type || 'application/json' };
  for (const h of s.headers) headers[h.name.toLowerCase()] = h.value;
  const many = (s.queue?.max_batch_size ?? 1) > 1;
  return async (batch) => {
    const body = JSON.stringify(many ? batch : batch[0]);
    const request = s.http_endpoint.startsWith('https:') ? httpsRequest : httpRequest;
    await new Promise<void>((resolve, reject) => {
      const req = request(s.http_endpoint, { method: s.method || 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent, timeout: s.timeout_ms || 10000 }, (res: IncomingMessage) => {
        res.resume();
        res.on('end', () => ((res.statusCode ?? 500) < 300 ? resolve() : reject(new Error(`sink answered ${res.statusCode}`))));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('sink timed out')));
      req.on('error', reject);
      req.end(body);
    });
  };
}

/**
 * The log companion: Envoy's gRPC access-log service for http-log, prometheus, tcp-log, udp-log,
 * syslog and statsd. One logger per listener streams every entry once (resources/filters/companion-log.ts);
 * each entry names its sink per plugin in a custom tag (a content hash of one plugin
 * configuration, sent over ADS as HttpLogSink, MetricsSink or StreamLogSink). The stream is
 * read by a lean decoder of the fields Kong's entry and metrics need (als-decode.ts); each entry
 * becomes Kong's log entry once, and joins each named sink's queue (queue.ts), which sends it to
 * the plugin's endpoint, or is counted in Kong's metrics. Entries for a sink it does not know
 * (yet) are dropped and counted.
 */
export async function startLogService(o: LogServiceOptions): Promise<RunningLog> {
  const log = o.logger;
  const clock = o.clock ?? REAL_CLOCK;
  const sinks = new Map<string, Sink>();
  let metricSinks = new Map<string, MetricsSink__Output>();
  const streamSinks = new Map<string, { config: StreamLogSink__Output; sink: StreamSink }>();
  const streamOptions = { syslog: o.syslog ?? { host: '127.0.0.1', port: 514 }, clock, logger: log };
  const kongMetrics = new KongMetrics();
  let upstreamTargets = new Map<string, UpstreamTargets__Output>();
  const envoyClusters = o.envoyAdmin ? new EnvoyClustersReader({ admin: o.envoyAdmin }) : undefined;
  let healthWarned = false;
  /** Kong's request metrics, and the targets' health when the control plane names targets. */
  const metrics = async (): Promise<string> => {
    const text = kongMetrics.render();
    if (!upstreamTargets.size) return text;
    if (!envoyClusters) {
      if (!healthWarned) log.warn('log: upstream_health_metrics is on but no Envoy admin address was given (--envoy-admin): kong_upstream_target_health is not written');
      healthWarned = true;
      return text;
    }
    const clusters = await envoyClusters.read();
    if (!clusters) log.warn({ err: envoyClusters.lastError }, 'log: Envoy\'s admin /clusters unread: kong_upstream_target_health left out of this scrape');
    return text + renderTargetHealth(targetHealth(upstreamTargets.values(), clusters));
  };
  let unknown = 0;

  /**
   * One entry to every sink it names: its custom tags name a sink per plugin (the one logger per
   * listener, resources/filters/companion-log.ts); the Kong entry is built once for all of them.
   * An entry naming none is routed by the stream's log_name (one logger per sink).
   */
  const deliver = (e: AccessLogEntry, logName: string) => {
    let kong: object | undefined;
    const entry = () => (kong ??= kongEntry(e));
    let named = false;
    for (const tag in e.tags) {
      if (!tag.startsWith('frontdesk.')) continue;
      const value = e.tags[tag]!;
      named = true;
      if (tag === PROMETHEUS_TAG) {
        const flags = metricSinks.get(value);
        if (flags) kongMetrics.observe(e, flags);
        else unknown++;
      } else if (tag === HTTP_LOG_TAG) {
        const sink = sinks.get(value);
        if (sink) sink.queue.push(entry());
        else unknown++;
      } else {
        const stream = streamSinks.get(value);
        if (stream) stream.sink.push(entry());
        else unknown++;
      }
    }
    if (named) return;
    const flags = metricSinks.get(logName);
    if (flags) { kongMetrics.observe(e, flags); return; }
    const stream = streamSinks.get(logName);
    if (stream) { stream.sink.push(entry()); return; }
    const sink = sinks.get(logName);
    if (!sink) { unknown++; return; }
    sink.queue.push(entry());
  };
  const responseBytes = messageType('envoy.service.accesslog.v3.StreamAccessLogsResponse').encode({}).finish();

  // Envoy's access-log stream (client streaming: batches of entries, one empty answer at its
  // end), on the project's own HTTP/2 framing as the other companions' calls; with TLS only an
  // Envoy's certificate may connect.
  const server = await serveGrpc(o.host, o.port, {
    bidi: {
      [STREAM_METHOD]: (call) => {
        let logName = '';
        return {
          message(b) {
            let msg: AccessLogsMessage;
            try {
              msg = decodeAccessLogs(b);
            } catch (e) {
              log.warn({ err: (e as Error).message }, 'log: undecodable StreamAccessLogsMessage');
              return;
            }
            if (msg.logName) logName = msg.logName;
            for (const e of msg.entries) deliver(e, logName);
            kongMetrics.flush();
          },
          end() { call.write(responseBytes); call.end(); },
          cancel() { /* Envoy closed its stream: nothing is owed */ },
        };
      },
    },
    maxStreamMessageBytes: 8 * 1024 * 1024,
    tls: o.tls && envoysOnly(o.tls, log),
  });
  const port = server.port;

  const apply = (configs: Iterable<HttpLogSink__Output>) => {
    const next = new Map<string, HttpLogSink__Output>([...configs].map((c) => [c.name, c]));
    for (const [name, s] of sinks) {
      if (!next.has(name)) { s.queue.close(); s.agent.destroy(); sinks.delete(name); }
    }
    for (const [name, c] of next) {
      if (sinks.has(name)) continue;
      const q = c.queue;
      const agent = c.http_endpoint.startsWith('https:')
        ? new HttpsAgent({ keepAlive: true, keepAliveMsecs: c.keepalive_ms || 60000 })
        : new Agent({ keepAlive: true, keepAliveMsecs: c.keepalive_ms || 60000 });
      const queue = new KongQueue<object>({
        maxBatchSize: q?.max_batch_size || 1, maxCoalescingDelayS: q?.max_coalescing_delay ?? 1, maxEntries: q?.max_entries || 10000,
        maxRetryTimeS: q?.max_retry_time ?? 60, initialRetryDelayS: q?.initial_retry_delay || 0.01, maxRetryDelayS: q?.max_retry_delay || 60,
        concurrencyLimit: q?.concurrency_limit || 1,
      }, sender(c, agent), clock, (count, why) => log.warn({ sink: name, count, why }, why === 'full' ? 'log: queue full, oldest entries dropped' : 'log: batch dropped after max_retry_time'));
      sinks.set(name, { config: c, queue, agent });
    }
  };

  // Sinks are named by their content: a name seen before is the same sink, kept with its queue and connection.
  const applyStreams = (configs: ReadonlyMap<string, StreamLogSink__Output>) => {
    for (const [name, s] of streamSinks) if (!configs.has(name)) { s.sink.close(); streamSinks.delete(name); }
    for (const [name, c] of configs) if (!streamSinks.has(name)) streamSinks.set(name, { config: c, sink: startStreamSink(c, streamOptions) });
  };

  const client = startCompanionClient<LogMessages>({
    name: 'log',
    xds: o.xds,
    nodeId: o.nodeId,
    logger: log,
    tls: o.tls,
    types: { [LOG_TYPE_URL]: () => undefined, [METRICS_TYPE_URL]: () => undefined, [STREAM_LOG_TYPE_URL]: () => undefined, [UPSTREAM_TARGETS_TYPE_URL]: () => undefined },
    apply(resources) {
      apply(resources.get(LOG_TYPE_URL).values());
      metricSinks = new Map(resources.get(METRICS_TYPE_URL));
      applyStreams(resources.get(STREAM_LOG_TYPE_URL));
      upstreamTargets = new Map(resources.get(UPSTREAM_TARGETS_TYPE_URL));
      log.info({ version: resources.version(LOG_TYPE_URL), sinks: sinks.size, metricSinks: metricSinks.size }, 'log: sinks applied');
    },
  });
  const ready = () => client.ready();
  let admin: { server: Server; port: number } | undefined;
  if (o.adminPort !== undefined) {
    // The admin API stays on loopback when the gRPC port is opened wider, unless asked (--log-admin-host).
    admin = await startAdminServer(o.adminHost ?? (isLoopback(o.host) ? o.host : '127.0.0.1'), o.adminPort, {
      ready,
      status: () => ({ ready: ready(), xds: xdsList(o.xds).map(xdsTarget).join(','), grpcPort: port, sinks: sinks.size, metricSinks: metricSinks.size, streamSinks: streamSinks.size, unknownEntries: unknown }),
      metrics: () => kongMetrics.render(),
      // /metrics may read Envoy's admin (kong_upstream_target_health): answered when that read is done.
      route: (req, res, url) => {
        if (url.pathname !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
        void metrics().then((body) => {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' });
          res.end(body);
        }, (e: Error) => {
          log.error({ err: e.message }, 'log: /metrics failed');
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: 'metrics failed' }));
        });
        return true;
      },
    }, log);
  }
  return {
    port,
    ...(admin ? { adminPort: admin.port } : {}),
    ready,
    metrics,
    counts: () => Object.fromEntries([...[...sinks].map(([n, s]) => [n, { queued: s.queue.length, ...s.queue.counts }] as const), ...[...streamSinks].map(([n, s]) => [n, s.sink.counts()] as const)]),
    async stop() {
      client.close();
      await server.stop();
      if (admin) {
        const s = admin.server;
        await new Promise<void>((r) => s.close(() => r()));
        s.closeAllConnections?.();
      }
      for (const s of sinks.values()) { s.queue.close(); s.agent.destroy(); }
      for (const s of streamSinks.values()) s.sink.close();
      if (unknown) log.warn({ entries: unknown }, 'log: entries for unknown sinks were dropped');
    },
  };
}

/** `--syslog HOST:PORT` (a bracketed IPv6 host allowed). */
function syslogAddress(v: string | true | undefined): { host: string; port: number } | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) > 65535) throw new Error(`--syslog ${v}: expected HOST:PORT`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** `--envoy-admin HOST:PORT`: its Envoy's admin, on loopback of the same host. */
function envoyAdminAddress(v: string | true | undefined): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(v);
  if (!m || Number(m[2]) > 65535) throw new Error(`--envoy-admin ${v}: expected HOST:PORT`);
  return v;
}

/** `frontdesk log --xds HOST:PORT [--port 18004] [--log-admin-port N] [--log-admin-host H] [--syslog HOST:PORT] [--envoy-admin HOST:PORT]`, and part of `frontdesk start`. */
export const logCompanion: CompanionDefinition = {
  name: 'log',
  defaultPort: DEFAULT_PORTS.log,
  adminPortFlag: 'log-admin-port',
  usage: `[--log-admin-port N, default --port + ${COMPANION_ADMIN_OFFSET}] [--log-admin-host H, default loopback] [--syslog HOST:PORT, default 127.0.0.1:514] [--envoy-admin HOST:PORT, its Envoy's admin: target health]`,
  start: (o: CompanionOptions) => startLogService({
    xds: o.xds, host: o.host, port: o.port, adminPort: adminPortOf(o.flags, 'log-admin-port', o.port), nodeId: o.nodeId, logger: o.logger,
    ...(typeof o.flags.get('log-admin-host') === 'string' ? { adminHost: o.flags.get('log-admin-host') as string } : {}),
    ...(o.flags.has('syslog') ? { syslog: syslogAddress(o.flags.get('syslog')) } : {}),
    ...(o.flags.has('envoy-admin') ? { envoyAdmin: envoyAdminAddress(o.flags.get('envoy-admin')) } : {}),
    ...(o.tls ? { tls: new TlsSource(o.tls, { logger: o.logger }) } : {}),
  }),
};
