import { z } from 'zod';
import { asIs, definePlugin } from './definition.js';
import { enforcerField } from './auth-enforcer.js';

/** Kong's typedefs.header_name for key names: letters, digits, "_" and "-". */
const keyName = z.string().regex(/^[A-Za-z0-9_-]+$/, 'a key name may only contain letters, digits, "_" and "-"');

/**
 * Kong 3.x `key-auth` plugin config (kong/plugins/key-auth/schema.lua), with Kong's defaults.
 * `realm` has no default: without it the challenge is `WWW-Authenticate: Key`.
 */
export const keyAuthConfigSchema = z.strictObject({
  key_names: z.array(keyName).default(['apikey']),
  hide_credentials: z.boolean().default(false),
  anonymous: z.string().optional().transform((v) => (v === '' ? undefined : v)),
  key_in_header: z.boolean().default(true),
  key_in_query: z.boolean().default(true),
  key_in_body: z.boolean().default(false),
  run_on_preflight: z.boolean().default(true),
  /** (extension) `companion` asks for the authz companion; native is not served yet, so either way the companion checks. */
  enforcer: enforcerField,
  realm: z.string().min(1).optional(),
});

export type KeyAuthConfig = z.output<typeof keyAuthConfigSchema>;

export const keyAuthPlugin = definePlugin({
  name: 'key-auth',
  config: keyAuthConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['key_names', 'hide_credentials', 'anonymous', 'key_in_header', 'key_in_query', 'key_in_body', 'run_on_preflight', 'realm', 'enforcer'] },
  enforcers: () => ['authz'],
  feature: asIs,
});
