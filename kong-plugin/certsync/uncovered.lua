-- certsync.uncovered: handshakes no watched Secret covers, so the host's own
-- certificate answered them. The names clients asked for are the first
-- clue of every "the Ingress hosts do not match the Secret" ticket, so each
-- worker counts them in the certificate phase, and the status adds the
-- workers up for the node.
--
-- Per handshake: a few comparisons and one Space-Saving hit
-- (certsync.top_names) in a per-worker table, nothing else; the worker's
-- timer publishes a snapshot (certsync.worker_report) at most once a second.
-- A server name is the client's to choose: it is kept only if it could be a
-- host name (letters, digits, '-' and '.', at most 253 characters, the DNS
-- limit), lowercased; any other name is counted as invalid and never kept,
-- so the status and the log never carry what a client made up.
local top_names = require "certsync.top_names"

local find, lower = string.find, string.lower
local sort = table.sort
local setmetatable, type, ipairs, tonumber = setmetatable, type, ipairs, tonumber

local _M = {}

_M.DEFAULT_LIMIT = 100
_M.MAX_NAME_LENGTH = 253

-- `sni` as it may be shown, or nil when it cannot be a host name.
local function clean(sni)
  local length = #sni
  if length == 0 or length > _M.MAX_NAME_LENGTH or find(sni, "[^a-zA-Z0-9.-]") then return nil end
  return lower(sni)
end
_M.clean = clean

local Recorder = {}
Recorder.__index = Recorder

-- limit: names kept per worker; now: when counting starts.
function _M.new(limit, now)
  return setmetatable({
    top = top_names.new(limit),
    no_sni = 0,
    invalid = 0,
    since = now,
    reported = { named = 0, no_sni = 0, invalid = 0 }, -- counts the metric has been given
  }, Recorder)
end

-- A handshake that asked for `sni`, which nothing covers.
function Recorder:named(sni, now)
  local name = clean(sni)
  if name then return self.top:hit(name, now) end
  self.invalid = self.invalid + 1
end

-- A handshake without a server name.
function Recorder:without_sni()
  self.no_sni = self.no_sni + 1
end

function Recorder:resize(limit)
  self.top:resize(limit)
end

function Recorder:total()
  return self.top.hits + self.no_sni + self.invalid
end

-- What the worker's report carries (JSON-ready); pid tells this worker's
-- report from one its predecessor with the same id wrote while exiting.
function Recorder:snapshot(pid)
  return { pid = pid, since = self.since, total = self:total(), no_sni = self.no_sni, invalid = self.invalid,
           other = self.top:other(), names = self.top:entries() }
end

-- Handshakes counted since the last call, by kind: { named, no_sni, invalid }.
function Recorder:take_deltas()
  local r = self.reported
  local deltas = { named = self.top.hits - r.named, no_sni = self.no_sni - r.no_sni,
                   invalid = self.invalid - r.invalid }
  r.named, r.no_sni, r.invalid = self.top.hits, self.no_sni, self.invalid
  return deltas
end

local function number(v)
  return type(v) == "number" and v or 0
end

local function by_count(a, b)
  if a.count ~= b.count then return a.count > b.count end
  return a.name < b.name
end

local function only(names, sni)
  local out = {}
  for _, entry in ipairs(names) do
    if entry.name == sni then out[#out + 1] = entry end
  end
  return out
end

-- One worker's snapshot as the status shows it (names narrowed to `sni`
-- when given), or nil when it is not a snapshot.
function _M.worker_view(snapshot, sni)
  if type(snapshot) ~= "table" then return nil end
  local names = type(snapshot.names) == "table" and snapshot.names or {}
  return { since = snapshot.since, total = number(snapshot.total), no_sni = number(snapshot.no_sni),
           invalid = number(snapshot.invalid), other = number(snapshot.other),
           names = sni and only(names, sni) or names }
end

-- The node's view from the workers' snapshots: counts added up, each name's
-- count summed over the workers and its latest last_seen; the `limit` most
-- frequent names are listed, the others' counts join `other`. With `sni`,
-- only that name is listed (if any worker has it).
function _M.merge(snapshots, limit, sni)
  local out = { total = 0, no_sni = 0, invalid = 0, other = 0, names_max = limit }
  local merged, list = {}, {}
  for _, s in ipairs(snapshots) do
    if type(s) == "table" then
      out.total = out.total + number(s.total)
      out.no_sni = out.no_sni + number(s.no_sni)
      out.invalid = out.invalid + number(s.invalid)
      out.other = out.other + number(s.other)
      if type(s.since) == "number" and (not out.since or s.since < out.since) then out.since = s.since end
      for _, e in ipairs(type(s.names) == "table" and s.names or {}) do
        local name, count = e.name, tonumber(e.count)
        if type(name) == "string" and count then
          local m = merged[name]
          if not m then
            m = { name = name, count = 0, last_seen = e.last_seen }
            merged[name] = m
            list[#list + 1] = m
          end
          m.count = m.count + count
          if number(e.last_seen) > number(m.last_seen) then m.last_seen = e.last_seen end
        end
      end
    end
  end
  sort(list, by_count)
  for i = limit + 1, #list do out.other = out.other + list[i].count end
  for i = #list, limit + 1, -1 do list[i] = nil end
  if sni then
    list = merged[sni] and { merged[sni] } or {}
  end
  out.names = list
  return out
end

return _M
