-- What else the machine was doing while a benchmark ran: its cores, the load
-- average, and the busiest other processes, so that a table can be read
-- against the noise it was measured in.
local proc = require "spec.support.proc"

local _M = {}

function _M.snapshot()
  local loadavg = (proc.read_file("/proc/loadavg") or ""):match("^(%S+ %S+ %S+)")
  local top = proc.run("ps -eo pcpu=,comm= --sort=-pcpu | head -5")
  local busiest = {}
  for line in top:gmatch("[^\n]+") do
    local cpu, comm = line:match("^%s*(%S+)%s+(.-)%s*$")
    if cpu then busiest[#busiest + 1] = comm .. " " .. cpu .. "%" end
  end
  return { cores = tonumber((proc.run("nproc"):match("%d+"))), loadavg = loadavg, busiest = busiest }
end

return _M
