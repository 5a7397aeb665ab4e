import { z } from 'zod';
import { definePlugin } from './definition.js';
import { enforcerField } from './auth-enforcer.js';

/**
 * Kong 3.x `jwt` plugin config (kong/plugins/jwt/schema.lua), with Kong's defaults.
 * `anonymous: ""` (older files) means unset, as it did in Kong 1.x.
 */
export const jwtConfigSchema = z.strictObject({
  uri_param_names: z.array(z.string().min(1)).default(['jwt']),
  cookie_names: z.array(z.string().min(1)).default([]),
  header_names: z.array(z.string().min(1)).default(['authorization']),
  key_claim_name: z.string().min(1).default('iss'),
  secret_is_base64: z.boolean().default(false),
  claims_to_verify: z.array(z.enum(['exp', 'nbf'])).optional(),
  anonymous: z.string().optional().transform((v) => (v === '' ? undefined : v)),
  run_on_preflight: z.boolean().default(true),
  maximum_expiration: z.number().min(0).max(31536000).default(0),
  realm: z.string().min(1).optional(),
  /** (extension) Who checks tokens: Envoy itself (default) or the authz companion. */
  enforcer: enforcerField,
}).refine(
  (c) => c.maximum_expiration === 0 || (c.claims_to_verify ?? []).includes('exp'),
  { message: 'maximum_expiration > 0 requires "exp" in claims_to_verify', path: ['claims_to_verify'] },
);

export type JwtConfig = z.output<typeof jwtConfigSchema>;

/** The jwt plugin's IR feature: its config, with `nativeBlocker` when Envoy cannot check it with Kong's behaviour. */
export type JwtFeature = JwtConfig & { nativeBlocker?: string };

export const jwtPlugin = definePlugin({
  name: 'jwt',
  config: jwtConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['uri_param_names', 'cookie_names', 'header_names', 'key_claim_name', 'secret_is_base64', 'claims_to_verify', 'anonymous', 'run_on_preflight', 'maximum_expiration', 'realm', 'enforcer'] },
  enforcers: (c) => (jwtNativeBlocker(c) ? ['authz'] : ['envoy']),
  /** The config, and why Envoy cannot check it (contracts/authz.ts then leaves the route on the companion). */
  feature: (c): JwtFeature => {
    const why = jwtNativeBlocker(c);
    return why ? { ...c, nativeBlocker: why } : c;
  },
});

/**
 * Why this config cannot be served by Envoy's jwt_authn with Kong's behaviour (it then stays on
 * the authz companion), or undefined. jwt_authn picks a token's key by its `iss` only, and
 * takes one key per issuer.
 */
export function jwtNativeBlocker(c: JwtConfig): string | undefined {
  if (c.enforcer === 'companion') return 'enforcer: companion';
  if (c.key_claim_name !== 'iss') return `key_claim_name "${c.key_claim_name}" (Envoy picks a key by iss only)`;
  if (c.secret_is_base64) return 'secret_is_base64 (the same secret would be two keys)';
  return undefined;
}
