-- certsync.sni_index: server name -> bundle, built once per change, read per handshake.
--
-- Lookup order: the exact name, then a wildcard for its first label only
-- ("a.b.example.com" matches "*.b.example.com", never "*.example.com").
-- No match returns nil: the host's own certificate stays in place.
local lower = string.lower
local find = string.find
local sub = string.sub
local sort = table.sort
local pairs = pairs

local _M = {}

-- bundles: { [id] = { snis = { "a.example.com", "*.example.com" }, ... } }.
-- When two Secrets claim one name, the smaller id ("namespace/name") wins so
-- every worker of every node decides the same way; losers are returned as
-- { {sni, winner, loser}, ... } for the status.
function _M.build(bundles)
  local ids = {}
  for id in pairs(bundles) do ids[#ids + 1] = id end
  sort(ids)
  local index, conflicts = {}, {}
  for _, id in ipairs(ids) do
    for _, sni in ipairs(bundles[id].snis) do
      local holder = index[sni]
      if holder then
        conflicts[#conflicts + 1] = { sni = sni, winner = holder.id, loser = id }
      else
        index[sni] = bundles[id]
      end
    end
  end
  return index, conflicts
end

-- The hot path: at most three table lookups and one string.sub.
function _M.lookup(index, server_name)
  local entry = index[server_name]
  if entry then return entry end
  local name = lower(server_name)
  entry = index[name]
  if entry then return entry end
  local dot = find(name, ".", 1, true)
  if dot then return index["*" .. sub(name, dot)] end
  return nil
end

return _M
