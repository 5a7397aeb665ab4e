/**
 * The two Lua scripts around Envoy's jwt_authn that give Kong's jwt and acl behaviour on the
 * routes Envoy checks itself (native-auth.ts puts them in the chain). Envoy verifies the
 * signature; the scripts do what jwt_authn does not do as Kong does, with O(1) work per
 * request on the accepted path (table lookups; no JSON or base64 in Lua unless a token is
 * refused):
 *
 * - the token script, before jwt_authn and api_key_auth: for key-auth, Kong's key lookup
 *   (kong/plugins/key-auth/handler.lua: each key name in the headers, then the query; a repeat
 *   is "Duplicate API key found", none "No API key found in request"; hide_credentials), the one
 *   key put in KEY_HEADER, the only place api_key_auth reads; for jwt, Kong's retrieve_tokens (kong/plugins/jwt/handler.lua:
 *   the configured query parameters, cookies, and headers holding `[Bb]earer <token>`), and
 *   puts the one token found in TOKEN_HEADER, the only place jwt_authn reads, so Envoy
 *   verifies exactly the token Kong would (none or several are decided later);
 * - the decide script, after jwt_authn: Kong's answers in Kong's order (no token, several
 *   tokens, a token that does not decode, no or an unknown `iss`, the wrong algorithm, a bad
 *   signature, then claims_to_verify and maximum_expiration on the verified claims), the
 *   anonymous consumer, acl (kong/plugins/acl/handler.lua), and the consumer headers Kong sets
 *   (X-Consumer-ID, X-Consumer-Custom-ID, X-Consumer-Username, X-Credential-Identifier,
 *   X-Anonymous-Consumer, X-Consumer-Groups) plus the dynamic metadata the rate limits and logs
 *   read (the names the authz companion's ext_authz answers use).
 */
import { LUA_URI_ARGS } from './lua-uri-args.js';

/** The request header the token script hands the one token over in; jwt_authn reads only it and removes it. */
export const TOKEN_HEADER = 'x-frontdesk-jwt';
/** The request header the token script hands the one API key over in; api_key_auth reads only it and removes it. */
export const KEY_HEADER = 'x-frontdesk-key';
/** The request header api_key_auth names the key's credential in (its index in the decide script's table). */
export const KEY_CLIENT_HEADER = 'x-frontdesk-key-client';
/** The request header jwt_authn copies a verified token's `iss` into (claim_to_headers): the credential, for native-accept.ts's map. */
export const ISS_HEADER = 'x-frontdesk-jwt-iss';
/**
 * The request header the token script keeps the client's own Authorization in on a jwt route
 * (`=value`, or `-` when there is none), so that jwt_authn, which also reads Authorization for
 * the requests the script is skipped for, reads only the token the script found; the decide
 * script puts it back. Its presence also tells native-accept.ts the script ran.
 */
export const JWT_STASH_HEADER = 'x-frontdesk-jwt-authorization';
/** The request header the basic-auth script keeps the client's own Authorization in (`=value`, or `-` when it goes no further); the decide script puts it back. */
export const BASIC_STASH_HEADER = 'x-frontdesk-basic-authorization';
/** The request header Envoy's basic_auth names the user it verified in (its forward_username_header). */
export const BASIC_USER_HEADER = 'x-frontdesk-basic-user';
/** The dynamic metadata namespace the token script writes what it found under (`token`). */
export const TOKEN_NAMESPACE = 'frontdesk.auth';
/** The longest token looked at (the authz companion's limit too): longer is Kong's "Bad token". */
export const MAX_TOKEN_LENGTH = 8192;
/** Where jwt_authn writes the verified claims, under its own namespace. */
export const PAYLOAD_KEY = 'payload';
/** Where jwt_authn writes the verified token's header, under its own namespace. */
export const HEADER_KEY = 'header';
/** Where jwt_authn writes why it refused a token, under its own namespace. */
export const FAILED_KEY = 'failed';

const GRPC_REFUSALS = `-- Kong's is_grpc_request: a gRPC client gets a gRPC answer, no JSON body. The refusal goes
-- out as a bare status: Envoy answers a gRPC request's local reply in gRPC, and the listener's
-- local reply mappers give Kong's grpc-status and grpc-message for it (resources/listener.ts).
local function grpc_refusal(headers, status, www)
  local ct = headers:get("content-type")
  if ct == nil or string.sub(ct, 1, 16) ~= "application/grpc" or string.sub(ct, 1, 20) == "application/grpc-web" then return nil end
  local out = { [":status"] = tostring(status) }
  if www then out["www-authenticate"] = www end
  return out
end`;

/** A Lua string literal for any text (decimal escapes for everything but printable ASCII). */
export function luaString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c) out += String.fromCharCode(byte);
    else out += `\\${byte}`;
  }
  return `${out}"`;
}

export const TOKEN_SCRIPT = `
local TOKEN_HEADER = "${TOKEN_HEADER}"
local KEY_HEADER = "${KEY_HEADER}"
local KEY_CLIENT_HEADER = "${KEY_CLIENT_HEADER}"
local ISS_HEADER = "${ISS_HEADER}"
local JWT_STASH = "${JWT_STASH_HEADER}"
local NS = "${TOKEN_NAMESPACE}"
local MAX = ${MAX_TOKEN_LENGTH}
local JSON_TYPE = "application/json; charset=utf-8"
${GRPC_REFUSALS}

local function refuse_key(h, headers, www, message)
  local g = grpc_refusal(headers, 401, www)
  if g then return h:respond(g, nil) end
  h:respond({ [":status"] = "401", ["content-type"] = JSON_TYPE, ["www-authenticate"] = www }, '{"message":"' .. message .. '"}')
end

${LUA_URI_ARGS}
-- The query as nginx's get_uri_args gives it.
local function query_args(path)
  local q = string.match(path, "%?([^#]*)")
  if not q then return {} end
  return parse_args(q)
end

-- The path without the query arguments whose decoded name is \`name\` (every spelling removed).
local function without_arg(path, name)
  local base, q = string.match(path, "^([^?]*)%?([^#]*)")
  if not base then return path end
  local kept = {}
  for pair in string.gmatch(q, "[^&]+") do
    local k = string.match(pair, "^([^=]*)") or pair
    if unescape(k) ~= name then kept[#kept + 1] = pair end
  end
  if #kept == 0 then return base end
  return base .. "?" .. table.concat(kept, "&")
end

-- Kong's key-auth do_authentication, up to the key lookup (api_key_auth does that): true when
-- the request goes on to api_key_auth with the key in KEY_HEADER.
local function find_key(h, headers, conf)
  local www = conf.realm and ('Key realm="' .. conf.realm .. '"') or "Key"
  local path = headers:get(":path") or ""
  local args
  local key
  for _, name in ipairs(conf.names) do
    local v
    if conf.header then
      v = headers:get(name)
      if v == nil and conf.alt[name] then v = headers:get(conf.alt[name]) end
      if v ~= nil and string.find(v, ",", 1, true) then v = {} end
    end
    if v == nil and conf.query then
      args = args or query_args(path)
      v = args[name]
    end
    if type(v) == "string" then
      key = v
      if conf.hide then
        headers:remove(name)
        if conf.alt[name] then headers:remove(conf.alt[name]) end
        if conf.query then headers:replace(":path", without_arg(path, name)) end
      end
      break
    end
    if type(v) == "table" then
      refuse_key(h, headers, www, "Duplicate API key found")
      return false
    end
  end
  if key == nil or key == "" then
    refuse_key(h, headers, www, "No API key found in request")
    return false
  end
  -- api_key_auth would strip this scheme and find the key after it; no credential key has it
  -- (contracts/authz.ts), so Kong knows no such key.
  if string.sub(key, 1, 7) == "Bearer " then
    refuse_key(h, headers, www, "Unauthorized")
    return false
  end
  headers:replace(KEY_HEADER, key)
  return true
end

function envoy_on_request(h)
  local headers = h:headers()
  headers:remove(TOKEN_HEADER)
  headers:remove(KEY_HEADER)
  headers:remove(KEY_CLIENT_HEADER)
  headers:remove(ISS_HEADER)
  headers:remove("x-consumer-id")
  local key = h:metadata():get("key")
  if key then
    headers:remove(JWT_STASH)
    find_key(h, headers, key)
    return
  end
  local conf = h:metadata():get("jwt")
  if not conf then
    headers:remove(JWT_STASH)
    return
  end
  local meta = h:streamInfo():dynamicMetadata()
  -- jwt_authn reads Authorization too: the client's own is kept aside until the decide script.
  local authorization = headers:get("authorization")
  headers:replace(JWT_STASH, authorization and ("=" .. authorization) or "-")
  if authorization then headers:remove("authorization") end
  if not conf.preflight and headers:get(":method") == "OPTIONS" then
    meta:set(NS, "token", "skip")
    return
  end
  local seen, count, token = {}, 0, nil
  local function add(t)
    if not seen[t] then seen[t] = true; count = count + 1; token = t end
  end
  if conf.uri then
    local q = string.match(headers:get(":path") or "", "%?(.*)$")
    if q then
      for pair in string.gmatch(q, "[^&]+") do
        local k, v = string.match(pair, "^([^=]*)=(.*)$")
        if not k then k, v = pair, true end
        k = unescape(k)
        if conf.uri[k] then
          if v == true then add(true) elseif v ~= "" then add(unescape(v)) end
        end
      end
    end
  end
  if conf.cookies then
    local cookie = headers:get("cookie")
    if cookie then
      local found = {}
      for name, value in string.gmatch(cookie, "([^=;%s]+)=([^;]*)") do
        if conf.cookies[name] and not found[name] then
          found[name] = true
          if value ~= "" then add(value) end
        end
      end
    end
  end
  for _, name in ipairs(conf.headers or {}) do
    local v
    if name == "authorization" then v = authorization else v = headers:get(name) end
    if v then
      for part in string.gmatch(v, "[^,]+") do
        local t = string.match(part, "^%s*[Bb]earer%s+(.-)%s*$")
        if t and t ~= "" then add(t) end
      end
    end
  end
  local state = "one"
  if count == 0 then state = "none"
  elseif count > 1 then state = "multiple"
  elseif token == true then state = "unrecognizable"
  elseif #token > MAX then state = "large"
  else headers:replace(TOKEN_HEADER, token) end
  meta:set(NS, "token", state)
end
`;

/** One consumer as the decide script holds it. */
export interface ScriptConsumer {
  id: string;
  username?: string;
  customId?: string;
  groups: readonly string[];
}

/** One jwt credential: its `key` (the iss value), algorithm, and its consumer (an index into the consumers). */
export interface ScriptCredential {
  key: string;
  algorithm: string;
  consumer: number;
}

/** One key-auth credential: its consumer (an index into the consumers) and its id (X-Credential-Identifier). */
export interface ScriptKey {
  consumer: number;
  id?: string;
}

/**
 * The decide script, with the listener's consumers, jwt credentials, key-auth credentials
 * (api_key_auth names a key's credential by its place in `keys`, from 1) and basic-auth users
 * (basic_auth names the user it verified) as tables.
 */
/** One basic-auth credential: its username (also X-Credential-Identifier) and its consumer (an index into the consumers). */
export interface ScriptBasicUser {
  username: string;
  consumer: number;
}

export function decideScript(consumers: readonly ScriptConsumer[], credentials: readonly ScriptCredential[], keys: readonly ScriptKey[], identityHeaders: readonly string[], metadataNamespace: string, basicUsers: readonly ScriptBasicUser[] = []): string {
  const c = consumers.map((x) => `{${luaString(x.id)},${x.username !== undefined ? luaString(x.username) : 'nil'},${x.customId !== undefined ? luaString(x.customId) : 'nil'},{${x.groups.map(luaString).join(',')}}}`);
  const k = credentials.map((x) => `[${luaString(x.key)}]={${luaString(x.algorithm)},${x.consumer + 1}}`);
  const ka = keys.map((x) => `{${x.consumer + 1},${x.id !== undefined ? luaString(x.id) : 'nil'}}`);
  return `
local C = {
${c.join(',\n')}
}
local K = {
${k.join(',\n')}
}
local KA = {
${ka.join(',\n')}
}
local BA = {
${basicUsers.map((x) => `[${luaString(x.username)}]=${x.consumer + 1}`).join(',\n')}
}
${DECIDE_BODY.replace('$IDENTITY', identityHeaders.map(luaString).join(', ')).replace('$AUTHZ_NS', luaString(metadataNamespace))}`;
}

const DECIDE_BODY = `
local BASIC_STASH = "${BASIC_STASH_HEADER}"
local BASIC_USER = "${BASIC_USER_HEADER}"
local TOKEN_HEADER = "${TOKEN_HEADER}"
local KEY_HEADER = "${KEY_HEADER}"
local KEY_CLIENT_HEADER = "${KEY_CLIENT_HEADER}"
local ISS_HEADER = "${ISS_HEADER}"
local JWT_STASH = "${JWT_STASH_HEADER}"
local MAX = ${MAX_TOKEN_LENGTH}
local NS = "${TOKEN_NAMESPACE}"
local JWT_NS = "envoy.filters.http.jwt_authn"
local AUTHZ_NS = $AUTHZ_NS
local IDENTITY = { $IDENTITY }
local JSON_TYPE = "application/json; charset=utf-8"
local ALGS = { HS256 = true, HS384 = true, HS512 = true, RS256 = true, RS384 = true, RS512 = true,
  ES256 = true, ES384 = true, ES512 = true, PS256 = true, PS384 = true, PS512 = true, EdDSA = true }
local NULL = {}

local BY_ID, BY_NAME = {}, {}
for i, c in ipairs(C) do
  BY_ID[c[1]] = i
  if c[2] then BY_NAME[c[2]] = i end
  c.gh = table.concat(c[4], ", ")
  local set = {}
  for _, g in ipairs(c[4]) do set[g] = true end
  c.set = set
end

-- Kong's base64 decoding of a token part: url-safe or standard alphabet, padding optional.
local B64 = {}
do
  local a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  for i = 1, 64 do B64[string.byte(a, i)] = i - 1 end
  B64[45] = 62; B64[95] = 63
end
local function b64decode(s)
  local body = string.gsub(s, "=+$", "")
  if #s - #body > 2 then return nil end
  if #body % 4 == 1 then return nil end
  if #s ~= #body and (#body + (4 - #body % 4) % 4) ~= #s then return nil end
  local out, bits, n = {}, 0, 0
  for i = 1, #body do
    local v = B64[string.byte(body, i)]
    if not v then return nil end
    bits = bits * 64 + v; n = n + 6
    if n >= 8 then
      n = n - 8
      local byte = math.floor(bits / 2 ^ n)
      out[#out + 1] = string.char(byte)
      bits = bits - byte * 2 ^ n
    end
  end
  return table.concat(out)
end

-- A small JSON reader, for the header and claims of a refused token only.
local decode_value
local function skip(s, i) return string.find(s, "[^ \\t\\r\\n]", i) or #s + 1 end
local ESC = { ['"'] = '"', ["\\\\"] = "\\\\", ["/"] = "/", b = "\\b", f = "\\f", n = "\\n", r = "\\r", t = "\\t" }
local function decode_string(s, i)
  local out, j = {}, i + 1
  while true do
    local c = string.sub(s, j, j)
    if c == "" then error("json") end
    if c == '"' then return table.concat(out), j + 1 end
    if c == "\\\\" then
      local e = string.sub(s, j + 1, j + 1)
      if e == "u" then
        local hex = string.sub(s, j + 2, j + 5)
        if not string.match(hex, "^%x%x%x%x$") then error("json") end
        local cp = tonumber(hex, 16)
        if cp < 0x80 then out[#out + 1] = string.char(cp)
        elseif cp < 0x800 then out[#out + 1] = string.char(0xC0 + math.floor(cp / 64), 0x80 + cp % 64)
        else out[#out + 1] = string.char(0xE0 + math.floor(cp / 4096), 0x80 + math.floor(cp / 64) % 64, 0x80 + cp % 64) end
        j = j + 6
      else
        if not ESC[e] then error("json") end
        out[#out + 1] = ESC[e]; j = j + 2
      end
    else
      out[#out + 1] = c; j = j + 1
    end
  end
end
decode_value = function(s, i, depth)
  if depth > 32 then error("json") end
  i = skip(s, i)
  local c = string.sub(s, i, i)
  if c == "{" then
    local t = {}
    i = skip(s, i + 1)
    if string.sub(s, i, i) == "}" then return t, i + 1 end
    while true do
      if string.sub(s, i, i) ~= '"' then error("json") end
      local k; k, i = decode_string(s, i)
      i = skip(s, i)
      if string.sub(s, i, i) ~= ":" then error("json") end
      t[k], i = decode_value(s, i + 1, depth + 1)
      i = skip(s, i)
      local d = string.sub(s, i, i)
      if d == "}" then return t, i + 1 end
      if d ~= "," then error("json") end
      i = skip(s, i + 1)
    end
  elseif c == "[" then
    local t = { is_array = true }
    i = skip(s, i + 1)
    if string.sub(s, i, i) == "]" then return t, i + 1 end
    while true do
      t[#t + 1], i = decode_value(s, i, depth + 1)
      i = skip(s, i)
      local d = string.sub(s, i, i)
      if d == "]" then return t, i + 1 end
      if d ~= "," then error("json") end
      i = i + 1
    end
  elseif c == '"' then return decode_string(s, i)
  elseif string.sub(s, i, i + 3) == "true" then return true, i + 4
  elseif string.sub(s, i, i + 4) == "false" then return false, i + 5
  elseif string.sub(s, i, i + 3) == "null" then return NULL, i + 4
  else
    local num = string.match(s, "^-?%d+%.?%d*[eE]?[-+]?%d*", i)
    if not num or num == "" then error("json") end
    return tonumber(num), i + #num
  end
end
local function json_part(part)
  local raw = b64decode(part)
  if not raw then return nil end
  local ok, v, i = pcall(decode_value, raw, 1, 0)
  if not ok or skip(raw, i) <= #raw then return nil end
  return v
end

-- Kong's jwt_parser decode_token, with its error strings.
local function decode_token(token)
  local d1 = string.find(token, ".", 1, true)
  local d2 = d1 and string.find(token, ".", d1 + 1, true)
  if not d2 then return nil, nil, "invalid JSON" end
  local header = json_part(string.sub(token, 1, d1 - 1))
  local claims = json_part(string.sub(token, d1 + 1, d2 - 1))
  if header == nil or claims == nil then return nil, nil, "invalid JSON" end
  if type(header) ~= "table" or header.is_array or header == NULL or type(header.alg) ~= "string" or not ALGS[header.alg] then return nil, nil, "invalid alg" end
  if type(claims) ~= "table" or claims.is_array or claims == NULL then return nil, nil, "invalid claims" end
  if not b64decode(string.sub(token, d2 + 1)) then return nil, nil, "invalid signature" end
  return header, claims
end

local function json_escape(s)
  return (string.gsub(s, '[%c"\\\\]', function(c) return string.format("\\\\u%04x", string.byte(c)) end))
end
local function json_object(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = '"' .. json_escape(k) .. '":"' .. json_escape(t[k]) .. '"' end
  return "{" .. table.concat(parts, ",") .. "}"
end

${GRPC_REFUSALS}

local function refuse(h, status, body, www)
  local g = grpc_refusal(h:headers(), status, www)
  if g then return h:respond(g, nil) end
  local headers = { [":status"] = tostring(status), ["content-type"] = JSON_TYPE }
  if www then headers["www-authenticate"] = www end
  h:respond(headers, json_object(body))
end

local function absent(v) return v == nil or v == NULL or v == false end

-- Kong's verify_registered_claims for claims_to_verify: the errors by claim, or nil.
local function claim_errors(conf, claims, now)
  local errors
  for _, name in ipairs(conf.claims or {}) do
    local v = claims[name]
    local e
    if type(v) ~= "number" then e = "must be a number"
    elseif name == "exp" and v <= now then e = "token expired"
    elseif name == "nbf" and v > now then e = "token not valid yet" end
    if e then errors = errors or {}; errors[name] = e end
  end
  return errors
end

-- Kong's jwt do_authentication, on what the token script found and jwt_authn decided.
local function check_jwt(h, conf, state, token, jm, now)
  local base = conf.realm and ('Bearer realm="' .. conf.realm .. '"') or "Bearer"
  local www = base .. ' error="invalid_token"'
  if state == "none" then return 401, { message = "Unauthorized" }, base end
  if state == "multiple" then return 401, { message = "Multiple tokens provided" }, www end
  if state == "unrecognizable" then return 401, { message = "Unrecognizable token" }, www end
  if state == "large" then return 401, { message = "Bad token; token too large" }, www end
  local payload = jm and jm.${PAYLOAD_KEY}
  local cred
  if payload then
    cred = K[payload.iss]
    -- RFC 7515 4.1.11: a critical header parameter this verifier does not know refuses the token
    -- (jwt_authn ignores "crit"; the companion's verifier refuses it).
    local header = jm.${HEADER_KEY}
    if cred and header and header.crit ~= nil then return 401, { message = "Invalid signature" }, www end
  end
  if not cred then
    if not token then return 401, { message = "Unauthorized" }, base end
    local header, claims, err = decode_token(token)
    if err then return 401, { message = "Bad token; " .. err }, www end
    local kv = claims.iss
    if absent(kv) then kv = header.iss end
    if absent(kv) then return 401, { message = "No mandatory 'iss' in claims" }, www end
    if kv == "" then return 401, { message = "Invalid 'iss' in claims" }, www end
    local found = type(kv) == "string" and K[kv]
    if not found then return 401, { message = "No credentials found for given 'iss'" }, www end
    if header.alg ~= found[1] then return 401, { message = "Invalid algorithm" }, www end
    -- jwt_authn refuses a time claim that is not an integer before it checks the signature;
    -- Kong, checking the signature first, answers with the claims for a well-signed token.
    for _, name in ipairs({ "exp", "nbf", "iat" }) do
      local v = claims[name]
      if v ~= nil and v ~= NULL and type(v) ~= "number" then
        local errors = claim_errors(conf, claims, now)
        if errors then return 401, errors, www end
      end
    end
    return 401, { message = "Invalid signature" }, www
  end
  local errors = claim_errors(conf, payload, now)
  if errors then return 401, errors, www end
  local max = conf.max_exp or 0
  if max > 0 then
    local exp = payload.exp
    if type(exp) ~= "number" or exp - now > max then return 401, { exp = "exceeds maximum allowed expiration" }, www end
  end
  return nil, nil, nil, cred[2], payload.iss
end

function envoy_on_request(h)
  local headers = h:headers()
  local token = headers:get(TOKEN_HEADER)
  local client = headers:get(KEY_CLIENT_HEADER)
  local basic_user = headers:get(BASIC_USER)
  local stash = headers:get(BASIC_STASH)
  headers:remove(BASIC_USER)
  headers:remove(BASIC_STASH)
  headers:remove(TOKEN_HEADER)
  headers:remove(KEY_HEADER)
  headers:remove(KEY_CLIENT_HEADER)
  headers:remove(ISS_HEADER)
  local jwt_stash = headers:get(JWT_STASH)
  if jwt_stash then
    headers:remove(JWT_STASH)
    if string.sub(jwt_stash, 1, 1) == "=" then headers:replace("authorization", string.sub(jwt_stash, 2)) end
  end
  local conf = h:metadata():get("auth")
  if not conf then return end
  for _, name in ipairs(IDENTITY) do headers:remove(name) end
  local meta = h:streamInfo():dynamicMetadata()
  local consumer, credential, anonymous
  if conf.key then
    -- api_key_auth let the request through: the key's credential, by its place in KA.
    local k = client and KA[tonumber(client)]
    if not k then return refuse(h, 401, { message = "Unauthorized" }, conf.key) end
    consumer, credential = k[1], k[2]
  end
  if conf.basic then
    -- basic_auth verified the password: the user it names, and the client's Authorization put back (or not, hidden).
    local b = basic_user and BA[basic_user]
    if not b then return refuse(h, 401, { message = "Unauthorized" }, conf.basic) end
    consumer, credential = b, basic_user
    if stash and string.sub(stash, 1, 1) == "=" then headers:replace("authorization", string.sub(stash, 2)) else headers:remove("authorization") end
  end
  local jwt = conf.jwt
  if jwt then
    local state = (meta:get(NS) or {}).token
    if state == nil then
      -- The token script was skipped: Authorization held one well-formed Bearer token (native-accept.ts).
      local a = headers:get("authorization")
      token = a and string.match(a, "^Bearer (.+)$")
      if not token then state = "none" elseif #token > MAX then state = "large" else state = "one" end
    end
    if state ~= "skip" then
      local status, body, www, c, cred = check_jwt(h, jwt, state, token, meta:get(JWT_NS), os.time())
      if status then
        if not jwt.anonymous then return refuse(h, status, body, www) end
        local i = BY_ID[jwt.anonymous] or BY_NAME[jwt.anonymous]
        if not i then return refuse(h, 500, { message = "An unexpected error occurred" }) end
        consumer, anonymous = i, true
      else
        consumer, credential = c, cred
      end
    end
  end
  local groups_header
  local acl = conf.acl
  if acl then
    if not consumer then return refuse(h, 401, { message = "Unauthorized" }) end
    local c = C[consumer]
    local listed = acl.deny or acl.allow
    if #c[4] == 0 and not acl.deny then
      if credential then return refuse(h, 403, { message = "You cannot consume this service" }) end
      return refuse(h, 401, { message = "Unauthorized" })
    end
    local in_group = false
    for _, g in ipairs(listed) do if c.set[g] then in_group = true; break end end
    if (acl.deny and in_group) or (not acl.deny and not in_group) then
      return refuse(h, 403, { message = "You cannot consume this service" })
    end
    if not acl.hide then groups_header = c.gh end
  end
  if consumer then
    local c = C[consumer]
    headers:replace("x-consumer-id", c[1])
    meta:set(AUTHZ_NS, "consumer_id", c[1])
    if c[3] then
      headers:replace("x-consumer-custom-id", c[3])
      meta:set(AUTHZ_NS, "consumer_custom_id", c[3])
    end
    if c[2] then
      headers:replace("x-consumer-username", c[2])
      meta:set(AUTHZ_NS, "consumer_username", c[2])
    end
  end
  if credential then
    headers:replace("x-credential-identifier", credential)
    meta:set(AUTHZ_NS, "credential_id", credential)
  end
  if anonymous then headers:replace("x-anonymous-consumer", "true") end
  if groups_header then headers:replace("x-consumer-groups", groups_header) end
end
`;

/**
 * The basic-auth script, before Envoy's basic_auth: Kong's credential lookup
 * (kong/plugins/basic-auth/access.lua: Proxy-Authorization, then Authorization; in each
 * `[Bb]asic\s*(.+)`, base64, `([^:]+):(.*)`; a username found in Proxy-Authorization decides;
 * hide_credentials clears each header read). A request without either header, or naming no
 * known user, is refused here with Kong's answer; otherwise the one credential goes to
 * basic_auth as `Authorization: Basic <base64 of user:password>` (the only form and header it
 * reads), the client's own Authorization kept in BASIC_STASH_HEADER for the decide script to
 * put back. basic_auth checks the password against its (sensitive) htpasswd users. The
 * usernames (not the passwords) are a table here.
 */
export function basicScript(usernames: readonly string[]): string {
  return `
local USERS = {
${usernames.map((u) => `[${luaString(u)}]=true`).join(',\n')}
}
local STASH = "${BASIC_STASH_HEADER}"
local USER_HEADER = "${BASIC_USER_HEADER}"
local JSON_TYPE = "application/json; charset=utf-8"
${GRPC_REFUSALS}
${BASIC_BODY}`;
}

const BASIC_BODY = `
local B64 = {}
do
  local a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  for i = 1, 64 do B64[string.byte(a, i)] = i - 1 end
end

-- Standard base64, padding optional, as the companion reads it (trailing bits dropped).
local function b64decode(s)
  if not string.match(s, "^[A-Za-z0-9+/]*=?=?$") or #s % 4 == 1 then return nil end
  local body = string.gsub(s, "=+$", "")
  local out, bits, n = {}, 0, 0
  for i = 1, #body do
    bits = bits * 64 + B64[string.byte(body, i)]; n = n + 6
    if n >= 8 then
      n = n - 8
      local byte = math.floor(bits / 2 ^ n)
      out[#out + 1] = string.char(byte)
      bits = bits - byte * 2 ^ n
    end
  end
  return table.concat(out)
end

-- Kong's one answer to every basic-auth failure (3.8+): 401, the realm's challenge.
local function refuse(h, headers, www)
  local g = grpc_refusal(headers, 401, www)
  if g then return h:respond(g, nil) end
  h:respond({ [":status"] = "401", ["content-type"] = JSON_TYPE, ["www-authenticate"] = www }, '{"message":"Unauthorized"}')
end

-- Kong's retrieve_credentials on one header value: username and password, or nil.
local function credentials(value)
  if value == nil then return nil end
  local b64 = string.match(value, "[Bb]asic%s*(.+)")
  if not b64 then return nil end
  local decoded = b64decode(b64)
  if not decoded then return nil end
  return string.match(decoded, "([^:]+):(.*)")
end

function envoy_on_request(h)
  local headers = h:headers()
  headers:remove(STASH)
  headers:remove(USER_HEADER)
  local conf = h:metadata():get("basic")
  if not conf then return end
  local www = 'Basic realm="' .. conf.realm .. '"'
  local proxy = headers:get("proxy-authorization")
  local auth = headers:get("authorization")
  if proxy == nil and auth == nil then return refuse(h, headers, www) end
  local user, password = credentials(proxy)
  if conf.hide and proxy ~= nil then headers:remove("proxy-authorization") end
  local kept = auth
  if not (user and USERS[user]) then
    user, password = credentials(auth)
    if conf.hide then kept = nil end
    if not (user and USERS[user]) then return refuse(h, headers, www) end
  end
  headers:replace(STASH, kept and ("=" .. kept) or "-")
  headers:replace("authorization", "Basic " .. h:base64Escape(user .. ":" .. password))
end
`;
