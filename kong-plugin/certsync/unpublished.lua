-- certsync.unpublished: certificates the library accepted that did not fit
-- in the shared dict. They are retried, shown in the status and the
-- metrics, and logged with the dict size that would hold them; nothing
-- served before is lost meanwhile (see certsync.publisher).
local json = require "certsync.json"
local propagation = require "certsync.propagation"

local _M = {}

_M.KEY = "unpublished"      -- { count, ids (the first MAX_LISTED, sorted), error, advice } in the dict
_M.RETRY_EVERY = 10         -- seconds between attempts to publish them again
local MAX_LISTED = 20
local PER_ENTRY_OVERHEAD = 1024  -- bytes beside each bundle: dict node, worker reports, metric series
local BASE_BYTES = 4 * 1024 * 1024  -- status, reports and metrics that do not grow with certificates

local pending = {}   -- id -> true, in the owner worker
local retry_at = 0

local function next_power_of_two(n)
  local p = 1
  while p < n do p = p * 2 end
  return p
end

-- The dict size, in MB, that would hold `count` bundles of `average` bytes:
-- values are stored in slabs rounded up to a power of two, with room to spare.
function _M.advice(count, average)
  local per_certificate = next_power_of_two(math.ceil(average) + 64) + PER_ENTRY_OVERHEAD
  local megabytes = math.ceil((BASE_BYTES + 1.5 * count * per_certificate) / (1024 * 1024))
  return megabytes, per_certificate
end

-- After a publication (or one slice of one): forgets what got in,
-- remembers what did not, and writes the summary for the status.
-- `published`: how many bundles the dict holds now. Returns a log line when the dict has
-- just become too small (not again while it stays so: the status and the
-- metric keep count), or when everything fits again; else nil.
function _M.record(dict, set, unstored, err, published)
  local was_full = next(pending) ~= nil
  local missed = {}
  for _, id in ipairs(unstored) do missed[id] = true end
  if set.full then
    -- The whole truth: what it does not name is not waiting any more.
    local kept = {}
    for id in pairs(pending) do if missed[id] then kept[id] = true end end
    pending = kept
  end
  for _, change in ipairs(set.changes) do
    pending[change.id] = missed[change.id] or nil
  end
  local ids = {}
  for id in pairs(pending) do ids[#ids + 1] = id end
  table.sort(ids)
  if #ids == 0 then
    dict:delete(_M.KEY)
    return was_full and "every accepted certificate is published again: the shared dict \"certsync\" has room" or nil
  end
  local bytes, sized = 0, 0
  for _, change in ipairs(set.changes) do
    if not change.removed then bytes, sized = bytes + propagation.encoded_size(change), sized + 1 end
  end
  local total = (published or 0) + #ids
  local megabytes, per_certificate = _M.advice(total, sized > 0 and bytes / sized or 4096)
  local advice = string.format("lua_shared_dict certsync %dm (about %d KB per certificate for %d certificates)",
    megabytes, math.ceil(per_certificate / 1024), total)
  local listed = {}
  for i = 1, math.min(#ids, MAX_LISTED) do listed[i] = ids[i] end
  dict:safe_set(_M.KEY, json.encode({ count = #ids, ids = json.array(listed), error = tostring(err or ""),
                                      advice = advice }))
  retry_at = ngx.now() + _M.RETRY_EVERY
  if was_full then return nil end
  return string.format("the shared dict \"certsync\" is full (%s): %d certificate(s) could not be published, " ..
    "e.g. %s; what was served before keeps serving and they are retried every %d s; to fix: %s",
    tostring(err), #ids, table.concat(listed, ", ", 1, math.min(#listed, 3)), _M.RETRY_EVERY, advice)
end

-- Whether it is time to try again.
function _M.due()
  return next(pending) ~= nil and ngx.now() >= retry_at
end

-- The change set that tries again, from a full set of the library (read
-- through ids first: only the pending bundles are copied out).
function _M.retry_set(full_set)
  local retry = { full = false, generation = full_set.generation, changes = {} }
  local still = {}
  for i = 1, full_set.count do
    local id = full_set:id(i)
    if pending[id] then
      retry.changes[#retry.changes + 1] = full_set:get(i)
      still[id] = true
    end
  end
  full_set:free()
  for id in pairs(pending) do
    if not still[id] then pending[id] = nil end -- gone from the library meanwhile
  end
  return retry
end

-- The owner changed, or its watcher restarted: the new one starts afresh.
function _M.reset(dict)
  pending, retry_at = {}, 0
  dict:delete(_M.KEY)
end

-- For the status and the metrics: the summary, or nil.
function _M.read(dict)
  local summary = json.decode(dict:get(_M.KEY))
  return type(summary) == "table" and summary or nil
end

return _M
