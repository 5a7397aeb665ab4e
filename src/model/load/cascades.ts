import type { Finding } from '../checks/authz.js';
import type { Found, ScopedPlugin } from './flat-config.js';
import type { Reporter } from './reporter.js';

/** Plugins that identify a consumer, Kong's and the ones Frontdesk serves: what acl needs in front of it. */
const AUTHENTICATING = new Set([
  'jwt', 'key-auth', 'basic-auth', 'oauth2', 'openid-connect', 'hmac-auth', 'ldap-auth', 'ldap-auth-advanced',
  'mtls-auth', 'key-auth-enc', 'oauth2-introspection', 'vault-auth', 'session', 'header-cert-auth', 'saml',
]);

/**
 * The cross checks' findings without those an earlier error already explains: when an
 * authenticating plugin was refused with an error of its own (not served, or a bad config),
 * "acl without an auth plugin" on every route behind it says nothing more, and would bury
 * the one error that matters under one per route.
 */
export function withoutCascades(rep: Reporter, plugins: readonly Found<ScopedPlugin>[], findings: readonly Finding[]): Finding[] {
  const refusedAuth = plugins.some(({ value, origin }) => typeof value.name === 'string' && AUTHENTICATING.has(value.name)
    && rep.diagnostics.some((d) => d.severity === 'error' && d.file === origin.file && origin.path.every((seg, i) => d.path[i] === seg)));
  return refusedAuth ? findings.filter((f) => f.diagnostic.code !== 'FD_AUTHZ_ACL_WITHOUT_AUTH') : [...findings];
}
