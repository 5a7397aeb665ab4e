import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { formatDiagnostic } from '../../errors.js';
import { KongAdminApi } from '../../admin/kong-api.js';
import { entityName, ENTITY_KINDS, toFlat, type Entity, type EntityKind, type FlatState } from '../../admin/kong-state.js';
import { parseYamlSource, type SourceText } from '../../model/yaml-source.js';
import { compileConfig, type CompileResult } from '../compile.js';
import { readConfigTexts } from '../config-files.js';
import { shortType } from '../../resources/type-urls.js';
import { paint, type Painter } from './paint.js';
import { compareText } from '../../text-order.js';

/** decK's words for an entity kind (`creating service orders`). */
const NOUN: Record<EntityKind, string> = {
  services: 'service', routes: 'route', plugins: 'plugin', consumers: 'consumer', upstreams: 'upstream', targets: 'target',
  certificates: 'certificate', ca_certificates: 'ca_certificate', snis: 'sni', jwt_secrets: 'jwt-auth',
  keyauth_credentials: 'key-auth', basicauth_credentials: 'basic-auth', hmacauth_credentials: 'hmac-auth', acls: 'acl-group',
};
const REFS: Record<string, EntityKind> = { service: 'services', route: 'routes', consumer: 'consumers', upstream: 'upstreams', certificate: 'certificates' };
/** Fields that hold a secret: a change is reported, the value never printed. */
const SECRET = new Set(['key', 'secret', 'password', 'rsa_public_key', 'key_alt', 'secret_v1', 'redis_password']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An entity as compared: no id, references by the name of what they point at, nulls dropped. */
function normalise(st: FlatState, e: Entity): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === 'id' || k === 'created_at' || k === 'updated_at' || v === null || v === undefined) continue;
    const kind = REFS[k];
    if (kind && isObject(v)) {
      const target = st[kind].find((x) => x.id === v.id);
      out[k] = target ? (entityName(kind, target) ?? target.id) : v.id;
    } else out[k] = v;
  }
  return out;
}

/**
 * What identifies an entity across two configs: its name, and for children the parent's. A
 * key-auth key is a secret: it is named by a hash of it, never printed.
 */
function identity(kind: EntityKind, n: Record<string, unknown>, e: Entity): string {
  if (kind === 'plugins') return `${n.name}${['service', 'route', 'consumer'].map((r) => (n[r] ? ` for ${r} ${n[r]}` : '')).join('')}`;
  const name = kind === 'keyauth_credentials' && typeof e.key === 'string'
    ? `sha256:${createHash('sha256').update(e.key).digest('hex').slice(0, 12)}` : (entityName(kind, e) ?? e.id);
  const parent = n.consumer ?? n.upstream ?? n.certificate;
  return parent ? `${name} for ${parent}` : name;
}

export interface EntityChange { kind: EntityKind; op: 'create' | 'update' | 'delete'; what: string; before?: Record<string, unknown>; after?: Record<string, unknown> }

/** Entities added, changed and removed from `from` to `to`, in decK's order (kind by kind, by name). */
export function diffEntities(from: FlatState, to: FlatState): EntityChange[] {
  const out: EntityChange[] = [];
  for (const kind of ENTITY_KINDS) {
    const index = (st: FlatState) => new Map(st[kind].map((e) => { const n = normalise(st, e); return [identity(kind, n, e), n] as const; }));
    const a = index(from);
    const b = index(to);
    for (const [what, after] of [...b].sort(([x], [y]) => compareText(x, y))) {
      const before = a.get(what);
      if (!before) out.push({ kind, op: 'create', what, after });
      else if (!isDeepStrictEqual(before, after)) out.push({ kind, op: 'update', what, before, after });
    }
    for (const [what, before] of [...a].sort(([x], [y]) => compareText(x, y))) if (!b.has(what)) out.push({ kind, op: 'delete', what, before });
  }
  return out;
}

/** The resources (Envoy's per type, then the companions') added, changed and removed. */
export function diffResources(from: CompileResult, to: CompileResult): { type: string; op: '+' | '~' | '-'; name: string }[] {
  const out: { type: string; op: '+' | '~' | '-'; name: string }[] = [];
  const groups = (r: CompileResult) => {
    const m = new Map<string, Map<string, unknown>>();
    for (const [fleet, types] of r.translation?.fleets ?? []) for (const [t, res] of types) m.set(`${fleet ? `${fleet} ` : ''}${shortType(t)}`, res as Map<string, unknown>);
    for (const [t, res] of r.translation?.companions ?? []) m.set(`companion ${shortType(t)}`, res as Map<string, unknown>);
    return m;
  };
  const a = groups(from);
  const b = groups(to);
  for (const type of [...new Set([...a.keys(), ...b.keys()])].sort()) {
    const x = a.get(type) ?? new Map<string, unknown>();
    const y = b.get(type) ?? new Map<string, unknown>();
    for (const name of [...new Set([...x.keys(), ...y.keys()])].sort()) {
      if (!x.has(name)) out.push({ type, op: '+', name });
      else if (!y.has(name)) out.push({ type, op: '-', name });
      else if (!isDeepStrictEqual(x.get(name), y.get(name))) out.push({ type, op: '~', name });
    }
  }
  return out;
}

/** decK's field-by-field block: unchanged fields plain, removed `-`, added `+`, objects opened. */
function fieldLines(p: Painter, before: Record<string, unknown>, after: Record<string, unknown>, indent = '  '): string[] {
  const show = (k: string, v: unknown) => `"${k}": ${SECRET.has(k) ? '"(secret)"' : JSON.stringify(v)}`;
  const lines: string[] = [];
  for (const k of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const had = k in before;
    const has = k in after;
    const [x, y] = [before[k], after[k]];
    if (had && has && isDeepStrictEqual(x, y)) lines.push(` ${indent}${show(k, y)}`);
    else if (isObject(x) && isObject(y) && !SECRET.has(k)) lines.push(` ${indent}"${k}": {`, ...fieldLines(p, x, y, `${indent}  `), ` ${indent}}`);
    else {
      if (had) lines.push(p.red(`-${indent}${show(k, x)}`));
      if (has) lines.push(p.green(`+${indent}${show(k, y)}`));
    }
  }
  return lines;
}

function flatOf(texts: SourceText[]): FlatState {
  return toFlat(texts.map((t) => parseYamlSource(t).source?.data));
}

export interface DiffOptions { path: string; against?: string; controlPlane: string; token?: string; color: boolean }

/**
 * `frontdesk diff PATH [--control-plane URL | --against FILE]`: what applying PATH would
 * change, as `deck gateway diff` prints it (creating / updating with the fields / deleting,
 * then a summary), then the Envoy resources and companion policies that would change, then
 * PATH's diagnostics. Exit 0: no change; 2: changes; 1: errors (as decK's --non-zero-exit-code).
 */
export async function runDiff(o: DiffOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const p = paint(o.color);
  let targetTexts: SourceText[];
  try { targetTexts = readConfigTexts(o.path); } catch (e) { err.write(`${o.path}:1:1: error: cannot read: ${(e as Error).message}\n`); return 1; }
  const target = compileConfig(targetTexts);
  for (const d of target.diagnostics) err.write(`${formatDiagnostic(d)}\n`);
  if (!target.ok) { err.write(`${o.path}: the config has errors; nothing would be applied\n`); return 1; }
  let currentTexts: SourceText[];
  if (o.against) {
    try { currentTexts = readConfigTexts(o.against); } catch (e) { err.write(`${o.against}:1:1: error: cannot read: ${(e as Error).message}\n`); return 1; }
  } else {
    const url = `${o.controlPlane.replace(/\/$/, '')}/config`;
    try {
      const res = await fetch(url, { headers: o.token ? { 'kong-admin-token': o.token } : {}, signal: AbortSignal.timeout(10_000) });
      if (!res.ok) { err.write(`frontdesk: GET ${url}: ${res.status} ${((await res.json().catch(() => ({}))) as { message?: string }).message ?? ''}\n`); return 1; }
      currentTexts = [{ file: url, text: ((await res.json()) as { config: string }).config }];
    } catch (e) {
      err.write(`frontdesk: cannot reach the control plane at ${o.controlPlane}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  // Both sides as the Admin API holds a config (flat, every entity with an id), so that
  // generated ids and the resources keyed by them match where nothing changed.
  const currentFlat = flatOf(currentTexts);
  const targetFlat = flatOf(targetTexts);
  const current = compileConfig([{ file: 'current', text: KongAdminApi.yaml(currentFlat) }]);
  const flatTarget = compileConfig([{ file: o.path, text: KongAdminApi.yaml(targetFlat) }]);
  const entities = diffEntities(currentFlat, targetFlat);
  const verb = { create: 'creating', update: 'updating', delete: 'deleting' } as const;
  for (const c of entities) {
    const head = `${verb[c.op]} ${NOUN[c.kind]} ${c.what}`;
    if (c.op === 'update') out.write(`${p.yellow(head)}  {\n${fieldLines(p, c.before!, c.after!).join('\n')}\n }\n\n`);
    else out.write(`${c.op === 'create' ? p.green(head) : p.red(head)}\n`);
  }
  const count = (op: EntityChange['op']) => entities.filter((c) => c.op === op).length;
  out.write(`Summary:\n  Created: ${count('create')}\n  Updated: ${count('update')}\n  Deleted: ${count('delete')}\n`);
  const resources = diffResources(current, flatTarget);
  if (resources.length) {
    out.write('\nEnvoy resources and companion policies:\n');
    for (const r of resources) {
      const line = `  ${r.op} ${r.type} ${r.name}`;
      out.write(`${r.op === '+' ? p.green(line) : r.op === '-' ? p.red(line) : p.yellow(line)}\n`);
    }
  }
  return entities.length || resources.length ? 2 : 0;
}
