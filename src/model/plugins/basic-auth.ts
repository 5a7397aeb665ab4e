import { z } from 'zod';
import { asIs, definePlugin } from './definition.js';
import { enforcerField } from './auth-enforcer.js';

/** Kong 3.x `basic-auth` plugin config (kong/plugins/basic-auth/schema.lua), with Kong's defaults. */
export const basicAuthConfigSchema = z.strictObject({
  anonymous: z.string().optional().transform((v) => (v === '' ? undefined : v)),
  hide_credentials: z.boolean().default(false),
  /** (extension) `companion` asks for the authz companion; native is not served yet, so either way the companion checks. */
  enforcer: enforcerField,
  realm: z.string().min(1).default('service'),
});

export type BasicAuthConfig = z.output<typeof basicAuthConfigSchema>;

export const basicAuthPlugin = definePlugin({
  name: 'basic-auth',
  config: basicAuthConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['anonymous', 'hide_credentials', 'realm', 'enforcer'] },
  enforcers: () => ['authz'],
  feature: asIs,
});
