import type { AuthOutcome, PluginContext } from '../context.js';
import { noRemovals } from '../context.js';
import type { BasicAuthEntry } from '../credentials.js';
import type { RequestView } from '../request.js';
import { unauthorized } from '../responses.js';
import type { BasicAuthConfig } from '../types.js';

/**
 * `username:password` from a `Basic <base64>` header value, as Kong reads it: the scheme is
 * found anywhere in the value (`[Bb]asic\s*(.+)`), the base64 must decode, and the username is
 * everything before the first ":" (non-empty); the password is all the rest (more colons,
 * line breaks).
 */
export function parseBasic(value: string | undefined): { username: string; password: string } | undefined {
  if (value === undefined) return undefined;
  const m = /[Bb]asic\s*(.+)/.exec(value);
  if (!m) return undefined;
  const b64 = m[1]!;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1) return undefined;
  const decoded = Buffer.from(b64, 'base64').toString('utf8');
  // Kong's `([^:]+):(.*)` runs in PCRE, where "." stops at a line feed: "pass\nanything"
  // would authenticate as "pass". Envoy's basic_auth filter (the other enforcer) takes the
  // whole rest, and so does this: a password with a line break is compared whole (fail closed).
  const parts = /([^:]+):([\s\S]*)/.exec(decoded);
  if (!parts) return undefined;
  return { username: parts[1]!, password: parts[2]! };
}

/**
 * Kong's basic-auth: Proxy-Authorization first, then Authorization. Every failure is
 * 401 `Unauthorized` with `WWW-Authenticate: Basic realm="<realm>"`. hide_credentials strips
 * each header the plugin read.
 */
export function authenticateBasicAuth(conf: BasicAuthConfig, req: RequestView, ctx: PluginContext): AuthOutcome {
  const www = `Basic realm="${conf.realm || 'service'}"`;
  const removals = noRemovals();
  const proxyHeader = req.header('proxy-authorization');
  const authHeader = req.header('authorization');
  if (proxyHeader === undefined && authHeader === undefined) return { ok: false, deny: unauthorized('Unauthorized', www), removals };

  let entry: BasicAuthEntry | undefined;
  let given = parseBasic(proxyHeader);
  if (conf.hide_credentials && proxyHeader !== undefined) removals.headers.push('proxy-authorization');
  if (given) entry = ctx.index.findBasicUser(given.username);
  if (!entry) {
    given = parseBasic(authHeader);
    if (conf.hide_credentials && authHeader !== undefined) removals.headers.push('authorization');
    if (given) entry = ctx.index.findBasicUser(given.username);
  }
  const ok = ctx.index.checkPassword(entry, given?.password ?? '');
  if (!entry || !ok) return { ok: false, deny: unauthorized('Unauthorized', www), removals };
  return { ok: true, consumer: entry.consumer, credentialId: entry.username, removals };
}
