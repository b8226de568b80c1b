-- certsync.sni_index: server name -> what to serve, built once per change,
-- read per handshake.
--
-- Lookup order: the exact name, then a wildcard for its first label only
-- ("a.b.example.com" matches "*.b.example.com", never "*.example.com").
-- No match returns nil: the host's own certificate stays in place.
--
-- A name may have an RSA and an ECDSA certificate (from two Secrets): both
-- are served, and OpenSSL picks by the client's signature algorithms, as
-- Kong does with cert_alt. Within one kind, when two Secrets claim a name,
-- the certificate with the later notBefore wins (the newer issuance), then
-- the smaller "namespace/name", so every worker of every node agrees.
local lower = string.lower
local find = string.find
local sub = string.sub
local sort = table.sort
local pairs = pairs
local ipairs = ipairs

local _M = {}

-- "rsa" or "ec": the two kinds a client may prefer one of (Ed25519 counts
-- with ECDSA: neither is RSA).
local function kind_of(bundle)
  return (bundle.key_type or ""):find("^RSA") and "rsa" or "ec"
end
_M.kind_of = kind_of

local function better(a, b)
  local na, nb = a.not_before or 0, b.not_before or 0
  if na ~= nb then return na > nb end
  return a.id < b.id
end

-- bundles: { [id] = { id, snis = {...}, not_before, key_type, ... } }.
-- Returns index { [sni] = { first = bundle, second = bundle|nil } } and the
-- conflicts { {sni, winner, loser}, ... } for the status.
function _M.build(bundles)
  local ids = {}
  for id in pairs(bundles) do ids[#ids + 1] = id end
  sort(ids)
  local by_name, conflicts = {}, {}
  for _, id in ipairs(ids) do
    local bundle = bundles[id]
    local kind = kind_of(bundle)
    for _, sni in ipairs(bundle.snis) do
      local slots = by_name[sni] or {}
      by_name[sni] = slots
      local holder = slots[kind]
      if not holder then
        slots[kind] = bundle
      else
        local winner, loser = holder, bundle
        if better(bundle, holder) then winner, loser = bundle, holder end
        slots[kind] = winner
        conflicts[#conflicts + 1] = { sni = sni, winner = winner.id, loser = loser.id }
      end
    end
  end
  local index = {}
  for sni, slots in pairs(by_name) do
    -- ECDSA first: the cheaper handshake for the clients that can do both.
    index[sni] = { first = slots.ec or slots.rsa, second = slots.ec and slots.rsa or nil }
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
