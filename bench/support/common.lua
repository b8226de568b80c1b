-- bench.support.common: what every benchmark script shares: its arguments,
-- the wall clock, and where its figures go (bench/results/NAME.json, which
-- bench/run.sh merges into bench/results/latest.json). Percentile tables:
-- bench.support.percentiles.
local ffi = require "ffi"
local json = require "dkjson"
local proc = require "spec.support.proc" -- declares clock_gettime

local _M = {}

_M.root = os.getenv("CERTSYNC_ROOT") or "."
_M.build_dir = os.getenv("CERTSYNC_BUILD_DIR") or (_M.root .. "/build")

-- "--quick", "--name value" options and the remaining words, as
-- { quick = bool, name = value, rest = { ... } }; defaults fill the rest.
function _M.args(argv, defaults)
  local out = { rest = {} }
  for k, v in pairs(defaults or {}) do out[k] = v end
  local i = 1
  while argv[i] do
    local word = argv[i]
    if word == "--quick" then
      out.quick = true
    elseif word:sub(1, 2) == "--" then
      local name = word:sub(3):gsub("-", "_")
      out[name] = tonumber(argv[i + 1]) or argv[i + 1]
      i = i + 1
    else
      out.rest[#out.rest + 1] = tonumber(word) or word
    end
    i = i + 1
  end
  out.quick = out.quick or os.getenv("QUICK") == "1"
  return out
end

-- CLOCK_REALTIME, as nginx's ngx.now() reads it.
local realtime = ffi.new("struct certsync_spec_timespec")
function _M.wall_clock()
  ffi.C.clock_gettime(0, realtime)
  return tonumber(realtime.tv_sec) + tonumber(realtime.tv_nsec) / 1e9
end

function _M.median(values)
  local sorted = {}
  for i, v in ipairs(values) do sorted[i] = v end
  table.sort(sorted)
  local n = #sorted
  if n == 0 then return nil end
  if n % 2 == 1 then return sorted[(n + 1) / 2] end
  return (sorted[n / 2] + sorted[n / 2 + 1]) / 2
end

-- The machine the figures were taken on.
function _M.machine()
  local cpuinfo = proc.read_file("/proc/cpuinfo") or ""
  return {
    cores = tonumber((proc.run("nproc"):match("%d+"))),
    model = cpuinfo:match("model name%s*:%s*([^\n]+)") or "unknown",
    kernel = (proc.run("uname -r"):gsub("%s+$", "")),
    date = os.date("!%Y-%m-%dT%H:%M:%SZ"),
  }
end

-- Writes bench/results/NAME.json: the headline figures (`summary`, flat
-- keys latest.json takes as they are), the details, the machine.
function _M.write_result(name, summary, details)
  local dir = _M.root .. "/bench/results"
  proc.check("mkdir -p " .. proc.shell_quote(dir))
  local doc = { benchmark = name, machine = _M.machine(), quick = _M.args(arg).quick, summary = summary,
                details = details }
  proc.write_file(dir .. "/" .. name .. ".json", json.encode(doc, { indent = true }) .. "\n")
  print("wrote " .. dir .. "/" .. name .. ".json")
end

return _M
