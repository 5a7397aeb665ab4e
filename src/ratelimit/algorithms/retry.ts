/**
 * Retry-After by search. With no further traffic every algorithm's capacity only grows with
 * time, so "does the request pass at now + d" is monotone in d: the smallest such d is found
 * by bisection between a refusal at d = 0 and a known pass at d = `passesAtMs`. Exact to the
 * millisecond and immune to rounding in closed-form inverses; about 35 steps for a year.
 */
export function searchRetryMs(passesAt: (tMs: number) => boolean, nowMs: number, passesAtMs: number): number {
  let lo = 0;
  let hi = Math.max(1, passesAtMs);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (passesAt(nowMs + mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Lua twin of searchRetryMs. */
export const SEARCH_RETRY_LUA = `
local function search_retry(passes_at, now, passes_after)
  local lo, hi = 0, math.max(1, passes_after)
  while hi - lo > 1 do
    local mid = math.floor((lo + hi) / 2)
    if passes_at(now + mid) then hi = mid else lo = mid end
  end
  return hi
end
`;
