-- An in-memory stand-in for an ngx.shared dict (the calls certsync uses),
-- for unit specs that run outside nginx.
local _M = {}
local Dict = {}
Dict.__index = Dict

function _M.new() return setmetatable({ data = {} }, Dict) end

function Dict:get(key) return self.data[key] end
function Dict:set(key, value) self.data[key] = value return true end
function Dict:safe_set(key, value) self.data[key] = value return true end
function Dict:safe_add(key, value) return self:add(key, value) end
function Dict:add(key, value)
  if self.data[key] ~= nil then return false, "exists" end
  self.data[key] = value
  return true
end
function Dict:delete(key) self.data[key] = nil end
function Dict:incr(key, value, init)
  local current = self.data[key]
  if current == nil then
    if init == nil then return nil, "not found" end
    current = init
  end
  self.data[key] = current + value
  return self.data[key]
end
function Dict:get_keys()
  local keys = {}
  for k in pairs(self.data) do keys[#keys + 1] = k end
  table.sort(keys)
  return keys
end

return _M
