import { kongCacheKey, kongId, kongPluginId } from '../kong-ids.js';
import { uuidV5 } from '../uuid-v5.js';

/**
 * A declarative config as Kong's Admin API sees it: every entity flat, with an id, pointing
 * at its parent by `{ id }` (routes → service, plugins → service/route/consumer, targets →
 * upstream, credentials → consumer, snis → certificate). `toFlat` reads a kong.yml (nested
 * or not) into that shape; `toDeclarative` writes it back as one `_format_version: "3.0"`
 * document the loader takes as it is. Both work on the raw YAML data, before validation:
 * what the loader would refuse is still refused by the loader.
 */

export type Entity = Record<string, unknown> & { id: string };

export const ENTITY_KINDS = [
  'services', 'routes', 'plugins', 'consumers', 'upstreams', 'targets', 'certificates', 'ca_certificates', 'snis',
  'jwt_secrets', 'keyauth_credentials', 'basicauth_credentials', 'hmacauth_credentials', 'acls',
] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];
export const CREDENTIAL_KINDS: readonly EntityKind[] = ['jwt_secrets', 'keyauth_credentials', 'basicauth_credentials', 'hmacauth_credentials', 'acls'];

export type FlatState = Record<EntityKind, Entity[]> & { _top: Record<string, unknown> };

/** Frontdesk's namespace for the ids of entities written without one. */
const NAMESPACE = '6f5a1c2e-8b3d-4e0f-a1b2-c3d4e5f60718';

/** A deterministic uuid v5 for a name: the same config always gives the same ids. */
export function uuid5(name: string): string {
  return uuidV5(NAMESPACE, name);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function emptyState(): FlatState {
  return Object.assign(Object.fromEntries(ENTITY_KINDS.map((k) => [k, [] as Entity[]])), { _top: {} }) as unknown as FlatState;
}

/** The name decK and Kong show for an entity (name, username, target, group...). */
export function entityName(kind: EntityKind, e: Record<string, unknown>): string | undefined {
  const v = kind === 'consumers' ? (e.username ?? e.custom_id) : kind === 'targets' ? e.target : kind === 'acls' ? e.group
    : kind === 'keyauth_credentials' || kind === 'jwt_secrets' ? e.key : kind === 'basicauth_credentials' || kind === 'hmacauth_credentials' ? e.username : e.name;
  return typeof v === 'string' ? v : undefined;
}

/** `{ id }` of a parent reference, as `add` writes them. */
const refId = (v: unknown): string | undefined => (isObject(v) && typeof v.id === 'string' ? v.id : undefined);

/**
 * The id the loader gives an entity written without one (Kong's, src/kong-ids.ts), so
 * that the Admin API, /status and the logs name an entity by the same id: services, routes and
 * upstreams by name, consumers by username, targets and plugins by their cache key. Undefined
 * for what the loader keeps no id of (credentials, certificates), or without the key field.
 */
function loaderId(kind: EntityKind, written: Record<string, unknown>, parent: Record<string, unknown>): string | undefined {
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  switch (kind) {
    case 'services': case 'routes': case 'upstreams': { const n = str(written.name); return n === undefined ? undefined : kongId(kind, n); }
    case 'consumers': { const n = str(written.username); return n === undefined ? undefined : kongId(kind, n); }
    case 'targets': {
      const up = refId(parent.upstream) ?? str(written.upstream);
      const t = str(written.target);
      return up === undefined || t === undefined ? undefined : kongId('targets', kongCacheKey('targets', [up, t]));
    }
    case 'plugins': {
      const nestedIn = (['route', 'service', 'consumer'] as const).find((k) => refId(parent[k]) !== undefined);
      return kongPluginId(written, nestedIn, nestedIn ? refId(parent[nestedIn]) : undefined);
    }
    default: return undefined;
  }
}

/** Reads one or more kong.yml documents (already parsed) into the flat shape. */
export function toFlat(docs: unknown[]): FlatState {
  const st = emptyState();
  const byName: Record<string, Map<string, string>> = {};
  const remember = (kind: string, name: unknown, id: string) => {
    if (typeof name !== 'string') return;
    (byName[kind] ??= new Map()).set(name, id);
  };
  const resolve = (kind: string, ref: unknown): unknown => {
    const key = typeof ref === 'string' ? ref : isObject(ref) ? (ref.id ?? ref.name ?? ref.username) : undefined;
    if (typeof key !== 'string') return ref;
    return { id: byName[kind]?.get(key) ?? key };
  };
  const add = (kind: EntityKind, raw: unknown, where: string, extra: Record<string, unknown> = {}): Entity => {
    const written = isObject(raw) ? raw : { _invalid: raw };
    const e = { ...written, ...extra } as Record<string, unknown>;
    const id = typeof e.id === 'string' ? e.id : (loaderId(kind, written, extra) ?? uuid5(`${kind}:${entityName(kind, e) ?? where}`));
    const out = { ...e, id } as Entity;
    st[kind].push(out);
    remember(kind, entityName(kind, e), id);
    remember(kind, id, id);
    return out;
  };
  const nested: { kind: EntityKind; entity: Entity; refs: Record<string, string> }[] = [];
  docs.forEach((doc, d) => {
    if (!isObject(doc)) return;
    for (const [k, v] of Object.entries(doc)) if (k.startsWith('_') || k === 'listeners') st._top[k] = v;
    const plugin = (p: unknown, where: string, parent: Record<string, unknown>) => add('plugins', p, where, parent);
    list(doc.services).forEach((s, i) => {
      const { routes, plugins, ...own } = isObject(s) ? s : ({} as Record<string, unknown>);
      const svc = add('services', isObject(s) ? own : s, `${d}.services.${i}`);
      list(routes).forEach((r, j) => {
        const { plugins: rp, ...rown } = isObject(r) ? r : ({} as Record<string, unknown>);
        const route = add('routes', isObject(r) ? rown : r, `${d}.services.${i}.routes.${j}`, { service: { id: svc.id } });
        list(rp).forEach((p, k) => plugin(p, `${d}.services.${i}.routes.${j}.plugins.${k}`, { route: { id: route.id } }));
      });
      list(plugins).forEach((p, k) => plugin(p, `${d}.services.${i}.plugins.${k}`, { service: { id: svc.id } }));
    });
    list(doc.routes).forEach((r, j) => {
      const { plugins: rp, ...rown } = isObject(r) ? r : ({} as Record<string, unknown>);
      const route = add('routes', isObject(r) ? rown : r, `${d}.routes.${j}`);
      nested.push({ kind: 'routes', entity: route, refs: { service: 'services' } });
      list(rp).forEach((p, k) => plugin(p, `${d}.routes.${j}.plugins.${k}`, { route: { id: route.id } }));
    });
    list(doc.upstreams).forEach((u, i) => {
      const { targets, ...own } = isObject(u) ? u : ({} as Record<string, unknown>);
      const up = add('upstreams', isObject(u) ? own : u, `${d}.upstreams.${i}`);
      list(targets).forEach((t, j) => add('targets', t, `${up.id}.${j}`, { upstream: { id: up.id } }));
    });
    list(doc.targets).forEach((t, j) => nested.push({ kind: 'targets', entity: add('targets', t, `${d}.targets.${j}`), refs: { upstream: 'upstreams' } }));
    list(doc.consumers).forEach((c, i) => {
      const { plugins, jwt_secrets, keyauth_credentials, basicauth_credentials, hmacauth_credentials, acls, ...own } = isObject(c) ? c : ({} as Record<string, unknown>);
      const con = add('consumers', isObject(c) ? own : c, `${d}.consumers.${i}`);
      const creds = { jwt_secrets, keyauth_credentials, basicauth_credentials, hmacauth_credentials, acls };
      for (const kind of CREDENTIAL_KINDS) list(creds[kind as keyof typeof creds]).forEach((x, j) => add(kind, x, `${con.id}.${kind}.${j}`, { consumer: { id: con.id } }));
      list(plugins).forEach((p, k) => plugin(p, `${d}.consumers.${i}.plugins.${k}`, { consumer: { id: con.id } }));
    });
    for (const kind of CREDENTIAL_KINDS) list(doc[kind]).forEach((x, j) => nested.push({ kind, entity: add(kind, x, `${d}.${kind}.${j}`), refs: { consumer: 'consumers' } }));
    list(doc.plugins).forEach((p, k) => nested.push({ kind: 'plugins', entity: plugin(p, `${d}.plugins.${k}`, {}), refs: { service: 'services', route: 'routes', consumer: 'consumers' } }));
    list(doc.certificates).forEach((c, i) => {
      const { snis, ...own } = isObject(c) ? c : ({} as Record<string, unknown>);
      const cert = add('certificates', isObject(c) ? own : c, `${d}.certificates.${i}`);
      list(snis).forEach((s, j) => add('snis', typeof s === 'string' ? { name: s } : s, `${cert.id}.${j}`, { certificate: { id: cert.id } }));
    });
    list(doc.snis).forEach((s, j) => nested.push({ kind: 'snis', entity: add('snis', s, `${d}.snis.${j}`), refs: { certificate: 'certificates' } }));
    list(doc.ca_certificates).forEach((c, i) => add('ca_certificates', c, `${d}.ca_certificates.${i}`));
  });
  // Top-level references by name become references by id, once every entity has one.
  for (const { entity, refs } of nested) {
    for (const [field, kind] of Object.entries(refs)) if (entity[field] !== undefined && entity[field] !== null) entity[field] = resolve(kind, entity[field]);
  }
  return st;
}

/** The flat state as one kong.yml document: every entity at the top level, references by id. */
export function toDeclarative(st: FlatState): Record<string, unknown> {
  const out: Record<string, unknown> = { _format_version: '3.0', ...st._top };
  for (const kind of ENTITY_KINDS) if (st[kind].length) out[kind] = st[kind].map((e) => ({ ...e }));
  return out;
}

/** A deep copy (entities are plain JSON data). */
export function cloneState(st: FlatState): FlatState {
  return structuredClone(st);
}
