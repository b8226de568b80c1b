-- bench/support/dict_usage.lua: what the shared dict "certsync" holds, by
-- key prefix ("b:", "s:", "m:", ...): keys, key and value bytes, and the
-- bytes nginx's slab allocator takes for them (a node of about 80 bytes
-- plus key plus value, rounded up to a power of two up to half a page, to
-- whole 4 KB pages beyond). Loaded with dofile by initial_sync.lua's
-- status location (?dict_usage=1); returns the content handler.
-- Reads every key under the dict's lock: for benchmarks only.
local NODE_BYTES = 80
local PAGE = 4096

local function slab_bytes(size)
  if size > PAGE / 2 then return math.ceil(size / PAGE) * PAGE end
  local slot = 8
  while slot < size do slot = slot * 2 end
  return slot
end

return function()
  local dict = ngx.shared.certsync
  local groups = {}
  for _, key in ipairs(dict:get_keys(0)) do
    local value = dict:get(key)
    local prefix = key:match("^(%a+:)") or key
    local g = groups[prefix] or { keys = 0, key_bytes = 0, value_bytes = 0, slab_bytes = 0 }
    groups[prefix] = g
    local value_bytes = type(value) == "string" and #value or 8
    g.keys = g.keys + 1
    g.key_bytes = g.key_bytes + #key
    g.value_bytes = g.value_bytes + value_bytes
    g.slab_bytes = g.slab_bytes + slab_bytes(NODE_BYTES + #key + value_bytes)
  end
  ngx.header["Content-Type"] = "application/json"
  ngx.say(require("cjson").encode({ groups = groups, capacity = dict:capacity(), free = dict:free_space() }))
end
