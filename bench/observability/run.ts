/**
 * Observability cost benchmark. Prints figures; never fails on them.
 *
 *   npm run bench:observability    (prepares wrk and Envoy: scripts/bench-prepare.sh envoy wrk)
 *   node --import tsx bench/observability/run.ts [--seconds 5] [--connections 32]
 *
 * One service in front of a fast upstream (a static Envoy answering 200 itself), compiled by
 * Frontdesk five ways and each served by its own static Envoy (concurrency 1), loaded by wrk
 * (one thread, keep-alive connections) in the same run:
 *   - baseline: no logging, no tracing;
 *   - file-log alone, opentelemetry alone at sampling_rate 0.01 (to tell their costs apart);
 *   - file-log + opentelemetry at sampling_rate 0.01, and at 1.0.
 * The OTLP collector is another static Envoy answering 200 (never the bottleneck); the log file
 * is a temporary file. http-log is not served yet, so it is not in the figures. Each gateway
 * gets an unmeasured 1 s warm-up; the baseline runs again last, so a load that moved during the
 * run shows as the gap between the two baselines. Each figure is one JSON line and one readable line with
 * requests/s, p99 and the ratio to the baseline, naming the machine, the load generator and the
 * load at the start (a busy start marks the figures).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../src/logger.js';
import { EnvoyProcess } from '../../src/runtime/envoy.js';
import { startDirectUpstream } from '../support/direct-upstream.js';
import { wrk, wrkProblems } from '../support/load.js';
import { freePort } from '../support/net.js';
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

interface Variant { name: string; plugins: string }

function variants(collector: string, logFile: string): Variant[] {
  const fileLog = `
  - name: file-log
    config: { path: ${logFile} }`;
  const otel = (rate: number) => `
  - name: opentelemetry
    config: { traces_endpoint: ${collector}/v1/traces, sampling_rate: ${rate} }`;
  const plugins = (...p: string[]) => `\nplugins:${p.join('')}`;
  return [
    { name: 'baseline', plugins: '' },
    { name: 'file-log', plugins: plugins(fileLog) },
    { name: 'otel@0.01', plugins: plugins(otel(0.01)) },
    { name: 'file-log+otel@0.01', plugins: plugins(fileLog, otel(0.01)) },
    { name: 'file-log+otel@1.0', plugins: plugins(fileLog, otel(1)) },
  ];
}

async function startGateway(upstream: string, v: Variant): Promise<{ port: number; envoy: EnvoyProcess }> {
  const port = await freePort();
  const yaml = `_format_version: "3.0"${v.plugins}
services:
  - name: fast
    url: ${upstream}
    connect_timeout: 5000
    read_timeout: 30000
    write_timeout: 30000
    routes: [{ name: fast, paths: [/] }]
`;
  const { listeners, clusters } = staticGatewayResources(yaml, port);
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
  const collector = await startDirectUpstream({ logger: log, body: '' });
  const started: EnvoyProcess[] = [upstream.envoy, collector.envoy];
  try {
    let baseline: { rps: number; p99Ms: number } | undefined;
    const all = variants(collector.url, logFile);
    // The baseline runs first and last: a moving load on a shared machine shows as their gap.
    const order = [...all, { ...all[0]!, name: 'baseline-again' }];
    for (const v of order) {
      const gw = await startGateway(upstream.url, v);
      started.push(gw.envoy);
      const url = `http://127.0.0.1:${gw.port}/`;
      wrk(url, 1, CONNECTIONS);
      const r = wrk(url, SECONDS, CONNECTIONS);
      await gw.envoy.stop();
      baseline ??= r;
      const ratio = baseline.rps ? Math.round((r.rps / baseline.rps) * 100) / 100 : Number.NaN;
      const m = marks(run, wrkProblems([r]));
      const logBytes = (() => { try { return statSync(logFile).size; } catch { return 0; } })();
      process.stdout.write(`${JSON.stringify({ bench: 'observability', variant: v.name, seconds: SECONDS, connections: CONNECTIONS, rps: Math.round(r.rps), p50Ms: r.p50Ms, p99Ms: r.p99Ms, rpsVsBaseline: ratio, baseline: 'baseline (same Envoy, no file-log or tracing)', logFileBytes: logBytes, loadgen: LOADGEN, cores: run.cores, marks: m })}\n`);
      process.stdout.write(`observability ${v.name.padEnd(18)} ${Math.round(r.rps)} req/s (${ratio}x baseline), p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms  [${run.cores} cores, ${LOADGEN}, ${SECONDS} s]${markText(m)}\n`);
    }
  } finally {
    await Promise.all(started.map((e) => e.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`load average after the run: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
}

main().catch((e: unknown) => { process.stderr.write(`${(e as Error).stack ?? String(e)}\n`); process.exit(1); });
