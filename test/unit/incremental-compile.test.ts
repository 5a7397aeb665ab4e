/**
 * Incremental compile: a build that reuses what the previous build made for unchanged
 * entities (CompileCache) must give exactly what a build from nothing gives: the same
 * resources, the same bytes and the same versions, whatever the edit. The configs are the
 * golden cases compiled one after the other through one cache, and a config under a seeded
 * series of random edits (routes, services, upstreams, plugins, consumers, global plugins).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { DEFAULT_SETTINGS, type TranslateSettings } from '../../src/resources/filters/registry.js';
import { TYPE } from '../../src/resources/type-urls.js';
import { CompileCache, compileConfig, describeErrors, type CompileResult } from '../../src/runtime/compile.js';
import type { GatewayModel } from '../../src/model/types.js';
import type { GatewayIR } from '../../src/ir/types.js';
import { buildSnapshot, type Snapshot } from '../../src/xds/snapshot.js';
import { goldenCases } from '../support/golden.js';

const settings: TranslateSettings = { ...DEFAULT_SETTINGS, credentialSalt: 'incremental-test-salt' };

/** Every resource of two snapshots: same names, same bytes, same versions; and the same snapshot version. */
function assertSameSnapshot(inc: Snapshot, full: Snapshot, label: string): void {
  const flat = (s: Snapshot) => {
    const out = new Map<string, { version: string; any: Uint8Array }>();
    for (const [fleet, types] of s.fleets) for (const [t, m] of types) for (const [n, r] of m) out.set(`${fleet}|${t}|${n}`, r);
    for (const [t, m] of s.companions) for (const [n, r] of m) out.set(`*|${t}|${n}`, r);
    return out;
  };
  const a = flat(inc);
  const b = flat(full);
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), `${label}: the same resources`);
  for (const [k, r] of a) {
    assert.equal(r.version, b.get(k)!.version, `${label}: version of ${k}`);
    assert.ok(Buffer.from(r.any).equals(Buffer.from(b.get(k)!.any)), `${label}: bytes of ${k}`);
  }
  assert.equal(inc.version, full.version, `${label}: snapshot version`);
}

/** Compiles `text` through `cache` and from nothing, and checks the two agree; returns the cached build's snapshot. */
function compileBoth(cache: CompileCache, file: string, text: string, label: string, previous?: Snapshot): Snapshot | undefined {
  return compileChecked(cache, file, text, label, previous).snapshot ?? previous;
}

/** compileBoth, with the cached build's result too. */
function compileChecked(cache: CompileCache, file: string, text: string, label: string, previous?: Snapshot): { result: CompileResult; snapshot?: Snapshot } {
  const inc = compileConfig([{ file, text }], { settings, cache });
  const full = compileConfig([{ file, text }], { settings });
  assert.equal(inc.ok, full.ok, `${label}: accepted alike`);
  assert.deepEqual(inc.diagnostics, full.diagnostics, `${label}: the same diagnostics`);
  if (!inc.ok) return { result: inc };
  assert.deepEqual(inc.model, full.model, `${label}: the same model`);
  assert.deepEqual(inc.ir, full.ir, `${label}: the same IR`);
  assert.deepEqual(inc.translation, full.translation, `${label}: the same resources`);
  const s = buildSnapshot(inc.translation!, 0, previous, cache.encoder.encode);
  assertSameSnapshot(s, buildSnapshot(full.translation!, 0), label);
  return { result: inc, snapshot: s };
}

const MODEL_KEYS: Record<keyof GatewayModel, (e: never) => string> = {
  services: (e: { name: string }) => e.name, routes: (e: { name: string }) => e.name, upstreams: (e: { name: string }) => e.name,
  consumers: (e: { key: string }) => e.key, plugins: (e: { id?: string; name: string }) => e.id ?? e.name,
  certificates: (e: { key: string }) => e.key, caCertificates: (e: { key: string }) => e.key, listeners: (e: { name: string }) => e.name,
};

/**
 * The entities of `next` that are not objects of `prev`, as `list:key`, after checking that
 * every entity equal to one of `prev` (same list, same key, same content) is that object.
 */
function newEntities(prev: GatewayModel, next: GatewayModel): string[] {
  const out: string[] = [];
  for (const list of Object.keys(MODEL_KEYS) as (keyof GatewayModel)[]) {
    const key = MODEL_KEYS[list] as (e: unknown) => string;
    const before = new Map((prev[list] as unknown[]).map((e) => [key(e), e]));
    for (const e of next[list] as unknown[]) {
      const old = before.get(key(e));
      if (old === e) continue;
      if (old !== undefined) assert.notDeepStrictEqual(e, old, `${list}:${key(e)} is equal to the last build's: it is that object`);
      out.push(`${list}:${key(e)}`);
    }
  }
  return out.sort();
}

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface GenRoute { name: string; path: string; regex: boolean; hosts: string[]; methods: string[]; stripPath: boolean; plugins: string[] }
interface GenService { name: string; url: string; readTimeout: number; upstream: boolean; routes: GenRoute[] }
interface GenConfig { services: GenService[]; consumers: string[]; globalCors: boolean; targets: number }

const PLUGINS: Record<string, string> = {
  'key-auth': '{ name: key-auth, config: { key_names: [apikey] } }',
  'rate-limiting': '{ name: rate-limiting, config: { minute: 10, policy: local } }',
  'rate-limiting-2': '{ name: rate-limiting, config: { minute: 20, policy: local } }',
  'request-termination': '{ name: request-termination, config: { status_code: 403, message: closed } }',
  'response-transformer': '{ name: response-transformer, config: { add: { headers: ["x-served-by:frontdesk"] } } }',
};

function yamlOf(c: GenConfig): string {
  const out = ['_format_version: "3.0"', 'upstreams:', '  - name: pool', '    targets:'];
  for (let i = 0; i < c.targets; i++) out.push(`      - target: 10.0.0.${i + 1}:8080`);
  out.push('services:');
  for (const s of c.services) {
    out.push(`  - name: ${s.name}`, `    url: ${s.upstream ? 'http://pool/api' : s.url}`, `    read_timeout: ${s.readTimeout}`, '    routes:');
    for (const r of s.routes) {
      out.push(`      - name: ${r.name}`, `        paths: [${JSON.stringify(r.regex ? `~${r.path}/\\d+$` : r.path)}]`);
      if (r.hosts.length) out.push(`        hosts: [${r.hosts.map((h) => JSON.stringify(h)).join(', ')}]`);
      if (r.methods.length) out.push(`        methods: [${r.methods.join(', ')}]`);
      if (!r.stripPath) out.push('        strip_path: false');
      // One plugin of each name: the last one chosen wins.
      const byName = new Map(r.plugins.map((p) => [p.replace(/-2$/, ''), p]));
      if (byName.size) out.push('        plugins:', ...[...byName.values()].map((p) => `          - ${PLUGINS[p]}`));
    }
  }
  if (c.consumers.length) {
    out.push('consumers:');
    for (const u of c.consumers) out.push(`  - username: ${u}`, '    keyauth_credentials:', `      - key: key-of-${u}`);
  }
  if (c.globalCors) out.push('plugins:', '  - name: cors', '    config: { origins: ["https://app.example.com"] }');
  return `${out.join('\n')}\n`;
}

function generate(next: () => number): GenConfig {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  let n = 0;
  const route = (s: number): GenRoute => {
    const k = n++;
    return {
      name: `r${k}`, path: `/s${s}/r${k}`, regex: next() < 0.15, hosts: next() < 0.4 ? [pick(['a.example.com', '*.w.example.com', 'b.example.com:8443'])] : [],
      methods: next() < 0.3 ? ['GET', 'POST'] : [], stripPath: next() < 0.5, plugins: next() < 0.3 ? [pick(Object.keys(PLUGINS))] : [],
    };
  };
  const services = Array.from({ length: 6 }, (_, s): GenService => ({
    name: `svc${s}`, url: `http://127.0.0.1:${9000 + s}/v${s}`, readTimeout: 15000, upstream: s % 3 === 0,
    routes: Array.from({ length: 4 }, () => route(s)),
  }));
  const edits: ((c: GenConfig) => void)[] = [
    (c) => { const r = pick(pick(c.services).routes); r.path = `${r.path.replace(/-e\d+$/, '')}-e${n++}`; },
    (c) => { const r = pick(pick(c.services).routes); r.hosts = r.hosts.length ? [] : ['c.example.com']; },
    (c) => { const r = pick(pick(c.services).routes); r.methods = r.methods.length ? [] : ['DELETE']; },
    (c) => { const r = pick(pick(c.services).routes); r.stripPath = !r.stripPath; },
    (c) => { const s = pick(c.services); s.routes.push(route(c.services.indexOf(s))); },
    (c) => { const s = pick(c.services); if (s.routes.length > 1) s.routes.splice(Math.floor(next() * s.routes.length), 1); },
    (c) => { const r = pick(pick(c.services).routes); r.name = `${r.name.replace(/-n\d+$/, '')}-n${n++}`; },
    (c) => { const r = pick(pick(c.services).routes); r.plugins = r.plugins.length && next() < 0.5 ? [] : [pick(Object.keys(PLUGINS))]; },
    (c) => { const s = pick(c.services); s.readTimeout += 1000; },
    (c) => { const s = pick(c.services); s.url = s.url.replace(/\/v\d+(-\d+)?$/, `/v${n++}`); },
    (c) => { c.targets = c.targets % 3 + 1; },
    (c) => { if (c.consumers.length && next() < 0.4) c.consumers.pop(); else c.consumers.push(`user${n++}`); },
    (c) => { c.globalCors = !c.globalCors; },
    // An edit that breaks the config (a second route of one name), then the next edit fixes or keeps it.
    (c) => { const s = pick(c.services); const r = pick(s.routes); s.routes.push({ ...route(0), name: r.name }); },
    (c) => { for (const s of c.services) { const seen = new Set<string>(); s.routes = s.routes.filter((r) => !seen.has(r.name) && seen.add(r.name)); } },
  ];
  const config: GenConfig = { services, consumers: ['alice'], globalCors: false, targets: 2 };
  (config as GenConfig & { edit: () => void }).edit = () => { pick(edits)(config); };
  return config;
}

describe('incremental compile', () => {
  test('every golden case, compiled one after another through one cache, gives what a build from nothing gives', () => {
    const cache = new CompileCache();
    let previous: Snapshot | undefined;
    const cases = goldenCases();
    // Forward, then backward: each case is built after a different one, and again after it was last seen.
    for (const c of [...cases, ...cases.slice().reverse()]) {
      previous = compileBoth(cache, c.input, readFileSync(c.input, 'utf8'), c.name, previous);
    }
  });

  test('120 random edits (routes, services, upstreams, plugins, consumers, global plugins, broken configs) each build what a full build does', () => {
    const next = rng(20261201);
    const config = generate(next) as GenConfig & { edit: () => void };
    const cache = new CompileCache();
    let previous: Snapshot | undefined;
    let accepted = 0;
    for (let step = 0; step < 120; step++) {
      const text = yamlOf(config);
      const before = previous;
      previous = compileBoth(cache, 'gateway.yaml', text, `step ${step}`, previous);
      if (previous !== before) accepted++;
      config.edit();
    }
    // The series is not all rejections: most steps are good configs that were compared.
    assert.ok(accepted > 80, `${accepted} of 120 steps compiled`);
  });

  test('entities validated in an earlier build still get every diagnostic, at the line:col and YAML path of the text being built', () => {
    const cache = new CompileCache();
    const service = (name: string, routes: string[]) => [`  - name: ${name}`, '    url: http://127.0.0.1:9000', '    routes:', ...routes];
    const route = (name: string, extra: string[] = []) => [`      - name: ${name}`, '        paths: [/a]', ...extra];
    const text = (lines: string[]) => `${['_format_version: "3.0"', 'services:', ...lines].join('\n')}\n`;
    const build = (lines: string[]) => compileConfig([{ file: 'gateway.yaml', text: text(lines) }], { settings, cache });
    const errors = (r: ReturnType<typeof build>) => r.diagnostics.filter((d) => d.severity === 'error').map((d) => ({ code: d.code, at: `${d.line}:${d.col}`, path: d.path.join('.') }));

    assert.ok(build(service('svc', [...route('r1'), ...route('r2')])).ok);
    // The same two routes, moved down by a route that is not valid (strip_path must be a boolean): line 8, its value at col 21.
    const moved = build(service('svc', [...route('r0', ['        strip_path: maybe']), ...route('r1'), ...route('r2')]));
    assert.deepEqual(errors(moved), [{ code: 'FD_WRONG_TYPE', at: '8:21', path: 'services.0.routes.0.strip_path' }]);
    // r1 written again, word for word, in a second service: the second one is the duplicate, its name at line 11 col 15.
    const twice = build([...service('svc', route('r1')), ...service('svc2', route('r1'))]);
    assert.deepEqual(errors(twice), [{ code: 'FD_DUPLICATE_NAME', at: '11:15', path: 'services.1.routes.0.name' }]);
    // A route valid in every earlier build, made invalid (methods must be a list, line 8 col 18): reported, not taken from the earlier builds.
    const broken = build(service('svc', route('r1', ['        methods: GET'])));
    assert.deepEqual(errors(broken), [{ code: 'FD_WRONG_TYPE', at: '8:18', path: 'services.0.routes.0.methods' }]);
    for (const r of [moved, twice, broken]) assert.equal(r.ok, false);
  });

  test('a one-route edit builds that route again and reuses every other route, cluster and endpoint set, and their bytes', () => {
    const next = rng(7);
    const config = generate(next);
    const cache = new CompileCache();
    const first = compileConfig([{ file: 'gateway.yaml', text: yamlOf(config) }], { settings, cache });
    assert.ok(first.ok, describeErrors(first));
    const s1 = buildSnapshot(first.translation!, 0, undefined, cache.encoder.encode);
    const clusters1 = first.translation!.fleets.get('')!.get(TYPE.cluster)!;
    const routes1 = [...first.translation!.fleets.get('')!.get(TYPE.route)!.values()][0] as { virtual_hosts: { routes: { name: string }[] }[] };

    const edited = config.services[1]!.routes[2]!;
    edited.path = `${edited.path}-moved`;
    cache.encoder.encoded = 0;
    const second = compileConfig([{ file: 'gateway.yaml', text: yamlOf(config) }], { settings, cache });
    assert.ok(second.ok, describeErrors(second));
    // One Kong route with one path: one model route, one IR route and its Envoy routes made again (everything else taken as it was).
    assert.deepEqual(newEntities(first.model!, second.model!), [`routes:${edited.name}`]);
    const irBefore = new Map(first.ir!.routes.map((r) => [r.id, r]));
    assert.deepEqual(second.ir!.routes.filter((r) => irBefore.get(r.id) !== r).map((r) => r.id), [edited.name]);
    for (const b of second.ir!.backends) assert.equal(b, first.ir!.backends.find((x) => x.name === b.name), `backend ${b.name} reused`);
    assert.equal(cache.memo.misses, 1);
    const routes2 = [...second.translation!.fleets.get('')!.get(TYPE.route)!.values()][0] as typeof routes1;
    const byName = new Map(routes1.virtual_hosts[0]!.routes.map((r) => [r.name, r]));
    const rebuilt = routes2.virtual_hosts[0]!.routes.filter((r) => byName.get(r.name) !== r).map((r) => r.name);
    assert.deepEqual(rebuilt.map((n) => n.replace(/:exact$/, '')).filter((n, i, a) => a.indexOf(n) === i), [edited.name]);
    for (const [name, c] of second.translation!.fleets.get('')!.get(TYPE.cluster)!) assert.equal(c, clusters1.get(name), `cluster ${name} is the same object`);
    const s2 = buildSnapshot(second.translation!, 0, s1, cache.encoder.encode);
    // Encoded again: the edited route's Envoy routes only (the route configuration around them is spliced).
    assert.equal(cache.encoder.encoded, rebuilt.length);
    assert.notEqual(s2.version, s1.version);
    assertSameSnapshot(s2, buildSnapshot(compileConfig([{ file: 'gateway.yaml', text: yamlOf(config) }], { settings }).translation!, 0), 'after the edit');
  });
  test('an edit of a consumer, a plugin, an upstream or a certificate builds what a full build does, and only that entity is a new model object', () => {
    // The self-signed certificate of the listeners-https golden case (its cert and key blocks).
    const golden = readFileSync(goldenCases().find((c) => c.name === 'listeners-https')!.input, 'utf8').split('\n');
    const pems = golden.slice(golden.indexOf('    cert: |'), golden.indexOf('services:'));
    const config = {
      bobKey: 'bob-key', minute: 10, targets: ['10.0.0.1:8080', '10.0.0.2:8080'], snis: ['api.example.com'],
    };
    const text = () => [
      '_format_version: "3.0"',
      'listeners:', '  - name: public', '    port: 8000', '  - name: secure', '    port: 8443', '    protocol: https', '    certificates: [main-cert]',
      'certificates:', '  - id: main-cert', '    snis:', ...config.snis.map((n) => `      - ${n}`), ...pems,
      'upstreams:', '  - name: pool', '    targets:', ...config.targets.map((t) => `      - target: ${t}`),
      'services:',
      '  - name: app', '    url: http://pool/api', '    routes:',
      '      - name: open', '        paths: [/open]',
      '      - name: keyed', '        paths: [/keyed]', '        plugins:', '          - name: key-auth',
      '  - name: other', '    url: http://127.0.0.1:9001', '    routes:', '      - name: other', '        paths: [/other]',
      'consumers:',
      '  - username: alice', '    keyauth_credentials:', '      - key: alice-key',
      '  - username: bob', '    keyauth_credentials:', `      - key: ${config.bobKey}`,
      'plugins:', '  - name: rate-limiting', '    service: other', `    config: { minute: ${config.minute}, policy: local }`,
      '',
    ].join('\n');
    const cache = new CompileCache();
    let last = compileChecked(cache, 'gateway.yaml', text(), 'first');
    assert.ok(last.result.ok, describeErrors(last.result));
    const step = (label: string, edit: () => void) => {
      edit();
      const next = compileChecked(cache, 'gateway.yaml', text(), label, last.snapshot);
      assert.ok(next.result.ok, describeErrors(next.result));
      assert.notEqual(next.snapshot!.version, last.snapshot!.version, `${label}: the edit changes the resources`);
      const fresh = newEntities(last.result.model!, next.result.model!);
      const before = last.result.ir!;
      last = next;
      return { fresh, before, ir: next.result.ir! };
    };
    const backend = (ir: GatewayIR, name: string) => ir.backends.find((b) => b.name === name)!;
    const route = (ir: GatewayIR, name: string) => ir.routes.find((r) => r.id === name)!;

    const consumer = step("bob's key", () => { config.bobKey = 'bob-key-2'; });
    assert.deepEqual(consumer.fresh, ['consumers:bob']);
    // The same consumer keys: every IR route and backend is the last build's object.
    for (const r of consumer.ir.routes) assert.equal(r, route(consumer.before, r.id), `IR route ${r.id} reused`);

    const plugin = step("rate-limiting's limit", () => { config.minute = 20; });
    assert.equal(plugin.fresh.length, 1);
    assert.match(plugin.fresh[0]!, /^plugins:/);
    assert.equal(route(plugin.ir, 'other').plugins['rate-limiting']?.feature !== undefined, true);
    assert.notEqual(route(plugin.ir, 'other'), route(plugin.before, 'other'));

    const upstream = step('a third target', () => { config.targets.push('10.0.0.3:8080'); });
    assert.deepEqual(upstream.fresh, ['upstreams:pool']);
    assert.equal(backend(upstream.ir, 'other'), backend(upstream.before, 'other'), "a service on no upstream keeps its backend");
    assert.notEqual(backend(upstream.ir, 'app'), backend(upstream.before, 'app'));
    assert.deepEqual(backend(upstream.ir, 'app').endpoints.map((e) => `${e.host}:${e.port}`), ['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080']);
    assert.equal(route(upstream.ir, 'other'), route(upstream.before, 'other'));

    const certificate = step('a second SNI', () => { config.snis.push('www.example.com'); });
    assert.deepEqual(certificate.fresh, ['certificates:main-cert']);
    assert.deepEqual(certificate.ir.certificates[0]!.snis, ['api.example.com', 'www.example.com']);
    for (const r of certificate.ir.routes) assert.equal(r, route(certificate.before, r.id), `IR route ${r.id} reused`);
    for (const b of certificate.ir.backends) assert.equal(b, backend(certificate.before, b.name), `backend ${b.name} reused`);
  });

  test('a model object reused from the last build gets the line:col of the text being built: lines added above a route Envoy would refuse move its diagnostic', () => {
    const cache = new CompileCache();
    const text = (extra: string[]) => `${[
      '_format_version: "3.0"',
      'services:',
      '  - name: svc',
      '    url: http://127.0.0.1:9000',
      '    routes:',
      '      - name: r1',
      '        paths: [/a]',
      ...extra,
      '      - name: r2',
      '        paths: ["/b\\nc"]',
    ].join('\n')}\n`;
    const build = (extra: string[]) => compileChecked(cache, 'gateway.yaml', text(extra), `with ${extra.length} lines more`).result;
    const refusal = (r: CompileResult) => r.diagnostics.filter((d) => d.severity === 'error').map((d) => ({ code: d.code, at: `${d.line}:${d.col}`, path: d.path.join('.') }));
    const first = build([]);
    // Envoy refuses a line feed in a path (a header value): the path, line 9, its value at col 17.
    assert.deepEqual(refusal(first), [{ code: 'FD_ENVOY_REJECTS', at: '9:17', path: 'services.0.routes.1.paths.0' }]);
    // A comment and two more fields in r1: r2 is the same entity at the same YAML path, three lines down.
    const moved = build(['        # r1 answers GET only', '        methods: [GET]', '        strip_path: false']);
    assert.equal(moved.model!.routes.find((r) => r.name === 'r2'), first.model!.routes.find((r) => r.name === 'r2'), "r2's model object is the last build's");
    assert.deepEqual(refusal(moved), [{ code: 'FD_ENVOY_REJECTS', at: '12:17', path: 'services.0.routes.1.paths.0' }]);
  });

  test('unchanged entities are found where they are written, or by their content when an entity added above moved them; only what changed is validated again', () => {
    const cache = new CompileCache();
    const route = (name: string) => [`      - name: ${name}`, `        paths: [/${name}]`];
    const text = (names: string[]) => `${['_format_version: "3.0"', 'services:', '  - name: svc', '    url: http://127.0.0.1:9000', '    routes:', ...names.flatMap(route)].join('\n')}\n`;
    const build = (names: string[]) => {
      const r = compileChecked(cache, 'gateway.yaml', text(names), names.join(','));
      assert.ok(r.result.ok, describeErrors(r.result));
      return cache.parses.lastLoad;
    };
    const names = Array.from({ length: 20 }, (_, i) => `r${i}`);
    // From nothing: the service and 20 routes validated, no JSON made (there is nothing to look up).
    assert.deepEqual(build(names), { bySource: 0, byPlace: 0, byContent: 0, parsed: 21, keyed: 0 });
    // One route's path edited in place: it alone is validated again, the rest found where they are written; no JSON made.
    // (The routes are nested in one service, one chunk of the file: all of them are parsed from YAML again.)
    const edited = [...names.slice(0, 5), 'r5x', ...names.slice(6)];
    assert.deepEqual(build(edited), { bySource: 0, byPlace: 20, byContent: 0, parsed: 1, keyed: 0 });
    // A route added last: the same.
    assert.deepEqual(build([...edited, 'r-last']), { bySource: 0, byPlace: 21, byContent: 0, parsed: 1, keyed: 0 });
    // A route added first: every other route moved one place down, found by its content.
    const moved = build(['r-new', ...edited, 'r-last']);
    assert.deepEqual({ ...moved, keyed: undefined }, { bySource: 0, byPlace: 1, byContent: 21, parsed: 1, keyed: undefined });
  });

  test("entities whose YAML text is unchanged are found by their parsed value's identity, wherever they moved; no content compared", () => {
    const cache = new CompileCache();
    const route = (name: string) => [`  - name: ${name}`, '    service: svc', `    paths: [/${name}]`];
    const text = (names: string[]) => `${['_format_version: "3.0"', 'services:', '  - name: svc', '    url: http://127.0.0.1:9000', 'routes:', ...names.flatMap(route)].join('\n')}\n`;
    const build = (names: string[]) => {
      const r = compileChecked(cache, 'gateway.yaml', text(names), names.join(','));
      assert.ok(r.result.ok, describeErrors(r.result));
      return r.result;
    };
    const names = Array.from({ length: 20 }, (_, i) => `r${i}`);
    const first = build(names);
    assert.deepEqual(cache.parses.lastLoad, { bySource: 0, byPlace: 0, byContent: 0, parsed: 21, keyed: 0 });
    // One top-level route edited: the service and the 19 others are the chunks parsed last time, found by identity.
    const edited = [...names.slice(0, 5), 'r5x', ...names.slice(6)];
    const second = build(edited);
    assert.deepEqual(cache.parses.lastLoad, { bySource: 20, byPlace: 0, byContent: 0, parsed: 1, keyed: 0 });
    assert.equal(second.model!.routes.find((r) => r.name === 'r7'), first.model!.routes.find((r) => r.name === 'r7'), "r7's model object is the last build's");
    assert.ok(second.model!.routes.some((r) => r.name === 'r5x') && !second.model!.routes.some((r) => r.name === 'r5'));
    // A route added first moves every other one down: still found by identity, no JSON made.
    build(['r-new', ...edited]);
    assert.deepEqual(cache.parses.lastLoad, { bySource: 21, byPlace: 0, byContent: 0, parsed: 1, keyed: 0 });
  });
  test('edits in one service after another: routes parsed anew last time are found by identity, the edited ones by place, and no content index is built', () => {
    const cache = new CompileCache();
    const service = (i: number, token: string) => [`  - name: s${i}`, '    url: http://127.0.0.1:9000', '    routes:', ...[0, 1, 2].flatMap((j) => [`      - name: s${i}-r${j}`, `        paths: [/s${i}/r${j}/${j === 0 ? token : 'x'}]`])];
    const text = (tokens: string[]) => `${['_format_version: "3.0"', 'services:', ...tokens.flatMap((t, i) => service(i, t))].join('\n')}\n`;
    const build = (tokens: string[]) => {
      const r = compileChecked(cache, 'gateway.yaml', text(tokens), tokens.join(','));
      assert.ok(r.result.ok, describeErrors(r.result));
      return cache.parses.lastLoad;
    };
    build(['a', 'a', 'a', 'a']);
    // Service 1's first route edited: its chunk (the service and its three routes) is new YAML; the rest found by identity.
    assert.deepEqual(build(['a', 'b', 'a', 'a']), { bySource: 12, byPlace: 3, byContent: 0, parsed: 1, keyed: 0 });
    // Then service 2's: service 1's objects, new last time, are found by identity now; service 2's by place.
    assert.deepEqual(build(['a', 'b', 'b', 'a']), { bySource: 12, byPlace: 3, byContent: 0, parsed: 1, keyed: 0 });
  });

  test('a route taken again from the last load follows its service, its name and its place: what a build from nothing gives, edit after edit', () => {
    const cache = new CompileCache();
    const service = (name: string, extra: string[] = []) => [`  - name: ${name}`, '    url: http://127.0.0.1:9000', ...extra];
    const route = (lines: string[]) => lines.map((l, i) => `${i ? '    ' : '  - '}${l}`);
    const file = (services: string[][], routes: string[][], version = '3.0') => `${[`_format_version: "${version}"`, 'services:', ...services.flat(), 'routes:', ...routes.flatMap(route)].join('\n')}\n`;
    const r1 = ['name: r1', 'service: a', 'paths: [/one]'];
    const r2 = ['name: r2', 'service: b', 'paths: [/two]'];
    const unnamed = (p: string) => ['service: a', `paths: [/${p}]`];
    const base = [r1, r2, unnamed('u1'), unnamed('u2')];
    const steps: [string, string][] = [
      ['the first build', file([service('a'), service('b')], base)],
      ["r2's service renamed: r2 names a service that is gone", file([service('a'), service('b2')], base)],
      ['back', file([service('a'), service('b')], base)],
      ["r1's service switched off", file([service('a', ['    enabled: false']), service('b')], base)],
      ['back', file([service('a'), service('b')], base)],
      ['a route without a name added first: the others without one are named by their new index', file([service('a'), service('b')], [unnamed('u0'), ...base])],
      ['r2 named r1: a name written twice', file([service('a'), service('b')], [r1, ['name: r1', 'service: b', 'paths: [/two]'], unnamed('u1')])],
      ['back', file([service('a'), service('b')], base)],
      ['the same routes in a format 1.1 file', file([service('a'), service('b')], base, '1.1')],
      ['back to 3.0', file([service('a'), service('b')], base)],
    ];
    let previous: Snapshot | undefined;
    const reusedAt: number[] = [];
    for (const [label, text] of steps) {
      previous = compileBoth(cache, 'gateway.yaml', text, label, previous);
      reusedAt.push(cache.models.flat.reused);
    }
    assert.ok(reusedAt.slice(1).every((n) => n > 0), `unchanged items were taken from the last load at every edit (${reusedAt.join(', ')})`);
  });
});
