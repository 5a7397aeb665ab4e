/**
 * The Lua script of Kong's proxy-cache in Envoy (docs/plugins.md, "proxy-cache", says why a
 * script and not Envoy's cache filter). It follows kong/plugins/proxy-cache/handler.lua and
 * cache_key.lua step by step: which requests and responses are cacheable, the key (the route's
 * scope and the consumer, method, path, query parameters, vary headers), freshness (cache_ttl,
 * or the response's Cache-Control/Expires with cache_control), the client's Cache-Control
 * (max-age, max-stale, min-fresh, only-if-cached), and the X-Cache-Status/X-Cache-Key/Age headers.
 * Each route's rules are the route's metadata (proxyCacheRouteMetadata); the store is a table in
 * each Envoy worker's Lua state, bounded in bytes and in entries, oldest entries evicted first.
 */

/** The most bytes (bodies, headers and a fixed overhead per entry) one worker's cache holds. */
export const CACHE_MAX_BYTES = 64 * 1024 * 1024;
/** The largest response body stored; a larger one is passed on and not stored. */
export const CACHE_MAX_ENTRY_BYTES = 1024 * 1024;
/** The most entries one worker's cache holds. */
export const CACHE_MAX_ENTRIES = 10_000;
/** Bytes counted for an entry beyond its body and headers. */
const ENTRY_OVERHEAD = 256;

export const PROXY_CACHE_SCRIPT = `
local NS = "frontdesk.proxy_cache"
local MAX_BYTES = ${CACHE_MAX_BYTES}
local MAX_ENTRY = ${CACHE_MAX_ENTRY_BYTES}
local MAX_ENTRIES = ${CACHE_MAX_ENTRIES}
local OVERHEAD = ${ENTRY_OVERHEAD}

local entries, queue, head, tail, bytes, count, seq = {}, {}, 1, 0, 0, 0, 0

-- Kong's hop_by_hop_headers and overwritable_header(): not replayed from the cache.
local HOP = { connection = true, ["keep-alive"] = true, ["proxy-authenticate"] = true, ["proxy-authorization"] = true,
  te = true, trailers = true, ["transfer-encoding"] = true, upgrade = true, ["content-length"] = true }

local function drop(key)
  local e = entries[key]
  if e then entries[key] = nil; bytes = bytes - e.size; count = count - 1 end
end

local function store(key, e)
  drop(key)
  if e.size > MAX_BYTES then return end
  while (bytes + e.size > MAX_BYTES or count >= MAX_ENTRIES) and head <= tail do
    local q = queue[head]; queue[head] = nil; head = head + 1
    local old = entries[q.key]
    if old and old.seq == q.seq then drop(q.key) end
  end
  seq = seq + 1; e.seq = seq
  tail = tail + 1; queue[tail] = { key = key, seq = seq }
  entries[key] = e; bytes = bytes + e.size; count = count + 1
end

-- Kong's parse_directive_header: "a, b=1" -> { a = true, b = 1 }.
local function directives(value)
  local t = {}
  if not value then return t end
  for part in string.gmatch(value, "[^,]+") do
    local name, arg = string.match(part, "^%s*([^=]-)%s*=%s*(.-)%s*$")
    if not name then name = string.match(part, "^%s*(.-)%s*$") end
    if name and name ~= "" then t[string.lower(name)] = (arg and (tonumber(arg) or arg)) or true end
  end
  return t
end

local function num(v) if type(v) == "number" then return v end return nil end

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }
-- An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") as seconds since the epoch.
local function http_time(v)
  if not v then return nil end
  local d, mon, y, hh, mm, ss = string.match(v, "^%a+, (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$")
  local m = mon and MONTHS[mon]
  if not m then return nil end
  y = tonumber(y); if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400); local yoe = y - era * 400
  local doy = math.floor((153 * ((m + 9) % 12) + 2) / 5) + tonumber(d) - 1
  local days = era * 146097 + yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy - 719468
  return days * 86400 + tonumber(hh) * 3600 + tonumber(mm) * 60 + tonumber(ss)
end

-- Kong's resource_ttl: s-maxage, max-age, else Expires; never below 0.
local function resource_ttl(cc, expires, now)
  local age = num(cc["s-maxage"]) or num(cc["max-age"])
  if not age then local t = http_time(expires); if t then age = t - now end end
  if not age or age < 0 then return 0 end
  return age
end

local function unescape(s)
  s = string.gsub(s, "+", " ")
  return (string.gsub(s, "%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Kong's generate_key_from: "k=v:k2=v2" for the fields present, several values sorted and joined by ",".
local function key_from(values, fields)
  local out = {}
  for _, f in ipairs(fields) do
    local v = values[f]
    if type(v) == "table" then table.sort(v); out[#out + 1] = f .. "=" .. table.concat(v, ",")
    elseif v then out[#out + 1] = f .. "=" .. v end
  end
  return table.concat(out, ":")
end

local function query_args(query)
  local args, names = {}, {}
  for pair in string.gmatch(query or "", "[^&]+") do
    local k, v = string.match(pair, "^([^=]*)=(.*)$")
    if not k then k, v = pair, "" end
    k = unescape(k); v = unescape(v)
    if k ~= "" then
      local cur = args[k]
      if cur == nil then args[k] = v; names[#names + 1] = k
      elseif type(cur) == "table" then cur[#cur + 1] = v
      else args[k] = { cur, v } end
    end
  end
  table.sort(names)
  return args, names
end

-- Two polynomial hashes of the key's text, as 16 hex digits (Kong takes the md5 of the same parts).
local function digest(s)
  local a, b = 7, 11
  for i = 1, #s do
    local c = string.byte(s, i)
    a = (a * 31 + c) % 4294967291
    b = (b * 131 + c) % 4294967279
  end
  return string.format("%08x%08x", a, b)
end

local function rules(handle, consumer)
  local meta = handle:metadata():get("rules")
  if not meta then return nil end
  if consumer ~= "" and meta.consumers and meta.consumers[consumer] then return meta.consumers[consumer], meta end
  return meta.default, meta
end

function envoy_on_request(handle)
  local headers = handle:headers()
  local meta = handle:metadata():get("rules")
  if not meta then return end
  local consumer = (meta.consumers and headers:get("x-consumer-id")) or ""
  local cfg = rules(handle, consumer)
  if not cfg then return end
  local dm = handle:streamInfo():dynamicMetadata()
  dm:set(NS, "consumer", consumer)
  local method = headers:get(":method")
  local cc = directives(headers:get("cache-control"))
  if not cfg.methods[method] or (cfg.cache_control and (cc["no-store"] or cc["no-cache"] or headers:get("authorization"))) then
    dm:set(NS, "status", "Bypass")
    return
  end
  local path = headers:get(":path") or "/"
  local uri, query = string.match(path, "^([^?]*)%??(.*)$")
  if cfg.ignore_uri_case then uri = string.lower(uri) end
  local args, names = query_args(query)
  local hv = {}
  for _, h in ipairs(cfg.vary_headers) do hv[h] = headers:get(h) end
  local prefix = meta.scope
  if consumer ~= "" then prefix = consumer .. ":" .. prefix end
  local key = digest(prefix .. "|" .. method .. "|" .. uri .. "|" .. key_from(args, cfg.vary_query or names) .. "|" .. key_from(hv, cfg.vary_headers))
  dm:set(NS, "key", key)
  local now = os.time()
  local e = entries[key]
  if e and now >= e.expire then drop(key); e = nil end
  if not e then
    if cfg.cache_control and cc["only-if-cached"] then
      dm:set(NS, "status", "Hit")
      handle:respond({ [":status"] = "504" }, "")
      return
    end
    dm:set(NS, "status", "Miss")
    return
  end
  local refresh
  if cfg.cache_control then
    local age = now - e.time
    refresh = (num(cc["max-age"]) and age > cc["max-age"]) or (num(cc["max-stale"]) and age - e.ttl > cc["max-stale"])
      or (num(cc["min-fresh"]) and e.ttl - age < cc["min-fresh"])
  else
    refresh = now - e.time > cfg.ttl
  end
  if refresh then dm:set(NS, "status", "Refresh"); return end
  local out = {}
  for k, v in pairs(e.headers) do out[k] = v end
  out[":status"] = e.status
  if cfg.age then out["age"] = tostring(math.floor(now - e.time)) end
  if cfg.status then out["x-cache-status"] = "Hit" end
  if cfg.key then out["x-cache-key"] = key end
  dm:set(NS, "status", "Hit")
  handle:respond(out, e.body)
end

function envoy_on_response(handle)
  local info = handle:streamInfo():dynamicMetadata():get(NS)
  if not info or not info.status or info.status == "Hit" then return end
  local cfg = rules(handle, info.consumer or "")
  if not cfg then return end
  local headers = handle:headers()
  if info.status == "Bypass" then
    if cfg.status then headers:replace("x-cache-status", "Bypass") end
    return
  end
  if cfg.key then headers:replace("x-cache-key", info.key) end
  local now = os.time()
  local cc = directives(headers:get("cache-control"))
  local status = headers:get(":status")
  local ctype = headers:get("content-type")
  local ok = cfg.statuses[status] and ctype and ctype ~= "" and cfg.content_types[ctype]
  if ok and cfg.cache_control and (cc["private"] or cc["no-store"] or cc["no-cache"]) then ok = false end
  local ttl = cfg.ttl
  if ok and cfg.cache_control then
    ttl = resource_ttl(cc, headers:get("expires"), now)
    if ttl <= 0 then ok = false end
  end
  if not ok then
    if cfg.status then headers:replace("x-cache-status", "Bypass") end
    return
  end
  if cfg.status then headers:replace("x-cache-status", info.status) end
  local saved, size = {}, OVERHEAD
  for k, v in pairs(headers) do
    if string.sub(k, 1, 1) ~= ":" and not HOP[k] and not string.find(k, "ratelimit-remaining", 1, true) then
      local cur = saved[k]
      if cur == nil then saved[k] = v elseif type(cur) == "table" then cur[#cur + 1] = v else saved[k] = { cur, v } end
      size = size + #k + #v
    end
  end
  local parts, length = {}, 0
  for chunk in handle:bodyChunks() do
    if parts then
      local n = chunk:length()
      if length + n > MAX_ENTRY then parts = nil else parts[#parts + 1] = chunk:getBytes(0, n); length = length + n end
    end
  end
  if not parts then return end
  local lifetime = cfg.storage_ttl or ttl
  store(info.key, { status = status, headers = saved, body = table.concat(parts), time = os.time(), ttl = ttl,
    expire = os.time() + lifetime, size = size + length })
end
`;
