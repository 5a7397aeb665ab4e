import { z } from 'zod';
import { asIs, definePlugin } from './definition.js';

/**
 * Kong 3.x `standard-webhooks` plugin config (kong/plugins/standard-webhooks/schema.lua):
 * the HMAC-SHA256 key as written (Kong signs with the string's bytes, not a base64 decoding of
 * it) and how old a webhook's timestamp may be, in seconds (0 and up, 300 by default).
 */
export const standardWebhooksConfigSchema = z.strictObject({
  secret_v1: z.string().min(1, 'the webhook secret must not be empty'),
  tolerance_second: z.number().int().gt(-1).default(300),
});

export type StandardWebhooksConfig = z.output<typeof standardWebhooksConfigSchema>;

/**
 * Checked by the transform companion, in the ext_proc call that already sees the route's
 * request body: Envoy holds no HMAC check over a body. Kong runs it at priority 760, after
 * the auth plugins, the rate limits and request-transformer; so does the filter chain.
 */
export const standardWebhooksPlugin = definePlugin({
  name: 'standard-webhooks',
  config: standardWebhooksConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['secret_v1', 'tolerance_second'] },
  enforcers: () => ['transform'],
  feature: asIs<StandardWebhooksConfig>,
});
