// The accepted path without Lua (resources/filters/native-accept.ts), as compiled: what a jwt
// token must meet to be handed to the consumer map (the header predicates beside the CEL
// condition, and what the condition holds per route), and header_to_metadata only on the routes
// where something reads the consumer from Envoy's dynamic metadata (a rate limit by consumer or
// credential, a consumer-scoped plugin, the logs, tracing, any plugin not known to ignore it).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ISS_HEADER, JWT_STASH_HEADER, KEY_CLIENT_HEADER, MAX_TOKEN_LENGTH } from '../../src/resources/filters/native-auth-lua.js';
import { DEFAULT_SETTINGS } from '../../src/resources/filters/registry.js';
import { TYPE } from '../../src/resources/type-urls.js';
import { compileConfig } from '../../src/runtime/compile.js';
import { routeConfigOf } from '../support/route-configs.js';

type Obj = Record<string, any>;

const ACCEPT = 'frontdesk.auth.accept';
const METADATA = 'frontdesk.auth.consumer_metadata';

function compile(yaml: string) {
  const r = compileConfig([{ file: 'gateway.yaml', text: yaml }], { settings: DEFAULT_SETTINGS });
  assert.ok(r.ok, JSON.stringify(r.diagnostics.filter((d) => d.severity === 'error')));
  const fleet = r.translation!.fleets.get('')!;
  const hcm = (fleet.get(TYPE.listener)!.get('listener:proxy') as Obj).filter_chains[0].filters[0].typed_config as Obj;
  const routes = new Map<string, Obj>();
  for (const vh of routeConfigOf(fleet.get(TYPE.route) as Map<string, Obj>)!.virtual_hosts) for (const route of vh.routes) if (!routes.has(route.name)) routes.set(route.name, route);
  const accept = (hcm.http_filters as Obj[]).find((f) => f.name === ACCEPT)?.typed_config as Obj | undefined;
  return { filters: (hcm.http_filters as Obj[]).map((f) => f.name as string), listenerMatcher: accept?.xds_matcher as Obj | undefined, perRoute: (route: string, filter: string) => routes.get(route)?.typed_per_filter_config?.[filter] as Obj | undefined };
}

/** Routes (name: plugins as YAML flow items) under one service, alice with a jwt and a key-auth credential, plus extra top-level YAML. */
function gateway(routes: Record<string, readonly string[]>, extra = ''): string {
  const items = Object.entries(routes).map(([name, plugins]) => `      - name: ${name}\n        paths: [/${name}]\n${plugins.length ? `        plugins:\n${plugins.map((p) => `          - ${p}\n`).join('')}` : ''}`).join('');
  return `_format_version: "3.0"
services:
  - name: s
    url: http://127.0.0.1:9
    routes:
${items}consumers:
  - username: alice
    jwt_secrets: [{ key: alice-iss, secret: alice-shared-secret-0123456789 }]
    keyauth_credentials: [{ key: alice-key-0123456789 }]
    acls: [{ group: readers }]
${extra}`;
}

/** The names, constants and functions a parsed CEL expression uses, depth first. */
function celTerms(e: Obj, out: string[] = []): string[] {
  if (e.call_expr) { out.push(e.call_expr.function); for (const a of e.call_expr.args ?? []) celTerms(a, out); }
  if (e.select_expr) { celTerms(e.select_expr.operand, out); out.push(`.${e.select_expr.field}`); }
  if (e.ident_expr) out.push(e.ident_expr.name);
  if (e.const_expr) out.push(String(e.const_expr.string_value ?? e.const_expr.int64_value ?? e.const_expr.double_value));
  return out;
}

/** The jwt accept matcher's predicates on a route that holds its own map (acl or claims). */
function jwtAcceptPredicates(c: ReturnType<typeof compile>, route: string): Obj[] {
  const m = c.perRoute(route, ACCEPT)!.xds_matcher.matcher_list.matchers as Obj[];
  assert.equal(m.length, 1);
  assert.equal(m[0]!.on_match.matcher.matcher_tree.input.typed_config.header_name, ISS_HEADER, 'the map is looked up by the verified iss');
  return m[0]!.predicate.and_matcher.predicate as Obj[];
}

const headerOf = (p: Obj) => p.single_predicate?.input?.typed_config?.header_name as string | undefined;

describe('the accepted path without Lua: a jwt token', () => {
  test('goes to the map only with the verified iss set and no stash from the token script, header predicates before the CEL condition', () => {
    const c = compile(gateway({ 'jwt-acl': ['{ name: jwt }', '{ name: acl, config: { allow: [readers] } }'] }));
    const [iss, stash, cel, ...rest] = jwtAcceptPredicates(c, 'jwt-acl');
    assert.deepEqual(rest, []);
    assert.equal(headerOf(iss!), ISS_HEADER);
    assert.equal(headerOf(stash!.not_matcher), JWT_STASH_HEADER, 'the token script ran: the decide script answers');
    const terms = celTerms(cel!.single_predicate.custom_match.typed_config.expr_match.parsed_expr.expr);
    // The CEL condition no longer looks at the stash; it keeps what no header matcher can read: the token's length and crit.
    assert.ok(!terms.includes(JWT_STASH_HEADER), terms.join(' '));
    assert.ok(terms.includes('size') && terms.includes(String('Bearer '.length + MAX_TOKEN_LENGTH)), terms.join(' '));
    assert.ok(terms.includes('.crit'), terms.join(' '));
    assert.ok(!terms.includes('.payload'), 'no claim checked without claims_to_verify');
  });

  test('claims_to_verify and maximum_expiration: Kong\'s checks on the verified claims against the request\'s time', () => {
    const c = compile(gateway({ both: ['{ name: jwt, config: { claims_to_verify: [exp, nbf], maximum_expiration: 600 } }'] }));
    const cel = jwtAcceptPredicates(c, 'both').at(-1)!;
    const terms = celTerms(cel.single_predicate.custom_match.typed_config.expr_match.parsed_expr.expr);
    const text = terms.join(' ');
    // exp > now, nbf <= now (Kong's verify_registered_claims), exp - now <= maximum_expiration.
    assert.match(text, /_>_ _\[_\] metadata \.filter_metadata envoy\.filters\.http\.jwt_authn \.payload \.exp double int request \.time/);
    assert.match(text, /_<=_ _\[_\] metadata \.filter_metadata envoy\.filters\.http\.jwt_authn \.payload \.nbf double int request \.time/);
    assert.match(text, /_<=_ _-_ _\[_\] metadata \.filter_metadata envoy\.filters\.http\.jwt_authn \.payload \.exp double int request \.time 600/);
  });
});

describe('the accepted path without Lua: the listener\'s map of every credential', () => {
  const mapOf = (tree: Obj) => ({ header: tree.input.typed_config.header_name as string, keys: Object.keys(tree.exact_match_map.map) });

  test('key-auth credentials only: the map is the whole matcher (its lookup on the key api_key_auth named finds nothing without one, no predicate before it)', () => {
    const yaml = gateway({ 'key-plain': ['{ name: key-auth }'] }).replace(/    jwt_secrets: .*\n/, '');
    assert.doesNotMatch(yaml, /jwt_secrets/);
    const m = compile(yaml).listenerMatcher!;
    assert.equal(m.matcher_list, undefined);
    assert.deepEqual(mapOf(m.matcher_tree), { header: KEY_CLIENT_HEADER, keys: ['1'] });
  });

  test('jwt and key-auth: the jwt map behind the token\'s conditions, the key map as the list\'s on_no_match', () => {
    const m = compile(gateway({ 'jwt-plain': ['{ name: jwt }'], 'key-plain': ['{ name: key-auth }'] })).listenerMatcher!;
    const [jwt, ...more] = m.matcher_list.matchers as Obj[];
    assert.deepEqual(more, []);
    assert.deepEqual(mapOf(jwt!.on_match.matcher.matcher_tree), { header: ISS_HEADER, keys: ['alice-iss'] });
    assert.deepEqual((jwt!.predicate.and_matcher.predicate as Obj[]).slice(0, 2).map((p) => headerOf(p) ?? `!${headerOf(p.not_matcher)}`), [ISS_HEADER, `!${JWT_STASH_HEADER}`]);
    assert.deepEqual(mapOf(m.on_no_match.matcher.matcher_tree), { header: KEY_CLIENT_HEADER, keys: ['1'] });
  });
});

describe('the accepted path without Lua: header_to_metadata only where the consumer is read', () => {
  test('no reader on the listener: no header_to_metadata at all, the consumer headers still set by the accept filter', () => {
    const c = compile(gateway({
      'jwt-acl': ['{ name: jwt }', '{ name: acl, config: { allow: [readers] } }'],
      'key-service': ['{ name: key-auth }', '{ name: rate-limiting, config: { minute: 100, limit_by: service } }'],
      'key-ip': ['{ name: key-auth }', '{ name: rate-limiting, config: { minute: 100, limit_by: ip } }'],
      'key-cors': ['{ name: key-auth }', '{ name: cors }', '{ name: request-transformer, config: { add: { headers: ["X-A:1"] } } }'],
    }));
    assert.ok(c.filters.includes(ACCEPT), c.filters.join(' '));
    assert.ok(!c.filters.includes(METADATA), c.filters.join(' '));
  });

  test('on exactly the routes that read it: a limit by consumer or credential, a consumer-scoped plugin, a plugin not known to ignore it', () => {
    const c = compile(gateway({
      'key-consumer': ['{ name: key-auth }', '{ name: rate-limiting, config: { minute: 100, limit_by: consumer } }'],
      'jwt-credential': ['{ name: jwt }', '{ name: rate-limiting, config: { minute: 100, limit_by: credential } }'],
      'key-cache': ['{ name: key-auth }', '{ name: proxy-cache, config: { strategy: memory } }'],
      'key-override': ['{ name: key-auth }'],
      'key-service': ['{ name: key-auth }', '{ name: rate-limiting, config: { minute: 100, limit_by: service } }'],
      'jwt-plain': ['{ name: jwt }'],
    }, `    plugins:
      - name: rate-limiting
        route: key-override
        config: { minute: 5, limit_by: ip }
`));
    assert.ok(c.filters.indexOf(METADATA) > c.filters.indexOf('frontdesk.auth.decide'), c.filters.join(' '));
    const rules = (route: string) => (c.perRoute(route, METADATA)?.request_rules as Obj[] | undefined)?.map((x) => `${x.header}>${x.on_header_present.metadata_namespace}/${x.on_header_present.key}`);
    const all = ['x-consumer-id>envoy.filters.http.ext_authz/consumer_id', 'x-consumer-username>envoy.filters.http.ext_authz/consumer_username', 'x-consumer-custom-id>envoy.filters.http.ext_authz/consumer_custom_id', 'x-credential-identifier>envoy.filters.http.ext_authz/credential_id'];
    for (const r of ['key-consumer', 'jwt-credential', 'key-cache', 'key-override']) assert.deepEqual(rules(r), all, r);
    for (const r of ['key-service', 'jwt-plain']) assert.equal(rules(r), undefined, r);
  });

  test('a log or tracing plugin anywhere on the listener, or a global one: on every route of it', () => {
    const cases: Array<[Record<string, readonly string[]>, string]> = [
      [{ 'jwt-plain': ['{ name: jwt }'], 'key-plain': ['{ name: key-auth }'], logged: ['{ name: file-log, config: { path: /tmp/fd.log } }'] }, ''],
      [{ 'jwt-plain': ['{ name: jwt }'], 'key-plain': ['{ name: key-auth }'] }, 'plugins:\n  - name: file-log\n    config: { path: /tmp/fd.log }\n'],
      [{ 'jwt-plain': ['{ name: jwt }'], 'key-plain': ['{ name: key-auth }'], traced: ['{ name: zipkin, config: { http_endpoint: "http://127.0.0.1:9/api/v2/spans" } }'] }, ''],
    ];
    for (const [routes, extra] of cases) {
      const c = compile(gateway(routes, extra));
      for (const r of ['jwt-plain', 'key-plain']) assert.ok(c.perRoute(r, METADATA), `${r}: ${Object.keys(routes).join(', ')} ${extra}`);
    }
  });
});
