import type { AuthzRequest } from './types.js';

/** A query or form value as nginx/Kong see it: `?a` is `true`, a repeated name is a list. */
export type ArgValue = string | true | Array<string | true>;

/**
 * Read-only view of one AuthzRequest, parsing the query, cookies and body at most once and only
 * when a plugin asks (most checks never touch the body).
 */
/** ngx.decode_base64: the standard alphabet, padding optional; undefined when it is not base64. */
export function decodeBase64(s: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.replace(/=+$/, '').length % 4 === 1) return undefined;
  return Buffer.from(s, 'base64');
}

export class RequestView {
  private queryCache?: Map<string, ArgValue>;
  private bodyCache?: Record<string, unknown>;

  constructor(readonly req: AuthzRequest) {}

  get method(): string {
    return this.req.method.toUpperCase();
  }

  /**
   * A request header by name, case-insensitively. Like nginx's header table, a name with "_"
   * also finds the header spelt with "-".
   */
  header(name: string): string | undefined {
    const lower = name.toLowerCase();
    const v = this.req.headers[lower];
    if (v !== undefined) return v;
    return lower.includes('_') ? this.req.headers[lower.replace(/_/g, '-')] : undefined;
  }

  /**
   * A request header's first value, as Kong's kong.request.get_header gives a header sent more
   * than once (where Envoy sent the values apart; else the joined value).
   */
  firstHeader(name: string): string | undefined {
    const lower = name.toLowerCase();
    const values = this.req.headerValues?.[lower] ?? (lower.includes('_') ? this.req.headerValues?.[lower.replace(/_/g, '-')] : undefined);
    return values ? values[0] : this.header(name);
  }

  /** Query arguments (nginx's get_uri_args: `+` and %XX decoded, `?a` → true, repeats → list). */
  get query(): Map<string, ArgValue> {
    if (!this.queryCache) {
      const q = this.req.path.indexOf('?');
      this.queryCache = q < 0 ? new Map() : parseArgs(this.req.path.slice(q + 1));
    }
    return this.queryCache;
  }

  /**
   * Every spelling, as the request writes it, of the query argument whose decoded name is
   * `name` (`apikey`, `api%6B%65%79`, `api+key`...): what must be removed from the query
   * string for the argument to be gone, since Envoy removes arguments by their written name.
   */
  rawQueryNames(name: string): string[] {
    const q = this.req.path.indexOf('?');
    if (q < 0) return [];
    const out = new Set<string>();
    for (const part of this.req.path.slice(q + 1).split('#')[0]?.split('&') ?? []) {
      const eq = part.indexOf('=');
      const raw = eq < 0 ? part : part.slice(0, eq);
      if (raw !== '' && decodeComponent(raw) === name) out.add(raw);
    }
    return [...out];
  }

  /** The first cookie called `name` (names compared case-insensitively, as nginx does). */
  cookie(name: string): string | undefined {
    const raw = this.req.headers.cookie;
    if (!raw) return undefined;
    const want = name.toLowerCase();
    for (const part of raw.split(/[;,]/)) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      if (part.slice(0, eq).trim().toLowerCase() === want) return part.slice(eq + 1).trim();
    }
    return undefined;
  }

  /**
   * The body as Kong's kong.request.get_body() reads it: JSON object, urlencoded form or
   * multipart form; anything else (or unparsable) is an empty table.
   */
  get body(): Record<string, unknown> {
    if (!this.bodyCache) this.bodyCache = parseBody(this.req.body, this.header('content-type'));
    return this.bodyCache;
  }
}

function decodeComponent(s: string): string {
  const plus = s.includes('+') ? s.replace(/\+/g, ' ') : s;
  if (!plus.includes('%')) return plus;
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus.replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  }
}

/** Parses `a=1&b&a=2` the way nginx's ngx.req.get_uri_args does. */
export function parseArgs(qs: string): Map<string, ArgValue> {
  const out = new Map<string, ArgValue>();
  const hash = qs.indexOf('#');
  const s = hash < 0 ? qs : qs.slice(0, hash);
  for (const part of s.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    if (key === '') continue;
    const value: string | true = eq < 0 ? true : decodeComponent(part.slice(eq + 1));
    const prev = out.get(key);
    if (prev === undefined) out.set(key, value);
    else if (Array.isArray(prev)) prev.push(value);
    else out.set(key, [prev, value]);
  }
  return out;
}

function parseBody(body: string | undefined, contentType: string | undefined): Record<string, unknown> {
  if (!body || !contentType) return {};
  const ct = contentType.toLowerCase();
  try {
    if (ct.startsWith('application/json') || /^application\/[^;]*\+json/.test(ct)) {
      const v: unknown = JSON.parse(body);
      return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
    }
    if (ct.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(parseArgs(body));
    if (ct.startsWith('multipart/form-data')) return parseMultipart(body, contentType);
  } catch {
    return {};
  }
  return {};
}

/** Text fields of a multipart/form-data body, by their Content-Disposition name. */
function parseMultipart(body: string, contentType: string): Record<string, unknown> {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return {};
  const out: Record<string, unknown> = {};
  for (const chunk of body.split(`--${boundary}`)) {
    const sep = chunk.indexOf('\r\n\r\n');
    if (sep < 0) continue;
    const head = chunk.slice(0, sep);
    const name = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(head)?.[1];
    if (name === undefined) continue;
    const value = chunk.slice(sep + 4).replace(/\r\n$/, '');
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}
