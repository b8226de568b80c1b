-- certsync.status_feed: the owner copies the library's status into the
-- shared dict, where every worker answers operators from it.
--
--   "status"       the node-wide part: generation, synced, watch scopes,
--                  notify socket (or, while the watcher cannot start, why)
--   "status_at"    when the owner last wrote it
--   "s:<id>"       one Secret's status (JSON, no key material)
--   "certificates" the cert-manager Certificates (a JSON array, see
--                  certsync.h), written when they changed
--
-- The library hands out only the Secrets whose status changed since the
-- version the feed last took (certsync_status_since), and the feed writes
-- them a slice at a time: with 50,000 Secrets, a second of the owner's
-- event loop costs what changed, not what is watched. `on_secret(id, text,
-- before)` (text nil: gone; before: the text the dict held until now, or
-- nil) lets the metrics follow the same changes.
local clock = require "certsync.clock"

local _M = {}

_M.SUMMARY_KEY = "status"
_M.SUMMARY_AT_KEY = "status_at"
_M.SECRET_PREFIX = "s:"
_M.CERTIFICATES_KEY = "certificates"
local SECRET_PREFIX = _M.SECRET_PREFIX

local Feed = {}
Feed.__index = Feed

-- on_secret(id, text|nil, before|nil), on_full_done(present): called as Secrets are
-- written and when a full delta is in (present: { [id] = true }), where
-- an earlier owner's leftovers must go. inherited: whether an earlier owner
-- may have written statuses (see propagation.OWNED_KEY); without one there
-- is nothing to look for, and reading every key of a large dict is not free.
function _M.new(dict, on_secret, on_full_done, inherited)
  return setmetatable({ dict = dict, version = 0, job = nil, on_secret = on_secret,
                        on_full_done = on_full_done, inherited = inherited, certificates_version = 0 }, Feed)
end

function Feed:busy()
  return self.job ~= nil
end

-- Takes a delta from the watcher (certsync.ffi's status_since): the summary
-- is written at once, the Secrets by step(). Returns nil, err on failure.
function Feed:take(watcher, timed)
  local delta, err = timed("status_since", watcher.status_since, watcher, self.version)
  if not delta then return nil, err end
  local ok
  ok, err = self.dict:safe_set(_M.SUMMARY_KEY, delta.summary)
  self.dict:safe_set(_M.SUMMARY_AT_KEY, ngx.now())
  -- The Certificates only when they changed: one text for all of them.
  local certificates, certificates_version
  if watcher.certificates_json then
    certificates, certificates_version = timed("certificates_json", watcher.certificates_json, watcher,
                                               self.certificates_version)
  end
  if certificates then
    if self.dict:safe_set(_M.CERTIFICATES_KEY, certificates) then self.certificates_version = certificates_version end
  end
  if delta.count == 0 and not delta.full then
    self.version = delta.version
    delta:free()
    return ok, err
  end
  self.job = { delta = delta, pos = 1, present = delta.full and {} or nil }
  return ok, err
end

-- Writes Secrets for at most about `budget_ms`; true once the delta is in.
function Feed:step(budget_ms)
  local job = self.job
  if not job then return true end
  local dict, delta = self.dict, job.delta
  local deadline = clock.now_ms() + budget_ms
  while job.pos <= delta.count do
    local id, text = delta:get(job.pos)
    job.pos = job.pos + 1
    -- What the dict held before: the metrics remove what it showed and
    -- the new one does not (certsync.metrics keeps no copy of its own).
    local before = self.on_secret and dict:get(SECRET_PREFIX .. id)
    if text then
      if job.present then job.present[id] = true end
      dict:safe_set(SECRET_PREFIX .. id, text)
    else
      dict:delete(SECRET_PREFIX .. id)
    end
    if self.on_secret then self.on_secret(id, text, before) end
    if clock.now_ms() >= deadline then break end
  end
  if job.pos <= delta.count then return false end
  if job.present and self.inherited then
    -- The whole truth: a Secret an earlier owner wrote and this one does not know is gone.
    for _, key in ipairs(dict:get_keys(0)) do
      if key:sub(1, #SECRET_PREFIX) == SECRET_PREFIX then
        local id = key:sub(#SECRET_PREFIX + 1)
        if not job.present[id] then
          local before = dict:get(key)
          dict:delete(key)
          if self.on_secret then self.on_secret(id, nil, before) end
        end
      end
    end
    if self.on_full_done then self.on_full_done(job.present) end
  end
  self.version = delta.version
  delta:free()
  self.job = nil
  return true
end

-- The watcher restarted: its statuses start from nothing.
function Feed:reset()
  if self.job then self.job.delta:free() end
  self.job = nil
  self.version = 0
  self.certificates_version = 0
end

-- Reader side (any worker): the Certificates' JSON text, or nil.
function _M.certificates_text(dict)
  return dict:get(_M.CERTIFICATES_KEY)
end

-- Reader side (any worker): one Secret's status text, or every id.
function _M.secret_text(dict, id)
  return dict:get(SECRET_PREFIX .. id)
end

-- Every id with a status, sorted; with `other_prefix`, also the ids of the
-- keys under that prefix, from the same read of the dict's keys.
function _M.secret_ids(dict, other_prefix)
  local ids, others = {}, {}
  for _, key in ipairs(dict:get_keys(0)) do
    if key:sub(1, #SECRET_PREFIX) == SECRET_PREFIX then
      ids[#ids + 1] = key:sub(#SECRET_PREFIX + 1)
    elseif other_prefix and key:sub(1, #other_prefix) == other_prefix then
      others[#others + 1] = key:sub(#other_prefix + 1)
    end
  end
  table.sort(ids)
  return ids, others
end

return _M
