-- Server CPU time of a set of processes, from the kernel's own counters:
-- the first field of /proc/PID/task/TID/schedstat is the time that thread
-- has run, in nanoseconds. Summing every thread counts certsync's watcher
-- thread too, which belongs to its cost as much as the certificate phase.
local _M = {}

local function thread_ids(pid)
  local ids = {}
  local pipe = assert(io.popen("ls /proc/" .. pid .. "/task 2>/dev/null"))
  for tid in pipe:read("*a"):gmatch("%d+") do ids[#ids + 1] = tid end
  pipe:close()
  return ids
end

local function run_ns(pid, tid)
  local f = io.open("/proc/" .. pid .. "/task/" .. tid .. "/schedstat", "r")
  if not f then return 0 end -- the thread has just exited
  local line = f:read("*l") or ""
  f:close()
  return tonumber(line:match("^(%d+)")) or 0
end

-- Total nanoseconds run so far by every thread of every pid given.
function _M.total_ns(pids)
  local sum = 0
  for _, pid in ipairs(pids) do
    for _, tid in ipairs(thread_ids(pid)) do sum = sum + run_ns(pid, tid) end
  end
  return sum
end

return _M
