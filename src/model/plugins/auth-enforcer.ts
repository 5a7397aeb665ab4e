import { z } from 'zod';

/**
 * The `enforcer` extension field of the auth plugins (jwt, key-auth, basic-auth, acl):
 * `native` (the default, also when unset) has Envoy check requests itself where it can give Kong's behaviour;
 * `companion` forces the authz companion (ext_authz). Kong has no such field.
 */
export const enforcerField = z.enum(['native', 'companion']).optional();

export type AuthEnforcerChoice = z.output<typeof enforcerField>;
