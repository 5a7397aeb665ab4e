import { z } from 'zod';
import { asIs, definePlugin } from './definition.js';

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
}).refine(
  (c) => c.maximum_expiration === 0 || (c.claims_to_verify ?? []).includes('exp'),
  { message: 'maximum_expiration > 0 requires "exp" in claims_to_verify', path: ['claims_to_verify'] },
);

export type JwtConfig = z.output<typeof jwtConfigSchema>;

export const jwtPlugin = definePlugin({
  name: 'jwt',
  config: jwtConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['uri_param_names', 'cookie_names', 'header_names', 'key_claim_name', 'secret_is_base64', 'claims_to_verify', 'anonymous', 'run_on_preflight', 'maximum_expiration', 'realm'] },
  enforcers: () => ['authz'],
  feature: asIs,
});
