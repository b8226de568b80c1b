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
-- so a renewal costs the same with 10 or 50,000 Secrets loaded.
--
-- Layout. Every worker holds this for every Secret of the node, so it is
-- kept small: bench/worker_heap.lua measures 0.46 KB a Secret with two
-- names, the name and id strings and the tables' slots included (1.79 KB
-- when each Secret kept its decoded header, a table of its names and three
-- tables a name). A lookup costs what it did: one more field read tells a
-- record from a pair.
--   bundles[id] = record: what the index knows of one Secret, made by
--     _M.record() from its header, all in the array part of one table (a
--     named field would cost a hash part):
--     { id, stamp, not_before, is_rsa, name1, name2, ... }; the names are
--     the very strings `names` is keyed by. Read them through id_of() and
--     stamp_of(). certsync.core adds `cert`, `key` and `serial` when it
--     parses the bundle (on its first handshake for one of the names).
--   names[sni] = the record serving it, or, when an ECDSA and an RSA
--     certificate both serve it, { first = ecdsa, second = rsa } (a new
--     table each time it changes, never changed in place).
--   claims[sni] = { [id] = record }: only for a name two or more Secrets
--     claim; the one claimant of every other name is names[sni] itself.
--   contested[sni] = true while two Secrets of one kind claim it.
local lower = string.lower
local find = string.find
local sub = string.sub
local sort = table.sort
local pairs = pairs
local ipairs = ipairs
local next = next
local new_table = require "table.new"

local _M = {}

-- A record's slots (see the layout above).
local ID, STAMP, NOT_BEFORE, IS_RSA, FIRST_NAME = 1, 2, 3, 4, 5

-- The record of a header (certsync.propagation: id, stamp, not_before,
-- key_type, and snis as the header's one line of names). RSA or not are
-- the two kinds a client may prefer one of (Ed25519 counts with ECDSA).
function _M.record(header)
  local snis = header.snis
  local count, pos = 0, 1
  while true do
    local _, last = find(snis, "%S+", pos)
    if not last then break end
    count, pos = count + 1, last + 1
  end
  local record = new_table(FIRST_NAME - 1 + count, 0)
  record[ID] = header.id
  record[STAMP] = header.stamp
  record[NOT_BEFORE] = header.not_before or 0
  record[IS_RSA] = find(header.key_type or "", "^RSA") ~= nil
  local i = FIRST_NAME
  for sni in snis:gmatch("%S+") do
    record[i] = sni
    i = i + 1
  end
  return record
end

-- The Secret ("namespace/name") of a record.
function _M.id_of(record)
  return record[ID]
end

-- When the record was published (the header's stamp).
function _M.stamp_of(record)
  return record[STAMP]
end

local function better(a, b)
  local na, nb = a[NOT_BEFORE], b[NOT_BEFORE]
  if na ~= nb then return na > nb end
  return a[ID] < b[ID]
end

local Index = {}
Index.__index = Index

function _M.new()
  return setmetatable({ names = {}, claims = {}, bundles = {}, count = 0, contested = {} }, Index)
end

-- The best ECDSA and RSA claimants of a name, and whether either kind has
-- more than one.
local function best_of(claimants)
  local ec, rsa, ec_n, rsa_n = nil, nil, 0, 0
  for _, record in pairs(claimants) do
    if record[IS_RSA] then
      rsa_n = rsa_n + 1
      if not rsa or better(record, rsa) then rsa = record end
    else
      ec_n = ec_n + 1
      if not ec or better(record, ec) then ec = record end
    end
  end
  return ec, rsa, ec_n > 1 or rsa_n > 1
end

-- Recomputes what a name claimed by several Secrets serves.
local function refresh(self, sni, claimants)
  local ec, rsa, contested = best_of(claimants)
  -- ECDSA first: the cheaper handshake for the clients that can do both.
  self.names[sni] = (ec and rsa) and { first = ec, second = rsa } or ec or rsa
  self.contested[sni] = contested or nil
end

local function claim(self, sni, record)
  local claimants = self.claims[sni]
  if not claimants then
    local current = self.names[sni]
    -- (current == record: a name listed twice in one certificate.)
    if not current or current == record then
      self.names[sni] = record
      return
    end
    -- A second claimant. `current` is a record: a pair has claimants.
    claimants = { [current[ID]] = current }
    self.claims[sni] = claimants
  end
  claimants[record[ID]] = record
  refresh(self, sni, claimants)
end

local function unclaim(self, sni, record)
  local claimants = self.claims[sni]
  if not claimants then
    if self.names[sni] == record then self.names[sni] = nil end
    return
  end
  claimants[record[ID]] = nil
  local only_id, only = next(claimants)
  if only_id == nil or next(claimants, only_id) == nil then
    -- Back to one claimant (or none): it serves the name alone.
    self.claims[sni], self.contested[sni] = nil, nil
    self.names[sni] = only
  else
    refresh(self, sni, claimants)
  end
end

-- Adds or replaces the record of its Secret.
function Index:set(record)
  local id = record[ID]
  local old = self.bundles[id]
  if old then
    for i = FIRST_NAME, #old do unclaim(self, old[i], old) end
  else
    self.count = self.count + 1
  end
  self.bundles[id] = record
  for i = FIRST_NAME, #record do claim(self, record[i], record) end
end

function Index:remove(id)
  local old = self.bundles[id]
  if not old then return end
  self.bundles[id] = nil
  self.count = self.count - 1
  for i = FIRST_NAME, #old do unclaim(self, old[i], old) end
end

-- The names two Secrets of one kind claim: { {sni, winner, loser}, ... },
-- sorted, one line per loser.
function Index:conflicts()
  local out = {}
  for sni in pairs(self.contested) do
    local claimants = self.claims[sni]
    local ec, rsa = best_of(claimants)
    for id, record in pairs(claimants) do
      local winner = record[IS_RSA] and rsa or ec
      if id ~= winner[ID] then out[#out + 1] = { sni = sni, winner = winner[ID], loser = id } end
    end
  end
  sort(out, function(a, b)
    if a.sni ~= b.sni then return a.sni < b.sni end
    return a.loser < b.loser
  end)
  return out
end

-- headers: { [id] = { id, snis = "name ...", not_before, key_type, ... } }.
-- Returns the names table lookup() reads and the conflicts, in one go.
function _M.build(headers)
  local index = _M.new()
  local ids = {}
  for id in pairs(headers) do ids[#ids + 1] = id end
  sort(ids)
  for _, id in ipairs(ids) do index:set(_M.record(headers[id])) end
  return index.names, index:conflicts()
end

-- The hot path: at most three table lookups and one string.sub to find
-- the entry, one more to tell a pair from a record. Returns the record to
-- serve first and the one to serve beside it (RSA beside ECDSA), or nil.
function _M.lookup(names, server_name)
  local entry = names[server_name]
  if not entry then
    local name = lower(server_name)
    entry = names[name]
    if not entry then
      local dot = find(name, ".", 1, true)
      if not dot then return nil end
      entry = names["*" .. sub(name, dot)]
      if not entry then return nil end
    end
  end
  local first = entry.first
  if first then return first, entry.second end
  return entry
end

return _M
