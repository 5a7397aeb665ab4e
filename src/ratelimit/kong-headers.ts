import type { Decision, Unit } from './algorithms/types.js';

/**
 * The headers Kong's rate-limiting plugin sends (kong/plugins/rate-limiting/handler.lua), from
 * a decision: X-RateLimit-Limit-<Unit> and X-RateLimit-Remaining-<Unit> for every window, then
 * RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset for the binding window (the lowest
 * remaining, ties to the longest period; on a refusal, among the refusing windows), and
 * Retry-After on a refusal. Kong sends none of them with hide_client_headers (its Retry-After
 * is the reset it only computes when headers are shown).
 */

const UNIT_TITLE: Readonly<Record<Unit, string>> = {
  second: 'Second', minute: 'Minute', hour: 'Hour', day: 'Day', month: 'Month', year: 'Year',
};

const UNIT_HEADERS = Object.fromEntries(
  Object.entries(UNIT_TITLE).map(([unit, title]) => [unit, { limit: `X-RateLimit-Limit-${title}`, remaining: `X-RateLimit-Remaining-${title}` }]),
) as Readonly<Record<Unit, { readonly limit: string; readonly remaining: string }>>;

/** Kong's header names for one unit. */
export function unitHeaders(unit: Unit): { limit: string; remaining: string } {
  return { ...UNIT_HEADERS[unit] };
}

/** Whole seconds, at least 1, rounded up: Kong's `max(1, window - floor(elapsed))`. */
export function ceilSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/** Kong's headers for a decision, in a stable order. */
export function kongHeaders(d: Decision): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const w of d.windows) {
    const names = UNIT_HEADERS[w.unit];
    out.push([names.limit, String(w.limit)], [names.remaining, String(w.remaining)]);
  }
  out.push(
    ['RateLimit-Limit', String(d.binding.limit)],
    ['RateLimit-Remaining', String(d.binding.remaining)],
    ['RateLimit-Reset', String(ceilSeconds(d.binding.resetMs))],
  );
  // The real wait: for Kong's fixed windows it is the binding window's reset, as Kong sends;
  // for the rolling algorithms it is when the same request would pass.
  if (!d.allowed) out.push(['Retry-After', String(ceilSeconds(d.retryAfterMs))]);
  return out;
}
