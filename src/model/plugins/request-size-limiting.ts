import { z } from 'zod';
import { definePlugin } from './definition.js';

/** Kong's size units and their factors (kong/plugins/request-size-limiting/handler.lua). */
export const SIZE_UNIT_BYTES = { megabytes: 1_048_576, kilobytes: 1024, bytes: 1 } as const;

/** Kong 3.x `request-size-limiting` plugin config (kong/plugins/request-size-limiting/schema.lua), with Kong's defaults. */
export const requestSizeLimitingConfigSchema = z.strictObject({
  allowed_payload_size: z.number().int().min(0).default(128),
  size_unit: z.enum(['megabytes', 'kilobytes', 'bytes']).default('megabytes'),
  require_content_length: z.boolean().default(false),
}).refine((c) => c.allowed_payload_size * SIZE_UNIT_BYTES[c.size_unit] <= 2 ** 52, {
  message: 'is too large (more than 2^52 bytes)', path: ['allowed_payload_size'],
});

export type RequestSizeLimitingConfig = z.output<typeof requestSizeLimitingConfigSchema>;

/** The largest request body allowed, in bytes. */
export function allowedBytes(c: RequestSizeLimitingConfig): number {
  return c.allowed_payload_size * SIZE_UNIT_BYTES[c.size_unit];
}

/** What the IR carries: the limit in bytes, and whether a body must declare its length. */
export interface RequestSizeLimitingFeature {
  allowedBytes: number;
  requireContentLength: boolean;
}

export const requestSizeLimitingPlugin = definePlugin({
  name: 'request-size-limiting',
  config: requestSizeLimitingConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['allowed_payload_size', 'size_unit', 'require_content_length'] },
  enforcers: () => ['envoy'],
  feature: (c): RequestSizeLimitingFeature => ({ allowedBytes: allowedBytes(c), requireContentLength: c.require_content_length }),
});
