-- certsync.worker_report: what each nginx worker serves, told to the others.
--
-- The status, the readiness check and the metrics answer in whichever worker
-- the request reaches, yet must speak for every worker of the node. So each
-- worker writes into the shared dict:
--   "w:<id>"  { pid, generation, converged_at, bundles, failed = { [secret id] = serial } },
--             when it converges on a new generation, or fails to load a
--             bundle: a worker at generation G serves every bundle published
--             up to G (certsync.propagation) except those it failed to load,
--             so the report stays this small however many Secrets there
--             are; converged_at is when it started serving them;
--   "wh:<id>" the time of its last tick, every tick: a worker that stopped
--             ticking (hung, or gone with a smaller worker_processes) is stale;
--   "wl:<id>" the longest it held its event loop: its longest tick and its
--             longest library call (milliseconds, and which call), when they grow;
--   "wt:<id>" the same per second over the last minute (certsync.hold_history),
--             at most once a second, when a second held the loop notably;
--   "wu:<id>" its count of handshakes no Secret covered (certsync.uncovered),
--             at most once a second while it grows; read by the status only.
-- <id> is ngx.worker.id(), stable across respawns, so a restarted worker
-- replaces its own entry.
local json = require "certsync.json"

local _M = {}

local REPORT_PREFIX = "w:"
local HEARTBEAT_PREFIX = "wh:"
local LONGEST_PREFIX = "wl:"
local UNCOVERED_PREFIX = "wu:"
local HOLDS_PREFIX = "wt:"
_M.STALE_AFTER = 5  -- seconds without a tick after which a worker's report is not trusted

-- failed: { [secret id] = serial } of the bundles this worker could not load.
function _M.publish(dict, worker_id, pid, generation, bundles, failed, converged_at)
  local text = json.encode({ pid = pid, generation = generation, converged_at = converged_at, bundles = bundles,
                             failed = next(failed) and failed or nil })
  local ok, err = dict:safe_set(REPORT_PREFIX .. worker_id, text)
  if not ok then return nil, err end
  return _M.heartbeat(dict, worker_id)
end

function _M.heartbeat(dict, worker_id)
  return dict:safe_set(HEARTBEAT_PREFIX .. worker_id, ngx.now())
end

-- longest: { tick_ms, ffi_ms, ffi_call, tick_own_ms, tick_converge_ms, tick_lua_kb,
-- lua_kb (the Lua heap after the last tick reported), lua_kb_peak }.
function _M.longest(dict, worker_id, longest)
  return dict:safe_set(LONGEST_PREFIX .. worker_id, json.encode(longest))
end

-- seconds: certsync.hold_history's History:snapshot().
function _M.holds(dict, worker_id, seconds)
  return dict:safe_set(HOLDS_PREFIX .. worker_id, json.encode(json.array(seconds)))
end

-- snapshot: certsync.uncovered's Recorder:snapshot().
function _M.uncovered(dict, worker_id, snapshot)
  snapshot.names = json.array(snapshot.names)
  return dict:safe_set(UNCOVERED_PREFIX .. worker_id, json.encode(snapshot))
end

-- Worker `report`'s uncovered snapshot (decoded), or nil. A snapshot written
-- by another process (the worker this one replaced, in its last tick) is
-- not this worker's.
function _M.read_uncovered(dict, report)
  if report.missing then return nil end
  local snapshot = json.decode(dict:get(UNCOVERED_PREFIX .. report.id))
  if type(snapshot) ~= "table" or snapshot.pid ~= report.pid then return nil end
  return snapshot
end

-- The reports of workers 0..count-1, in order; a worker that has not
-- reported yet has { id, missing = true }. Each report says whether it is
-- stale (no tick for STALE_AFTER seconds).
function _M.read_all(dict, count, now)
  local reports = {}
  for id = 0, count - 1 do
    local report = json.decode(dict:get(REPORT_PREFIX .. id))
    if type(report) ~= "table" then
      report = { missing = true }
    end
    report.id = id
    local seen = dict:get(HEARTBEAT_PREFIX .. id)
    report.last_tick = seen
    local longest = json.decode(dict:get(LONGEST_PREFIX .. id))
    report.longest = type(longest) == "table" and longest or nil
    local holds = json.decode(dict:get(HOLDS_PREFIX .. id))
    report.holds = type(holds) == "table" and holds or nil
    report.stale = not seen or now - seen > _M.STALE_AFTER
    reports[#reports + 1] = report
  end
  return reports
end

-- Does `report`'s worker serve `serial` of Secret `id`, published at `stamp`?
function _M.serves(report, id, stamp, serial)
  if report.missing or type(report.generation) ~= "number" or report.generation < stamp then return false end
  return not (type(report.failed) == "table" and report.failed[id] == serial)
end

-- Forgets workers numbered `count` and above (worker_processes went down).
function _M.forget_beyond(dict, count)
  for _, key in ipairs(dict:get_keys(0)) do
    local id = tonumber(key:match("^" .. REPORT_PREFIX .. "(%d+)$") or key:match("^" .. HEARTBEAT_PREFIX .. "(%d+)$")
                        or key:match("^" .. LONGEST_PREFIX .. "(%d+)$")
                        or key:match("^" .. HOLDS_PREFIX .. "(%d+)$")
                        or key:match("^" .. UNCOVERED_PREFIX .. "(%d+)$"))
    if id and id >= count then dict:delete(key) end
  end
end

return _M
