import { z } from 'zod';
import { definePlugin } from './definition.js';
import { ipOrCidr } from './native-common.js';

/**
 * Kong's defaults for a refused request (kong/plugins/ip-restriction/handler.lua, Kong 3.4 and
 * later): 403, and the message names the client's address ("IP address not allowed: <addr>").
 */
export const IP_RESTRICTION_STATUS = 403;
export const IP_RESTRICTION_MESSAGE_PREFIX = 'IP address not allowed: ';

/**
 * Kong 3.x `ip-restriction` plugin config (kong/plugins/ip-restriction/schema.lua): allow and
 * deny lists of addresses or CIDR ranges (at least one non-empty), the status and message of a
 * refusal (Kong's defaults apply in its handler: 403, "IP address not allowed: <client address>").
 */
export const ipRestrictionConfigSchema = z.strictObject({
  allow: z.array(ipOrCidr).optional(),
  deny: z.array(ipOrCidr).optional(),
  status: z.number().int('must be an HTTP status (200-599)').min(200, 'must be an HTTP status Envoy can send (200-599)').max(599, 'must be an HTTP status (200-599)').optional(),
  message: z.string().optional(),
}).refine((c) => (c.allow?.length ?? 0) + (c.deny?.length ?? 0) > 0, {
  message: "at least one of these fields must be non-empty: 'config.allow', 'config.deny'", path: ['allow'],
});

export type IpRestrictionConfig = z.output<typeof ipRestrictionConfigSchema>;

/** What the IR carries: the lists, and the refusal with Kong's default status applied. */
export interface IpRestrictionFeature {
  allow: readonly string[];
  deny: readonly string[];
  status: number;
  message: string;
  /** Kong's default message ends with the client's address; a configured one is sent as written. */
  appendClientAddress: boolean;
}

export const ipRestrictionPlugin = definePlugin({
  name: 'ip-restriction',
  config: ipRestrictionConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['allow', 'deny', 'status', 'message'] },
  enforcers: () => ['envoy'],
  feature: (c): IpRestrictionFeature => ({
    allow: c.allow ?? [], deny: c.deny ?? [], status: c.status ?? IP_RESTRICTION_STATUS,
    message: c.message ?? IP_RESTRICTION_MESSAGE_PREFIX, appendClientAddress: c.message === undefined,
  }),
});
