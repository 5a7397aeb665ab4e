import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuthOutcome, PluginContext } from '../context.js';
import { noRemovals } from '../context.js';
import { decodeBase64, type RequestView } from '../request.js';
import { unauthorized } from '../responses.js';
import type { HmacAuthConfig } from '../types.js';

/** Kong's algorithm names → Node's digest names. */
const DIGESTS: Readonly<Record<string, string>> = {
  'hmac-sha1': 'sha1', 'hmac-sha224': 'sha224', 'hmac-sha256': 'sha256', 'hmac-sha384': 'sha384', 'hmac-sha512': 'sha512',
};

/** The algorithm names a policy may list. */
export const HMAC_DIGESTS: ReadonlySet<string> = new Set(Object.keys(DIGESTS));

const SIGNATURE_NOT_VALID = 'HMAC signature cannot be verified';
const SIGNATURE_NOT_SAME = 'HMAC signature does not match';
const DATE_REQUIRED = 'HMAC signature cannot be verified, a valid date or x-date header is required for HMAC Authentication';

/**
 * Kong's pattern for the credentials (ngx.re.gmatch, unanchored, greedy groups): the first
 * match anywhere in the header value.
 */
const HMAC_FIELDS = /\s*[Hh]mac\s*username="(.+)",\s*algorithm="(.+)",\s*headers="(.+)",\s*signature="(.+)"/;

interface HmacParams {
  username: string;
  algorithm: string;
  headers: string[];
  signature: string;
}

function hmacFields(value: string | undefined): HmacParams | undefined {
  if (value === undefined) return undefined;
  const m = HMAC_FIELDS.exec(value);
  // Kong's utils.split on one space: two spaces in a row give an empty name.
  return m ? { username: m[1]!, algorithm: m[2]!, headers: m[3]!.split(' '), signature: m[4]! } : undefined;
}

const MONTHS: Readonly<Record<string, number>> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
/** RFC 1123 (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`), asctime (`Sun Nov  6 08:49:37 1994`). */
const RFC1123 = /^[A-Za-z]+, (\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850 = /^[A-Za-z]+, (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME = /^[A-Za-z]{3} ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/**
 * An HTTP date in seconds since the epoch, as nginx's ngx_parse_http_time reads the three forms
 * HTTP allows; undefined for anything else.
 */
export function parseHttpDate(value: string): number | undefined {
  let day: string, month: string, year: number, hh: string, mm: string, ss: string;
  let m = RFC1123.exec(value);
  if (m) [day, month, year, hh, mm, ss] = [m[1]!, m[2]!, Number(m[3]), m[4]!, m[5]!, m[6]!];
  else if ((m = RFC850.exec(value))) [day, month, year, hh, mm, ss] = [m[1]!, m[2]!, 1900 + Number(m[3]), m[4]!, m[5]!, m[6]!];
  else if ((m = ASCTIME.exec(value))) [month, day, hh, mm, ss, year] = [m[1]!, m[2]!.trim(), m[3]!, m[4]!, m[5]!, Number(m[6])];
  else return undefined;
  const mon = MONTHS[month];
  const [d, h, mi, s] = [Number(day), Number(hh), Number(mm), Number(ss)];
  if (mon === undefined || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const t = Date.UTC(year, mon, d, h, mi, s);
  // 31 Feb and the like roll over in Date.UTC: refused, as nginx refuses a day past the month's end.
  return new Date(t).getUTCDate() === d ? t / 1000 : undefined;
}

/** Whether the header holds an HTTP date within `skew` seconds of now. */
function withinSkew(value: string | undefined, skew: number, nowSeconds: number): boolean {
  if (value === undefined) return false;
  const t = parseHttpDate(value);
  return t !== undefined && Math.abs(nowSeconds - t) <= skew;
}

/** Kong's HTTP version for a request line (`HTTP/%.01f`): HTTP/2 is `HTTP/2.0`. */
function httpVersion(protocol: string | undefined): string {
  const v = /^HTTP\/(\d)(?:\.(\d))?$/.exec(protocol ?? 'HTTP/1.1');
  return v ? `HTTP/${v[1]}.${v[2] ?? '0'}` : 'HTTP/1.1';
}

/** kong.request.get_path_with_query(): the path, then `?` and the query when there is one. */
function pathWithQuery(path: string): string {
  return path.endsWith('?') ? path.slice(0, -1) : path;
}

/**
 * The string the client signed, as Kong builds it: for each name in the signature's headers
 * list, `name: value` (the name as listed); without such a header, `request-line` is the request
 * line, `@request-target` the lower-case method, a space and the path with its query, any other
 * name `name:`; joined by "\n".
 */
export function signingString(names: readonly string[], req: RequestView): string {
  const uri = pathWithQuery(req.req.path);
  return names.map((name) => {
    const value = name === '' ? undefined : req.firstHeader(name);
    if (value !== undefined) return `${name}: ${value}`;
    if (name === 'request-line') return `${req.method} ${uri} ${httpVersion(req.req.protocol)}`;
    if (name === '@request-target') return `${req.method.toLowerCase()} ${uri}`;
    return `${name}:`;
  }).join('\n');
}

/** Kong's validate_body: no Digest header passes only an empty body; else `SHA-256=` + base64 of the body's SHA-256. */
function bodyMatches(req: RequestView): boolean {
  const body = req.req.bodyBytes ?? Buffer.alloc(0);
  const digest = req.firstHeader('digest');
  if (digest === undefined) return body.length === 0;
  return digest === `SHA-256=${createHash('sha256').update(body).digest('base64')}`;
}

/**
 * Kong's hmac-auth (kong/plugins/hmac-auth/access.lua): neither Authorization nor
 * Proxy-Authorization is 401 `Unauthorized`; then a Date or X-Date within clock_skew, else 401
 * with the date message; the credentials from Proxy-Authorization, else Authorization; a
 * signature that does not parse, leaves out an enforced header or names an algorithm not
 * listed, or an unknown username, is `HMAC signature cannot be verified`; a wrong signature or
 * (validate_request_body) a Digest that does not match the body is `HMAC signature does not
 * match`. Every 401 carries `WWW-Authenticate: hmac` (with `realm="..."` when configured).
 * hide_credentials removes the header the credentials came from.
 */
export function authenticateHmacAuth(conf: HmacAuthConfig, req: RequestView, ctx: PluginContext): AuthOutcome {
  const www = conf.realm ? `hmac realm="${conf.realm}"` : 'hmac';
  const removals = noRemovals();
  const authorization = req.firstHeader('authorization');
  const proxyAuthorization = req.firstHeader('proxy-authorization');
  if (authorization === undefined && proxyAuthorization === undefined) return { ok: false, deny: unauthorized('Unauthorized', www), removals };

  const skew = Number(conf.clock_skew ?? 300);
  const now = Math.floor(ctx.now() / 1000);
  if (!withinSkew(req.firstHeader('x-date'), skew, now) && !withinSkew(req.firstHeader('date'), skew, now)) {
    return { ok: false, deny: unauthorized(DATE_REQUIRED, www), removals };
  }

  let params = hmacFields(proxyAuthorization);
  if (!params) {
    params = hmacFields(authorization);
    if (conf.hide_credentials) removals.headers.push('authorization');
  } else if (conf.hide_credentials) {
    removals.headers.push('proxy-authorization');
  }
  const notValid = { ok: false as const, deny: unauthorized(SIGNATURE_NOT_VALID, www), removals };
  if (!params) return notValid;
  const signed = new Set(params.headers);
  if ((conf.enforce_headers ?? []).some((h) => !signed.has(h))) return notValid;
  const digest = (conf.algorithms ?? []).includes(params.algorithm) ? DIGESTS[params.algorithm] : undefined;
  if (!digest) return notValid;
  const cred = ctx.index.findHmacUser(params.username);
  if (!cred) return notValid;

  const expected = createHmac(digest, cred.secret).update(signingString(params.headers, req), 'utf8').digest();
  const given = decodeBase64(params.signature);
  if (!given || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, deny: unauthorized(SIGNATURE_NOT_SAME, www), removals };
  }
  if (conf.validate_request_body && !bodyMatches(req)) return { ok: false, deny: unauthorized(SIGNATURE_NOT_SAME, www), removals };
  return { ok: true, consumer: cred.consumer, credentialId: cred.username, removals };
}
