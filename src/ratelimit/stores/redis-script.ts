import { createHash } from 'node:crypto';
import { algorithms } from '../algorithms/index.js';
import { WINDOW_BOUNDS_LUA } from '../algorithms/periods.js';
import { SEARCH_RETRY_LUA } from '../algorithms/retry.js';
import { ALGORITHM_NAMES } from '../algorithms/types.js';

/**
 * The one Lua script behind every Redis decision. It checks all windows of a request and,
 * only if every one admits it, writes them all, atomically (Redis runs a script alone).
 *
 * KEYS[i]                     the Redis key of window i (all share one hash tag)
 * ARGV[1]                     the time in ms, or '' to use Redis TIME (the default: one clock
 *                             for every gateway instance)
 * ARGV[2]                     the cost
 * ARGV[3 + 4(i-1) .. +3]      window i: algorithm, unit, limit, period in ms
 *
 * Reply: { allowed, now, then per window: allowed, remaining, reset_ms, retry_ms } with the
 * per-window capacity after consumption when the request is admitted, before it otherwise.
 */
export const DECIDE_LUA = [
  WINDOW_BOUNDS_LUA,
  SEARCH_RETRY_LUA,
  ...ALGORITHM_NAMES.map((name) => algorithms[name].lua),
  `
local ALGORITHMS = {
${ALGORITHM_NAMES.map((name) => `  ['${name}'] = ${algorithms[name].luaFunction},`).join('\n')}
}

local now
if ARGV[1] ~= '' then
  now = tonumber(ARGV[1])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local cost = tonumber(ARGV[2])

local results, writes, all = {}, {}, true
for i = 1, #KEYS do
  local base = 2 + (i - 1) * 4
  local algorithm = ALGORITHMS[ARGV[base + 1]]
  if algorithm == nil then
    return redis.error_reply('ERR frontdesk ratelimit: unknown algorithm ' .. tostring(ARGV[base + 1]))
  end
  local allowed, remaining, reset, retry, remaining_after, reset_after, write =
    algorithm(KEYS[i], tonumber(ARGV[base + 3]), tonumber(ARGV[base + 4]), ARGV[base + 2], now, cost)
  results[i] = { allowed, remaining, reset, retry, remaining_after, reset_after }
  if allowed == 1 then writes[#writes + 1] = write else all = false end
end

local reply = { 0, now }
if all then
  reply[1] = 1
  for _, write in ipairs(writes) do write() end
end
for i = 1, #KEYS do
  local r = results[i]
  if all then
    reply[#reply + 1] = 1
    reply[#reply + 1] = r[5]
    reply[#reply + 1] = r[6]
    reply[#reply + 1] = 0
  else
    reply[#reply + 1] = r[1]
    reply[#reply + 1] = r[2]
    reply[#reply + 1] = r[3]
    reply[#reply + 1] = r[4]
  end
end
return reply
`,
].join('\n');

/** SHA1 of DECIDE_LUA, for EVALSHA. */
export const DECIDE_SHA = createHash('sha1').update(DECIDE_LUA).digest('hex');
