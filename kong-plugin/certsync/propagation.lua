-- certsync.propagation: one worker publishes, every worker converges.
--
-- The worker that owns the watcher writes each changed bundle into the
-- shared dict under "b:<namespace>/<name>", stamped with the publication it
-- belongs to, then raises "gen". Every worker (the owner included) polls
-- "gen"; when it moved, it re-reads the bundle keys and parses only those
-- whose stamp changed, so a certificate is parsed once per change per worker,
-- never per handshake. Bundles are written before "gen", so a reader that
-- sees a new "gen" also sees its bundles.
local concat = table.concat
local tonumber = tonumber
local tostring = tostring
local sub = string.sub
local find = string.find

local _M = {}

local BUNDLE_PREFIX = "b:"
local GEN_KEY = "gen"

local HEADER_LINES = 9
-- Free pages a new certificate must leave in the dict: the status, the
-- workers' reports and the metrics live there too, and must still fit when
-- the certificates no longer do. A share of the dict, at least 64 KB.
local RESERVE_SHARE = 1 / 16
local MIN_RESERVE = 64 * 1024

-- Whether a new value of `bytes` may take room in the dict. Without
-- lua-resty-core's capacity()/free_space() every value is tried.
local function room_for(dict, bytes)
  if not dict.free_space or not dict.capacity then return true end
  local reserve = math.max(MIN_RESERVE, dict:capacity() * RESERVE_SHARE)
  return dict:free_space() >= bytes + reserve
end

-- Serialised form: nine header lines, then the certificate and key PEM.
local function encode(stamp, change)
  return concat({ stamp, change.id, change.snis, change.serial, change.not_before or 0, change.not_after,
                  change.key_type or "", change.observed_at or 0, #change.cert_pem, "" }, "\n") ..
    change.cert_pem .. change.key_pem
end

local function decode(value)
  local fields, pos = {}, 1
  for i = 1, HEADER_LINES do
    local nl = find(value, "\n", pos, true)
    if not nl then return nil end
    fields[i] = sub(value, pos, nl - 1)
    pos = nl + 1
  end
  local cert_len = tonumber(fields[9])
  if not cert_len then return nil end
  local snis = {}
  for sni in fields[3]:gmatch("%S+") do snis[#snis + 1] = sni end
  return {
    stamp = tonumber(fields[1]),
    id = fields[2],
    snis = snis,
    serial = fields[4],
    not_before = tonumber(fields[5]),
    not_after = tonumber(fields[6]),
    key_type = fields[7],
    observed_at = tonumber(fields[8]) or 0,
    cert_pem = sub(value, pos, pos + cert_len - 1),
    key_pem = sub(value, pos + cert_len),
  }
end

-- Owner side: writes a change set (from the library). Returns the new
-- published generation and the ids whose bundle did not fit in the dict
-- (with the dict's error), or nil, err. What fits is published: a full dict
-- never holds back the rest. A bundle that does not fit leaves the one
-- stored before in place: nginx frees the old value before it finds no room
-- for the new one, so the old one is put back.
function _M.publish(dict, set)
  local stamp = (dict:get(GEN_KEY) or 0) + 1
  local present, unstored, store_err = {}, {}, nil
  for _, change in ipairs(set.changes) do
    local key = BUNDLE_PREFIX .. change.id
    if change.removed then
      dict:delete(key)
    else
      present[key] = true
      local old = dict:get(key)
      local value = encode(stamp, change)
      local ok, err
      if old or room_for(dict, #value) then
        ok, err = dict:safe_set(key, value)
      else
        ok, err = nil, "no room left beside the status and the metrics"
      end
      if not ok then
        if old then dict:safe_set(key, old) end
        unstored[#unstored + 1] = change.id
        store_err = err
      end
    end
  end
  if set.full then
    -- A full set is the whole truth: what it does not name is gone.
    for _, key in ipairs(dict:get_keys(0)) do
      if sub(key, 1, #BUNDLE_PREFIX) == BUNDLE_PREFIX and not present[key] then dict:delete(key) end
    end
  end
  local ok, err = dict:safe_set(GEN_KEY, stamp)
  if not ok then return nil, "cannot raise the published generation in the shared dict: " .. tostring(err) end
  return stamp, unstored, store_err
end

-- The size a change takes in the dict, for sizing advice.
function _M.encoded_size(change)
  return #encode(0, change)
end

function _M.published_generation(dict)
  return dict:get(GEN_KEY) or 0
end

-- Worker side: returns { [id] = bundle } where bundles already in `current`
-- with the same stamp are reused as they are, and the others are passed to
-- `parse(bundle)` (which returns the bundle with parsed objects, or nil, err).
-- Failures are reported through on_error(id, err) and the previous bundle of
-- that id, if any, is kept.
function _M.collect(dict, current, parse, on_error)
  local next_bundles = {}
  for _, key in ipairs(dict:get_keys(0)) do
    if sub(key, 1, #BUNDLE_PREFIX) == BUNDLE_PREFIX then
      local id = sub(key, #BUNDLE_PREFIX + 1)
      local value = dict:get(key)
      local known = current[id]
      local stamp = value and tonumber(sub(value, 1, (find(value, "\n", 1, true) or 1) - 1))
      if known and known.stamp == stamp then
        next_bundles[id] = known
      elseif value then
        local decoded = decode(value)
        local parsed, err
        if decoded then
          parsed, err = parse(decoded)
        else
          err = "malformed entry in the shared dict"
        end
        if parsed then
          next_bundles[id] = parsed
        else
          on_error(id, err)
          next_bundles[id] = known
        end
      end
    end
  end
  return next_bundles
end

return _M
