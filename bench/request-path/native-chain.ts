/**
 * native-chain probe: what Envoy's own auth chain costs per request, the accepted path without
 * Lua against the chain that runs the token and decide Lua scripts on every request, beside a
 * plain route. Prints figures; never fails on them.
 *
 *   node --import tsx bench/request-path/native-chain.ts [--seconds 3] [--connections 32] [--rounds 2] [--callgrind] [--variants <regex>]
 *
 * One static Envoy (concurrency 1, no xDS) holds Frontdesk's compiled listeners
 * (bench/support/static-gateway.ts), each on its own port, all to one upstream (a second Envoy
 * answering with direct_response):
 * - a route without plugins (the baseline);
 * - jwt (RS256, claims_to_verify [exp]) + acl, and key-auth + a local rate limit (limit_by
 *   service), the request-path benchmark's cases, as compiled: the
 *   token script skipped for a well-formed credential, jwt_authn / api_key_auth, the consumer
 *   headers set by a composite filter's header_mutation picked in a map by the credential, the
 *   decide script skipped (resources/filters/native-accept.ts);
 * - the same two as they were compiled before (the token script's stash tested inside the CEL
 *   condition, the key map behind a presence predicate, header_to_metadata on every such route:
 *   previousChain), the figures to compare;
 * - the same two with every Lua script run on every request (each script's matcher taken out:
 *   the chain these routes had before, and the one routes with anonymous and the like still
 *   have: contracts/authz.ts nativeLuaOnSuccess);
 * - for attributing the cost only (never a config to run): jwt + acl with its CEL condition taken
 *   out or holding one term (the token size, crit, the exp check), with the token script's skip
 *   condition on the Bearer form only, its map without the iss predicate; both cases with the
 *   consumer header_mutation's removals or the decide script's matcher taken out, and with only
 *   the skipped token script and the credential filter;
 * - jwt (RS256) read from another header than Authorization, as compiled (it keeps the scripts).
 * wrk loads them in turn, --rounds interleaved rounds; per load: requests/s, p50/p99, the ratio
 * to the plain route and Envoy's CPU µs per request (/proc/<pid>/stat), and the µs over the plain
 * route. `--callgrind` runs the gateway Envoy under valgrind's callgrind instead and prints
 * instructions per request (wrk -c4; an idle interval's count subtracted), a figure that does not
 * depend on the machine's load (bench/support/callgrind-envoy.ts). The run starts with its command, commit, cores and load average
 * (bench/support/run-info.ts); a figure set is MARKED when the machine was busy.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { createLogger, silentLogger } from '../../src/logger.js';
import { acceptableToken, type CelTerm, type ClaimChecks } from '../../src/resources/filters/native-accept.js';
import { when } from '../../src/resources/filters/kong-replies.js';
import { CONSUMER_METADATA_NAMESPACE } from '../../src/resources/filters/native-auth.js';
import { EnvoyProcess, findEnvoy } from '../../src/runtime/envoy.js';
import { startDirectUpstream } from '../support/direct-upstream.js';
import { BENCH_API_KEY, benchConsumerYaml, benchServiceYaml } from '../support/gateway-yaml.js';
import { wrk, wrkProblems, type WrkResult } from '../support/load.js';
import { callgrindMissing, startCallgrindEnvoy } from '../support/callgrind-envoy.js';
import { until } from '../support/net.js';
import { cpuSecondsOf } from '../support/proc.js';
import { figureEmitter, numberFlag, printRunHeader, runInfo } from '../support/run-info.js';
import { staticGatewayResources } from '../support/static-gateway.js';
import { machine } from '../support/stats.js';

const RUN = runInfo(); // first: the load average before this probe starts anything
const SECONDS = Math.max(1, Math.min(numberFlag('seconds', 3), 10));
const CONNECTIONS = numberFlag('connections', 32);
const ROUNDS = Math.max(2, Math.min(numberFlag('rounds', 2), 5));
const CALLGRIND = process.argv.includes('--callgrind');
// --variants <regex>: only the variants whose names match (the plain route always runs, first).
const VARIANTS = ((i) => (i >= 0 && process.argv[i + 1] ? new RegExp(process.argv[i + 1]!) : undefined))(process.argv.indexOf('--variants'));
// FRONTDESK_LOG_LEVEL=warn shows what Envoy says (a rejected listener, say).
const log = process.env.FRONTDESK_LOG_LEVEL ? createLogger() : silentLogger();
const MACHINE = machine(findEnvoy() ?? 'envoy');
const emit = figureEmitter('request-path/native-chain', RUN, MACHINE);
const round = (x: number, d = 0) => Math.round(x * 10 ** d) / 10 ** d;
type Json = Record<string, any>;

const TOKEN_FILTER = 'frontdesk.auth.token';
const DECIDE_FILTER = 'frontdesk.auth.decide';
const NEVER = { not_matcher: { single_predicate: { input: { name: ':method', typed_config: { '@type': 'type.googleapis.com/envoy.type.matcher.v3.HttpRequestHeaderMatchInput', header_name: ':method' } }, value_match: { safe_regex: { google_re2: {}, regex: '.*' } } } } };

function yamlOf(upstream: string, route: string, plugins: string[], pem: string): string {
  return `_format_version: "3.0"
${benchServiceYaml(upstream)}      - name: ${route}
        paths: [/${route}]
${plugins.length ? `        plugins:\n${plugins.map((p) => `          - ${p}\n`).join('')}` : ''}${benchConsumerYaml(pem)}`;
}

/** The listener with each Lua script's matcher removed: the scripts run on every request, as the chain did before. */
function everyScript(listener: Json): Json {
  const l = JSON.parse(JSON.stringify(listener)) as Json;
  const hcm = l.filter_chains[0].filters[0].typed_config as Json;
  hcm.http_filters = (hcm.http_filters as Json[]).filter((f) => f.name !== 'frontdesk.auth.accept' && f.name !== 'frontdesk.auth.consumer_metadata');
  for (const vh of hcm.route_config.virtual_hosts as Json[]) {
    for (const r of vh.routes as Json[]) {
      const per = r.typed_per_filter_config as Json | undefined;
      if (!per) continue;
      // Each script's skip condition replaced by one no request meets (every request has a :method).
      for (const name of [TOKEN_FILTER, DECIDE_FILTER]) if (per[name]) per[name].xds_matcher.matcher_list.matchers[0].predicate = NEVER;
      delete per['frontdesk.auth.accept'];
      delete per['frontdesk.auth.consumer_metadata'];
      const key = per['envoy.filters.http.api_key_auth'];
      if (key) { key.key_sources = key.key_sources.slice(0, 1); key.forwarding.hide_credentials = true; }
    }
  }
  return l;
}

/** The jwt accept matcher's predicates on each route (hasHeader(iss), lacksHeader(stash), CEL), for the patches below. */
function jwtAcceptMatchers(l: Json): Json[] {
  const out: Json[] = [];
  for (const vh of l.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts as Json[]) {
    for (const r of vh.routes as Json[]) {
      for (const m of (r.typed_per_filter_config?.['frontdesk.auth.accept']?.xds_matcher?.matcher_list?.matchers ?? []) as Json[]) if (m.predicate.and_matcher) out.push(m);
    }
  }
  return out;
}

/** Each route's accept matcher without its CEL condition (what the CEL matcher costs; never a config to run). */
function withoutCel(listener: Json): Json {
  const l = JSON.parse(JSON.stringify(listener)) as Json;
  for (const m of jwtAcceptMatchers(l)) m.predicate.and_matcher.predicate = m.predicate.and_matcher.predicate.slice(0, -1);
  return l;
}

/** Each route's CEL condition with only some of its terms (cost attribution; never a config to run). */
function celWith(claims: ClaimChecks, terms: CelTerm[]): (listener: Json) => Json {
  return (listener) => {
    const l = JSON.parse(JSON.stringify(listener)) as Json;
    for (const m of jwtAcceptMatchers(l)) m.predicate.and_matcher.predicate[m.predicate.and_matcher.predicate.length - 1] = acceptableToken(claims, terms);
    return l;
  };
}

/**
 * The chain as compiled before: the token script's stash tested inside the CEL condition (not by a
 * header predicate beside it), and header_to_metadata on every route that takes the accepted path
 * without Lua, whether or not something reads the consumer from the metadata.
 */
function previousChain(claims: ClaimChecks | undefined): (listener: Json) => Json {
  return (listener) => {
    const l = JSON.parse(JSON.stringify(listener)) as Json;
    for (const m of jwtAcceptMatchers(l)) m.predicate.and_matcher.predicate = [m.predicate.and_matcher.predicate[0], acceptableToken(claims, ['stash', 'size', 'crit', 'claims'])];
    const hcm = l.filter_chains[0].filters[0].typed_config as Json;
    // The listener's key map behind a presence predicate of its own, in the matcher list.
    const accept = (hcm.http_filters as Json[]).find((f) => f.name === 'frontdesk.auth.accept')?.typed_config;
    const root = accept?.xds_matcher as Json | undefined;
    const keyMap = root?.matcher_tree ? { matcher: root } : root?.on_no_match;
    if (accept && keyMap) {
      const header = keyMap.matcher.matcher_tree.input.typed_config.header_name as string;
      accept.xds_matcher = { matcher_list: { matchers: [...(root!.matcher_list?.matchers ?? []), { predicate: when.hasHeader(header), on_match: keyMap }] } };
    }
    const rule = (header: string, key: string) => ({ header, on_header_present: { metadata_namespace: CONSUMER_METADATA_NAMESPACE, key, type: 'STRING' }, remove: false });
    const config = { '@type': 'type.googleapis.com/envoy.extensions.filters.http.header_to_metadata.v3.Config', request_rules: [rule('x-consumer-id', 'consumer_id'), rule('x-consumer-username', 'consumer_username'), rule('x-credential-identifier', 'credential_id')] };
    const filters = hcm.http_filters as Json[];
    if (!filters.some((f) => f.name === 'frontdesk.auth.consumer_metadata')) {
      filters.splice(filters.findIndex((f) => f.name === DECIDE_FILTER) + 1, 0, { name: 'frontdesk.auth.consumer_metadata', disabled: true, typed_config: config });
    }
    for (const vh of hcm.route_config.virtual_hosts as Json[]) {
      for (const r of vh.routes as Json[]) if (r.typed_per_filter_config?.[DECIDE_FILTER]) r.typed_per_filter_config['frontdesk.auth.consumer_metadata'] = config;
    }
    return l;
  };
}

/** Every consumer header_mutation of the accept filter (the listener's map and the routes' own), for the patches below. */
function consumerMutations(l: Json): Json[] {
  const hcm = l.filter_chains[0].filters[0].typed_config as Json;
  // A map is a matcher_tree: the root matcher, a listed matcher's on_match or the list's on_no_match.
  const trees: Json[] = [];
  const collect = (m: Json | undefined) => {
    if (!m) return;
    if (m.matcher_tree) trees.push(m.matcher_tree);
    for (const x of (m.matcher_list?.matchers ?? []) as Json[]) collect(x.on_match.matcher);
    collect(m.on_no_match?.matcher);
  };
  collect((hcm.http_filters as Json[]).find((f) => f.name === 'frontdesk.auth.accept')?.typed_config?.xds_matcher);
  for (const vh of hcm.route_config.virtual_hosts as Json[]) for (const r of vh.routes as Json[]) collect(r.typed_per_filter_config?.['frontdesk.auth.accept']?.xds_matcher);
  return trees.flatMap((t) => Object.values(t.exact_match_map.map as Json).map((a) => (a as Json).action.typed_config.typed_config.typed_config.mutations));
}

/** The consumer header_mutations without their removals (what the removals cost; never a config to run: a client's identity headers would pass). */
function mutationsWithoutRemovals(listener: Json): Json {
  const l = JSON.parse(JSON.stringify(listener)) as Json;
  for (const m of consumerMutations(l)) m.request_mutations = (m.request_mutations as Json[]).filter((x) => !x.remove);
  return l;
}

/** The decide script's per-route config taken out (the filter stays off: what its skip matcher costs; cost attribution only). */
function withoutDecide(listener: Json): Json {
  const l = JSON.parse(JSON.stringify(listener)) as Json;
  for (const vh of l.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts as Json[]) for (const r of vh.routes as Json[]) delete r.typed_per_filter_config?.[DECIDE_FILTER];
  return l;
}

/** Each route's own jwt map without the iss presence predicate before its CEL condition (an alternative form measured; the map's lookup on iss still decides). */
function withoutIssPredicate(listener: Json): Json {
  const l = JSON.parse(JSON.stringify(listener)) as Json;
  for (const m of jwtAcceptMatchers(l)) m.predicate.and_matcher.predicate = m.predicate.and_matcher.predicate.slice(1);
  return l;
}

/** A copy of the listener with `edit` applied to each route's token-script skip matcher. */
function withSkipMatchers(listener: Json, edit: (m: Json) => void): Json {
  const l = JSON.parse(JSON.stringify(listener)) as Json;
  for (const vh of l.filter_chains[0].filters[0].typed_config.route_config.virtual_hosts as Json[]) {
    for (const r of vh.routes as Json[]) {
      const m = r.typed_per_filter_config?.[TOKEN_FILTER]?.xds_matcher?.matcher_list?.matchers?.[0];
      if (m) edit(m);
    }
  }
  return l;
}

/** The token script's skip condition reduced to its first predicate (the credential's form; cost attribution only). */
function skipOnFormOnly(listener: Json): Json {
  return withSkipMatchers(listener, (m) => { if (m.predicate.and_matcher) m.predicate = m.predicate.and_matcher.predicate[0]; });
}

/** The token script's skip condition with the Bearer form tested as a prefix, not the full regex (cost attribution only: a second token would pass). */
function bearerAsPrefix(listener: Json): Json {
  return withSkipMatchers(listener, (m) => {
    const first = m.predicate.and_matcher?.predicate[0]?.single_predicate;
    if (first?.value_match?.safe_regex) first.value_match = { prefix: 'Bearer ' };
  });
}

/** The token script and its skip matcher taken out of the chain (cost attribution only). */
function withoutTokenScript(listener: Json): Json {
  const l = JSON.parse(JSON.stringify(listener)) as Json;
  const hcm = l.filter_chains[0].filters[0].typed_config as Json;
  hcm.http_filters = (hcm.http_filters as Json[]).filter((f) => f.name !== TOKEN_FILTER);
  for (const vh of hcm.route_config.virtual_hosts as Json[]) for (const r of vh.routes as Json[]) delete r.typed_per_filter_config?.[TOKEN_FILTER];
  return l;
}

/** The listener with only the skipped token script and the credential filter left of the auth chain (no consumer set: cost attribution only). */
function credentialFilterOnly(listener: Json): Json {
  const l = JSON.parse(JSON.stringify(listener)) as Json;
  const hcm = l.filter_chains[0].filters[0].typed_config as Json;
  const gone = new Set(['frontdesk.auth.accept', 'frontdesk.auth.decide', 'frontdesk.auth.consumer_metadata']);
  hcm.http_filters = (hcm.http_filters as Json[]).filter((f) => !gone.has(f.name));
  for (const vh of hcm.route_config.virtual_hosts as Json[]) for (const r of vh.routes as Json[]) for (const n of gone) delete r.typed_per_filter_config?.[n];
  return l;
}

interface Load { name: string; url: string; headers: Record<string, string> }
interface Sample extends WrkResult { cpu: number; instructions: number }

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'frontdesk-bench-native-chain-'));
  const stops: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
  try {
    printRunHeader('request-path/native-chain', RUN);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const token = await new SignJWT({ iss: 'bench-rs', exp: Math.floor(Date.now() / 1000) + 7200, sub: 'bench' }).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(rsa.privateKey);
    const upstream = await startDirectUpstream({ logger: log, concurrency: 1 });
    stops.push(() => upstream.stop());
    // The request-path benchmark's jwt + acl case (claims_to_verify [exp]).
    const jwtAcl = ['{ name: jwt, config: { claims_to_verify: [exp] } }', '{ name: acl, config: { allow: [bench] } }'];
    const keyLocal = ['{ name: key-auth, config: { key_names: [apikey] } }', '{ name: rate-limiting, config: { minute: 1000000000, limit_by: service, hide_client_headers: true } }'];
    const compiled = (route: string, plugins: string[]) => staticGatewayResources(yamlOf(upstream.url, route, plugins, pem), 0);
    const variants: Array<{ name: string; route: string; listener: Json; clusters: Json[]; headers: Record<string, string> }> = [];
    const add = (name: string, route: string, plugins: string[], headers: Record<string, string>, patch: (l: Json) => Json = (l) => l) => {
      if (variants.length && VARIANTS && !VARIANTS.test(name)) return;
      const c = compiled(route, plugins);
      const listener = patch(c.listeners[0]!);
      listener.name = `l${variants.length}`;
      listener.filter_chains[0].filters[0].typed_config.stat_prefix = listener.name;
      variants.push({ name, route, listener, clusters: c.clusters, headers });
    };
    const bearer = { authorization: `Bearer ${token}` };
    const key = { apikey: BENCH_API_KEY };
    add('route without plugins', 'open', [], {});
    const exp: ClaimChecks = { exp: true, nbf: false, maxExp: 0 };
    add('jwt (RS256) + acl, accepted without Lua', 'jwt-acl', jwtAcl, bearer);
    add('jwt (RS256) + acl, accepted without Lua, as compiled before (stash in CEL, header_to_metadata on)', 'jwt-acl', jwtAcl, bearer, previousChain(exp));
    add('jwt (RS256) + acl, both Lua scripts on every request', 'jwt-acl', jwtAcl, bearer, everyScript);
    add('jwt (RS256) + acl, accepted without Lua, its CEL condition taken out (cost attribution only)', 'jwt-acl', jwtAcl, bearer, withoutCel);
    add('jwt (RS256) + acl, accepted without Lua, CEL with the token size only (cost attribution only)', 'jwt-acl', jwtAcl, bearer, celWith(exp, ['size']));
    add('jwt (RS256) + acl, accepted without Lua, CEL with crit only (cost attribution only)', 'jwt-acl', jwtAcl, bearer, celWith(exp, ['crit']));
    add('jwt (RS256) + acl, accepted without Lua, CEL with the exp check only (cost attribution only)', 'jwt-acl', jwtAcl, bearer, celWith(exp, ['claims']));
    add('jwt (RS256) + acl, accepted without Lua, skip condition on the Bearer form only (cost attribution only)', 'jwt-acl', jwtAcl, bearer, skipOnFormOnly);
    add('jwt (RS256) + acl, accepted without Lua, the Bearer form as a prefix, not a regex (cost attribution only)', 'jwt-acl', jwtAcl, bearer, bearerAsPrefix);
    add('jwt (RS256) + acl, accepted without Lua, the token script and its matcher taken out (cost attribution only)', 'jwt-acl', jwtAcl, bearer, withoutTokenScript);
    add('jwt (RS256) + acl, accepted without Lua, its own map without the iss presence predicate (cost attribution only)', 'jwt-acl', jwtAcl, bearer, withoutIssPredicate);
    add('jwt (RS256) + acl, accepted without Lua, consumer header_mutation without its removals (cost attribution only)', 'jwt-acl', jwtAcl, bearer, mutationsWithoutRemovals);
    add('jwt (RS256) + acl, accepted without Lua, the decide script\'s matcher taken out (cost attribution only)', 'jwt-acl', jwtAcl, bearer, withoutDecide);
    add('jwt (RS256) + acl: the skipped token script and jwt_authn only, no consumer set (cost attribution only)', 'jwt-acl', jwtAcl, bearer, credentialFilterOnly);
    add('jwt (RS256) with a custom header name (keeps the Lua scripts)', 'jwt-header', ['{ name: jwt, config: { claims_to_verify: [exp], header_names: [x-token] } }'], { 'x-token': `Bearer ${token}` });
    add('key-auth + local limit, accepted without Lua', 'key-local', keyLocal, key);
    add('key-auth + local limit, accepted without Lua, as compiled before (header_to_metadata on)', 'key-local', keyLocal, key, previousChain(undefined));
    add('key-auth + local limit, both Lua scripts on every request', 'key-local', keyLocal, key, everyScript);
    add('key-auth + local limit, accepted without Lua, consumer header_mutation without its removals (cost attribution only)', 'key-local', keyLocal, key, mutationsWithoutRemovals);
    add('key-auth + local limit, accepted without Lua, the decide script\'s matcher taken out (cost attribution only)', 'key-local', keyLocal, key, withoutDecide);
    add('key-auth + local limit, accepted without Lua, the token script and its matcher taken out (cost attribution only)', 'key-local', keyLocal, key, withoutTokenScript);
    add('key-auth + local limit: the skipped token script and api_key_auth only, no consumer set (cost attribution only)', 'key-local', keyLocal, key, credentialFilterOnly);

    const clusters = new Map<string, Json>();
    for (const v of variants) for (const c of v.clusters) clusters.set(c.name as string, c);
    const file = (kind: string, type: string, resources: Json[]) => {
      const path = join(dir, `${kind}.json`);
      writeFileSync(path, JSON.stringify({ version_info: '1', resources: resources.map((r) => ({ '@type': `type.googleapis.com/${type}`, ...r })) }));
      return { path_config_source: { path }, resource_api_version: 'V3' };
    };
    const bootstrap = {
      node: { id: 'bench-native-chain', cluster: 'bench' },
      admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      dynamic_resources: {
        lds_config: file('lds', 'envoy.config.listener.v3.Listener', variants.map((v) => v.listener)),
        cds_config: file('cds', 'envoy.config.cluster.v3.Cluster', [...clusters.values()]),
      },
    };
    const missing = CALLGRIND ? callgrindMissing() : undefined;
    if (missing) {
      emit({ part: 'native-chain-callgrind', skipped: true, why: missing }, `native-chain --callgrind: skipped (${missing})`);
      return;
    }
    // Under callgrind Envoy starts and answers ~50x slower: the waits are longer, the counting below differs.
    const wait = CALLGRIND ? 300_000 : 30_000;
    let adminUrl: string;
    let cpu: () => number;
    let dump: () => number = () => Number.NaN;
    if (CALLGRIND) {
      const cg = await startCallgrindEnvoy(dir, bootstrap);
      stops.push(() => cg.stop());
      adminUrl = cg.adminUrl;
      dump = () => cg.dump();
      cpu = () => Number.NaN;
    } else {
      const envoy = await EnvoyProcess.start({ bootstrapYaml: JSON.stringify(bootstrap), logger: log, concurrency: 1, foldLog: !!process.env.FRONTDESK_LOG_LEVEL });
      stops.push(() => envoy.stop());
      await envoy.waitReady(30_000);
      adminUrl = envoy.adminUrl;
      cpu = () => cpuSecondsOf(envoy.pid!);
    }
    const ports = await until('the static Envoy to bind every listener', async () => {
      const j = await (await fetch(`${adminUrl}/listeners?format=json`)).json() as { listener_statuses?: Array<{ name: string; local_address?: { socket_address?: { port_value?: number } } }> };
      const m = new Map((j.listener_statuses ?? []).map((x) => [x.name, x.local_address?.socket_address?.port_value ?? 0]));
      return variants.every((v) => (m.get(v.listener.name as string) ?? 0) > 0) ? m : undefined;
    }, wait);
    const loads: Load[] = variants.map((v) => ({ name: v.name, url: `http://127.0.0.1:${ports.get(v.listener.name as string)}/${v.route}`, headers: v.headers }));
    // Every variant answers 200 to its credential (and 401 without), or the figures mean nothing.
    await until('every variant to answer 200', async () => {
      for (const l of loads) { const r = await fetch(l.url, { headers: l.headers }); await r.arrayBuffer(); if (r.status !== 200) return false; }
      return true;
    }, wait);
    const checks: Json = {};
    for (const l of loads.slice(1)) {
      const r = await fetch(l.url, { headers: l.headers });
      await r.arrayBuffer();
      const refused = await fetch(l.url);
      await refused.arrayBuffer();
      checks[l.name] = { accepted: r.status, refused_without_credential: refused.status };
    }
    // The composite filter counts the requests it handed to a consumer's header_mutation: one per accepted check above on the listeners that accept without Lua.
    const stats = await (await fetch(`${adminUrl}/stats?filter=composite`)).text();
    for (const v of variants) {
      const m = new RegExp(`^http\\.${v.listener.name}\\.composite\\.filter_delegation_success: (\\d+)$`, 'm').exec(stats);
      if (checks[v.name]) checks[v.name].composite_delegations = m ? Number(m[1]) : 0;
    }
    const connections = CALLGRIND ? 4 : CONNECTIONS;
    for (const l of loads) wrk(l.url, 1, connections, l.headers); // warm every path (valgrind translates each once)
    let idlePerSecond = 0;
    if (CALLGRIND) {
      dump();
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, SECONDS * 1000));
      idlePerSecond = dump() / ((performance.now() - t0) / 1000);
    }
    const samples = new Map<string, Sample[]>(loads.map((l) => [l.name, []]));
    for (let i = 0; i < ROUNDS; i++) {
      for (const l of loads) {
        const before = cpu();
        if (CALLGRIND) dump();
        const t0 = performance.now();
        const x = wrk(l.url, SECONDS, connections, l.headers);
        // Under callgrind: the interval's instructions less those of as long an idle interval.
        const instructions = CALLGRIND ? dump() - (idlePerSecond * (performance.now() - t0)) / 1000 : Number.NaN;
        samples.get(l.name)!.push({ ...x, cpu: cpu() - before, instructions });
      }
    }
    const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
    const requestsOf = (s: Sample[]) => Math.max(1, s.reduce((a, x) => a + x.requests, 0));
    const usOf = (s: Sample[]) => (s.reduce((a, x) => a + x.cpu, 0) * 1e6) / requestsOf(s);
    const instructionsOf = (s: Sample[]) => s.reduce((a, x) => a + x.instructions, 0) / requestsOf(s);
    const base = samples.get(loads[0]!.name)!;
    const generator = `wrk -t1 -c${connections} -d${SECONDS}s, ${ROUNDS} interleaved rounds (mean)${CALLGRIND ? ', Envoy under valgrind callgrind' : ''}`;
    if (CALLGRIND) {
      const baseIr = instructionsOf(base);
      for (const l of loads) {
        const s = samples.get(l.name)!;
        const ir = instructionsOf(s);
        emit(
          { part: 'native-chain-callgrind', scenario: l.name, instructions_per_request: round(ir), instructions_over_baseline: round(ir - baseIr), ratio_to_baseline: round(ir / baseIr, 3),
            rounds: s.map((x) => round(x.instructions / Math.max(1, x.requests))), checks: checks[l.name], idle_instructions_per_second: round(idlePerSecond), load_generator: generator,
            baseline: 'route without plugins, same static Envoy (concurrency 1) under callgrind, same upstream, same run' },
          `native-chain (callgrind), ${l.name}: ${round(ir)} instructions/request (${ir >= baseIr ? '+' : ''}${round(ir - baseIr)} over the plain route); load: ${generator}`,
        );
      }
      return;
    }
    const baseRps = mean(base.map((s) => s.rps));
    const baseUs = usOf(base);
    for (const l of loads) {
      const s = samples.get(l.name)!;
      const rps = mean(s.map((x) => x.rps));
      const us = usOf(s);
      const p99 = mean(s.map((x) => x.p99Ms));
      emit(
        { part: 'native-chain', scenario: l.name, rps: round(rps), ratio_to_baseline: round(rps / baseRps, 3), p50_ms: round(mean(s.map((x) => x.p50Ms)), 2), p99_ms: round(p99, 2),
          p99_over_baseline_ms: round(p99 - mean(base.map((x) => x.p99Ms)), 2), envoy_cpu_us_per_request: round(us, 1), envoy_cpu_us_over_baseline: round(us - baseUs, 1),
          rounds: s.map((x) => round(x.rps)), checks: checks[l.name], load_generator: generator, baseline: 'route without plugins, same static Envoy (concurrency 1), same upstream, same run' },
        `native-chain, ${l.name}: ${round(rps)} req/s (${round((rps / baseRps) * 100, 1)} % of the plain route), p99 ${round(p99, 2)} ms; Envoy CPU ${round(us, 1)} µs/request (${round(us - baseUs, 1)} over the plain route); load: ${generator}`,
        wrkProblems(s),
      );
    }
  } finally {
    for (const f of stops.reverse()) { try { await f(); } catch { /* best effort */ } }
  }
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`bench/request-path/native-chain: ${(e as Error).stack ?? e}\n`); process.exit(0); });
