-- certsync.sni_index: server name -> what to serve, kept up to date one
-- bundle at a time, read per handshake.
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
--
-- Updating a bundle touches only the names it claims (before and after),
-- so a renewal costs the same with 10 or 50,000 Secrets loaded. The entry
-- of a name is replaced, never changed in place: a handshake reads a
-- consistent pair.
local lower = string.lower
local find = string.find
local sub = string.sub
local sort = table.sort
local pairs = pairs
local ipairs = ipairs
local next = next

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

local Index = {}
Index.__index = Index

-- An empty index. `names` is what lookup() reads:
-- { [sni] = { first = bundle, second = bundle|nil } }.
function _M.new()
  return setmetatable({
    names = {},
    claims = {},    -- sni -> { rsa = { [id] = bundle }, ec = { [id] = bundle } }
    bundles = {},   -- id -> bundle
    count = 0,      -- bundles held
    contested = {}, -- sni -> true while two Secrets of one kind claim it
  }, Index)
end

local function best_of(claimants)
  local winner
  for _, bundle in pairs(claimants or {}) do
    if not winner or better(bundle, winner) then winner = bundle end
  end
  return winner
end

local function count_of(claimants)
  local n = 0
  for _ in pairs(claimants or {}) do n = n + 1 end
  return n
end

-- Recomputes what `sni` serves from its claims.
function Index:refresh(sni)
  local slots = self.claims[sni]
  if not slots or (not next(slots.rsa) and not next(slots.ec)) then
    self.claims[sni], self.names[sni], self.contested[sni] = nil, nil, nil
    return
  end
  local ec, rsa = best_of(slots.ec), best_of(slots.rsa)
  -- ECDSA first: the cheaper handshake for the clients that can do both.
  self.names[sni] = { first = ec or rsa, second = ec and rsa or nil }
  self.contested[sni] = (count_of(slots.ec) > 1 or count_of(slots.rsa) > 1) or nil
end

local function unclaim(self, bundle)
  local kind = kind_of(bundle)
  for _, sni in ipairs(bundle.snis) do
    local slots = self.claims[sni]
    if slots then slots[kind][bundle.id] = nil end
  end
end

-- Adds or replaces the bundle of `bundle.id`.
function Index:set(bundle)
  local old = self.bundles[bundle.id]
  if old then unclaim(self, old) else self.count = self.count + 1 end
  self.bundles[bundle.id] = bundle
  local kind = kind_of(bundle)
  for _, sni in ipairs(bundle.snis) do
    local slots = self.claims[sni]
    if not slots then
      slots = { rsa = {}, ec = {} }
      self.claims[sni] = slots
    end
    slots[kind][bundle.id] = bundle
  end
  if old then
    for _, sni in ipairs(old.snis) do self:refresh(sni) end
  end
  for _, sni in ipairs(bundle.snis) do self:refresh(sni) end
end

function Index:remove(id)
  local old = self.bundles[id]
  if not old then return end
  self.bundles[id] = nil
  self.count = self.count - 1
  unclaim(self, old)
  for _, sni in ipairs(old.snis) do self:refresh(sni) end
end

-- The names two Secrets of one kind claim: { {sni, winner, loser}, ... },
-- sorted, one line per loser.
function Index:conflicts()
  local out = {}
  for sni in pairs(self.contested) do
    for _, kind in ipairs({ "ec", "rsa" }) do
      local claimants = self.claims[sni][kind]
      local winner = best_of(claimants)
      for id in pairs(claimants) do
        if winner and id ~= winner.id then out[#out + 1] = { sni = sni, winner = winner.id, loser = id } end
      end
    end
  end
  sort(out, function(a, b)
    if a.sni ~= b.sni then return a.sni < b.sni end
    return a.loser < b.loser
  end)
  return out
end

-- bundles: { [id] = { id, snis = {...}, not_before, key_type, ... } }.
-- Returns the names table lookup() reads and the conflicts, in one go.
function _M.build(bundles)
  local index = _M.new()
  local ids = {}
  for id in pairs(bundles) do ids[#ids + 1] = id end
  sort(ids)
  for _, id in ipairs(ids) do index:set(bundles[id]) end
  return index.names, index:conflicts()
end

-- The hot path: at most three table lookups and one string.sub.
function _M.lookup(names, server_name)
  local entry = names[server_name]
  if entry then return entry end
  local name = lower(server_name)
  entry = names[name]
  if entry then return entry end
  local dot = find(name, ".", 1, true)
  if dot then return names["*" .. sub(name, dot)] end
  return nil
end

return _M
