-- certsync.worker_report: what each nginx worker serves, told to the others.
--
-- The status, the readiness check and the metrics answer in whichever worker
-- the request reaches, yet must speak for every worker of the node. So each
-- worker writes into the shared dict:
--   "w:<id>"  { pid, generation, converged_at, serials = { [secret id] = serial } },
--             when it converges on a new generation (the serials are the
--             bundles it actually parsed, so a bundle a worker failed to
--             load shows; converged_at is when it started serving them);
--   "wh:<id>" the time of its last tick, every tick: a worker that stopped
--             ticking (hung, or gone with a smaller worker_processes) is stale.
-- <id> is ngx.worker.id(), stable across respawns, so a restarted worker
-- replaces its own entry.
local json = require "certsync.json"

local _M = {}

local REPORT_PREFIX = "w:"
local HEARTBEAT_PREFIX = "wh:"
_M.STALE_AFTER = 5  -- seconds without a tick after which a worker's report is not trusted

function _M.publish(dict, worker_id, pid, generation, bundles)
  local serials = {}
  for id, bundle in pairs(bundles) do serials[id] = bundle.serial end
  ngx.update_time()
  local text = json.encode({ pid = pid, generation = generation, converged_at = ngx.now(), serials = serials })
  local ok, err = dict:safe_set(REPORT_PREFIX .. worker_id, text)
  if not ok then return nil, err end
  return _M.heartbeat(dict, worker_id)
end

function _M.heartbeat(dict, worker_id)
  return dict:safe_set(HEARTBEAT_PREFIX .. worker_id, ngx.now())
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
    report.stale = not seen or now - seen > _M.STALE_AFTER
    reports[#reports + 1] = report
  end
  return reports
end

-- Forgets workers numbered `count` and above (worker_processes went down).
function _M.forget_beyond(dict, count)
  for _, key in ipairs(dict:get_keys(0)) do
    local id = tonumber(key:match("^" .. REPORT_PREFIX .. "(%d+)$") or key:match("^" .. HEARTBEAT_PREFIX .. "(%d+)$"))
    if id and id >= count then dict:delete(key) end
  end
end

return _M
