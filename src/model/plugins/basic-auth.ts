import { z } from 'zod';
import { definePlugin } from './definition.js';
import { enforcerField } from './auth-enforcer.js';

/** Kong 3.x `basic-auth` plugin config (kong/plugins/basic-auth/schema.lua), with Kong's defaults. */
export const basicAuthConfigSchema = z.strictObject({
  anonymous: z.string().optional().transform((v) => (v === '' ? undefined : v)),
  hide_credentials: z.boolean().default(false),
  /** (extension) Who checks passwords: Envoy itself (default, where it can give Kong's behaviour) or the authz companion. */
  enforcer: enforcerField,
  realm: z.string().min(1).default('service'),
});

export type BasicAuthConfig = z.output<typeof basicAuthConfigSchema>;

/** The basic-auth plugin's IR feature: its config, with `nativeBlocker` when Envoy cannot check it with Kong's behaviour. */
export type BasicAuthFeature = BasicAuthConfig & { nativeBlocker?: string };

/**
 * Why this config cannot be checked by Envoy (basic_auth behind the credential script) as Kong
 * does, or undefined: basic_auth answers a wrong password itself, so a route with `anonymous`
 * (Kong lets such a request through as the anonymous consumer) stays on the companion.
 */
export function basicAuthNativeBlocker(c: BasicAuthConfig): string | undefined {
  if (c.enforcer === 'companion') return 'enforcer: companion';
  if (c.anonymous !== undefined) return 'anonymous (Envoy answers a wrong password itself)';
  return undefined;
}

export const basicAuthPlugin = definePlugin({
  name: 'basic-auth',
  config: basicAuthConfigSchema,
  scopes: ['global', 'service', 'route'],
  fields: { applied: ['anonymous', 'hide_credentials', 'realm', 'enforcer'] },
  enforcers: (c) => (basicAuthNativeBlocker(c) ? ['authz'] : ['envoy']),
  feature: (c): BasicAuthFeature => {
    const why = basicAuthNativeBlocker(c);
    return why ? { ...c, nativeBlocker: why } : c;
  },
});
