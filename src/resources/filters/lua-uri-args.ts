/**
 * Lua shared by the generated scripts that read a query string as nginx's get_uri_args does:
 * `unescape` (`+` and %XX decoded) and `parse_args(qs)` (decoded name → value, `true` for a name
 * without "=", a list for a name given more than once; empty names dropped).
 */
export const LUA_URI_ARGS = String.raw`
local function unescape(s)
  s = string.gsub(s, "+", " ")
  return (string.gsub(s, "%%(%x%x)", function(x) return string.char(tonumber(x, 16)) end))
end

local function parse_args(qs)
  local args = {}
  for pair in string.gmatch(qs, "[^&]+") do
    local k, v = string.match(pair, "^([^=]*)=(.*)$")
    if not k then k, v = pair, true else v = unescape(v) end
    k = unescape(k)
    if k ~= "" then
      local prev = args[k]
      if prev == nil then args[k] = v
      elseif type(prev) == "table" then prev[#prev + 1] = v
      else args[k] = { prev, v } end
    end
  end
  return args
end
`;
