import type { z } from 'zod';
import { consumerSchema, pluginEntrySchema, routeSchema, topLevelSchema, upstreamSchema } from '../entities.js';

/**
 * Kong's entities and fields (OSS and Enterprise, Kong 3.x) that Frontdesk does not serve, with
 * what to do instead. A key of a Kong declarative file that is in neither the schemas
 * (entities.ts) nor here is a typo, reported with the closest known key; a key here is
 * reported as Kong's and not served. Kong's plugins are listed in kong-plugins.ts.
 */
export interface NotServed { why: string; todo: string }

const ns = (why: string, todo: string): NotServed => ({ why, todo });

/** Top-level entity lists of Kong's declarative format that Frontdesk does not load. */
export const KONG_ENTITIES_NOT_SERVED: Readonly<Record<string, NotServed>> = {
  consumer_groups: ns('consumer groups are not served', 'scope the plugins to consumers instead'),
  consumer_group_consumers: ns('consumer groups are not served', 'scope the plugins to consumers instead'),
  consumer_group_plugins: ns('consumer groups are not served', 'scope the plugins to consumers instead'),
  vaults: ns('vault references ({vault://...}) are not resolved', 'put the values in the file, or render the file from your secret store before loading it'),
  oauth2_credentials: ns('the oauth2 plugin is not served', 'use jwt (tokens from your identity provider) or key-auth'),
  mtls_auth_credentials: ns('the mtls-auth plugin (Enterprise) is not served', 'use jwt, key-auth or basic-auth'),
  keyauth_enc_credentials: ns('the key-auth-enc plugin (Enterprise) is not served', 'use key-auth'),
  jwt_signer_jwks: ns('the jwt-signer plugin (Enterprise) is not served', 'remove the list'),
  key_sets: ns('key sets are not served', 'give jwt_secrets their jwks inline or by jwks_uri (extension)'),
  keys: ns('keys are not served', 'give jwt_secrets their jwks inline or by jwks_uri (extension)'),
  filter_chains: ns('Wasm filter chains are not served', 'remove the list'),
  partials: ns('plugin partials are not served', 'write the shared settings into each plugin'),
  workspaces: ns('workspaces are not served: one file is one configuration', 'use one file (or folder) per gateway'),
  licenses: ns('Kong Enterprise licenses do not apply', 'remove the list'),
  parameters: ns('Kong\'s cluster parameters do not apply', 'remove the list'),
  degraphql_routes: ns('the degraphql plugin (Enterprise) is not served', 'remove the list'),
  graphql_ratelimiting_advanced_cost_decoration: ns('the graphql-rate-limiting-advanced plugin (Enterprise) is not served', 'remove the list'),
  custom_plugins: ns('custom (Lua) plugins are not served', 'remove the list'),
  acme_storage: ns('acme_storage is the acme plugin\'s "kong" storage (a database table)', 'remove the list: give the acme plugin storage "shm" or "redis"'),
};

const CREDENTIALS_NOT_SERVED = {
  oauth2_credentials: KONG_ENTITIES_NOT_SERVED.oauth2_credentials!,
  mtls_auth_credentials: KONG_ENTITIES_NOT_SERVED.mtls_auth_credentials!,
  keyauth_enc_credentials: KONG_ENTITIES_NOT_SERVED.keyauth_enc_credentials!,
};

/** Fields of Kong's entities that Frontdesk does not read, by the schema that would hold them. */
export const KONG_FIELDS_NOT_SERVED: ReadonlyMap<z.ZodType, Readonly<Record<string, NotServed>>> = new Map<z.ZodType, Record<string, NotServed>>([
  [topLevelSchema, KONG_ENTITIES_NOT_SERVED],
  [consumerSchema, {
    ...CREDENTIALS_NOT_SERVED,
    groups: ns('consumer groups are not served (deck writes a consumer\'s groups here)', 'scope the plugins to the consumer instead'),
  }],
  [routeSchema, {
    expression: ns('Kong\'s expressions router is not served', 'write the route with paths, hosts, methods and headers'),
    priority: ns('Kong\'s expressions router is not served (priority goes with expression)', 'order routes as Kong\'s traditional router does: by their criteria and regex_priority'),
  }],
  [upstreamSchema, {
    sticky_sessions_cookie: ns('sticky sessions are not served', 'use algorithm: consistent-hashing with hash_on: cookie'),
    sticky_sessions_cookie_path: ns('sticky sessions are not served', 'use algorithm: consistent-hashing with hash_on: cookie'),
  }],
  [pluginEntrySchema, {
    partials: ns('plugin partials are not served', 'write the shared settings into the plugin\'s config'),
  }],
]);

/** Why a key Kong knows, refused by `schema` as unknown, is not served; undefined for a key Kong does not know either. */
export function kongNotServed(schemas: readonly z.ZodType[], key: string): NotServed | undefined {
  for (const s of schemas) {
    const found = KONG_FIELDS_NOT_SERVED.get(s)?.[key];
    if (found) return found;
  }
  return undefined;
}
