import { KONG_PERIOD_SECONDS } from '../../rate-limits.js';
import type { Unit } from './types.js';

/**
 * Kong's period lengths in seconds (kong/plugins/rate-limiting/expiration.lua): a month is
 * 30 days and a year 365 days, fixed. The rolling algorithms (token bucket, leaky bucket,
 * sliding window, sliding log) use these lengths for every unit.
 */
export const PERIOD_SECONDS: Readonly<Record<Unit, number>> = KONG_PERIOD_SECONDS;

export { PERIOD_MS, fixedWindowBounds, type Bounds } from '../../fixed-windows.js';

/** Lua twin of fixedWindowBounds (civil-calendar arithmetic after H. Hinnant's algorithms). */
export const WINDOW_BOUNDS_LUA = `
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = m + 9
  if m > 2 then mp = m - 3 end
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

local function civil_from_days(days)
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local m = mp - 9
  if mp < 10 then m = mp + 3 end
  local y = yoe + era * 400
  if m <= 2 then y = y + 1 end
  return y, m
end

local function window_bounds(unit, period, now)
  if unit == 'month' or unit == 'year' then
    local y, m = civil_from_days(math.floor(now / 86400000))
    if unit == 'year' then
      return days_from_civil(y, 1, 1) * 86400000, days_from_civil(y + 1, 1, 1) * 86400000
    end
    local ny, nm = y, m + 1
    if m == 12 then ny, nm = y + 1, 1 end
    return days_from_civil(y, m, 1) * 86400000, days_from_civil(ny, nm, 1) * 86400000
  end
  local start = math.floor(now / period) * period
  return start, start + period
end
`;
