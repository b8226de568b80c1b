-- tests.soak.memory: resident set sizes of the nginx master and its workers,
-- read from /proc/PID/status (VmRSS), in kB.
local proc = require "spec.support.proc"

local _M = {}

function _M.rss_kb(pid)
  local text = proc.read_file("/proc/" .. pid .. "/status")
  return text and tonumber(text:match("VmRSS:%s*(%d+)"))
end

-- { master = { pid, rss_kb }, workers = { { pid, rss_kb } }, worker_max_kb, worker_total_kb }
function _M.sample(nginx)
  local out = { master = { pid = nginx.master_pid, rss_kb = _M.rss_kb(nginx.master_pid) }, workers = {},
                worker_max_kb = 0, worker_total_kb = 0 }
  for _, pid in ipairs(nginx:worker_pids()) do
    local kb = _M.rss_kb(pid)
    if kb then
      out.workers[#out.workers + 1] = { pid = pid, rss_kb = kb }
      out.worker_max_kb = math.max(out.worker_max_kb, kb)
      out.worker_total_kb = out.worker_total_kb + kb
    end
  end
  return out
end

return _M
