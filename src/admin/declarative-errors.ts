import { formatPath, type Diagnostic } from '../errors.js';

/**
 * Kong's answer to a POST /config it refuses (kong/db/errors.lua, DECLARATIVE_CONFIG code 14,
 * as documented for DB-less POST /config): status 400 with
 *   { code: 14, name: "invalid declarative configuration", message, fields, flattened_errors }
 * `fields` nests each message at the place it is about (services → [index] → field);
 * `flattened_errors` lists one item per entity with its type, name, id, tags, the entity
 * itself and its errors ({ type: "field" | "entity", field?, message }). Frontdesk adds the
 * line:col of each error (the same text `frontdesk validate` prints) in `message`.
 */
export interface KongConfigError {
  code: 14;
  name: 'invalid declarative configuration';
  message: string;
  fields: Record<string, unknown>;
  flattened_errors: FlattenedError[];
}

export interface FlattenedError {
  entity_type: string;
  entity_name?: string;
  entity_id?: string;
  entity_tags: string[];
  entity?: Record<string, unknown>;
  errors: { type: 'field' | 'entity'; field?: string; message: string }[];
}

const SINGULAR: Record<string, string> = {
  services: 'service', routes: 'route', plugins: 'plugin', consumers: 'consumer', upstreams: 'upstream', targets: 'target',
  certificates: 'certificate', ca_certificates: 'ca_certificate', snis: 'sni', jwt_secrets: 'jwt_secret',
  keyauth_credentials: 'keyauth_credential', basicauth_credentials: 'basicauth_credential', hmacauth_credentials: 'hmacauth_credential', acls: 'acl', listeners: 'listener',
};

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function at(doc: unknown, path: readonly (string | number)[]): unknown {
  let node = doc;
  for (const seg of path) node = Array.isArray(node) ? node[seg as number] : isObject(node) ? node[seg as string] : undefined;
  return node;
}

function setDeep(target: Record<string, unknown>, path: readonly (string | number)[], message: string): void {
  let node: Record<string, unknown> | unknown[] = target;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    const next = path[i + 1];
    const holder = node as Record<string | number, unknown>;
    if (last) {
      const prev = holder[seg];
      holder[seg] = prev === undefined ? message : Array.isArray(prev) ? [...prev, message] : typeof prev === 'string' ? [prev, message] : prev;
      return;
    }
    if (holder[seg] === undefined || typeof holder[seg] !== 'object') holder[seg] = typeof next === 'number' ? [] : {};
    node = holder[seg] as Record<string, unknown>;
  }
}

/** Lua-table style text of `fields`, as Kong's message shows it: {services={[1]={host="..."}}}. */
function luaText(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `{${v.map((x, i) => (x === undefined || x === null ? '' : `[${i + 1}]=${luaText(x)}`)).filter(Boolean).join(',')}}`;
  if (isObject(v)) return `{${Object.entries(v).map(([k, x]) => `${k}=${luaText(x)}`).join(',')}}`;
  return String(v);
}

/** Kong's error body for the errors among `diagnostics`, `doc` being the document that was posted. */
export function kongConfigError(diagnostics: readonly Diagnostic[], doc: unknown): KongConfigError {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const fields: Record<string, unknown> = {};
  const flat = new Map<string, FlattenedError>();
  for (const d of errors) {
    const text = `${d.message}${d.line !== undefined ? ` (line ${d.line}, column ${d.col})` : ''}${d.hint ? `; ${d.hint}` : ''}`;
    const path = d.path.length ? d.path : ['@entity'];
    setDeep(fields, path, text);
    // The deepest entity on the path owns the error.
    let cut = -1;
    for (let i = 0; i + 1 < d.path.length; i++) if (typeof d.path[i] === 'string' && SINGULAR[d.path[i] as string] && typeof d.path[i + 1] === 'number') cut = i + 2;
    if (cut < 0) {
      const key = '@config';
      const f = flat.get(key) ?? { entity_type: 'config', entity_tags: [], errors: [] };
      f.errors.push({ type: 'entity', message: `${formatPath(d.path) || 'config'}: ${text}` });
      flat.set(key, f);
      continue;
    }
    const entityPath = d.path.slice(0, cut);
    const key = entityPath.join('.');
    const raw = at(doc, entityPath);
    let f = flat.get(key);
    if (!f) {
      const entity = isObject(raw) ? Object.fromEntries(Object.entries(raw).filter(([, v]) => !Array.isArray(v) || !v.some(isObject))) : undefined;
      const name = isObject(raw) ? (raw.name ?? raw.username ?? raw.target ?? raw.group) : undefined;
      f = {
        entity_type: SINGULAR[entityPath[entityPath.length - 2] as string] ?? 'entity',
        ...(typeof name === 'string' ? { entity_name: name } : {}),
        ...(isObject(raw) && typeof raw.id === 'string' ? { entity_id: raw.id } : {}),
        entity_tags: isObject(raw) && Array.isArray(raw.tags) ? raw.tags.map(String) : [],
        ...(entity ? { entity } : {}),
        errors: [],
      };
      flat.set(key, f);
    }
    const rest = d.path.slice(cut);
    f.errors.push(rest.length ? { type: 'field', field: formatPath(rest), message: text } : { type: 'entity', message: text });
  }
  return { code: 14, name: 'invalid declarative configuration', message: `declarative config is invalid: ${luaText(fields)}`, fields, flattened_errors: [...flat.values()] };
}
