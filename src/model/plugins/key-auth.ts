import { z } from 'zod';
import { definePlugin } from './definition.js';
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
  /** (extension) Who checks keys: Envoy itself (default, where it can give Kong's behaviour) or the authz companion. */
  enforcer: enforcerField,
  realm: z.string().min(1).optional(),
});

export type KeyAuthConfig = z.output<typeof keyAuthConfigSchema>;

/** The key-auth plugin's IR feature: its config, with `nativeBlocker` when Envoy cannot check it with Kong's behaviour. */
export type KeyAuthFeature = KeyAuthConfig & { nativeBlocker?: string };

/**
 * Why this config cannot be checked by Envoy (api_key_auth behind the token script) as Kong
 * does, or undefined: api_key_auth answers a bad key itself (no `anonymous`), reads no body,
 * and checks every request of the route (no run_on_preflight: false).
 */
export function keyAuthNativeBlocker(c: KeyAuthConfig): string | undefined {
  if (c.enforcer === 'companion') return 'enforcer: companion';
  if (c.anonymous !== undefined) return 'anonymous (Envoy answers a bad key itself)';
  if (c.key_in_body) return 'key_in_body';
  if (!c.run_on_preflight) return 'run_on_preflight: false';
  return undefined;
}

export const keyAuthPlugin = definePlugin({
  name: 'key-auth',
  config: keyAuthConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['key_names', 'hide_credentials', 'anonymous', 'key_in_header', 'key_in_query', 'key_in_body', 'run_on_preflight', 'realm', 'enforcer'] },
  enforcers: (c) => (keyAuthNativeBlocker(c) ? ['authz'] : ['envoy']),
  feature: (c): KeyAuthFeature => {
    const why = keyAuthNativeBlocker(c);
    return why ? { ...c, nativeBlocker: why } : c;
  },
});
