import { jwtSecretProblem, type JwtAlgorithm } from '../../jwt-keys.js';
import { diag, type Diagnostic } from '../../errors.js';
import { pluginFeature } from '../plugins/index.js';
import type { Consumer, Origin, Plugin, Route, Service } from '../types.js';

/** A diagnostic and the entity it is about (its file; the YAML path is in the diagnostic). */
export interface Finding {
  origin: Origin;
  diagnostic: Diagnostic;
}

const AUTH = ['jwt', 'key-auth', 'ldap-auth', 'basic-auth', 'hmac-auth'] as const;
/** What gives a route's requests a consumer for acl: an auth plugin, or a session one of them opened. */
const IDENTIFIES: readonly string[] = [...AUTH, 'session'];

function consumerName(c: Consumer): string {
  return c.username ?? c.custom_id ?? c.id ?? c.key;
}

/**
 * The authz checks that need the whole configuration, run once it has loaded:
 * - a jwt_secret whose algorithm does not fit its key, or whose key does not parse;
 * - the same credential on two consumers (key-auth key, jwt key, basic-auth or hmac-auth username), which
 *   would make one of them unreachable;
 * - acl on a route that has no jwt, key-auth, ldap-auth, basic-auth, hmac-auth or session after scopes merged
 *   (every request would get 401);
 * - an hmacauth_credential without a secret (Kong would generate one no client knows);
 * - `anonymous` naming no consumer (failed authentications would get 500);
 * - key-auth with key_in_body and hide_credentials (ext_authz cannot edit a body).
 * Each names the credential or plugin where it was written; none quotes a secret.
 */
export function checkAuthz(consumers: readonly Consumer[], plugins: readonly Plugin[], routes: readonly Route[], services: readonly Service[]): Finding[] {
  const out: Finding[] = [];
  const at = (origin: Origin, diagnostic: Diagnostic) => out.push({ origin, diagnostic });

  // ---- credentials ----
  const jwtKeys = new Map<string, Consumer>();
  const apiKeys = new Map<string, Consumer>();
  const basicUsers = new Map<string, Consumer>();
  const hmacUsers = new Map<string, Consumer>();
  for (const c of consumers) {
    for (const s of c.jwt_secrets) {
      if (s.key === undefined) {
        at(s.origin, diag('FD_AUTHZ_JWT_NO_KEY', s.origin.path));
      } else {
        const problem = jwtSecretProblem({
          consumerId: c.key, key: s.key, algorithm: s.algorithm as JwtAlgorithm,
          ...(s.secret !== undefined ? { secret: s.secret } : {}),
          ...(s.rsa_public_key !== undefined ? { rsaPublicKey: s.rsa_public_key } : {}),
          ...(s.jwks !== undefined ? { jwks: s.jwks } : {}),
          ...(s.jwks_uri !== undefined ? { jwksUri: s.jwks_uri } : {}),
        });
        if (problem) {
          const field = s.rsa_public_key !== undefined ? 'rsa_public_key' : s.jwks !== undefined ? 'jwks' : s.secret !== undefined ? 'secret' : 'algorithm';
          at(s.origin, diag('FD_AUTHZ_JWT_SECRET', [...s.origin.path, field], s.key, problem));
        }
        const first = jwtKeys.get(s.key);
        if (first) at(s.origin, diag('FD_AUTHZ_DUPLICATE_CREDENTIAL', [...s.origin.path, 'key'], 'jwt', consumerName(c), consumerName(first)));
        else jwtKeys.set(s.key, c);
      }
    }
    for (const k of c.keyauth_credentials) {
      const first = apiKeys.get(k.key);
      if (first) at(k.origin, diag('FD_AUTHZ_DUPLICATE_CREDENTIAL', [...k.origin.path, 'key'], 'key-auth', consumerName(c), consumerName(first)));
      else apiKeys.set(k.key, c);
    }
    for (const b of c.basicauth_credentials) {
      const first = basicUsers.get(b.username);
      if (first) at(b.origin, diag('FD_AUTHZ_DUPLICATE_CREDENTIAL', [...b.origin.path, 'username'], 'basic-auth', consumerName(c), consumerName(first)));
      else basicUsers.set(b.username, c);
    }
    for (const h of c.hmacauth_credentials) {
      if (h.secret === undefined) at(h.origin, diag('FD_AUTHZ_HMAC_NO_SECRET', h.origin.path, h.username));
      const first = hmacUsers.get(h.username);
      if (first) at(h.origin, diag('FD_AUTHZ_DUPLICATE_CREDENTIAL', [...h.origin.path, 'username'], 'hmac-auth', consumerName(c), consumerName(first)));
      else hmacUsers.set(h.username, c);
    }
  }

  // ---- plugins ----
  const consumerRefs = new Set<string>();
  for (const c of consumers) {
    if (c.id) consumerRefs.add(c.id);
    if (c.username) consumerRefs.add(c.username);
  }
  for (const p of plugins) {
    const name = AUTH.find((a) => a === p.name);
    if (!name) continue;
    const conf = pluginFeature(name, p.config);
    if (conf.anonymous !== undefined && !consumerRefs.has(conf.anonymous)) {
      at(p.origin, diag('FD_AUTHZ_UNKNOWN_ANONYMOUS', [...p.origin.path, 'config', 'anonymous'], p.name, conf.anonymous));
    }
  }

  // ---- acl without an auth plugin, per route after route > service > global ----
  // The plugins not scoped to a consumer, by name, listed once (not once per route).
  const unscoped = new Map<string, Plugin[]>();
  for (const p of plugins) {
    if (p.scope.consumer !== undefined || (p.name !== 'acl' && !IDENTIFIES.includes(p.name))) continue;
    const list = unscoped.get(p.name);
    if (list) list.push(p);
    else unscoped.set(p.name, [p]);
  }
  if (!unscoped.has('acl')) return out;
  const serviceNames = new Set(services.map((s) => s.name));
  const effective = (r: Route, name: string): Plugin | undefined => {
    const mine = unscoped.get(name);
    if (!mine) return undefined;
    return mine.find((p) => p.scope.route === r.name)
      ?? (r.service && serviceNames.has(r.service) ? mine.find((p) => !p.scope.route && p.scope.service === r.service) : undefined)
      ?? mine.find((p) => !p.scope.route && !p.scope.service);
  };
  for (const r of routes) {
    const acl = effective(r, 'acl');
    if (!acl) continue;
    if (IDENTIFIES.some((a) => effective(r, a))) continue;
    at(acl.origin, diag('FD_AUTHZ_ACL_WITHOUT_AUTH', [...acl.origin.path, 'name'], r.name));
  }
  return out;
}
