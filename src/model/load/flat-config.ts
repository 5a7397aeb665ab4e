import type { Origin, Plugin } from '../types.js';

/** An entity as written, before its schema ran. */
export type Raw = Record<string, unknown>;
/** A child written nested in its parent: `_parent` holds the parent's key ('' when the parent has none). */
export type Child = Raw & { _parent?: string };
/** A plugin with the scope its nesting gives it, and the id of the entity it is nested in (what Kong's id for it is built from). */
export type ScopedPlugin = Raw & { _scope: Plugin['scope']; _parentId?: string };

export interface Found<T> {
  value: T;
  origin: Origin;
  /**
   * The YAML value the entity was read from, when what its schema parses is made of that value
   * alone (`_parent` aside): the same object in the next load is the same input (a file's
   * unchanged chunks are the same frozen objects, yaml-source.ts), found without comparing it.
   */
  source?: object;
}

export const CREDENTIAL_KINDS = ['jwt_secrets', 'keyauth_credentials', 'basicauth_credentials', 'hmacauth_credentials', 'acls'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

/** Every entity of every file in one list per kind, file by file in the order written, nested entities before top-level ones. */
export interface FlatConfig {
  services: Found<Raw>[];
  routes: Found<Child>[];
  upstreams: Found<Raw>[];
  targets: Found<Child>[];
  consumers: Found<Raw>[];
  credentials: Record<CredentialKind, Found<Child>[]>;
  plugins: Found<ScopedPlugin>[];
  certificates: Found<Raw>[];
  snis: Found<Raw>[];
  caCertificates: Found<Raw>[];
  listeners: Found<Raw>[];
}

export function isObject(v: unknown): v is Raw {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}


/**
 * `o` without `keys`, its other keys in their order: what `const { a, b, ...rest } = o` gives,
 * without V8's slow path for object rest with excluded keys (a runtime call per object, ~8 µs
 * for a route: a tenth of a 1,000-route load).
 */
export function omit<T extends object, K extends keyof T>(o: T, keys: readonly K[]): Omit<T, K> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) if (!(keys as readonly PropertyKey[]).includes(k)) out[k] = (o as Record<string, unknown>)[k];
  return out as Omit<T, K>;
}
