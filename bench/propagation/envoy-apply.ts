/**
 * What the translation makes Envoy do per route: one real Envoy (concurrency 1) fed by the
 * project's own ADS server in this process, the 1,000-route bench config (1,601 Envoy routes),
 * one-route edits pushed as RouteConfigurations in variants of the translation, and for each
 * variant the time from the RouteConfiguration written to the stream until Envoy's ACK (its
 * receive, decode, validation, the route table's rebuild and the ACK: what the push costs on
 * Envoy's side) and Envoy's CPU per update. The variants take away one kind of per-route work
 * each; they are measurements, not translations (they do not keep Kong's semantics):
 *
 *   as translated        what Frontdesk sends
 *   authority exact      each `:authority` regex header match as a case-insensitive prefix match of its host
 *   method exact         each `:method` regex (`^(?:GET|POST)$`) as an exact match of its first method
 *   no regex rewrite     routes without their `regex_rewrite` (the path sent upstream unchanged)
 *   as translated before the translation before one rewrite per route: each route whose path
 *                        handling is now one regex rewrite again as two, a `:exact` route for the
 *                        route's own path (`^.*$` → the service path) before the route whose rewrite
 *                        adds a slash (`^R(?:/|\.\.?/)?` → B/)
 *   no exact twins       without the `:exact` routes left (a strip_path regex route's whole match)
 *   metadata on every route  each route with the metadata every route carried before it went to
 *                        logged routes only (the Kong route's name, id and service)
 *   no retry policy      routes without their retry_policy
 *   no regex at all      authority exact, method exact, no regex rewrite and no exact twins together
 *
 * Variants are interleaved round by round (the same load for all), each round one edit per
 * variant. Prints figures; never fails on them.
 *
 *   node --import tsx bench/propagation/envoy-apply.ts [--rounds 12] [--warmup 2] [--routes 1000]
 */
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { TYPE } from '../../src/resources/type-urls.js';
import type { Translation } from '../../src/resources/translate.js';
import { bootstrapYaml } from '../../src/runtime/bootstrap.js';
import { CompileCache, compileConfig } from '../../src/runtime/compile.js';
import { EnvoyProcess, findEnvoy } from '../../src/runtime/envoy.js';
import { AdsServer } from '../../src/xds/ads-server.js';
import { buildSnapshot, resourcesFor, versionOf } from '../../src/xds/snapshot.js';
import type { JsonObject } from '../../src/json.js';
import { startDirectUpstream } from '../support/direct-upstream.js';
import { twinsBefore } from '../support/twins-before.js';
import { freePorts, until } from '../support/net.js';
import { cpuSecondsOf } from '../support/proc.js';
import { markText, marks, numberFlag, printRunHeader, runInfo } from '../support/run-info.js';
import { formatSummary, machine, report, rounded, summarize, wallMs } from '../support/stats.js';
import { benchRoutes, DEFAULT_HOST_PATTERNS, genConfig, ROUTES_PER_SERVICE } from './gen-config.js';

const BENCH = 'propagation-envoy-apply';
const RUN = runInfo();
const FLEET = 'frontdesk';

type Route = { name?: string; match?: { headers?: { name: string; string_match?: Record<string, unknown> }[] }; route?: Record<string, unknown> };
type RouteConfig = { virtual_hosts?: { routes?: Route[] }[] };

/** Kong route name → its names as route metadata held them (route, route_id, service), from the last build's IR. */
const kongNames = new Map<string, Record<string, string>>();

/** Each variant rewrites the routes of a RouteConfiguration (a copy). */
const VARIANTS: Record<string, (routes: Route[]) => Route[]> = {
  'as translated': (rs) => rs,
  'authority exact': (rs) => rs.map((r) => withHeaders(r, (h) => (h.name === ':authority' ? authorityPrefix(h) : h))),
  'method exact': (rs) => rs.map((r) => withHeaders(r, (h) => (h.name === ':method' ? methodExact(h) : h))),
  'no regex rewrite': (rs) => rs.map((r) => (r.route?.regex_rewrite ? { ...r, route: without(r.route, 'regex_rewrite') } : r)),
  'as translated before': (rs) => rs.flatMap((r) => twinsBefore(r)),
  'no exact twins': (rs) => rs.filter((r) => !r.name?.endsWith(':exact')),
  // The translation before route metadata went to logged routes only: every route named its Kong route, id and service.
  'metadata on every route': (rs) => rs.map((r) => {
    const k = r.name === undefined || (r as { metadata?: unknown }).metadata ? undefined : kongNames.get(r.name.replace(/[#:].*$/, ''));
    return k ? { ...r, metadata: { filter_metadata: { frontdesk: k } } } as Route : r;
  }),
  'no retry policy': (rs) => rs.map((r) => (r.route?.retry_policy ? { ...r, route: without(r.route, 'retry_policy') } : r)),
};
VARIANTS['no regex at all'] = (rs) => ['authority exact', 'method exact', 'no regex rewrite', 'no exact twins'].reduce((acc, v) => VARIANTS[v]!(acc), rs);

function withHeaders(r: Route, f: (h: NonNullable<NonNullable<Route['match']>['headers']>[number]) => typeof h): Route {
  if (!r.match?.headers) return r;
  return { ...r, match: { ...r.match, headers: r.match.headers.map(f) } };
}

function without(o: Record<string, unknown>, key: string): Record<string, unknown> {
  const out = { ...o };
  delete out[key];
  return out;
}

/** `(?i)(?:h1\.bench\.test(?::\d+)?)` → a case-insensitive prefix match of `h1.bench.test` (a single plain host only). */
function authorityPrefix<H extends { name: string; string_match?: Record<string, unknown> }>(h: H): H {
  const re = (h.string_match?.safe_regex as { regex?: string } | undefined)?.regex;
  const m = re ? /^\(\?i\)\(\?:([a-z0-9\\.-]+)\(\?::\\d\+\)\?\)$/.exec(re) : null;
  return m ? { ...h, string_match: { prefix: m[1]!.replaceAll('\\', ''), ignore_case: true } } : h;
}

function methodExact<H extends { name: string; string_match?: Record<string, unknown> }>(h: H): H {
  const re = (h.string_match?.safe_regex as { regex?: string } | undefined)?.regex;
  const m = re ? /^\^\(\?:([A-Z]+)[|)]/.exec(re) : null;
  return m ? { ...h, string_match: { exact: m[1]! } } : h;
}

/** The translation with its RouteConfigurations rewritten by `variant` (copies; the rest shared). */
function variantOf(t: Translation, variant: (rs: Route[]) => Route[]): Translation {
  const fleets = new Map([...t.fleets].map(([fleet, types]) => [fleet, new Map([...types].map(([typeUrl, m]) => [typeUrl, typeUrl !== TYPE.route ? m
    : new Map([...m].map(([name, body]) => {
      const rc = body as RouteConfig;
      return [name, { ...rc, virtual_hosts: (rc.virtual_hosts ?? []).map((vh) => ({ ...vh, routes: variant(vh.routes ?? []) })) } as unknown as JsonObject];
    }))]))]));
  return { fleets, companions: t.companions };
}

async function main(): Promise<void> {
  const rounds = numberFlag('rounds', 12);
  const warmup = numberFlag('warmup', 2);
  const size = numberFlag('routes', 1000);
  printRunHeader(BENCH, RUN);
  const logger = silentLogger();
  const bin = findEnvoy();
  if (!bin) throw new Error('no envoy binary: run `node scripts/install-envoy.mjs` or set ENVOY_BIN');
  const stops: (() => Promise<void> | void)[] = [];
  try {
    const upstream = await startDirectUpstream({ logger, bin });
    stops.push(() => upstream.stop());
    const [xdsPort, proxyPort] = await freePorts(2) as [number, number];
    const routes = benchRoutes(DEFAULT_HOST_PATTERNS, size / ROUTES_PER_SERVICE);
    const tokens = new Map(routes.map((r) => [r.name, 'g0']));
    const cache = new CompileCache();
    const translation = () => {
      const c = compileConfig([{ file: 'gateway.yaml', text: genConfig(upstream.url, routes, (r) => tokens.get(r.name)!) }], { ir: { defaultListener: { address: '127.0.0.1', port: proxyPort } }, settings: DEFAULT_SETTINGS, cache });
      if (!c.translation) throw new Error(c.diagnostics.map((d) => d.message).join('\n'));
      kongNames.clear();
      for (const r of c.ir!.routes) kongNames.set(r.routeName, { route: r.routeName, route_id: r.routeId, ...(r.service ? { service: r.service } : {}) });
      return c.translation;
    };
    const ads = new AdsServer(logger);
    await ads.listen('127.0.0.1', xdsPort);
    stops.push(() => ads.close());
    let written = Number.NaN;
    let acked: { version: string; at: number } | undefined;
    let nack: string | undefined;
    ads.on('written', (_n, typeUrl) => { if (typeUrl === TYPE.route) written = wallMs(); });
    ads.on('ack', (_n, typeUrl, version) => { if (typeUrl === TYPE.route) acked = { version, at: wallMs() }; });
    ads.on('nack', (_n, typeUrl, n) => { nack = `${typeUrl}: ${n.detail}`; });
    let snapshotNo = 0;
    const push = async (t: Translation): Promise<{ ackMs: number; rdsBytes: number; envoyRoutes: number }> => {
      const s = buildSnapshot(t, ++snapshotNo);
      const rds = resourcesFor(s, FLEET, TYPE.route);
      const version = versionOf(rds);
      written = Number.NaN;
      acked = undefined;
      ads.setSnapshot(s);
      await until('Envoy ACKs the RouteConfiguration', () => { if (nack) throw new Error(`NACK ${nack}`); return acked?.version === version ? acked : undefined; }, 60_000);
      const envoyRoutes = [...rds.values()].reduce((n, r) => n + ((r.body as RouteConfig).virtual_hosts ?? []).reduce((m, v) => m + (v.routes?.length ?? 0), 0), 0);
      return { ackMs: acked!.at - written, rdsBytes: [...rds.values()].reduce((n, r) => n + r.any.length, 0), envoyRoutes };
    };
    ads.setSnapshot(buildSnapshot(translation(), 0));
    const envoy = await EnvoyProcess.start({ bootstrapYaml: bootstrapYaml({ xds: { host: '127.0.0.1', port: xdsPort }, nodeId: 'bench-envoy-apply', cluster: FLEET, adminPort: 0 }), logger, concurrency: 1, bin });
    stops.push(() => envoy.stop());
    await until('Envoy holds the first configuration', () => ads.nodes()[0]?.convergedVersion === ads.snapshot?.version || undefined, 60_000);

    const names = Object.keys(VARIANTS);
    const samples = new Map(names.map((n) => [n, { ack: [] as number[], cpu: [] as number[], rdsBytes: 0, envoyRoutes: 0 }]));
    for (let round = 0; round < warmup + rounds; round++) {
      for (const [i, name] of names.entries()) {
        const r = routes[(round * names.length + i) * 37 % routes.length]!;
        tokens.set(r.name, `e${round}-${i}`);
        const t = variantOf(translation(), VARIANTS[name]!);
        const cpu0 = cpuSecondsOf(envoy.pid!);
        const x = await push(t);
        const cpuMs = (cpuSecondsOf(envoy.pid!) - cpu0) * 1000;
        const s = samples.get(name)!;
        s.rdsBytes = x.rdsBytes;
        s.envoyRoutes = x.envoyRoutes;
        if (round >= warmup) { s.ack.push(x.ackMs); s.cpu.push(cpuMs); }
      }
    }
    const base = summarize(samples.get('as translated')!.ack);
    const figures: Record<string, unknown> = { routes: size, rounds, warmup, machine: machine(bin), run: { command: RUN.command, commit: RUN.commit, loadAvg1AtStart: RUN.loadAvg1AtStart, busyAtStart: RUN.busy } };
    const lines: string[] = [];
    for (const [name, s] of samples) {
      const ack = rounded(summarize(s.ack));
      const cpuMs = Math.round(s.cpu.reduce((a, b) => a + b, 0) / (s.cpu.length || 1));
      figures[name] = { writtenToAckMs: ack, envoyCpuMsPerUpdate: cpuMs, rdsBytes: s.rdsBytes, envoyRoutes: s.envoyRoutes, p50OverAsTranslated: Math.round((ack.p50 / base.p50) * 100) / 100 };
      lines.push(`${name} (${s.envoyRoutes} routes, ${(s.rdsBytes / 1024).toFixed(0)} KiB): written → ACK ${formatSummary(ack)}, ${(ack.p50 / base.p50).toFixed(2)}× as translated, Envoy CPU ${cpuMs} ms/update`);
    }
    const mk = marks(RUN);
    figures.marked = mk.length > 0;
    report(BENCH, `one-route edits · ${size} routes · RouteConfiguration variants`, figures, `${lines.join('; ')}${markText(mk)}`);
  } finally {
    for (const stop of stops.reverse()) { try { await stop(); } catch (e) { process.stderr.write(`${BENCH}: stopping: ${(e as Error).message}\n`); } }
  }
}

main().then(() => process.exit(0), (e: unknown) => { process.stderr.write(`${BENCH}: ${(e as Error).stack ?? String(e)}\n`); process.exit(1); });
