/**
 * Overload benchmark. Prints figures; never fails on them.
 *
 *   npm run bench:overload    (prepares wrk and Envoy: scripts/bench-prepare.sh envoy wrk)
 *   node --import tsx bench/overload/run.ts [--seconds 5] [--delay-ms 300] [--levels 100,1000,5000]
 *     [--order frontdesk,envoy-defaults]
 *
 * A slow upstream (a static Envoy answering every request after a fixed delay, with its fault
 * filter: never the bottleneck, unlike a Node server) is loaded by wrk (one thread, keep-alive
 * connections) at 100, 1,000 and 5,000 concurrent connections, three ways in the same run:
 *   - direct: straight at the upstream (the baseline);
 *   - frontdesk: one Envoy (concurrency 1) serving the listener, route and cluster Frontdesk
 *     compiles for one service, with Frontdesk's default thresholds and overload manager;
 *   - envoy-defaults: the same resources with the cluster's circuit_breakers and the overload
 *     manager removed, so Envoy's built-in thresholds apply (1,024 connections, pending requests
 *     and requests, 3 retries).
 * Each gateway gets an unmeasured 2 s warm-up at each level first. For each: answers/s and 2xx
 * answers/s (wrk counts a shed request's 503 as a request), p99 latency, the ratio to direct, and what Envoy shed
 * (upstream_rq_pending_overflow + upstream_rq_active_overflow, answered 503) and queued
 * (upstream_cx_overflow: requests that waited for a connection) during that run.
 *
 * Both gateways get the resources statically (the same objects xDS would push), so the only
 * difference between them is the thresholds. Everything listens on loopback and is stopped at
 * the end. Each figure is one JSON line and one readable line naming the machine (cores, load
 * average at the start), the load generator and the baseline.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { silentLogger } from '../../src/logger.js';
import { buildBootstrap } from '../../src/runtime/bootstrap.js';
import { EnvoyProcess, findEnvoy } from '../../src/runtime/envoy.js';
import { wrk, type WrkResult } from '../support/load.js';
import { freePort } from '../support/net.js';
import { staticGatewayResources } from '../support/static-gateway.js';
import { machine } from '../support/stats.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const SECONDS = Math.min(Number(arg('seconds', '5')), 10);
const DELAY_MS = Number(arg('delay-ms', '300'));
const WARMUP = 2;
/** wrk's per-request timeout: 5,000 connections on 2 cores wait longer than its default 2 s. */
const WRK_TIMEOUT_S = 10;
const ORDER = arg('order', 'frontdesk,envoy-defaults').split(',') as ('frontdesk' | 'envoy-defaults')[];
const LEVELS = arg('levels', '100,1000,5000').split(',').map(Number);
const log = silentLogger();
const ENVOY = findEnvoy() ?? 'envoy';
const MACHINE = machine(ENVOY);


function emit(figure: Record<string, unknown>, readable: string): void {
  process.stdout.write(`${JSON.stringify({ bench: 'overload', ...figure, loadgen: `wrk -t1 --timeout ${WRK_TIMEOUT_S}s`, machine: MACHINE })}\n`);
  process.stdout.write(`${readable}  [${MACHINE.cores} cores ${MACHINE.cpu}, load avg ${MACHINE.loadAvg1} at start, node ${MACHINE.node}, envoy ${MACHINE.envoy}, wrk -t1 --timeout ${WRK_TIMEOUT_S}s]\n`);
}

/** A static Envoy that answers every request 200 after `delayMs` (fault filter), on a free port. */
async function startSlowUpstream(delayMs: number): Promise<{ port: number; envoy: EnvoyProcess }> {
  const port = await freePort();
  const bootstrap = {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [{
        name: 'slow',
        address: { socket_address: { address: '127.0.0.1', port_value: port } },
        filter_chains: [{
          filters: [{
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
              stat_prefix: 'slow',
              route_config: { virtual_hosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'slow-upstream' } } }] }] },
              http_filters: [
                {
                  name: 'envoy.filters.http.fault',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
                    delay: { fixed_delay: `${delayMs / 1000}s`, percentage: { numerator: 100, denominator: 'HUNDRED' } },
                    max_active_faults: 1_000_000,
                  },
                },
                { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } },
              ],
            },
          }],
        }],
      }],
    },
  };
  const envoy = await EnvoyProcess.start({ bootstrapYaml: JSON.stringify(bootstrap), logger: log, concurrency: 1 });
  await envoy.waitReady(30_000);
  return { port, envoy };
}

/**
 * A static Envoy holding what Frontdesk compiles for one service in front of `upstreamPort`:
 * as compiled (`frontdesk`), or without circuit_breakers and overload manager (`envoy-defaults`).
 */
async function startGatewayEnvoy(upstreamPort: number, variant: 'frontdesk' | 'envoy-defaults'): Promise<{ port: number; envoy: EnvoyProcess }> {
  const port = await freePort();
  const yaml = `
_format_version: "3.0"
services:
  - name: slow
    url: http://127.0.0.1:${upstreamPort}
    connect_timeout: 5000
    read_timeout: 30000
    write_timeout: 30000
    routes: [{ name: slow, paths: [/] }]
`;
  const { listeners, clusters } = staticGatewayResources(yaml, port, (cluster) => {
    if (variant === 'envoy-defaults') delete cluster.circuit_breakers;
  });
  const frontdesk = buildBootstrap({ xds: { host: '127.0.0.1', port: 1 }, nodeId: 'bench', cluster: 'bench', adminPort: 0 });
  const bootstrap = {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: { listeners, clusters },
    ...(variant === 'frontdesk' ? { overload_manager: frontdesk.overload_manager } : {}),
  };
  const envoy = await EnvoyProcess.start({ bootstrapYaml: JSON.stringify(bootstrap), logger: log, concurrency: 1 });
  await envoy.waitReady(30_000);
  return { port, envoy };
}

/** The counters of cluster `service:slow` (Envoy writes the name service_slow) that say what was shed or queued. */
async function overflowStats(envoy: EnvoyProcess): Promise<{ shed: number; queued: number }> {
  const text = await (await fetch(`${envoy.adminUrl}/stats?filter=^cluster\\.service_slow\\.upstream_(rq_pending_overflow|rq_active_overflow|cx_overflow)$`)).text();
  const v = (name: string) => Number(new RegExp(`${name}: (\\d+)`).exec(text)?.[1] ?? 0);
  return { shed: v('upstream_rq_pending_overflow') + v('upstream_rq_active_overflow'), queued: v('upstream_cx_overflow') };
}

/** 2xx answers per second (wrk's req/s counts the 503s of shed requests too). */
function served2xx(r: WrkResult): number {
  return Math.round(r.rps * (r.requests ? (r.requests - r.non2xx) / r.requests : 0));
}

async function main(): Promise<void> {
  if (spawnSync('sh', ['-c', 'command -v wrk']).status !== 0) throw new Error('wrk is not installed: npm run bench:overload prepares it (Debian: apt-get install wrk)');
  // wrk, the gateway Envoy (twice: client and upstream side) and the upstream each hold a
  // descriptor per connection; they inherit this process's limit.
  const soft = /^Max open files\s+(\S+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
  const need = 2 * Math.max(...LEVELS) + 2000;
  if (soft !== 'unlimited' && Number(soft) < need) throw new Error(`${Math.max(...LEVELS)} connections need ${need} open files; the limit is ${soft}: ulimit -n ${need}`);
  const upstream = await startSlowUpstream(DELAY_MS);
  const gateways = {
    frontdesk: await startGatewayEnvoy(upstream.port, 'frontdesk'),
    'envoy-defaults': await startGatewayEnvoy(upstream.port, 'envoy-defaults'),
  };
  try {
    for (const connections of LEVELS) {
      const run = (port: number): WrkResult => wrk(`http://127.0.0.1:${port}/`, SECONDS, connections, {}, undefined, WRK_TIMEOUT_S);
      const direct = run(upstream.port);
      emit({ target: 'direct', connections, delayMs: DELAY_MS, seconds: SECONDS, rps: Math.round(direct.rps), servedPerSec: served2xx(direct), p99Ms: direct.p99Ms, non2xx: direct.non2xx, socketErrors: direct.errors },
        `overload direct         c=${connections}: ${Math.round(direct.rps)} req/s, p99 ${direct.p99Ms.toFixed(0)} ms, non-2xx ${direct.non2xx}, socket errors ${direct.errors} (upstream delay ${DELAY_MS} ms)`);
      for (const name of ORDER) {
        const gw = gateways[name];
        // Unmeasured warm-up: the gateway's upstream connections are pooled, so the timed run
        // does not pay for opening thousands of them.
        wrk(`http://127.0.0.1:${gw.port}/`, WARMUP, connections, {}, undefined, WRK_TIMEOUT_S);
        const before = await overflowStats(gw.envoy);
        const r = run(gw.port);
        const after = await overflowStats(gw.envoy);
        const shed = after.shed - before.shed;
        const queued = after.queued - before.queued;
        const served = served2xx(r);
        const ratio = served2xx(direct) ? Math.round((served / served2xx(direct)) * 100) / 100 : Number.NaN;
        emit({ target: name, connections, delayMs: DELAY_MS, seconds: SECONDS, rps: Math.round(r.rps), servedPerSec: served, p99Ms: r.p99Ms, servedVsDirect: ratio, shed, queued, non2xx: r.non2xx, socketErrors: r.errors, baseline: 'direct' },
          `overload ${name.padEnd(14)} c=${connections}: ${served} served/s (${ratio}x direct), ${Math.round(r.rps)} answers/s, p99 ${r.p99Ms.toFixed(0)} ms, shed ${shed} (503), queued ${queued}, non-2xx ${r.non2xx}, socket errors ${r.errors}`);
      }
    }
  } finally {
    await Promise.all([upstream.envoy.stop(), ...Object.values(gateways).map((g) => g.envoy.stop())]);
  }
  process.stdout.write(`load average after the run: ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
}

main().catch((e: unknown) => { process.stderr.write(`${(e as Error).stack ?? String(e)}\n`); process.exit(1); });
