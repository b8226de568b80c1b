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

-- Owner side: writes a change set (from the library) and returns the new
-- published generation, or nil, err (e.g. the dict is full).
function _M.publish(dict, set)
  local stamp = (dict:get(GEN_KEY) or 0) + 1
  local present = {}
  for _, change in ipairs(set.changes) do
    local key = BUNDLE_PREFIX .. change.id
    if change.removed then
      dict:delete(key)
    else
      present[key] = true
      local ok, err = dict:safe_set(key, encode(stamp, change))
      if not ok then
        return nil, "cannot store " .. change.id .. " in the shared dict: " .. tostring(err) ..
          " (raise the size of lua_shared_dict certsync)"
      end
    end
  end
  if set.full then
    -- A full set is the whole truth: what it does not name is gone.
    for _, key in ipairs(dict:get_keys(0)) do
      if sub(key, 1, #BUNDLE_PREFIX) == BUNDLE_PREFIX and not present[key] then dict:delete(key) end
    end
  end
  dict:set(GEN_KEY, stamp)
  return stamp
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
