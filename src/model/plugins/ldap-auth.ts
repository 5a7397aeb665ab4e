import { z } from 'zod';
import { definePlugin } from './definition.js';
import { kongHost, kongPort } from './stream-log-common.js';

/**
 * Kong 3.x `ldap-auth` plugin config (kong/plugins/ldap-auth/schema.lua), with Kong's defaults:
 * `ldap_host`, `base_dn` and `attribute` required, port 389, `cache_ttl` 60 s, `timeout` 10,000
 * ms, `keepalive` 60,000 ms, `header_type` "ldap"; `ldaps` and `start_tls` exclusive, as Kong's
 * entity check says. `realm` has no default: without it the challenge is the scheme alone
 * (`WWW-Authenticate: LDAP`).
 */
export const ldapAuthConfigSchema = z.strictObject({
  ldap_host: kongHost,
  ldap_port: kongPort.default(389),
  ldaps: z.boolean().default(false),
  start_tls: z.boolean().default(false),
  verify_ldap_host: z.boolean().default(false),
  base_dn: z.string().min(1),
  attribute: z.string().min(1),
  cache_ttl: z.number().min(0).default(60),
  hide_credentials: z.boolean().default(false),
  timeout: z.number().min(0).default(10000),
  keepalive: z.number().min(0).default(60000),
  anonymous: z.string().optional().transform((v) => (v === '' ? undefined : v)),
  header_type: z.string().min(1).default('ldap'),
  realm: z.string().min(1).optional(),
}).refine((c) => !(c.ldaps && c.start_tls), { message: "'ldaps' and 'start_tls' cannot be enabled simultaneously", path: ['start_tls'] });

export type LdapAuthConfig = z.output<typeof ldapAuthConfigSchema>;

/** Served by the authz companion: Envoy has no LDAP client; the companion binds as the user and caches the verdict. */
export const ldapAuthPlugin = definePlugin({
  name: 'ldap-auth',
  config: ldapAuthConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: {
    applied: ['ldap_host', 'ldap_port', 'ldaps', 'start_tls', 'verify_ldap_host', 'base_dn', 'attribute', 'cache_ttl', 'hide_credentials', 'timeout', 'keepalive', 'anonymous', 'header_type', 'realm'],
  },
  enforcers: () => ['authz'],
  feature: (c): LdapAuthConfig => c,
});
