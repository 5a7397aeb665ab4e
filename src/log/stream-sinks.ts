/**
 * The log companion's stream sinks: Kong's tcp-log, udp-log, syslog and loggly, each entry sent
 * as one JSON text, as Kong's handlers send it; statsd's and datadog's metrics lines.
 *
 * - tcp-log: `JSON + "\n"` over one connection kept open while entries come (closed after
 *   `keepalive` ms idle), TLS when asked with `tls_sni` as the server name (as Kong's
 *   `sslhandshake(true, sni, false)`, the sink's certificate is not verified). Entries wait in a
 *   Kong queue (queue.ts: bounded, oldest dropped and counted when full, a failed batch retried
 *   with back-off), so a sink that is down, then back, gets what the queue held.
 * - udp-log: one datagram per entry, nothing retried (UDP's, and Kong's, fire and forget).
 * - syslog: one RFC 5424 message per entry over UDP to the companion's syslog address: PRI from
 *   the plugin's facility and the severity of the entry's status class (5xx
 *   server_errors_severity, 4xx client_errors_severity, else successful_severity), sent only
 *   when that severity is at least as severe as log_level (Kong's send_to_syslog), APP-NAME
 *   "kong", MSG the entry as JSON.
 * - loggly: one syslog datagram per entry to the plugin's host and port (Kong's loggly handler):
 *   PRI from the user facility and the status class's severity (filtered by log_level as
 *   syslog's), a timestamp to the second, the customer token and tags as structured data
 *   (logglyMessage), the entry as JSON.
 * - datadog: the same metrics as DogStatsD lines, service, status and consumer as tags (datadogLines).
 * - statsd: Kong's metrics of each entry (kong/plugins/statsd/log.lua) as StatsD lines, one a
 *   datagram or combined up to udp_packet_size, or over TCP with use_tcp (statsdLines below).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { hostname as osHostname } from 'node:os';
import { connect as netConnect, isIPv6, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { StreamLogSink__Output } from '../contracts/log.js';
import type { Logger } from '../logger.js';
import { kongId } from '../kong-ids.js';
import { SYSLOG_FACILITIES, SYSLOG_SEVERITIES } from '../syslog-codes.js';
import { KongQueue, type QueueClock, type QueueCounts } from './queue.js';

export interface StreamSink {
  push(entry: object): void;
  /** What it sent and dropped; queued: entries held (waiting, or in a batch being retried). */
  counts(): QueueCounts & { queued: number };
  close(): void;
}

export interface StreamSinkOptions {
  /** Where syslog messages go (UDP). */
  syslog: { host: string; port: number };
  clock: QueueClock;
  logger: Logger;
  /** RFC 5424 HOSTNAME (the machine's name by default). */
  hostname?: string;
}

/** Kong's queue bounds for a TCP sink (typedefs.queue's defaults, batches of lines sent together). */
const TCP_QUEUE = { maxBatchSize: 100, maxCoalescingDelayS: 0, maxEntries: 10000, maxRetryTimeS: 60, initialRetryDelayS: 0.01, maxRetryDelayS: 60, concurrencyLimit: 1 };

function tcpSink(c: StreamLogSink__Output, o: StreamSinkOptions): StreamSink & { pushText(text: string): void } {
  let socket: Socket | undefined;
  let idle: ReturnType<typeof setTimeout> | undefined;
  const drop = () => { socket?.destroy(); socket = undefined; };
  const connect = () => new Promise<Socket>((resolve, reject) => {
    if (socket && !socket.destroyed && socket.writable) { resolve(socket); return; }
    const opts = { host: c.host, port: c.port, timeout: c.timeout_ms || 10000 };
    const s = c.tls
      ? tlsConnect({ ...opts, servername: c.tls_sni || (isIPv6(c.host) || /^\d+(\.\d+){3}$/.test(c.host) ? undefined : c.host), rejectUnauthorized: false }, () => { s.setTimeout(0); resolve(s); })
      : netConnect(opts, () => { s.setTimeout(0); resolve(s); });
    s.once('timeout', () => s.destroy(new Error('tcp-log: connect timed out')));
    s.once('error', (e) => { if (socket === s) socket = undefined; reject(e); });
    s.once('close', () => { if (socket === s) socket = undefined; });
    s.on('data', () => undefined);
    socket = s;
  });
  const send = async (batch: string[]) => {
    const s = await connect();
    await new Promise<void>((resolve, reject) => {
      s.write(batch.join(''), (e) => (e ? (drop(), reject(e)) : resolve()));
    });
    if (idle) clearTimeout(idle);
    idle = setTimeout(drop, c.keepalive_ms || 60000);
    idle.unref();
  };
  const queue = new KongQueue<string>(TCP_QUEUE, send, o.clock, (count, why) => o.logger.warn({ sink: c.name, count, why }, why === 'full' ? 'log: tcp-log queue full, oldest entries dropped' : 'log: tcp-log batch dropped after max_retry_time'));
  return {
    push: (entry) => queue.push(`${JSON.stringify(entry)}\n`),
    pushText: (text) => queue.push(text),
    counts: () => ({ queued: queue.held, ...queue.counts }),
    close() { queue.close(); if (idle) clearTimeout(idle); drop(); },
  };
}

/** One datagram per text, to host:port; nothing retried. */
function datagrams(host: string, port: number, name: string, logger: Logger): { send(text: string): void; counts: QueueCounts; close(): void } {
  const socket: UdpSocket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  socket.on('error', (e) => logger.warn({ sink: name, err: e.message }, 'log: udp send failed'));
  socket.unref();
  const counts: QueueCounts = { droppedFull: 0, droppedRetries: 0, sent: 0 };
  return {
    send(text) {
      socket.send(text, port, host, (e) => { if (e) counts.droppedRetries++; else counts.sent++; });
    },
    counts,
    close: () => { try { socket.close(); } catch { /* already closed */ } },
  };
}

function udpSink(c: StreamLogSink__Output, o: StreamSinkOptions): StreamSink {
  const d = datagrams(c.host, c.port, c.name, o.logger);
  return { push: (entry) => d.send(JSON.stringify(entry)), counts: () => ({ queued: 0, ...d.counts }), close: d.close };
}

const LEVEL = new Map<string, number>(SYSLOG_SEVERITIES.map((s, i) => [s, i]));

/** The severity Kong's syslog gives an entry of this status, or undefined when log_level filters it out. */
export function syslogSeverity(c: Pick<StreamLogSink__Output, 'log_level' | 'successful_severity' | 'client_errors_severity' | 'server_errors_severity'>, status: number): number | undefined {
  const name = status >= 500 ? c.server_errors_severity : status >= 400 ? c.client_errors_severity : c.successful_severity;
  const severity = LEVEL.get(name || 'info') ?? 6;
  return severity <= (LEVEL.get(c.log_level || 'info') ?? 6) ? severity : undefined;
}

/** syslogSeverity of an entry, by its response status. */
function entrySeverity(c: StreamLogSink__Output, entry: object): number | undefined {
  return syslogSeverity(c, Number((entry as { response?: { status?: unknown } }).response?.status ?? 0));
}

/** The RFC 5424 HOSTNAME: the machine's name, no spaces, at most 255 characters. */
const syslogHost = (o: StreamSinkOptions) => (o.hostname ?? osHostname()).replace(/\s/g, '').slice(0, 255);

/** One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME kong PROCID - - MSG`. */
export function syslogMessage(facility: string, severity: number, entry: object, at: Date, host: string): string {
  const pri = (SYSLOG_FACILITIES[facility] ?? 1) * 8 + severity;
  return `<${pri}>1 ${at.toISOString()} ${host || '-'} kong ${process.pid} - - ${JSON.stringify(entry)}`;
}

function syslogSink(c: StreamLogSink__Output, o: StreamSinkOptions): StreamSink {
  const d = datagrams(o.syslog.host, o.syslog.port, c.name, o.logger);
  const host = syslogHost(o);
  return {
    push(entry) {
      const severity = entrySeverity(c, entry);
      if (severity !== undefined) d.send(syslogMessage(c.facility || 'USER', severity, entry, new Date(o.clock.now()), host));
    },
    counts: () => ({ queued: 0, ...d.counts }),
    close: d.close,
  };
}

type Entry = {
  request?: { size?: number };
  response?: { status?: number; size?: number };
  latencies?: { request?: number; proxy?: number; kong?: number };
  service?: { name?: string; id?: string; host?: string };
  route?: { id?: string };
  consumer?: { id?: string; custom_id?: string; username?: string };
};

/** StatsD's type letters for Kong's stat types. */
const STAT_TYPE: Readonly<Record<string, string>> = { counter: 'c', gauge: 'g', histogram: 'h', meter: 'm', set: 's', timer: 'ms', distribution: 'd' };
/** The metrics whose value is a field of the entry, and their stat names. */
const VALUE_STATS: Readonly<Record<string, { stat: string; value: (e: Entry) => number | undefined }>> = {
  request_count: { stat: 'request.count', value: () => 1 },
  latency: { stat: 'latency', value: (e) => e.latencies?.request },
  request_size: { stat: 'request.size', value: (e) => e.request?.size },
  response_size: { stat: 'response.size', value: (e) => e.response?.size },
  upstream_latency: { stat: 'upstream_latency', value: (e) => e.latencies?.proxy },
  kong_latency: { stat: 'kong_latency', value: (e) => e.latencies?.kong },
};
/** The one workspace: Kong's `default`, its id as Kong derives one from a name. */
const WORKSPACE = { workspace_name: 'default', workspace_id: kongId('workspaces', 'default') } as const;

/**
 * The StatsD lines of one entry, as Kong's statsd log.lua sends them: each metric under
 * `<prefix>.service.<service, dots as "_">` (`global.unmatched` without a service), except
 * status_count_per_user_per_route's `route.<route id>.user.<consumer>.status.<status>`; a line is
 * `<name>:<value>|<type>`, with `|@<rate>` for a sample rate other than 1. A metric of the
 * consumer is left out without one; a value the entry lacks (no upstream: no upstream_latency)
 * too. None when allow_status_codes leaves the status out.
 */
export function statsdLines(c: StreamLogSink__Output, entry: object, hostname: string): string[] {
  const e = entry as Entry;
  const status = Number(e.response?.status ?? 0);
  if (c.status_filter && !c.allow_status_codes.some((r) => status >= r.from && status <= r.to)) return [];
  const prefix = c.hostname_in_prefix ? `${c.prefix}.node.${hostname.replace(/\./g, '_')}` : c.prefix;
  const out: string[] = [];
  const line = (stat: string, value: string | number, type: string, rate?: number) =>
    out.push(`${prefix}.${stat}:${value}|${type}${rate && rate !== 1 ? `|@${rate}` : ''}`);
  for (const m of c.metrics) {
    const s = e.service;
    const service = m.service_identifier === 'service_id' ? s?.id : m.service_identifier === 'service_host' ? s?.host
      : m.service_identifier === 'service_name' ? s?.name : s?.name ?? s?.host;
    // Kong's get_scope_name: a service the identifier finds no value of is `service.unnamed`.
    const scope = s ? `service.${service ? service.replace(/\./g, '_') : 'unnamed'}` : 'global.unmatched';
    const consumer = m.consumer_identifier === 'consumer_id' ? e.consumer?.id : m.consumer_identifier === 'username' ? e.consumer?.username : e.consumer?.custom_id;
    const rate = m.sample_rate || undefined;
    switch (m.name) {
      case 'unique_users': if (consumer) line(`${scope}.user.uniques`, consumer, 's'); break;
      case 'request_per_user': if (consumer) line(`${scope}.user.${consumer}.request.count`, 1, 'c', rate); break;
      case 'status_count': line(`${scope}.status.${status}`, 1, 'c', rate); break;
      case 'status_count_per_user': if (consumer) line(`${scope}.user.${consumer}.status.${status}`, 1, 'c', rate); break;
      case 'status_count_per_workspace':
        line(`${scope}.workspace.${WORKSPACE[m.workspace_identifier === 'workspace_name' ? 'workspace_name' : 'workspace_id']}.status.${status}`, 1, 'c', rate);
        break;
      case 'status_count_per_user_per_route': if (consumer && e.route?.id) line(`route.${e.route.id}.user.${consumer}.status.${status}`, 1, 'c', rate); break;
      default: {
        const v = VALUE_STATS[m.name];
        const value = v?.value(e);
        if (v && value !== undefined && value !== -1) line(`${scope}.${v.stat}`, Math.round(value), STAT_TYPE[m.stat_type] ?? 'c', rate);
      }
    }
  }
  return out;
}

/** Lines combined into datagrams of up to `size` bytes ("\n" between them); 0: one a datagram. */
export function statsdPackets(lines: readonly string[], size: number): string[] {
  if (!size) return [...lines];
  const out: string[] = [];
  let packet = '';
  for (const l of lines) {
    if (packet && Buffer.byteLength(packet) + 1 + Buffer.byteLength(l) > size) { out.push(packet); packet = ''; }
    packet = packet ? `${packet}\n${l}` : l;
  }
  if (packet) out.push(packet);
  return out;
}

/**
 * The DogStatsD lines of one entry, as Kong's datadog handler sends them: one per metric,
 * `<prefix>.<stat>:<value>|<type>` with `|@<rate>` for a rate other than 1 and
 * `|#<service tag>:<service, dots as "_">,<status tag>:<status>[,<consumer tag>:<consumer>],<metric's tags>`;
 * a consumer id with its dashes as "_"; a value the entry lacks is Kong's -1 (no upstream: no
 * upstream latency).
 */
export function datadogLines(c: StreamLogSink__Output, entry: object): string[] {
  const e = entry as Entry;
  const service = (e.service?.name ?? '').replace(/\./g, '_');
  const status = e.response?.status ?? '-';
  return c.metrics.flatMap((m) => {
    const v = VALUE_STATS[m.name];
    if (!v) return [];
    const value = v.value(e);
    const consumer = m.consumer_identifier === 'consumer_id' ? e.consumer?.id?.replace(/-/g, '_')
      : m.consumer_identifier === 'username' ? e.consumer?.username : m.consumer_identifier === 'custom_id' ? e.consumer?.custom_id : undefined;
    const tags = [`${c.service_name_tag || 'name'}:${service}`, `${c.status_tag || 'status'}:${status}`, ...(consumer !== undefined ? [`${c.consumer_tag || 'consumer'}:${consumer}`] : []), ...m.tags];
    const rate = m.sample_rate && m.sample_rate !== 1 ? `|@${m.sample_rate}` : '';
    return [`${c.prefix}.${v.stat}:${value === undefined ? -1 : Math.round(value)}|${STAT_TYPE[m.stat_type] ?? 'c'}${rate}|#${tags.join(',')}`];
  });
}

/**
 * One Loggly message as Kong's loggly handler writes it: `<PRI>1 TIMESTAMP HOSTNAME kong - -
 * [TOKEN@41058 tag="a" tag="b"] JSON`, PRI the user facility (8) plus the severity, the
 * timestamp in UTC to the second (`%Y-%m-%dT%XZ`), 41058 Loggly's private enterprise number.
 */
export function logglyMessage(key: string, tags: readonly string[], severity: number, entry: object, at: Date, host: string): string {
  const stamp = `${at.toISOString().slice(0, 19)}Z`;
  return `<${8 + severity}>1 ${stamp} ${host} kong - - [${key}@41058 ${tags.map((t) => `tag="${t}"`).join(' ')}] ${JSON.stringify(entry)}`;
}

function logglySink(c: StreamLogSink__Output, o: StreamSinkOptions): StreamSink {
  const d = datagrams(c.host, c.port, c.name, o.logger);
  const host = syslogHost(o);
  return {
    push(entry) {
      const severity = entrySeverity(c, entry);
      if (severity !== undefined) d.send(logglyMessage(c.loggly_key, c.loggly_tags, severity, entry, new Date(o.clock.now()), host));
    },
    counts: () => ({ queued: 0, ...d.counts }),
    close: d.close,
  };
}

function datadogSink(c: StreamLogSink__Output, o: StreamSinkOptions): StreamSink {
  const d = datagrams(c.host, c.port, c.name, o.logger);
  return { push(entry) { for (const l of datadogLines(c, entry)) d.send(l); }, counts: () => ({ queued: 0, ...d.counts }), close: d.close };
}

function statsdSink(c: StreamLogSink__Output, o: StreamSinkOptions): StreamSink {
  const host = o.hostname ?? osHostname();
  if (c.use_tcp) {
    // A TCP StatsD server reads lines: each entry's, "\n"-terminated, through the tcp-log connection handling.
    const tcp = tcpSink({ ...c, timeout_ms: 10000, keepalive_ms: 60000, tls: false, tls_sni: '' }, o);
    return { push: (entry) => { const lines = statsdLines(c, entry, host); if (lines.length) tcp.pushText(`${lines.join('\n')}\n`); }, counts: tcp.counts, close: tcp.close };
  }
  const d = datagrams(c.host, c.port, c.name, o.logger);
  return {
    push(entry) { for (const p of statsdPackets(statsdLines(c, entry, host), c.udp_packet_size)) d.send(p); },
    counts: () => ({ queued: 0, ...d.counts }),
    close: d.close,
  };
}

/** The sink of one StreamLogSink resource. */
export function startStreamSink(c: StreamLogSink__Output, o: StreamSinkOptions): StreamSink {
  if (c.kind === 'TCP') return tcpSink(c, o);
  if (c.kind === 'UDP') return udpSink(c, o);
  if (c.kind === 'STATSD') return statsdSink(c, o);
  if (c.kind === 'DATADOG') return datadogSink(c, o);
  if (c.kind === 'LOGGLY') return logglySink(c, o);
  return syslogSink(c, o);
}
