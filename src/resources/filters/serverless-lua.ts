/**
 * The Lua Envoy runs for Kong's pre-function and post-function plugins: the operator's code,
 * compiled once per Envoy worker (LuaJIT's loadstring) into a sandbox whose `kong` is the part of
 * Kong's PDK Envoy can give (model/plugins/serverless.ts lists it, and refuses code that names
 * anything else), bound to the request being served. As Kong runs it (its serverless
 * _handler.lua): each chunk runs on its first request and, when it returns a function, that
 * function runs from then on, its upvalues kept per worker; an error in the code is a 500
 * `An unexpected error occurred`, logged, never a request let through half-checked.
 * kong.ctx.shared goes from one phase and plugin to the next in the stream's dynamic metadata.
 */
import { EXT_AUTHZ_FILTER } from './ext-authz.js';
import { luaString } from './lua-responder.js';
import { LUA_URI_ARGS } from './lua-uri-args.js';

/** The metadata namespace kong.ctx.shared and the request's view for header_filter and body_filter travel in. */
export const SERVERLESS_METADATA = 'frontdesk.serverless';

const SHIM = String.raw`
local NS = ${luaString(SERVERLESS_METADATA)}
local AUTH_NS = ${luaString(EXT_AUTHZ_FILTER)}
local cur -- the request being served: set at each phase's start, restored after each call that yields
local function fail(what) error(what, 0) end

local function split_path(p)
  local q = string.find(p, "?", 1, true)
  if q then return string.sub(p, 1, q - 1), string.sub(p, q + 1) end
  return p, ""
end

${LUA_URI_ARGS}
local function escape(s)
  return (string.gsub(tostring(s), "[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- A table's keys as strings, sorted: what encode_args and json write, in an order that is the same every time.
local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  return keys
end

local function encode_args(t)
  local out = {}
  for _, k in ipairs(sorted_keys(t)) do
    local v = t[k]
    local vs = type(v) == "table" and v or { v }
    for _, x in ipairs(vs) do
      if x == true then out[#out + 1] = escape(k) elseif x ~= false then out[#out + 1] = escape(k) .. "=" .. escape(x) end
    end
  end
  return table.concat(out, "&")
end

local function json(v, depth)
  depth = depth or 0
  if depth > 100 then fail("cannot encode a table nested this deep") end
  local t = type(v)
  if t == "nil" then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then fail("cannot encode " .. tostring(v)) end
    if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%d", v) end
    return string.format("%.14g", v)
  end
  if t == "string" then
    return '"' .. string.gsub(v, '[%c"\\]', function(c)
      local e = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t', ['\b'] = '\\b', ['\f'] = '\\f' }
      return e[c] or string.format("\\u%04x", string.byte(c))
    end) .. '"'
  end
  if t == "table" then
    local n = #v
    local count = 0
    for _ in pairs(v) do count = count + 1 end
    if n > 0 and count == n then
      local out = {}
      for i = 1, n do out[i] = json(v[i], depth + 1) end
      return "[" .. table.concat(out, ",") .. "]"
    end
    if count == 0 then return "{}" end
    local out = {}
    for _, k in ipairs(sorted_keys(v)) do
      local x = v[k]
      if x == nil then x = v[tonumber(k)] end
      out[#out + 1] = json(k) .. ":" .. json(x, depth + 1)
    end
    return "{" .. table.concat(out, ",") .. "}"
  end
  fail("cannot encode a " .. t)
end

local function text(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = tostring((select(i, ...))) end
  return table.concat(parts)
end

local function first(map, name)
  if map:getNumValues(name) == 0 then return nil end
  return map:getAtIndex(name, 0)
end

local function all_headers(map, max)
  local out, n = {}, 0
  for k, v in pairs(map) do
    if string.sub(k, 1, 1) ~= ":" then
      n = n + 1
      if max and n > max then break end
      local prev = out[k]
      if prev == nil then out[k] = v elseif type(prev) == "table" then prev[#prev + 1] = v else out[k] = { prev, v } end
    end
  end
  return out
end

local function set_values(map, name, value, add)
  name = string.lower(tostring(name))
  if not add then map:remove(name) end
  if type(value) == "table" then for _, x in ipairs(value) do map:add(name, tostring(x)) end else map:add(name, tostring(value)) end
end

local function in_phase(fname, ...)
  for i = 1, select("#", ...) do if cur.phase == select(i, ...) then return end end
  fail(fname .. " cannot be called in the " .. cur.phase .. " phase")
end

-- The request as this phase sees it: its own headers on the request path; in header_filter the
-- view the stream saved when it arrived.
local function req()
  if cur.request then return cur.request end
  local v = cur.h:streamInfo():dynamicMetadata():get(NS)
  v = v and v.request
  if not v then fail("kong.request is not available in this phase") end
  return v
end

local function request_view(h)
  local hs = h:headers()
  local path, query = split_path(hs:get(":path") or "/")
  return {
    method = hs:get(":method"), path = path, query = query, scheme = hs:get(":scheme") or "http",
    authority = hs:get(":authority") or "", headers = all_headers(hs), protocol = h:streamInfo():protocol(),
    ["local"] = h:streamInfo():downstreamLocalAddress(),
  }
end

local function addr_part(a, part)
  if not a then return nil end
  local ip, port = string.match(a, "^%[?(.-)%]?:(%d+)$")
  if not ip then return part == "ip" and a or nil end
  return part == "ip" and ip or tonumber(port)
end

local function view_header(v, name)
  local x = v.headers[string.lower(name)]
  if type(x) == "table" then return x[1] end
  return x
end

local function kong_request_raw_query()
  if cur.request then
    local _, q = split_path(cur.h:headers():get(":path") or "/")
    return q
  end
  return req().query
end

local kong_request = {
  get_scheme = function() if cur.request then return cur.h:headers():get(":scheme") or "http" end return req().scheme end,
  get_host = function()
    local a = cur.request and (cur.h:headers():get(":authority") or "") or req().authority
    return string.lower((string.gsub(a, ":%d+$", "")))
  end,
  get_port = function() return addr_part(cur.request and cur.h:streamInfo():downstreamLocalAddress() or req()["local"], "port") end,
  get_http_version = function()
    local p = cur.request and cur.h:streamInfo():protocol() or req().protocol
    return tonumber(string.match(p or "", "HTTP/(%d[%.%d]*)"))
  end,
  get_method = function() if cur.request then return cur.h:headers():get(":method") end return req().method end,
  get_path = function() if cur.request then return (split_path(cur.h:headers():get(":path") or "/")) end return req().path end,
  get_raw_query = kong_request_raw_query,
  get_query = function()
    return parse_args(kong_request_raw_query())
  end,
  get_query_arg = function(name)
    local v = parse_args(kong_request_raw_query())[name]
    if type(v) == "table" then return v[1] end
    return v
  end,
  get_header = function(name)
    if cur.request then return first(cur.h:headers(), string.lower(name)) end
    return view_header(req(), name)
  end,
  get_headers = function(max)
    if cur.request then return all_headers(cur.h:headers(), max) end
    return req().headers
  end,
  get_raw_body = function()
    in_phase("kong.request.get_raw_body", "access", "rewrite")
    local mine = cur
    local b = mine.h:body()
    cur = mine
    if not b then return "" end
    return b:getBytes(0, b:length())
  end,
}
kong_request.get_raw_path = kong_request.get_path
kong_request.get_path_with_query = function()
  local q = kong_request.get_raw_query()
  return kong_request.get_path() .. (q ~= "" and ("?" .. q) or "")
end

local kong_client = {
  get_ip = function() return addr_part(cur.h:streamInfo():downstreamDirectRemoteAddress(), "ip") end,
  get_forwarded_ip = function() return addr_part(cur.h:streamInfo():downstreamRemoteAddress(), "ip") end,
  get_port = function() return addr_part(cur.h:streamInfo():downstreamDirectRemoteAddress(), "port") end,
  -- The consumer and credential the auth plugins settled on, from the metadata Envoy's auth
  -- filters and the authz companion write (never from a header a client could send): nil before
  -- they ran (pre-function's access), or on a route without one.
  get_consumer = function()
    local m = cur.h:streamInfo():dynamicMetadata():get(AUTH_NS)
    if not m or not m.consumer_id then return nil end
    return { id = m.consumer_id, username = m.consumer_username, custom_id = m.consumer_custom_id }
  end,
  get_credential = function()
    local m = cur.h:streamInfo():dynamicMetadata():get(AUTH_NS)
    if not m or not m.credential_id then return nil end
    return { id = m.credential_id, consumer_id = m.consumer_id }
  end,
}

local function upstream(fname)
  in_phase(fname, "access", "rewrite")
  return cur.h:headers()
end

local function set_path_query(path, query)
  cur.h:headers():replace(":path", path .. ((query and query ~= "") and ("?" .. query) or ""))
end

local kong_service_request = {
  set_header = function(name, value) set_values(upstream("kong.service.request.set_header"), name, value, false) end,
  add_header = function(name, value) set_values(upstream("kong.service.request.add_header"), name, value, true) end,
  clear_header = function(name) upstream("kong.service.request.clear_header"):remove(string.lower(name)) end,
  set_headers = function(t) local hs = upstream("kong.service.request.set_headers") for k, v in pairs(t) do set_values(hs, k, v, false) end end,
  set_method = function(m) upstream("kong.service.request.set_method"):replace(":method", string.upper(m)) end,
  set_path = function(p)
    local hs = upstream("kong.service.request.set_path")
    local _, q = split_path(hs:get(":path") or "/")
    set_path_query(p, q)
  end,
  set_raw_query = function(q)
    local hs = upstream("kong.service.request.set_raw_query")
    set_path_query((split_path(hs:get(":path") or "/")), q)
  end,
  set_query = function(t)
    local hs = upstream("kong.service.request.set_query")
    set_path_query((split_path(hs:get(":path") or "/")), encode_args(t))
  end,
  set_raw_body = function(body)
    in_phase("kong.service.request.set_raw_body", "access", "rewrite")
    local mine = cur
    local b = mine.h:body(true)
    cur = mine
    b:setBytes(body)
    mine.h:headers():replace("content-length", tostring(#body))
  end,
}

local function response_headers(fname)
  in_phase(fname, "header_filter")
  return cur.h:headers()
end

local kong_response = {
  exit = function(status, body, headers)
    in_phase("kong.response.exit", "access", "rewrite")
    local hs = { [":status"] = tostring(status) }
    local out = ""
    if type(body) == "table" then
      out = json(body)
      hs["content-type"] = "application/json; charset=utf-8"
    elseif body ~= nil then
      out = tostring(body)
    end
    if headers then
      for k, v in pairs(headers) do hs[string.lower(tostring(k))] = type(v) == "table" and table.concat(v, ", ") or tostring(v) end
    end
    cur.h:respond(hs, out)
  end,
  get_status = function()
    in_phase("kong.response.get_status", "header_filter", "body_filter")
    return tonumber(cur.h:headers():get(":status"))
  end,
  -- body_filter: the whole response body (Envoy buffers it; Kong's last body_filter call sees the same).
  get_raw_body = function()
    in_phase("kong.response.get_raw_body", "body_filter")
    local mine = cur
    local b = mine.h:body()
    cur = mine
    if not b then return "" end
    return b:getBytes(0, b:length())
  end,
  set_raw_body = function(body)
    in_phase("kong.response.set_raw_body", "body_filter")
    local mine = cur
    local b = mine.h:body(true)
    cur = mine
    b:setBytes(tostring(body))
    local hs = mine.h:headers()
    if hs:get("content-length") then hs:replace("content-length", tostring(#tostring(body))) end
  end,
  set_status = function(s) response_headers("kong.response.set_status"):replace(":status", tostring(s)) end,
  get_header = function(name) return first(response_headers("kong.response.get_header"), string.lower(name)) end,
  get_headers = function(max) return all_headers(response_headers("kong.response.get_headers"), max) end,
  set_header = function(name, value) set_values(response_headers("kong.response.set_header"), name, value, false) end,
  add_header = function(name, value) set_values(response_headers("kong.response.add_header"), name, value, true) end,
  clear_header = function(name) response_headers("kong.response.clear_header"):remove(string.lower(name)) end,
  set_headers = function(t) local hs = response_headers("kong.response.set_headers") for k, v in pairs(t) do set_values(hs, k, v, false) end end,
}

local function logger(method)
  return function(...) cur.h[method](cur.h, cur.name .. ": " .. text(...)) end
end

local kong_log = {
  err = logger("logErr"), crit = logger("logCritical"), alert = logger("logCritical"), emerg = logger("logCritical"),
  warn = logger("logWarn"), notice = logger("logInfo"), info = logger("logInfo"), debug = logger("logDebug"),
}

local kong_ctx = setmetatable({}, { __index = function(_, k)
  if k == "shared" then return cur.shared end
  if k == "plugin" then return cur.plugin end
end })

local function namespace(name, t)
  return setmetatable(t, { __index = function(_, k) fail(name .. "." .. tostring(k) .. " is not served by Frontdesk") end, __newindex = function() fail(name .. " is read-only") end })
end

local KONG = namespace("kong", {
  request = namespace("kong.request", kong_request),
  client = namespace("kong.client", kong_client),
  service = namespace("kong.service", { request = namespace("kong.service.request", kong_service_request) }),
  response = namespace("kong.response", kong_response),
  log = namespace("kong.log", kong_log),
  ctx = kong_ctx,
})

local function sandbox()
  local env = {
    kong = KONG, assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, pcall = pcall, select = select,
    tonumber = tonumber, tostring = tostring, type = type, unpack = unpack, xpcall = xpcall, _VERSION = _VERSION,
    print = function(...) cur.h:logInfo(cur.name .. ": " .. text(...)) end,
    string = {}, table = {}, math = {}, os = { clock = os.clock, date = os.date, difftime = os.difftime, time = os.time },
  }
  for k, v in pairs(string) do if k ~= "dump" then env.string[k] = v end end
  for k, v in pairs(table) do env.table[k] = v end
  for k, v in pairs(math) do env.math[k] = v end
  return env
end

-- One plugin's code for one phase: its chunks, each run as Kong runs them.
local function chunks(name, sources)
  local list = {}
  for i, src in ipairs(sources) do
    -- The loader checked the syntax (luaparse); should LuaJIT still refuse it, the chunk fails its
    -- requests with a 500 rather than the script failing to load (Envoy would refuse the listener).
    local f, cerr = loadstring(src, "=" .. name .. "[" .. i .. "]")
    if f then setfenv(f, sandbox()) else f = function() error("the code does not compile: " .. tostring(cerr), 0) end end
    local first_done = false
    list[i] = function()
      if first_done then return f() end
      first_done = true
      local result = f()
      if type(result) == "function" then
        f = result
        return f()
      end
    end
  end
  return list
end

local function load_shared(h)
  local v = h:streamInfo():dynamicMetadata():get(NS)
  return (v and v.shared) or {}
end

local function save_shared(h, shared)
  if next(shared) == nil then return end
  pcall(function() h:streamInfo():dynamicMetadata():set(NS, "shared", shared) end)
end

local function run(h, name, phase, list)
  local state = { h = h, name = name, phase = phase, shared = load_shared(h), plugin = {} }
  if phase ~= "header_filter" and phase ~= "body_filter" then state.request = true end
  for i, fn in ipairs(list) do
    cur = state
    local ok, err = pcall(fn)
    cur = state
    if not ok then
      h:logErr(name .. "[" .. i .. "] failed: " .. tostring(err))
      if phase == "header_filter" then
        h:headers():replace(":status", "500")
        return
      end
      if phase == "body_filter" then
        local hs = h:headers()
        hs:replace(":status", "500")
        hs:replace("content-type", "application/json; charset=utf-8")
        local msg = '{"message":"An unexpected error occurred"}'
        h:body(true):setBytes(msg)
        if hs:get("content-length") then hs:replace("content-length", tostring(#msg)) end
        return
      end
      h:respond({ [":status"] = "500", ["content-type"] = "application/json; charset=utf-8" }, '{"message":"An unexpected error occurred"}')
      return
    end
  end
  save_shared(h, state.shared)
end

local function save_request(h)
  local ok, err = pcall(function() h:streamInfo():dynamicMetadata():set(NS, "request", request_view(h)) end)
  if not ok then h:logErr("serverless: the request could not be kept for header_filter: " .. tostring(err)) end
end
`;

/** The code of one plugin (pre-function or post-function) for the request side or the response side. */
export interface ServerlessScript {
  /** The plugin's name, in log lines and errors (`pre-function`). */
  plugin: string;
  /** rewrite's chunks, then access's, run on the request. */
  request?: { rewrite: readonly string[]; access: readonly string[] };
  /**
   * header_filter's chunks, run on the response headers, then body_filter's on the whole body;
   * `keepRequest` saves the request's view for their kong.request.
   */
  response?: { headerFilter: readonly string[]; bodyFilter: readonly string[]; keepRequest: boolean };
}

function luaList(items: readonly string[]): string {
  return `{ ${items.map(luaString).join(', ')} }`;
}

/** The whole Lua source of one filter's script. */
export function serverlessScript(s: ServerlessScript): string {
  const lines = [SHIM];
  if (s.request) {
    const { rewrite, access } = s.request;
    lines.push(`local REWRITE = chunks(${luaString(`${s.plugin} rewrite`)}, ${luaList(rewrite)})`);
    lines.push(`local ACCESS = chunks(${luaString(`${s.plugin} access`)}, ${luaList(access)})`);
    lines.push('function envoy_on_request(h)');
    if (rewrite.length) lines.push(`  run(h, ${luaString(`${s.plugin} rewrite`)}, "rewrite", REWRITE)`);
    if (access.length) lines.push(`  run(h, ${luaString(`${s.plugin} access`)}, "access", ACCESS)`);
    lines.push('end');
  }
  if (s.response) {
    const { headerFilter, bodyFilter, keepRequest } = s.response;
    lines.push(`local HEADER_FILTER = chunks(${luaString(`${s.plugin} header_filter`)}, ${luaList(headerFilter)})`);
    lines.push(`local BODY_FILTER = chunks(${luaString(`${s.plugin} body_filter`)}, ${luaList(bodyFilter)})`);
    if (keepRequest) lines.push('function envoy_on_request(h) save_request(h) end');
    lines.push('function envoy_on_response(h)');
    if (headerFilter.length) lines.push(`  run(h, ${luaString(`${s.plugin} header_filter`)}, "header_filter", HEADER_FILTER)`);
    if (bodyFilter.length) lines.push(`  run(h, ${luaString(`${s.plugin} body_filter`)}, "body_filter", BODY_FILTER)`);
    lines.push('end');
  }
  return `${lines.join('\n')}\n`;
}
