import { uuidV5 } from './uuid-v5.js';

/**
 * The ids Kong gives entities a declarative file leaves without one
 * (kong/db/schema/others/declarative_config.lua, generate_uuid and get_key_for_uuid_gen):
 * a UUID v5 in the namespace uuid5(NS, <entity's plural schema name>) of the entity's key.
 * The key is its cache key when the schema has one (`<entity>:*:<field>:<field>...`, a field
 * as written, the parent's id for the one the entity is nested under, "" when unset), else its
 * endpoint key (services, routes, upstreams: name; consumers: username). An entity with
 * neither gets a random id from Kong; Frontdesk then uses a key made of where it is written,
 * so that the same file always gives the same ids.
 */
const KONG_NAMESPACE = 'fd02801f-0957-4a15-a55a-c8d9606f30b5';

const namespaces = new Map<string, string>();

/** Ids made so far (a SHA-1 each; a load makes one or two per entity): bounded, dropped whole when full. */
const made = new Map<string, string>();
const MAX_MADE = 100_000;

/** The id Kong generates for an entity of `schema` (plural: "services", "routes", ...) whose key is `key`. */
export function kongId(schema: string, key: string): string {
  const k = `${schema}\0${key}`;
  let id = made.get(k);
  if (id !== undefined) return id;
  let ns = namespaces.get(schema);
  if (!ns) namespaces.set(schema, (ns = uuidV5(KONG_NAMESPACE, schema)));
  id = uuidV5(ns, key);
  if (made.size >= MAX_MADE) made.clear();
  made.set(k, id);
  return id;
}

/** Kong's cache-key string for an entity whose schema has a cache key: `<schema>:*:<part>:...` (`*`: no workspace). */
export function kongCacheKey(schema: string, parts: readonly (string | undefined)[]): string {
  return [schema, '*', ...parts.map((p) => p ?? '')].join(':');
}

/**
 * The id Kong generates for a plugin written without one: its cache key is its name and the
 * route, service, consumer and consumer_group it is scoped to, each as written (a name or an
 * id), the parent's id for the one it is nested under (`nestedIn`), "" when unset; a field
 * written as `{ id: ... }` adds nothing to the key, as in Kong's build_cache_key.
 */
export function kongPluginId(raw: Record<string, unknown>, nestedIn: 'route' | 'service' | 'consumer' | undefined, parentId: string | undefined): string {
  const parts: string[] = [typeof raw.name === 'string' ? raw.name : ''];
  for (const field of ['route', 'service', 'consumer', 'consumer_group']) {
    const v = raw[field];
    if (field === nestedIn && parentId !== undefined && v == null) parts.push(parentId);
    else if (typeof v === 'string') parts.push(v);
    else if (v == null) parts.push('');
  }
  return kongId('plugins', kongCacheKey('plugins', parts));
}
