import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { SessionConfig } from '../types.js';
import type { RequestView } from '../request.js';

/**
 * Kong's session plugin (kong/plugins/session: access.lua, header_filter.lua, session.lua) with
 * its cookie storage: the session lives in the cookie itself, encrypted and authenticated
 * (AES-256-GCM under a key derived from `secret` with HKDF-SHA256, the cookie's name as
 * associated data), so any authz instance with the same secret reads it. What the cookie holds
 * and when it is re-issued follow lua-resty-session 4, which Kong's plugin is built on: a
 * session is valid within its idling, rolling and absolute timeouts (0 disables one), is
 * touched (its idle time restarted) when more than a minute has passed since the last touch,
 * and saved anew (its rolling time restarted, its creation kept) once three quarters of the
 * rolling timeout are spent. The byte format is Frontdesk's own: cookies are opaque to clients.
 */

/** What a session cookie carries. Times are seconds since the epoch. */
export interface SessionData {
  /** The session's id (random, base64url): Session-Id. */
  id: string;
  consumerId: string;
  /** X-Credential-Identifier of the authentication it came from; none for a consumer-only session. */
  credentialId?: string;
  subject: string;
  audience: string;
  created: number;
  rolled: number;
  touched: number;
  /** With `bind`: a hash of the client's address, scheme and user agent as bound. */
  bound?: string;
  /** With `remember`: when the persistent session it belongs to began (its absolute timeout counts from there). */
  remembered?: number;
}

const VERSION = 1;
const TOUCH_AFTER_S = 60;

function key(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'frontdesk-session', 'frontdesk session cookie v1', 32));
}

const sessionName = (c: SessionConfig) => c.cookie_name || 'session';
const rememberName = (c: SessionConfig) => c.remember_cookie_name || 'remember';

/** The cookie value of a session (sealed for the cookie `name`, the session cookie's by default). */
export function sealSession(c: SessionConfig, d: SessionData, name = sessionName(c)): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key(c.secret ?? ''), iv);
  cipher.setAAD(Buffer.from(name));
  const body = Buffer.concat([cipher.update(JSON.stringify(d), 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, body, cipher.getAuthTag()]).toString('base64url');
}

/** The session a cookie value holds, or undefined when it was not made with this secret and cookie name (or was altered). */
export function openSeal(c: SessionConfig, value: string, name = sessionName(c)): SessionData | undefined {
  const raw = Buffer.from(value, 'base64url');
  if (raw.length < 1 + 12 + 16 + 2 || raw[0] !== VERSION) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key(c.secret ?? ''), raw.subarray(1, 13));
    decipher.setAAD(Buffer.from(name));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    const text = Buffer.concat([decipher.update(raw.subarray(13, raw.length - 16)), decipher.final()]).toString('utf8');
    const d = JSON.parse(text) as SessionData;
    return typeof d.consumerId === 'string' && typeof d.created === 'number' ? d : undefined;
  } catch {
    return undefined;
  }
}

/** Seconds left of each timeout (Infinity for one that is off); a session is valid while all are above 0. */
export function remaining(c: SessionConfig, d: SessionData, now: number): { idling: number; rolling: number; absolute: number } {
  const left = (limit: number | undefined, since: number) => (Number(limit ?? 0) > 0 ? Number(limit) - (now - since) : Infinity);
  return { idling: left(c.idling_timeout, d.touched), rolling: left(c.rolling_timeout, d.rolled), absolute: left(c.absolute_timeout, d.created) };
}

/** What `bind` ties a session to, hashed (lua-resty-session's bind: ip, scheme, user-agent); undefined without bind. */
function binding(c: SessionConfig, req: RequestView): string | undefined {
  const bind = c.bind ?? [];
  if (!bind.length) return undefined;
  const value = (b: string) => (b === 'ip' ? req.req.clientIp : b === 'scheme' ? req.req.scheme : req.header('user-agent')) ?? '';
  return createHash('sha256').update(JSON.stringify(bind.map((b) => [b, value(b)]))).digest('base64url');
}

/** The request's session, when its cookie holds one of this audience that has not timed out (and, with bind, the same client). */
export function openSession(c: SessionConfig, req: RequestView, now: number): SessionData | undefined {
  const value = req.cookie(sessionName(c));
  if (!value) return undefined;
  const d = openSeal(c, value);
  if (!d || d.audience !== (c.audience || 'default') || d.bound !== binding(c, req)) return undefined;
  const r = remaining(c, d, now);
  return r.idling > 0 && r.rolling > 0 && r.absolute > 0 ? d : undefined;
}

/**
 * With `remember`: the persistent session of the remember cookie, when its own rolling and
 * absolute timeouts (remember_rolling_timeout since it was last saved, remember_absolute_timeout
 * since it began) have not passed; a session cookie gone or timed out is then restored from it.
 */
export function openRemembered(c: SessionConfig, req: RequestView, now: number): SessionData | undefined {
  if (!c.remember) return undefined;
  const value = req.cookie(rememberName(c));
  const d = value ? openSeal(c, value, rememberName(c)) : undefined;
  if (!d || d.audience !== (c.audience || 'default') || d.bound !== binding(c, req)) return undefined;
  const within = (limit: number | undefined, since: number) => !(Number(limit ?? 0) > 0) || now - since <= Number(limit);
  return within(c.remember_rolling_timeout, d.rolled) && within(c.remember_absolute_timeout, d.remembered ?? d.created) ? d : undefined;
}

/** A session restored from a remembered one: a new id and times, the persistent session's start kept. */
export function restoredSession(d: SessionData, now: number): SessionData {
  return { ...d, id: randomBytes(32).toString('base64url'), created: now, rolled: now, touched: now, remembered: d.remembered ?? d.created };
}

/** The Set-Cookie of the remember cookie: the session saved for remember_rolling_timeout (at most what its absolute timeout leaves), persistent. */
export function rememberCookie(c: SessionConfig, d: SessionData, now: number): string {
  const rolling = Number(c.remember_rolling_timeout ?? 0);
  const absolute = Number(c.remember_absolute_timeout ?? 0);
  const started = d.remembered ?? d.created;
  const left = [rolling > 0 ? rolling : Infinity, absolute > 0 ? absolute - (now - started) : Infinity];
  const ttl = Math.max(0, Math.floor(Math.min(...left)));
  const saved: SessionData = { ...d, rolled: now, touched: now, remembered: started };
  const expiry = Number.isFinite(ttl) ? `; Expires=${new Date((now + ttl) * 1000).toUTCString()}; Max-Age=${ttl}` : '';
  return `${rememberName(c)}=${sealSession(c, saved, rememberName(c))}; ${attributes(c)}${expiry}`;
}

/** The Set-Cookies that end a session: its cookie, and with `remember` the remember cookie. */
export function clearedCookies(c: SessionConfig): string[] {
  const gone = (name: string) => `${name}=; ${attributes(c)}; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=0`;
  return c.remember ? [gone(sessionName(c)), gone(rememberName(c))] : [gone(sessionName(c))];
}

/** A new session for an authentication that just succeeded (header_filter.lua's save). */
export function newSession(c: SessionConfig, consumer: { id: string; username?: string; customId?: string }, credentialId: string | undefined, now: number, req: RequestView): SessionData {
  const bound = binding(c, req);
  return {
    ...(bound ? { bound } : {}),
    id: randomBytes(32).toString('base64url'),
    consumerId: consumer.id,
    ...(credentialId !== undefined ? { credentialId } : {}),
    subject: consumer.username ?? consumer.customId ?? consumer.id,
    audience: c.audience || 'default',
    created: now,
    rolled: now,
    touched: now,
    ...(c.remember ? { remembered: now } : {}),
  };
}

/**
 * lua-resty-session's refresh: the session saved anew (a new id, its rolling time restarted)
 * once three quarters of the rolling timeout are spent, else touched when more than a minute
 * has passed since the last touch and an idling timeout is on; undefined when it stays as it is.
 */
export function refreshSession(c: SessionConfig, d: SessionData, now: number): SessionData | undefined {
  const rolling = Number(c.rolling_timeout ?? 0);
  if (rolling > 0 && now - d.rolled >= (rolling * 3) / 4) {
    return { ...d, id: randomBytes(32).toString('base64url'), rolled: now, touched: now };
  }
  if (Number(c.idling_timeout ?? 0) > 0 && now - d.touched > TOUCH_AFTER_S) return { ...d, touched: now };
  return undefined;
}

function attributes(c: SessionConfig): string {
  const parts = [`Path=${c.cookie_path || '/'}`];
  if (c.cookie_domain) parts.push(`Domain=${c.cookie_domain}`);
  const site = c.cookie_same_site || 'Strict';
  if (site !== 'Default') parts.push(`SameSite=${site}`);
  if (c.cookie_http_only) parts.push('HttpOnly');
  if (c.cookie_secure) parts.push('Secure');
  return parts.join('; ');
}

/** The Set-Cookie of a session (a browser-session cookie: no Expires; `remember` keeps a persistent cookie beside it). */
export function sessionCookie(c: SessionConfig, d: SessionData): string {
  return `${sessionName(c)}=${sealSession(c, d)}; ${attributes(c)}`;
}

/** session.lua's logout: a method of logout_methods with logout_query_arg in the query, or (read_body_for_logout) logout_post_arg in the body. */
export function isLogout(c: SessionConfig, req: RequestView): boolean {
  if (!(c.logout_methods ?? []).includes(req.method)) return false;
  if (c.logout_query_arg && req.query.has(c.logout_query_arg)) return true;
  return c.read_body_for_logout === true && !!c.logout_post_arg && req.body[c.logout_post_arg] !== undefined;
}

const HEADER_NAMES: Readonly<Record<string, string>> = {
  id: 'session-id', audience: 'session-audience', subject: 'session-subject', timeout: 'session-timeout',
  'idling-timeout': 'session-idling-timeout', 'rolling-timeout': 'session-rolling-timeout', 'absolute-timeout': 'session-absolute-timeout',
};

/** The Session-* headers `which` names (request_headers or response_headers), the timeouts as the seconds left. */
export function sessionHeaders(c: SessionConfig, d: SessionData, now: number, which: readonly string[]): Record<string, string> {
  const r = remaining(c, d, now);
  const secs = (v: number) => (Number.isFinite(v) ? String(Math.max(0, Math.floor(v))) : '0');
  const value: Record<string, string> = {
    id: d.id, audience: d.audience, subject: d.subject, timeout: secs(Math.min(r.idling, r.rolling, r.absolute)),
    'idling-timeout': secs(r.idling), 'rolling-timeout': secs(r.rolling), 'absolute-timeout': secs(r.absolute),
  };
  const out: Record<string, string> = {};
  for (const w of which) if (HEADER_NAMES[w]) out[HEADER_NAMES[w]] = value[w]!;
  return out;
}
