import { X509Certificate, createPrivateKey } from 'node:crypto';
import { RE2JS } from 're2js';
import type { Json } from '../../json.js';

/**
 * What Envoy refuses beyond its protos' validation rules, for the messages Frontdesk builds:
 * each check runs on every message of its type, wherever it sits in a resource.
 */

type Obj = { [k: string]: Json };
export interface ExtraViolation {
  field: string;
  reason: string;
  /** Envoy accepts it, but no request could ever match it: refused by Frontdesk, not by Envoy. */
  neverMatches?: true;
}

// eslint-disable-next-line no-control-regex
const NUL_CR_LF = /[\u0000\r\n]/;

/** RE2 syntax, as Envoy's safe_regex compiles it (a pattern RE2 refuses makes the resource refused). */
function regexMatcher(m: Obj): ExtraViolation[] {
  const re = m.regex;
  if (typeof re !== 'string') return [];
  try {
    RE2JS.compile(re);
    return [];
  } catch (e) {
    return [{ field: 'regex', reason: `invalid regex ${JSON.stringify(re)}: ${(e as Error).message}` }];
  }
}

/**
 * A header value Envoy adds is a format string: `%%` is a literal percent sign and `%` opens a
 * command (`%REQ(x-id)%`, `%START_TIME(%s)%`, `%DOWNSTREAM_REMOTE_ADDRESS%`); any other `%`
 * makes Envoy's substitution formatter refuse the configuration.
 */
export function formatterProblem(value: string): string | undefined {
  let i = 0;
  while (i < value.length) {
    const p = value.indexOf('%', i);
    if (p < 0) return undefined;
    if (value[p + 1] === '%') { i = p + 2; continue; }
    const m = /^%[A-Z][A-Z0-9_]*(?:\((?:[^)]*)\))?(?::\d+)?%/.exec(value.slice(p));
    if (!m) return `unescaped '%' at offset ${p} (write '%%' for a literal percent sign)`;
    i = p + m[0].length;
  }
  return undefined;
}

function headerValueOption(o: Obj): ExtraViolation[] {
  const h = o.header as Obj | undefined;
  const v = h?.value;
  if (typeof v !== 'string') return [];
  const problem = formatterProblem(v);
  return problem ? [{ field: 'header.value', reason: `invalid header format string ${JSON.stringify(v)}: ${problem}` }] : [];
}

/**
 * A route path or prefix holding NUL, CR or LF: Envoy accepts the match itself (it refuses the
 * same text in a header value, such as the X-Forwarded-Prefix of a stripped path), but no
 * request path can hold those characters (HTTP/1 and HTTP/2 codecs refuse them), so the route
 * could never match.
 */
function routeMatch(m: Obj): ExtraViolation[] {
  const out: ExtraViolation[] = [];
  for (const k of ['prefix', 'path', 'path_separated_prefix']) {
    const v = m[k];
    if (typeof v === 'string' && NUL_CR_LF.test(v)) out.push({ field: k, reason: `${k} ${JSON.stringify(v)} holds a NUL, CR or LF character, which no request path can hold`, neverMatches: true });
  }
  return out;
}

/** Envoy loads the chain and the key and refuses a key that is not the certificate's. */
function tlsCertificate(c: Obj): ExtraViolation[] {
  const cert = (c.certificate_chain as Obj | undefined)?.inline_string;
  const key = (c.private_key as Obj | undefined)?.inline_string;
  if (typeof cert !== 'string' || typeof key !== 'string') return [];
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (e) {
    return [{ field: 'certificate_chain', reason: `failed to load certificate chain: ${(e as Error).message}` }];
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(key))) return [{ field: 'private_key', reason: 'the private key does not match the certificate' }];
  } catch (e) {
    return [{ field: 'private_key', reason: `failed to load private key: ${(e as Error).message}` }];
  }
  return [];
}

/** Message full name → its check. */
export const EXTRA_CHECKS: Record<string, (m: Obj) => ExtraViolation[]> = {
  'envoy.type.matcher.v3.RegexMatcher': regexMatcher,
  'envoy.config.core.v3.HeaderValueOption': headerValueOption,
  'envoy.config.route.v3.RouteMatch': routeMatch,
  'envoy.extensions.transport_sockets.tls.v3.TlsCertificate': tlsCertificate,
};
