import type { Entity, EntityKind } from './kong-state.js';

/**
 * How entities look on Kong's Admin API: a service's url split into protocol/host/port/path
 * (as Kong stores it), timestamps in seconds, and credential secrets (a key-auth key, a jwt
 * secret, a basic-auth password, a certificate's key, a plugin's webhook secret, Loggly token or Redis password) withheld unless the reader may write
 * (decK cannot tell two key-auth credentials apart without their keys). Fields are those the
 * config sets: Kong's defaults are applied by the loader, and decK, which reads no schema
 * defaults from Frontdesk, then sees a file and its dump as equal.
 */

/** Kong's Admin API path segment → the declarative config's list. */
export const API_COLLECTIONS: Readonly<Record<string, EntityKind>> = {
  services: 'services', routes: 'routes', plugins: 'plugins', consumers: 'consumers', upstreams: 'upstreams',
  targets: 'targets', certificates: 'certificates', ca_certificates: 'ca_certificates', snis: 'snis',
  'key-auths': 'keyauth_credentials', jwts: 'jwt_secrets', 'basic-auths': 'basicauth_credentials', 'hmac-auths': 'hmacauth_credentials', acls: 'acls',
};

/** Kong's paths for a consumer's credentials (`/consumers/{id}/key-auth`), as go-kong writes them. */
export const CHILD_COLLECTIONS: Readonly<Record<string, EntityKind>> = {
  ...API_COLLECTIONS, 'key-auth': 'keyauth_credentials', jwt: 'jwt_secrets', 'basic-auth': 'basicauth_credentials', 'hmac-auth': 'hmacauth_credentials',
};

/** A child collection under a parent: `/services/{id}/routes` lists routes whose `service` is it. */
export const PARENT_FIELD: Readonly<Partial<Record<EntityKind, Partial<Record<EntityKind, string>>>>> = {
  services: { routes: 'service', plugins: 'service' },
  routes: { plugins: 'route' },
  consumers: { plugins: 'consumer', keyauth_credentials: 'consumer', jwt_secrets: 'consumer', basicauth_credentials: 'consumer', hmacauth_credentials: 'consumer', acls: 'consumer' },
  upstreams: { targets: 'upstream' },
  certificates: { snis: 'certificate' },
};

/** Fields that hold a secret: never sent back by the Admin API. */
const SECRET_FIELDS: Partial<Record<EntityKind, readonly string[]>> = {
  keyauth_credentials: ['key'],
  jwt_secrets: ['secret', 'rsa_public_key'],
  basicauth_credentials: ['password'],
  hmacauth_credentials: ['secret'],
  certificates: ['key', 'key_alt'],
};

/**
 * Fields of a plugin's config that hold a secret (standard-webhooks' key, session's secret,
 * loggly's token, a Redis password, acme's EAB key and its storages' passwords and tokens):
 * withheld alike.
 */
const PLUGIN_SECRET_FIELDS: readonly (readonly string[])[] = [
  ['secret_v1'], ['secret'], ['key'], ['redis_password'], ['redis', 'password'],
  ['eab_hmac_key'], ['storage_config', 'redis', 'password'], ['storage_config', 'redis', 'auth'],
  ['storage_config', 'consul', 'token'], ['storage_config', 'vault', 'token'],
];

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `record` without the field at `path` (copies along the path; the record given is never changed). */
function without(record: Record<string, unknown>, path: readonly string[]): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined || record[head] === undefined) return record;
  if (!rest.length) {
    const { [head]: _secret, ...others } = record;
    return others;
  }
  const inner = record[head];
  if (!isRecord(inner)) return record;
  const stripped = without(inner, rest);
  return stripped === inner ? record : { ...record, [head]: stripped };
}

/** A plugin's config without its secrets (a copy where one is removed; the entity itself is never changed). */
function withoutPluginSecrets(config: unknown): unknown {
  if (!isRecord(config)) return config;
  return PLUGIN_SECRET_FIELDS.reduce(without, config);
}

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443, grpc: 80, grpcs: 443, ws: 80, wss: 443 };

/** A stable creation time for an entity that has none: the time the config was applied. */
export function toApiEntity(kind: EntityKind, e: Entity, createdAt: number, withSecrets = false): Record<string, unknown> {
  // decK writes `enabled: true` and `config: {}` on every plugin it reads from a file; Kong's defaults, shown.
  const out: Record<string, unknown> = { ...(kind === 'plugins' ? { enabled: true, config: {} } : {}), created_at: createdAt, updated_at: createdAt };
  for (const [k, v] of Object.entries(e)) if (v !== undefined && !k.startsWith('_')) out[k] = v;
  if (kind === 'services' && typeof e.url === 'string') {
    const m = /^([a-z]+):\/\/(\[[^\]]+\]|[^/:?#]+)(?::(\d+))?(\/[^?#]*)?/i.exec(e.url);
    if (m) {
      const protocol = m[1]!.toLowerCase();
      Object.assign(out, { protocol, host: m[2]!.replace(/^\[|\]$/g, ''), port: m[3] ? Number(m[3]) : (DEFAULT_PORTS[protocol] ?? 80), path: m[4] ?? null });
    }
    delete out.url;
  }
  if (kind === 'routes' && Array.isArray(out.methods)) out.methods = out.methods.map((m) => String(m).toUpperCase());
  if (!withSecrets) for (const f of SECRET_FIELDS[kind] ?? []) delete out[f];
  if (!withSecrets && kind === 'plugins') out.config = withoutPluginSecrets(out.config);
  return out;
}

/** What a write stores: the body minus read-only and timestamp fields, with the id it was addressed by. */
export function fromApiBody(body: Record<string, unknown>, id: string): Entity {
  const { created_at: _c, updated_at: _u, ...rest } = body;
  for (const [k, v] of Object.entries(rest)) if (v === null) delete rest[k];
  return { ...rest, id };
}
