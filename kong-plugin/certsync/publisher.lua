-- certsync.publisher: the owner's side of certsync.propagation. Writes the
-- library's change sets into the shared dict, a slice at a time.
--
-- A change set may hold 50,000 bundles (the first list, a relist). The
-- owner's event loop also serves traffic, so a set is published in slices
-- of at most `budget_ms` of work each (run() yields in between), each slice
-- its own generation: workers start serving the first Secrets while the
-- rest are still on their way. A full set is the whole truth only once its
-- last slice is in: then what it did not name is removed and "synced" is
-- set, which readiness waits for.
--
-- Only what changed is written: a bundle whose body (all but its stamp and
-- when it was seen) equals the one in the dict is left alone, so a relist,
-- or a new owner listing what the old one published, costs the workers
-- nothing. Every write is a safe one: a full dict never evicts a served
-- certificate; what does not fit is reported (certsync.unpublished).
local clock = require "certsync.clock"
local propagation = require "certsync.propagation"

local now_ms = clock.now_ms
local encode_header, same_body = propagation.encode_header, propagation.same_body
local BUNDLE_PREFIX, HEADER_PREFIX, LOG_PREFIX = propagation.BUNDLE_PREFIX, propagation.HEADER_PREFIX,
  propagation.LOG_PREFIX

local _M = {}

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

local Publisher = {}
Publisher.__index = Publisher

-- Whether the dict holds a bundle of `id` (known), kept with its count.
local function mark(self, id, present)
  local was = self.known[id] ~= nil
  if present and not was then
    self.known[id], self.known_count = true, self.known_count + 1
  elseif not present and was then
    self.known[id], self.known_count = nil, self.known_count - 1
  end
end

-- inherited: whether an earlier owner may have written bundles (see
-- propagation.OWNED_KEY); the first owner of a node knows the dict is empty.
function _M.new(dict, inherited)
  return setmetatable({ dict = dict, known = (not inherited) and {} or nil, known_count = 0, job = nil },
                      Publisher)
end

-- Starts publishing `set`: a change set of certsync.ffi (count, get(i)) or
-- a table { generation, full, changes = { ... } }. A set still being
-- published is dropped: the new one supersedes it (a full set is the whole
-- truth; a delta is taken from what the last finished set published).
function Publisher:begin(set)
  if not self.known then
    -- Taking over: what earlier owners published is in the dict already.
    self.known, self.known_count = {}, 0
    for _, id in ipairs(propagation.published_ids(self.dict)) do mark(self, id, true) end
  end
  -- From the library, a change comes without its PEM, which with_pem()
  -- copies straight into the value stored: one string per bundle, not three.
  local get = set.get and function(i) return set:get(i, set.with_pem ~= nil) end
    or function(i) return set.changes[i] end
  self.job = { set = set, get = get, count = set.count or #set.changes, pos = 1, full = set.full,
               generation = set.generation, present = set.full and {} or nil,
               written = 0, unchanged = 0, removed = 0, started_ms = now_ms() }
end

function Publisher:busy()
  return self.job ~= nil
end

-- The value to store for change `i` of the current set, and its header.
local function encoded(self, stamp, change, i)
  local header = encode_header(stamp, change)
  if change.cert_pem then return header .. change.cert_pem .. change.key_pem, header end
  return self.job.set:with_pem(i, header), header
end

-- Writes change `i`; returns "written", "unchanged", "removed", or nil, err.
local function write(self, stamp, change, i)
  local dict, id = self.dict, change.id
  local key = BUNDLE_PREFIX .. id
  if change.removed then
    if not self.known[id] then return "unchanged" end
    dict:delete(key)
    dict:delete(HEADER_PREFIX .. id)
    mark(self, id, false)
    return "removed"
  end
  local value, header = encoded(self, stamp, change, i)
  -- A bundle this owner has not seen in the dict is not there, unless an
  -- earlier owner wrote it (then `known` was read from the dict).
  local old = self.known[id] and dict:get(key)
  if old and same_body(old, value) then
    mark(self, id, true)
    return "unchanged"
  end
  if not old and not room_for(dict, #value + #header) then
    return nil, "no room left beside the status and the metrics"
  end
  local header_key = HEADER_PREFIX .. id
  local old_header = old and dict:get(header_key)
  local ok, err = dict:safe_set(key, value)
  if ok then ok, err = dict:safe_set(header_key, header) end
  if not ok then
    -- nginx frees the old value before it finds no room for the new one:
    -- put the old ones back, so what was served keeps serving.
    if old then
      dict:safe_set(key, old)
      if old_header then dict:safe_set(header_key, old_header) end
    else
      dict:delete(key)
      dict:delete(header_key)
    end
    return nil, err
  end
  mark(self, id, true)
  return "written"
end

-- What a full set did not name is gone: removes it (in this slice).
local function remove_vanished(self, job, changed, slice)
  for id in pairs(self.known) do
    if not job.present[id] then
      self.dict:delete(BUNDLE_PREFIX .. id)
      self.dict:delete(HEADER_PREFIX .. id)
      mark(self, id, false)
      changed[#changed + 1] = id
      slice[#slice + 1] = { id = id, removed = true }
      job.removed = job.removed + 1
    end
  end
end

-- Publishes the next slice of the current set, for at most about
-- `budget_ms`. Returns nil when there is no set, else a report:
--   { done, generation (raised by this slice, or nil), changes (what this
--     slice wrote or removed), unstored = { ids }, unstored_changes (their
--     changes), store_err, published (bundles in the dict now), full,
--     position, total, written, unchanged, removed, elapsed_ms (when done) }
-- or nil, err when the generation could not be raised.
function Publisher:step(budget_ms)
  local job = self.job
  if not job then return nil end
  local dict = self.dict
  local stamp = propagation.published_generation(dict) + 1
  local deadline = now_ms() + budget_ms
  local changed, slice, unstored, unstored_changes, store_err = {}, {}, {}, {}, nil
  while job.pos <= job.count do
    local i = job.pos
    local change = job.get(i)
    job.pos = i + 1
    if job.present and not change.removed then job.present[change.id] = true end
    local outcome, err = write(self, stamp, change, i)
    if outcome == "written" or outcome == "removed" then
      changed[#changed + 1] = change.id
      slice[#slice + 1] = change
      job[outcome] = job[outcome] + 1
    elseif outcome == "unchanged" then
      job.unchanged = job.unchanged + 1
    else
      unstored[#unstored + 1] = change.id
      unstored_changes[#unstored_changes + 1] = change
      store_err = err
    end
    if now_ms() >= deadline then break end
  end
  local done = job.pos > job.count
  if done and job.full then remove_vanished(self, job, changed, slice) end
  local raised
  if #changed > 0 then
    dict:safe_set(LOG_PREFIX .. stamp, propagation.encode_log(job.full and "full" or "delta", changed))
    dict:delete(LOG_PREFIX .. (stamp - propagation.LOG_KEEP))
    local ok, err = dict:safe_set(propagation.GEN_KEY, stamp)
    if not ok then return nil, "cannot raise the published generation in the shared dict: " .. tostring(err) end
    raised = stamp
  end
  local report = { done = done, generation = raised, changes = slice, unstored = unstored,
                   unstored_changes = unstored_changes, store_err = store_err, published = self:count(),
                   full = job.full, position = job.pos - 1, total = job.count, written = job.written,
                   unchanged = job.unchanged, removed = job.removed, library_generation = job.generation }
  if done then
    if job.full then
      -- The node now holds the whole truth, even if the dict held it all already.
      if not raised then
        raised = propagation.published_generation(dict)
        if raised == 0 then
          raised = 1
          dict:safe_set(propagation.GEN_KEY, raised)
          dict:safe_set(LOG_PREFIX .. raised, propagation.encode_log("full", {}))
        end
      end
      dict:safe_set(propagation.SYNCED_KEY, raised)
    end
    report.elapsed_ms = now_ms() - job.started_ms
    self.job = nil
    if job.set.free then job.set:free() end
  end
  return report
end

-- How many bundles the dict holds, as far as this owner knows.
function Publisher:count()
  return self.known_count
end

-- The owner's watcher stopped: the next one starts over (what is in the
-- dict stays, and the next full set is compared with it).
function Publisher:reset()
  if self.job and self.job.set.free then self.job.set:free() end
  self.job = nil
end

return _M
