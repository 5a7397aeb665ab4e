import type { AuthOutcome, PluginContext } from '../context.js';
import { noRemovals } from '../context.js';
import { decodeBase64, type RequestView } from '../request.js';
import { AuthzInternalError, unauthorized } from '../responses.js';
import type { LdapAuthConfig } from '../types.js';

/**
 * `username` and `password` from one header value, as Kong's retrieve_credentials reads it: the
 * value, lower-cased, must start with optional white space, header_type and white space; the rest
 * is base64 (ngx.decode_base64), and the decoded text splits as Lua's `(.+):(.+)` does (the
 * username up to the last ":" that has something after it; neither part empty, so no bind is ever
 * made without a password). A username holding a control character is refused: it could not go
 * upstream in X-Credential-Identifier.
 */
export function ldapCredentials(value: string | undefined, headerType: string): { username: string; password: string } | undefined {
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  const type = headerType.toLowerCase();
  const lead = /^[ \t\n\v\f\r]*/.exec(lower)![0].length;
  if (!lower.startsWith(type, lead)) return undefined;
  const after = lower.slice(lead + type.length);
  const gap = /^[ \t\n\v\f\r]+/.exec(after)?.[0].length;
  if (!gap) return undefined;
  const decoded = decodeBase64(value.slice(lead + type.length + gap))?.toString('utf8');
  if (decoded === undefined) return undefined;
  const m = /([\s\S]+):([\s\S]+)/.exec(decoded);
  if (!m || /[\x00-\x1f\x7f]/.test(m[1]!)) return undefined;
  return { username: m[1]!, password: m[2]! };
}

/** Kong's challenge: the scheme (`LDAP` for the default header_type, else header_type as written), with `realm="..."` when configured. */
function challenge(conf: LdapAuthConfig): string {
  const type = conf.header_type || 'ldap';
  const scheme = type === 'ldap' ? 'LDAP' : type;
  return conf.realm ? `${scheme} realm="${conf.realm}"` : scheme;
}

/**
 * Kong's ldap-auth (kong/plugins/ldap-auth/access.lua, 3.x): neither Authorization nor
 * Proxy-Authorization is 401 `Unauthorized`; the credentials of Proxy-Authorization are tried,
 * then those of Authorization; neither accepted is 401 `Unauthorized`, every 401 with the
 * challenge. The server is asked by binding as `attribute=username,base_dn` with the password
 * (the username escaped, userDn); a server that cannot be reached or answers an error is 500
 * (thrown, the engine answers Kong's `An unexpected error occurred`). Accepted, the request has
 * no consumer, only the credential: X-Credential-Identifier is the username. hide_credentials
 * removes both headers.
 */
export async function authenticateLdapAuth(conf: LdapAuthConfig, req: RequestView, ctx: PluginContext): Promise<AuthOutcome> {
  const www = challenge(conf);
  const removals = noRemovals();
  const proxyAuthorization = req.firstHeader('proxy-authorization');
  const authorization = req.firstHeader('authorization');
  if (proxyAuthorization === undefined && authorization === undefined) return { ok: false, deny: unauthorized('Unauthorized', www), removals };
  for (const value of [proxyAuthorization, authorization]) {
    const given = ldapCredentials(value, conf.header_type || 'ldap');
    if (!given) continue;
    let ok: boolean;
    try {
      ok = await ctx.ldap.check(conf, given.username, given.password);
    } catch (e) {
      throw new AuthzInternalError('ldap-auth: the LDAP server could not decide', { ldapHost: conf.ldap_host, ldapPort: conf.ldap_port, err: (e as Error).message });
    }
    if (ok) {
      if (conf.hide_credentials) removals.headers.push('authorization', 'proxy-authorization');
      return { ok: true, credentialId: given.username, removals };
    }
  }
  return { ok: false, deny: unauthorized('Unauthorized', www), removals };
}
