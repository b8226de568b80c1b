-- certsync.json: cjson (bundled with OpenResty and Kong) with arrays that
-- stay arrays. An empty Lua table encodes as {} unless marked; OpenResty's
-- cjson marks arrays with array_mt, Debian's lua-cjson 2.1.0 (what the specs'
-- plain nginx has) has no such mark, so there an empty array is written as a
-- placeholder string and replaced after encoding.
local cjson = require "cjson.safe"

local _M = {}

local array_mt = cjson.array_mt
local PLACEHOLDER = "\1certsync:empty-array\1"
local ENCODED_PLACEHOLDER = '"\\u0001certsync:empty%-array\\u0001"'

-- Marks t as a JSON array (returns what to store in its place).
function _M.array(t)
  if array_mt then return setmetatable(t, array_mt) end
  if next(t) == nil then return PLACEHOLDER end
  return t
end

function _M.encode(value)
  local text, err = cjson.encode(value)
  if not text then return nil, err end
  if not array_mt then text = text:gsub(ENCODED_PLACEHOLDER, "[]") end
  return text
end

-- nil, err on malformed input. JSON null decodes to _M.null.
function _M.decode(text)
  if type(text) ~= "string" then return nil, "not a string" end
  return cjson.decode(text)
end

_M.null = cjson.null

return _M
