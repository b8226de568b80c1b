-- certsync.readiness: may this node take traffic? Yes once the first full
-- list of the API server's Secrets has been published and every worker
-- serves that generation; no, with a one-line reason, before that, or while
-- the watch has been down longer than the configured bound. A pod that is
-- not ready yet would answer with the host's default certificate.
local worker_report = require "certsync.worker_report"

local _M = {}

_M.DEFAULT_WATCH_DOWN_SECONDS = 300

-- node: {
--   published_generation = number (0: nothing published yet),
--   synced_generation = the generation that completed the first full list, or nil,
--   workers = worker_report.read_all(...),
--   library = the watcher's status (decoded), or nil when none was published,
--   library_at = when it was published (seconds),
--   now = seconds, watch_down_bound = seconds (0: never unready for that) }
-- Returns true, or false and the reason.
function _M.check(node)
  local library = node.library
  if node.published_generation == 0 then
    if library and library.error then
      return false, "the watcher cannot start: " .. tostring(library.error)
    end
    local waiting = "the first list of the API server's Secrets has not been published yet"
    for _, scope in ipairs(library and library.watchers or {}) do
      if scope.last_error then
        return false, waiting .. " (" .. tostring(scope.last_error.message) .. ")"
      end
    end
    return false, waiting
  end
  if not node.synced_generation then
    return false, "the first list of the API server's Secrets is still being published to the workers"
  end
  for _, worker in ipairs(node.workers) do
    if worker.missing then
      return false, "worker " .. worker.id .. " has not loaded the certificates yet"
    end
    if worker.stale then
      return false, "worker " .. worker.id .. " (pid " .. tostring(worker.pid) .. ") has not ticked for over " ..
        worker_report.STALE_AFTER .. " s"
    end
    if worker.generation ~= node.published_generation then
      return false, "worker " .. worker.id .. " serves generation " .. tostring(worker.generation) ..
        ", not the published " .. node.published_generation
    end
  end
  local bound = node.watch_down_bound or _M.DEFAULT_WATCH_DOWN_SECONDS
  if bound > 0 and library then
    if library.error and library.failing_since and node.now - library.failing_since > bound then
      return false, "the watcher has not run for " .. math.floor(node.now - library.failing_since) ..
        " s (bound " .. bound .. " s): " .. tostring(library.error)
    end
    for _, scope in ipairs(library.watchers or {}) do
      local since = tonumber(scope.down_since) or 0
      if since > 0 and node.now - since > bound then
        local why = scope.last_error and (": " .. tostring(scope.last_error.message)) or ""
        return false, "the watch of " .. tostring(scope.scope) .. " has been down for " ..
          math.floor(node.now - since) .. " s (bound " .. bound .. " s)" .. why
      end
    end
  end
  return true
end

return _M
