/**
 * Kong's response-ratelimiting, decided (kong/plugins/response-ratelimiting: access.lua,
 * header_filter.lua, log.lua): at the request, each named quota's use in its current windows
 * is read; a quota with a window at exactly nothing left refuses the request when
 * block_on_first_violation is set, and the upstream is told what is left of each quota
 * (X-RateLimit-Remaining-<name>). At the response, the upstream's header (`name=units, ...`)
 * says what the request spent: the client sees each window's limit and what is left after it,
 * a response that spends a quota already used up is replaced by a 429, and otherwise the units
 * are counted (a 429 counts nothing). Pure: the counts come from a CounterStore (counters.ts), the clock is an argument.
 */
import { fixedWindowBounds } from '../fixed-windows.js';
import type { RateLimitPeriod as Unit } from '../rate-limits.js';
import type { ResponseRateLimiting__Output as Config } from '../contracts/transform.js';

/** One window of one quota at the request: its limit and what was left before this request. */
export interface WindowUse { name: string; unit: Unit; limit: number; remaining: number }

/** A counter: its key and when its window ends. */
export interface CounterKey { key: string; endMs: number }

/** The counters of a request's quotas, one per window, in the config's order (limits, then windows). */
export function counterKeys(c: Config, identifier: string, nowMs: number): CounterKey[] {
  const out: CounterKey[] = [];
  for (const l of c.limits) {
    for (const w of l.windows) {
      const b = fixedWindowBounds(w.unit as Unit, nowMs);
      out.push({ key: `response-ratelimit:${c.scope}:${identifier}:${b.startMs}:${l.name}:${w.unit}`, endMs: b.endMs });
    }
  }
  return out;
}

/** Each window's use, from the counts read at counterKeys (same order). */
export function windowUses(c: Config, counts: readonly number[]): WindowUse[] {
  const out: WindowUse[] = [];
  let i = 0;
  for (const l of c.limits) for (const w of l.windows) out.push({ name: l.name, unit: w.unit as Unit, limit: w.limit, remaining: w.limit - (counts[i++] ?? 0) });
  return out;
}

/**
 * The request's side: the quota that refuses it (block_on_first_violation: a window with
 * exactly nothing left, as Kong compares), or the headers the upstream gets, each quota's
 * smallest remaining.
 */
export function atRequest(c: Config, uses: readonly WindowUse[]): { refusedBy: string } | { upstream: Array<[string, string]> } {
  const upstream: Array<[string, string]> = [];
  for (const l of c.limits) {
    let remaining: number | undefined;
    for (const u of uses) {
      if (u.name !== l.name) continue;
      if (c.block_on_first_violation && u.remaining === 0) return { refusedBy: l.name };
      if (remaining === undefined || u.remaining < remaining) remaining = u.remaining;
    }
    if (remaining !== undefined) upstream.push([`x-ratelimit-remaining-${l.name}`, String(remaining)]);
  }
  return { upstream };
}

/**
 * The units the upstream's response spends, by quota name: its header's values (several
 * headers: one `name=units` each; one header: split at commas), each `name=units` with exactly
 * one "=", names and units trimmed, only the config's quotas, units as Lua's tonumber reads
 * them (a value it cannot read spends nothing). A later entry for a name replaces an earlier.
 */
export function spentUnits(c: Config, values: readonly string[]): Map<string, number> {
  const names = new Set(c.limits.map((l) => l.name));
  const parts = values.length > 1 ? values : values.length ? values[0]!.split(',') : [];
  const out = new Map<string, number>();
  for (const part of parts) {
    const kv = part.split('=');
    if (kv.length !== 2) continue;
    const name = kv[0]!.trim();
    if (!names.has(name)) continue;
    const units = luaToNumber(kv[1]!.trim());
    if (units === undefined) out.delete(name);
    else out.set(name, units);
  }
  return out;
}

/**
 * The response's side: whether it is replaced by Kong's 429 (it spends a quota that had nothing
 * left), and the headers the client sees (none with hide_client_headers): each window's limit
 * and what is left after this response's spending; on the 429, what was left before it (Kong's
 * exit from its header filter runs the filter again on the answer, which spends nothing: its
 * specs' 429s show the windows' remaining unspent).
 */
export function atResponse(c: Config, uses: readonly WindowUse[], spent: ReadonlyMap<string, number>): { headers: Array<[string, string]>; refused: boolean } {
  let refused = false;
  for (const u of uses) {
    const units = spent.get(u.name);
    if (units !== undefined && units > 0 && u.remaining <= 0) refused = true;
  }
  const headers: Array<[string, string]> = [];
  if (!c.hide_client_headers) {
    for (const u of uses) {
      const units = refused ? 0 : spent.get(u.name) ?? 0;
      headers.push([`X-RateLimit-Limit-${u.name}-${u.unit}`, String(u.limit)], [`X-RateLimit-Remaining-${u.name}-${u.unit}`, String(Math.max(0, u.remaining - units))]);
    }
  }
  return { headers, refused };
}

/** What to add to which counter once the response went through: each spent quota's windows (Kong counts nothing for 0). */
export function additions(c: Config, keys: readonly CounterKey[], spent: ReadonlyMap<string, number>): Array<CounterKey & { by: number }> {
  const out: Array<CounterKey & { by: number }> = [];
  let i = 0;
  for (const l of c.limits) {
    const units = spent.get(l.name);
    for (let j = 0; j < l.windows.length; j++, i++) if (units !== undefined && units !== 0) out.push({ ...keys[i]!, by: units });
  }
  return out;
}

/**
 * The request's identifier (Kong's get_identifier): by consumer the consumer's id, else the
 * credential's; by credential the credential's; otherwise, or when neither is known, the
 * client's address. The identity headers count only where an auth plugin of the route set them
 * (a client's own copy is removed there).
 */
export function identifierOf(c: Config, header: (name: string) => string | undefined, clientIp: string): string {
  if (c.identity_headers) {
    const id = c.limit_by === 'consumer' ? header('x-consumer-id') || header('x-credential-identifier')
      : c.limit_by === 'credential' ? header('x-credential-identifier') : undefined;
    if (id) return id;
  }
  return clientIp;
}

/** The address part of Envoy's `ip:port` (`[v6]:port`) source address. */
export function addressOnly(sourceAddress: string): string {
  if (sourceAddress.startsWith('[')) return sourceAddress.slice(1, sourceAddress.indexOf(']'));
  const colon = sourceAddress.lastIndexOf(':');
  return colon > 0 && sourceAddress.indexOf(':') === colon ? sourceAddress.slice(0, colon) : sourceAddress;
}

const LUA_NUMBER = /^[+-]?(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$/;

/** Lua's tonumber of a trimmed string: decimal, exponent or hexadecimal; undefined when it is none. */
export function luaToNumber(s: string): number | undefined {
  if (!LUA_NUMBER.test(s)) return undefined;
  const neg = s.startsWith('-');
  const body = s.replace(/^[+-]/, '');
  const n = /^0[xX]/.test(body) ? parseInt(body.slice(2), 16) : Number(body);
  return neg ? -n : n;
}
