/**
 * The authz decision engine: Kong's jwt, key-auth, basic-auth and acl plugins over an in-memory
 * snapshot. The ext_authz service wraps it: CheckRequest → AuthzRequest, AuthzDecision →
 * CheckResponse. See docs/authz.md.
 */
export { AuthzEngine, IDENTITY_HEADERS } from './engine.js';
export { jwtSecretProblem, keyAlgorithmProblem } from '../jwt-keys.js';
export type * from './types.js';
export { JWT_ALGORITHMS } from './types.js';
