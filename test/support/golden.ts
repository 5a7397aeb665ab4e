/**
 * Golden-file helpers: a case is a folder under test/golden holding `in.yaml` (a `#` comment on
 * its first line says what it is for) and `out.json`, the resources fleet '' gets, keyed by
 * short type (CDS, EDS, LDS, RDS, SDS; companion types by full message name) then by resource
 * name. Empty kinds are left out; keys are sorted so that a diff shows changes, not reordering.
 */
import { existsSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic, type Diagnostic } from '../../src/errors.js';
import { TYPE } from '../../src/resources/type-urls.js';
import { compileConfig } from '../../src/runtime/compile.js';
import type { Json } from '../../src/xds/proto-json.js';

export const GOLDEN_DIR = fileURLToPath(new URL('../golden/', import.meta.url));

export const SHORT_TYPES: Record<string, string> = {
  [TYPE.cluster]: 'CDS',
  [TYPE.endpoint]: 'EDS',
  [TYPE.listener]: 'LDS',
  [TYPE.route]: 'RDS',
  [TYPE.secret]: 'SDS',
};

/** Short type (or full message name) → type URL, for the round trip through protobufjs. */
export function typeUrlOf(key: string): string {
  const known = Object.entries(SHORT_TYPES).find(([, short]) => short === key);
  return known ? known[0] : `type.googleapis.com/${key}`;
}

export type Golden = Record<string, Record<string, Json>>;

export interface GoldenCase {
  name: string;
  dir: string;
  input: string;
  outFile: string;
}

/** Every case folder that holds an in.yaml, sorted by name. */
export function goldenCases(root = GOLDEN_DIR): GoldenCase[] {
  return readdirSync(root).sort()
    .map((name) => ({ name, dir: join(root, name) }))
    .filter((c) => statSync(c.dir).isDirectory() && existsSync(join(c.dir, 'in.yaml')))
    .map((c) => ({ ...c, input: join(c.dir, 'in.yaml'), outFile: join(c.dir, 'out.json') }));
}

/** Case folders whose in.yaml is gone but whose out.json is still there. */
export function orphanOutputs(root = GOLDEN_DIR): string[] {
  return readdirSync(root).sort()
    .map((name) => join(root, name))
    .filter((dir) => statSync(dir).isDirectory() && !existsSync(join(dir, 'in.yaml')) && existsSync(join(dir, 'out.json')))
    .map((dir) => join(dir, 'out.json'));
}

/** Recursively sorts object keys (arrays keep their order: it means something to Envoy). */
export function sortKeys(v: unknown): Json {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: { [k: string]: Json } = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
    return out;
  }
  return v as Json;
}

/** The canonical text of an out.json. */
export function serialize(g: Golden): string {
  return `${JSON.stringify(sortKeys(g), null, 2)}\n`;
}

export interface Rendered {
  golden?: Golden;
  diagnostics: Diagnostic[];
  errors: string;
}

/** Compiles one case's YAML and lays fleet '' (and the companions) out as an out.json holds it. */
export function render(text: string, file = 'in.yaml'): Rendered {
  const r = compileConfig([{ file, text }]);
  const errors = r.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n');
  if (!r.ok || !r.translation) return { diagnostics: r.diagnostics, errors: errors || 'compile failed with no error diagnostic' };
  const golden: Golden = {};
  const fullName = (typeUrl: string) => typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  const put = (key: string, resources: Map<string, unknown>) => {
    if (!resources.size) return;
    if (golden[key]) throw new Error(`two resource kinds map to "${key}"`);
    const names = [...resources.keys()].sort();
    // A resource that is undefined is kept as null, so that out.json records it and the round trip refuses it.
    golden[key] = Object.fromEntries(names.map((n) => [n, sortKeys(resources.get(n) ?? null)]));
  };
  for (const [typeUrl, resources] of r.translation.fleets.get('') ?? new Map<string, Map<string, unknown>>()) put(SHORT_TYPES[typeUrl] ?? fullName(typeUrl), resources);
  for (const [typeUrl, resources] of r.translation.companions) put(fullName(typeUrl), resources);
  return { golden: sortKeys(golden) as Golden, diagnostics: r.diagnostics, errors };
}

export function readGolden(file: string): Golden {
  return JSON.parse(readFileSync(file, 'utf8')) as Golden;
}

/**
 * A static Envoy bootstrap holding a golden's resources, for `envoy --mode validate`: RDS
 * configurations inlined into their listeners, EDS clusters made STATIC with their endpoints,
 * SDS secrets as static secrets. Envoy then checks every field rule, regex and reference.
 */
export function staticBootstrap(g: Golden): Json {
  const rds = (g.RDS ?? {}) as Record<string, Json>;
  const eds = (g.EDS ?? {}) as Record<string, Json>;
  const inline = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(inline);
    if (!v || typeof v !== 'object') return v;
    const out: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'rds') out.route_config = rds[(x as { route_config_name: string }).route_config_name] ?? null;
      else if (k === 'tls_certificate_sds_secret_configs') out[k] = (x as { name: string }[]).map((s) => ({ name: s.name }));
      else out[k] = inline(x);
    }
    return out;
  };
  const clusters = Object.values(g.CDS ?? {}).map((c) => {
    const { eds_cluster_config: edsConfig, ...rest } = c as { [k: string]: Json };
    if (rest.type !== 'EDS') return c;
    return { ...rest, type: 'STATIC', load_assignment: eds[(edsConfig as { service_name: string }).service_name] ?? null };
  });
  return {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: { listeners: Object.values(g.LDS ?? {}).map(inline), clusters, secrets: Object.values(g.SDS ?? {}) },
  };
}

/**
 * Rewrites every case's out.json from the current output and deletes the out.json of cases
 * whose in.yaml is gone. Only `npm run golden:update` calls this; the test run never writes.
 * Returns what changed, for the script to print; throws when a case does not compile.
 */
export function updateGoldens(root = GOLDEN_DIR): { written: string[]; unchanged: string[]; removed: string[] } {
  const out = { written: [] as string[], unchanged: [] as string[], removed: [] as string[] };
  for (const c of goldenCases(root)) {
    const rendered = render(readFileSync(c.input, 'utf8'), c.input);
    if (!rendered.golden) throw new Error(`${c.name} does not compile:\n${rendered.errors}`);
    const text = serialize(rendered.golden);
    if (existsSync(c.outFile) && readFileSync(c.outFile, 'utf8') === text) {
      out.unchanged.push(c.name);
      continue;
    }
    writeFileSync(c.outFile, text);
    out.written.push(c.name);
  }
  for (const f of orphanOutputs(root)) {
    unlinkSync(f);
    if (readdirSync(dirname(f)).length === 0) rmdirSync(dirname(f));
    out.removed.push(f);
  }
  return out;
}
