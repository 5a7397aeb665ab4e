/**
 * Observability cost benchmark. Prints figures; never fails on them.
 *
 *   npm run bench:observability    (prepares wrk and Envoy: scripts/bench-prepare.sh envoy wrk)
 *   node --import tsx bench/observability/run.ts [--seconds 5] [--connections 32] [--only a,b]
 *
 * `--only` also runs the knobs of KNOBS below, one edit of Envoy's configuration each
 * (e.g. --only "otel@0.01,otel@0.01 upstream-span"): what in Envoy's configuration costs.
 *
 * One service in front of a fast upstream (a static Envoy answering 200 itself), compiled by
 * Frontdesk in several ways and each served by its own static Envoy (concurrency 1), loaded by
 * wrk (one thread, keep-alive connections) in the same run:
 *   - baseline: no logging, no tracing, no metrics;
 *   - file-log alone, opentelemetry alone at sampling_rate 0.01, http-log alone (batches of
 *     100), prometheus alone (Kong's metrics, every flag on), to tell their costs apart;
 *   - file-log + http-log + opentelemetry at sampling_rate 0.01, and at 1.0 (the issue's
 *     target: at 0.01 and with http-log batching, at most 10 % fewer requests/s than the
 *     baseline).
 * http-log and prometheus stream to a log companion running in this process (its sinks from an
 * in-process control plane serving the same plugins over ADS); http-log's endpoint is another
 * static Envoy answering 200, as is the OTLP collector (never the bottleneck); the log file is a
 * temporary file. The companion shares the machine's cores with Envoy and wrk, as it would in
 * production on one host. Each gateway gets an unmeasured 1 s warm-up; the baseline runs again
 * last, so a load that moved during the run shows as the gap between the two baselines. Each
 * figure is one JSON line and one readable line with requests/s, p99 and the ratio to the
 * baseline, naming the machine, the load generator and the load at the start (a busy start
 * marks the figures); the companion's counts (entries sent, dropped) follow each variant that
 * used it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS, type TranslateSettings } from '../../src/resources/filters/registry.js';
import { EnvoyProcess } from '../../src/runtime/envoy.js';
import { startDirectUpstream } from '../support/direct-upstream.js';
import { wrk, wrkProblems } from '../support/load.js';
import { freePort } from '../support/net.js';
import { CpuMeter } from '../support/proc.js';
import { startCompanionChild } from '../support/companion-child.js';
import { markText, marks, printRunHeader, runInfo } from '../support/run-info.js';
import { staticGatewayResources } from '../support/static-gateway.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const SECONDS = Math.min(Number(arg('seconds', '5')), 10);
const CONNECTIONS = Number(arg('connections', '32'));
const log = silentLogger();
const LOADGEN = `wrk -t1 -c${CONNECTIONS}`;
/** `--only a,b`: run only these variants (the baseline always runs). */
const ONLY = process.argv.includes('--only') ? new Set(arg('only', '').split(',')) : undefined;
/** `--cpu-prof DIR`: the log companion writes its V8 CPU profile there when it exits (bench/support/cpuprofile.ts reads it). */
const CPU_PROF = process.argv.includes('--cpu-prof') ? arg('cpu-prof', '') : undefined;

/**
 * A variant: the plugins it uses and, for the measurements of what in Envoy's configuration
 * costs (run only when named in `--only`), an edit of the compiled listener (one knob turned).
 */
interface Variant { name: string; plugins: string; patch?: (hcm: Json) => void; experiment?: boolean }

type Json = Record<string, any>;

/** Every HTTP connection manager of a static listener. */
function hcms(listener: Json): Json[] {
  return (listener.filter_chains as Json[]).flatMap((c) => (c.filters as Json[]).map((f) => f.typed_config as Json)).filter((t) => t.route_config);
}

/** Every route of an HTTP connection manager's inline route configuration. */
function routesOf(hcm: Json): Json[] {
  return ((hcm.route_config.virtual_hosts ?? []) as Json[]).flatMap((v) => (v.routes ?? []) as Json[]);
}

/** Envoy's cheapest file access log: one line per request holding only its status (no JSON formatter, no filter keeping the path). */
function cheapestFileLog(h: Json): void {
  h.http_filters = (h.http_filters as Json[]).filter((f) => f.name !== 'frontdesk.file_log');
  for (const a of h.access_log as Json[]) if (a.typed_config?.log_format?.json_format) a.typed_config.log_format = { text_format_source: { inline_string: '%RESPONSE_CODE%\n' } };
}
/** The gRPC access log's entry with no header in it (Envoy's own fields only). */
function grpcLogWithoutHeaders(h: Json): void {
  for (const a of h.access_log as Json[]) if (a.name === 'envoy.access_loggers.http_grpc') { delete a.typed_config.additional_request_headers_to_log; delete a.typed_config.additional_response_headers_to_log; }
}
/** The tracer's span without custom tags. */
function spansWithoutTags(h: Json): void {
  for (const r of routesOf(h)) if (r.tracing) delete r.tracing.custom_tags;
}

/**
 * The knobs measured one at a time (docs/benchmarks.md: what in Envoy's configuration costs);
 * `base` names the plugins of the variant a knob edits (several joined by "+").
 */
const KNOBS: Record<string, { base: string; patch: (hcm: Json) => void }> = {
  // The tracer at 0.01 with a span of its own for the upstream call (as before: off now, as Kong's default instrumentations).
  'otel@0.01 upstream-span': { base: 'otel001', patch: (h) => { h.tracing.spawn_upstream_span = true; } },
  // The tracer at 0.01: no custom tags (service, route, consumer) on the request's span.
  'otel@0.01 no-custom-tags': { base: 'otel001', patch: spansWithoutTags },
  // The tracer at 0.01, no request id generated (the sampling decision then draws a random number).
  'otel@0.01 no-request-id': { base: 'otel001', patch: (h) => { h.generate_request_id = false; } },
  // file-log without the filter that keeps the path as sent (the entry's uri from :path instead).
  'file-log no-path-filter': { base: 'fileLog', patch: (h) => {
    h.http_filters = (h.http_filters as Json[]).filter((f) => f.name !== 'frontdesk.file_log');
    for (const a of h.access_log as Json[]) {
      const j = a.typed_config?.log_format?.json_format;
      if (j) { j.request.uri = '%PATH(NQ)%'; j.request.url = '%REQ(x-forwarded-proto)%://%REQ(x-forwarded-host?:authority)%%PATH(NQ)%'; }
    }
  } },
  // file-log with no headers in the entry (what the twelve header lookups cost).
  'file-log no-headers': { base: 'fileLog', patch: (h) => {
    for (const a of h.access_log as Json[]) {
      const j = a.typed_config?.log_format?.json_format;
      if (j) { delete j.request.headers; delete j.response.headers; }
    }
  } },
  // http-log logging user-agent, x-forwarded-for and x-request-id among the headers too (as before: read from the entry's own fields now).
  'http-log native-headers-twice': { base: 'httpLog', patch: (h) => {
    for (const a of h.access_log as Json[]) if (a.name === 'envoy.access_loggers.http_grpc') a.typed_config.additional_request_headers_to_log.push('user-agent', 'x-forwarded-for', 'x-request-id');
  } },
  // http-log with no headers logged in the gRPC entry.
  'http-log no-headers': { base: 'httpLog', patch: grpcLogWithoutHeaders },
  // Envoy's floor for a line per request to a file: a text format of the status alone.
  'file-log floor': { base: 'fileLog', patch: cheapestFileLog },
  // The three at their floor in Envoy: the cheapest file line, the gRPC entry without headers, spans without tags.
  'file+http-log+otel@0.01 floor': { base: 'fileLog+httpLog+otel001', patch: (h) => { cheapestFileLog(h); grpcLogWithoutHeaders(h); spansWithoutTags(h); } },
  // http-log with four times the buffer (256 KiB) before a gRPC message is sent.
  'http-log buffer-256k': { base: 'httpLog', patch: (h) => {
    for (const a of h.access_log as Json[]) if (a.name === 'envoy.access_loggers.http_grpc') a.typed_config.common_config.buffer_size_bytes = 262144;
  } },
};

/** The plugins, as YAML list items, by name: each variant names the ones it uses. */
function pluginItems(collector: string, logFile: string, httpSink: string): Record<string, string> {
  const otel = (rate: number) => `
  - name: opentelemetry
    config: { traces_endpoint: ${collector}/v1/traces, sampling_rate: ${rate} }`;
  return {
    fileLog: `
  - name: file-log
    config: { path: ${logFile} }`,
    httpLog: `
  - name: http-log
    config: { http_endpoint: ${httpSink}/logs, queue: { max_batch_size: 100, max_coalescing_delay: 1, max_entries: 100000 } }`,
    prometheus: `
  - name: prometheus
    config: { per_consumer: true, status_code_metrics: true, latency_metrics: true, bandwidth_metrics: true }`,
    otel001: otel(0.01),
    otel1: otel(1),
  };
}

function variants(p: Record<string, string>): Variant[] {
  const plugins = (...names: string[]) => `\nplugins:${names.map((n) => p[n]!).join('')}`;
  return [
    { name: 'baseline', plugins: '' },
    { name: 'file-log', plugins: plugins('fileLog') },
    { name: 'otel@0.01', plugins: plugins('otel001') },
    { name: 'http-log', plugins: plugins('httpLog') },
    { name: 'prometheus', plugins: plugins('prometheus') },
    { name: 'file+http-log+otel@0.01', plugins: plugins('fileLog', 'httpLog', 'otel001') },
    { name: 'file+http-log+otel@1.0', plugins: plugins('fileLog', 'httpLog', 'otel1') },
    { name: 'file+http-log+prom+otel@0.01', plugins: plugins('fileLog', 'httpLog', 'prometheus', 'otel001') },
    ...Object.entries(KNOBS).map(([name, k]) => ({ name, plugins: plugins(...k.base.split('+')), patch: k.patch, experiment: true })),
  ];
}

const gatewayYaml = (upstream: string, plugins: string) => `_format_version: "3.0"${plugins}
services:
  - name: fast
    url: ${upstream}
    connect_timeout: 5000
    read_timeout: 30000
    write_timeout: 30000
    routes: [{ name: fast, paths: [/] }]
`;

/** One counter of an Envoy's admin /stats (undefined when unread). */
async function envoyCounter(adminUrl: string, name: string): Promise<number | undefined> {
  try {
    const text = await (await fetch(`${adminUrl}/stats?filter=${encodeURIComponent(`^${name.replace(/\./g, '\\.')}$`)}`)).text();
    const m = new RegExp(`^${name.replace(/\./g, '\\.')}: (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  } catch { return undefined; }
}

async function startGateway(upstream: string, v: Variant, settings: TranslateSettings): Promise<{ port: number; envoy: EnvoyProcess }> {
  const port = await freePort();
  const { listeners, clusters } = staticGatewayResources(gatewayYaml(upstream, v.plugins), port, undefined, settings);
  if (v.patch) for (const l of listeners) for (const h of hcms(l)) v.patch(h);
  const bootstrap = { admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } }, static_resources: { listeners, clusters } };
  const envoy = await EnvoyProcess.start({ bootstrapYaml: JSON.stringify(bootstrap), logger: log, concurrency: 1 });
  await envoy.waitReady(30_000);
  return { port, envoy };
}

async function main(): Promise<void> {
  if (spawnSync('sh', ['-c', 'command -v wrk']).status !== 0) throw new Error('wrk is not installed: npm run bench:observability prepares it (Debian: apt-get install wrk)');
  const run = runInfo();
  printRunHeader('observability', run);
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-bench-observability-'));
  const logFile = join(dir, 'access.log');
  const upstream = await startDirectUpstream({ logger: log });
  const collector = await startDirectUpstream({ logger: log, body: '', readBody: true });
  const httpSink = await startDirectUpstream({ logger: log, body: '', readBody: true });
  const started: EnvoyProcess[] = [upstream.envoy, collector.envoy, httpSink.envoy];
  const settings: TranslateSettings = { ...DEFAULT_SETTINGS, log: { host: '127.0.0.1', port: await freePort() } };
  const items = pluginItems(collector.url, logFile, httpSink.url);
  const companion = await startCompanionChild('log', gatewayYaml(upstream.url, `\nplugins:${items.httpLog}${items.prometheus}`), dir, settings.log.port, CPU_PROF);
  try {
    let baseline: { rps: number; p99Ms: number } | undefined;
    const all = variants(items).filter((v) => v.name === 'baseline' || (ONLY ? ONLY.has(v.name) : !v.experiment));
    // The baseline runs first and last: a moving load on a shared machine shows as their gap.
    const order = [...all, { ...all[0]!, name: 'baseline-again' }];
    for (const v of order) {
      const before = await companion.counts();
      const gw = await startGateway(upstream.url, v, settings);
      started.push(gw.envoy);
      const url = `http://127.0.0.1:${gw.port}/`;
      const warm = wrk(url, 1, CONNECTIONS);
      const meter = new CpuMeter({ gateway: gw.envoy.pid, companion: companion.pid, 'http-log sink': httpSink.envoy.pid, collector: collector.envoy.pid, upstream: upstream.envoy.pid }).begin();
      const r = wrk(url, SECONDS, CONNECTIONS);
      // The companion flushes what Envoy sent in the last buffer interval: its CPU counts until then.
      await new Promise((res) => setTimeout(res, 300));
      const cpu = meter.end().perProcess;
      // Envoy's own count of the access-log entries it dropped (its gRPC stream above its buffer limit).
      const dropped = /http-log|prom/.test(v.name) ? await envoyCounter(gw.envoy.adminUrl, 'access_logs.grpc_access_log.logs_dropped') : undefined;
      await gw.envoy.stop();
      const cpuUs = Object.fromEntries(Object.entries(cpu).map(([k, s]) => [k, r.requests ? Math.round((s * 1e6) / r.requests * 10) / 10 : Number.NaN]));
      baseline ??= r;
      const ratio = baseline.rps ? Math.round((r.rps / baseline.rps) * 100) / 100 : Number.NaN;
      const m = marks(run, wrkProblems([r]));
      const logBytes = (() => { try { return statSync(logFile).size; } catch { return 0; } })();
      process.stdout.write(`${JSON.stringify({ bench: 'observability', variant: v.name, seconds: SECONDS, connections: CONNECTIONS, rps: Math.round(r.rps), p50Ms: r.p50Ms, p99Ms: r.p99Ms, rpsVsBaseline: ratio, cpuUsPerRequest: cpuUs, baseline: 'baseline (same Envoy, no logging, tracing or metrics)', logFileBytes: logBytes, loadgen: LOADGEN, cores: run.cores, marks: m })}\n`);
      process.stdout.write(`observability ${v.name.padEnd(24)} ${Math.round(r.rps)} req/s (${ratio}x baseline), p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, CPU µs/request ${Object.entries(cpuUs).filter(([, v]) => v > 0.05).map(([k, v]) => `${k} ${v}`).join(', ')}  [${run.cores} cores, ${LOADGEN}, ${SECONDS} s]${markText(m)}\n`);
      if (/http-log/.test(v.name)) {
        // What the companion did with this variant's entries: sent to the sink (once its queue is
        // empty, at most 5 s), dropped, against the requests wrk made (warm-up included).
        let after = await companion.counts();
        for (const until = Date.now() + 5000; after.queued > 0 && Date.now() < until;) { await new Promise((r) => setTimeout(r, 100)); after = await companion.counts(); }
        process.stdout.write(`  log companion: http-log entries sent ${after.sent - before.sent} of ${warm.requests + r.requests} requests, dropped ${after.dropped - before.dropped}, still held ${after.queued}; Envoy dropped ${dropped ?? '?'} before sending\n`);
      }
    }
  } finally {
    await companion.stop();
    await Promise.all(started.map((e) => e.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`load average after the run: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
}

main().catch((e: unknown) => { process.stderr.write(`${(e as Error).stack ?? String(e)}\n`); process.exit(1); });
