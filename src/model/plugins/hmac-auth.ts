import { z } from 'zod';
import { definePlugin } from './definition.js';

/** The digests Kong's hmac-auth signs with (kong/plugins/hmac-auth/schema.lua's one_of). */
export const HMAC_ALGORITHMS = ['hmac-sha1', 'hmac-sha224', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'] as const;

/**
 * Kong 3.x `hmac-auth` plugin config, with Kong's defaults: hmac-sha1 is accepted only when
 * listed (Kong's default list leaves it out). `realm` has no default: without it the challenge
 * is `WWW-Authenticate: hmac`.
 */
export const hmacAuthConfigSchema = z.strictObject({
  hide_credentials: z.boolean().default(false),
  clock_skew: z.number().gt(0).default(300),
  anonymous: z.string().optional().transform((v) => (v === '' ? undefined : v)),
  validate_request_body: z.boolean().default(false),
  enforce_headers: z.array(z.string().min(1)).default([]),
  algorithms: z.array(z.enum(HMAC_ALGORITHMS)).min(1).default(['hmac-sha224', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512']),
  realm: z.string().min(1).optional(),
});

export type HmacAuthConfig = z.output<typeof hmacAuthConfigSchema>;

/** Served by the authz companion: the signature covers headers the client names per request, and a secret Envoy holds no HMAC check for. */
export const hmacAuthPlugin = definePlugin({
  name: 'hmac-auth',
  config: hmacAuthConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['algorithms', 'anonymous', 'clock_skew', 'enforce_headers', 'hide_credentials', 'realm', 'validate_request_body'] },
  enforcers: () => ['authz'],
  feature: (c): HmacAuthConfig => c,
});
