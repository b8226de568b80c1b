-- tests.soak.verdict: judges every handshake a soak's clients made against
-- what the driver wrote and when, and reads the run's logs for crashes.
--
-- A handshake passes when it completed and the leaf it was shown
--   * names its SNI (exact, or a one-label wildcard),
--   * is within its validity dates at the handshake,
--   * is a good version of the Secret that covers the SNI (never a refused
--     write, never the host's fallback), written before the handshake ended
--     and not superseded by a version every worker already served when the
--     handshake began.
-- A handshake that did not complete counts as failed, except one that was
-- in flight on a worker at the instant the driver SIGKILLed it: that
-- connection dies with its process whatever serves certificates, so it is
-- counted apart ("cut by SIGKILL") and reported.
local _M = {}

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6, Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }

-- Days since 1970-01-01 of a civil date (proleptic Gregorian).
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

-- "Jan  1 00:00:00 2020 GMT" (curl's certinfo) -> epoch seconds.
function _M.parse_date(text)
  local mon, d, h, mi, s, y = (text or ""):match("^(%a+)%s+(%d+)%s+(%d+):(%d+):(%d+)%s+(%d+)")
  if not mon or not MONTHS[mon] then return nil end
  return days_from_civil(tonumber(y), MONTHS[mon], tonumber(d)) * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)
end

local function covers(pattern, name)
  if pattern == name then return true end
  if pattern:sub(1, 2) == "*." then
    local dot = name:find(".", 1, true)
    return dot ~= nil and dot > 1 and name:sub(dot + 1) == pattern:sub(3)
  end
  return false
end

local function san_covers(san, sni)
  for entry in (san or ""):gmatch("[^,]+") do
    local name = entry:match("^%s*DNS:(%S+)")
    if name and covers(name:lower(), sni:lower()) then return true end
  end
  return false
end

-- Was the handshake in flight at a SIGKILL? kills: { epoch seconds }.
local function cut_by_kill(r, kills)
  local finish = r.start + (r.total or 5) + 0.05
  for _, at in ipairs(kills) do
    if r.start <= at + 0.05 and finish >= at then return true end
  end
  return false
end

-- records: from tests.soak.handshakes; timeline: {
--   secret_of_sni = function(sni) -> id, versions = { [id] = { { serial, written_at, converged_at } } },
--   refused = { [serial] = kind }, fallback_serial, kills = { epoch } }
-- Returns { handshakes, completed, failed, cut_by_kill, violations = n,
--           examples = { first few problems }, failures_by_code = { [rc] = n },
--           latency = { handshake seconds of completed ones }, per_sni = { [sni] = n } }
function _M.judge(records, timeline)
  local v = { handshakes = #records, completed = 0, failed = 0, cut_by_kill = 0, violations = 0,
              examples = {}, failures_by_code = {}, latency = {}, per_sni = {}, kinds = {} }
  local index = {} -- [id][serial] = { position, version }
  for id, versions in pairs(timeline.versions) do
    index[id] = {}
    for i, version in ipairs(versions) do index[id][version.serial] = { i, version } end
  end
  local function problem(kind, r, detail)
    v.violations = v.violations + 1
    v.kinds[kind] = (v.kinds[kind] or 0) + 1
    if #v.examples < 20 then
      v.examples[#v.examples + 1] = string.format("%s: %s at %.3f got %s (%s)", kind, r.sni, r.start, tostring(r.serial), detail or "")
    end
  end
  for _, r in ipairs(records) do
    v.per_sni[r.sni] = (v.per_sni[r.sni] or 0) + 1
    local completed = r.appconnect and r.appconnect > 0 and r.serial
    if not completed then
      if cut_by_kill(r, timeline.kills) then
        v.cut_by_kill = v.cut_by_kill + 1
      else
        v.failed = v.failed + 1
        v.failures_by_code[tostring(r.rc)] = (v.failures_by_code[tostring(r.rc)] or 0) + 1
        if #v.examples < 20 then
          v.examples[#v.examples + 1] = string.format("failed: %s at %.3f, curl exit %s", r.sni, r.start, tostring(r.rc))
        end
      end
    else
      v.completed = v.completed + 1
      v.latency[#v.latency + 1] = r.appconnect - r.connect
      local at = r.start
      local nb, na = _M.parse_date(r.not_before), _M.parse_date(r.not_after)
      local id = timeline.secret_of_sni(r.sni)
      local known = id and index[id] and index[id][r.serial]
      if not san_covers(r.san, r.sni) then
        problem("name mismatch", r, r.san)
      elseif not nb or not na or at < nb or at > na + 1 then
        problem("outside its validity", r, tostring(r.not_before) .. " - " .. tostring(r.not_after))
      elseif timeline.refused[r.serial] then
        problem("a refused write served", r, timeline.refused[r.serial])
      elseif r.serial == timeline.fallback_serial then
        problem("the host's fallback served", r)
      elseif not known then
        problem("a serial never written for this SNI", r, id)
      else
        local position, version = known[1], known[2]
        local nxt = timeline.versions[id][position + 1]
        if at + (r.total or 0) < version.written_at - 0.05 then
          problem("served before it was written", r)
        elseif nxt and nxt.converged_at and at > nxt.converged_at then
          problem("stale after every worker served the next", r,
                  string.format("%s converged at %.3f", nxt.serial, nxt.converged_at))
        end
      end
    end
  end
  return v
end

-- Crash lines of an error log: [alert], [emerg], signal 11, core dumped,
-- "exited on signal", but not the exits of the workers the driver killed.
function _M.crash_lines(text, killed_pids)
  local found = {}
  for line in text:gmatch("[^\n]+") do
    local bad = line:find("[alert]", 1, true) or line:find("[emerg]", 1, true) or line:find("signal 11", 1, true)
      or line:find("core dumped", 1, true) or line:find("exited on signal", 1, true)
    if bad then
      local pid = line:match("worker process (%d+) exited on signal 9%s*$")
      if not (pid and killed_pids[tonumber(pid)]) then found[#found + 1] = line end
    end
  end
  return found
end

-- p-th percentile (0..100) of a list of numbers, nearest rank.
function _M.percentile(values, p)
  if #values == 0 then return nil end
  local sorted = {}
  for i, x in ipairs(values) do sorted[i] = x end
  table.sort(sorted)
  local rank = math.max(1, math.ceil(p / 100 * #sorted))
  return sorted[rank]
end

return _M
