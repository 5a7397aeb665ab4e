import { z } from 'zod';
import { asIs, definePlugin } from './definition.js';
import { enforcerField } from './auth-enforcer.js';

/**
 * Kong 3.x `acl` plugin config (kong/plugins/acl/schema.lua), with Kong's defaults.
 * Exactly one of `allow` / `deny` holds groups (an empty list counts as unset, as deck writes it).
 * `include_consumer_groups: true` asks for Kong's consumer_groups entity, which Frontdesk does
 * not have: it is refused rather than silently ignored. `always_use_authenticated_groups`
 * loads either way: no plugin Frontdesk serves sets authenticated groups, so it changes nothing.
 */
export const aclConfigSchema = z.strictObject({
  allow: z.array(z.string().min(1)).optional(),
  deny: z.array(z.string().min(1)).optional(),
  hide_groups_header: z.boolean().default(false),
  include_consumer_groups: z.boolean().default(false),
  always_use_authenticated_groups: z.boolean().default(false),
  /** (extension) Who checks groups: Envoy itself (default, with a native auth plugin) or the authz companion. */
  enforcer: enforcerField,
}).refine(
  (c) => ((c.allow?.length ?? 0) > 0) !== ((c.deny?.length ?? 0) > 0),
  { message: 'set exactly one of "allow" or "deny" (a non-empty list of groups)', path: ['allow'] },
).refine(
  (c) => !c.include_consumer_groups,
  { message: 'include_consumer_groups: true needs Kong consumer_groups, which Frontdesk does not implement; leave it false', path: ['include_consumer_groups'] },
);

export type AclConfig = z.output<typeof aclConfigSchema>;

export const aclPlugin = definePlugin({
  name: 'acl',
  config: aclConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['allow', 'deny', 'hide_groups_header', 'include_consumer_groups', 'always_use_authenticated_groups', 'enforcer'] },
  enforcers: (c) => (c.enforcer === 'companion' ? ['authz'] : ['envoy']),
  feature: asIs,
});
