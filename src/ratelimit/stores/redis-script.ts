import { createHash } from 'node:crypto';
import { algorithms } from '../algorithms/index.js';
import { WINDOW_BOUNDS_LUA } from '../algorithms/periods.js';
import { SEARCH_RETRY_LUA } from '../algorithms/retry.js';
import { ALGORITHM_NAMES } from '../algorithms/types.js';

/**
 * The one Lua script behind every Redis decision. It decides a batch of requests in one run,
 * each on its own: a request is admitted only if every one of its windows admits it, and then
 * all its windows are written, atomically (Redis runs a script alone, so the batch is one step
 * for every other client). A request's error (a foreign value under its key) is its own; the
 * others of the batch are decided as usual.
 *
 * KEYS                        the Redis keys of every window of every request, in order
 * ARGV[1]                     the time in ms, or '' to use Redis TIME (the default: one clock
 *                             for every gateway instance)
 * ARGV[2]                     the number of requests
 * then per request            its cost, its window count n, then per window: algorithm,
 *                             unit, limit, period in ms
 *
 * Reply: { now, then per request: allowed (1, 0, or -1 for an error), then per window:
 * allowed, remaining, reset_ms, retry_ms }, per-window capacity after consumption when the
 * request is admitted, before it otherwise. An error's slot holds -1, the message, then zeros
 * up to the same length.
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

-- One request: its windows are KEYS[k .. k+n-1] and ARGV[a .. a+4n-1]. Appends its verdict to reply.
local function decide(reply, k, a, n, cost)
  local results, writes, all = {}, {}, true
  for i = 1, n do
    local base = a + (i - 1) * 4
    local algorithm = ALGORITHMS[ARGV[base]]
    if algorithm == nil then error('frontdesk ratelimit: unknown algorithm ' .. tostring(ARGV[base]), 0) end
    local allowed, remaining, reset, retry, remaining_after, reset_after, write =
      algorithm(KEYS[k + i - 1], tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3]), ARGV[base + 1], now, cost)
    results[i] = { allowed, remaining, reset, retry, remaining_after, reset_after }
    if allowed == 1 then writes[#writes + 1] = write else all = false end
  end
  if all then
    for _, write in ipairs(writes) do write() end
    reply[#reply + 1] = 1
  else
    reply[#reply + 1] = 0
  end
  for i = 1, n do
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
end

local reply = { now }
local k, a = 1, 3
for _ = 1, tonumber(ARGV[2]) do
  local cost, n = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  local mark = #reply
  local ok, err = pcall(decide, reply, k, a + 2, n, cost)
  if not ok then
    -- Checks come before writes, so a failed request wrote nothing.
    for j = #reply, mark + 1, -1 do reply[j] = nil end
    local message = type(err) == 'table' and (err.err or err.msg) or tostring(err)
    reply[mark + 1] = -1
    reply[mark + 2] = tostring(message)
    for j = 3, 1 + 4 * n do reply[mark + j] = 0 end
  end
  k = k + n
  a = a + 2 + 4 * n
end
return reply
`,
].join('\n');

/** SHA1 of DECIDE_LUA, for EVALSHA. */
export const DECIDE_SHA = createHash('sha1').update(DECIDE_LUA).digest('hex');
