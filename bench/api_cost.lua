-- bench/api_cost.lua: what one node costs the API server in steady state:
-- nginx with WORKERS workers watching a namespace that does not change, the
-- API test server's request counters read before and after a measured
-- period, extrapolated to requests per hour per node.
--
--   CERTSYNC_ROOT=$PWD CERTSYNC_BUILD_DIR=$PWD/build \
--     luajit bench/api_cost.lua [--quick] [SECONDS, default 600 (--quick: 60)] [WORKERS, default 4]
--                               [--bookmark-interval-ms MS] (the API test server's; default its own, 60000)
--                               [--out FILE] (default bench/results/api_cost.json)
--
-- Expected: one open watch all along, no LIST, a watch re-opened only when
-- the server ends it at its timeoutSeconds (random in [300, 600) s: about 8
-- an hour). The open watches are sampled every second of the period, so a
-- second watch or a gap shows even when the counters end up plausible.
-- Writes bench/results/api_cost.json.
package.path = (os.getenv("CERTSYNC_ROOT") or ".") .. "/?.lua;" .. package.path
local json = require "dkjson"
local proc = require "spec.support.proc"
local kube = require "spec.support.kube"
local stack_support = require "spec.support.stack"
local host_load = require "bench.support.host_load"

local args, quick, bookmark_ms, out_file = {}, false, nil, nil
local i = 1
while i <= #arg do
  if arg[i] == "--quick" then quick = true
  elseif arg[i] == "--bookmark-interval-ms" then i = i + 1; bookmark_ms = assert(tonumber(arg[i]), "--bookmark-interval-ms MS")
  elseif arg[i] == "--out" then i = i + 1; out_file = assert(arg[i], "--out FILE")
  else args[#args + 1] = arg[i] end
  i = i + 1
end
local SECONDS = tonumber(args[1]) or (quick and 60 or 600)
local WORKERS = tonumber(args[2]) or 4
local SECRETS = 3

local function counters(api)
  return json.decode(api:counters())
end

-- The watcher's own account, from the worker that owns it (nil if none reports one).
local function watcher_status(stack)
  local status = stack.nginx:status_table()
  local scopes = status and status.watcher and status.watcher.scopes
  return scopes and scopes[1]
end

local load_before = host_load.snapshot()
local stack = stack_support.start({
  workers = WORKERS,
  api_args = bookmark_ms and { "--bookmark-interval-ms", tostring(bookmark_ms) } or nil,
})
local result
local ok, err = pcall(function()
  local serials = {}
  for n = 1, SECRETS do
    local cert = stack:cert("app" .. n, { "app" .. n .. ".example.test" })
    stack.api:apply_tls_secret("app" .. n .. "-tls", cert.crt, cert.key)
    serials["default/app" .. n .. "-tls"] = cert.serial
  end
  -- Steady state: every worker serves every Secret and the one watch is open.
  stack.nginx:wait_every_worker_serves(serials, 30)
  proc.wait_until("the watch to be open", 30, function() return counters(stack.api).open_watches == 1 end)

  local before, watcher_before = counters(stack.api), watcher_status(stack)
  local started = proc.now()
  local deadline = started + SECONDS
  local open_min, open_max, samples, gaps = math.huge, 0, 0, 0
  -- The period itself is what is measured; each pass samples the open
  -- watches and waits for the next second on the condition "period over".
  while proc.now() < deadline do
    local open = counters(stack.api).open_watches
    open_min, open_max, samples = math.min(open_min, open), math.max(open_max, open), samples + 1
    if open == 0 then gaps = gaps + 1 end
    local next_sample = math.min(deadline, proc.now() + 1)
    pcall(proc.wait_until, "the next sample", 2, function() return proc.now() >= next_sample end)
  end
  local elapsed = proc.now() - started
  local after, watcher_after = counters(stack.api), watcher_status(stack)

  local per_hour = 3600 / elapsed
  -- The watcher's errors during the period: a watch that ends in an error
  -- (an idle deadline, a reset) is re-opened too, but not at timeoutSeconds.
  local watcher_errors = {}
  local errors_before = (watcher_before and watcher_before.errors) or {}
  for kind, n in pairs((watcher_after and watcher_after.errors) or {}) do
    if n - (errors_before[kind] or 0) > 0 then watcher_errors[kind] = n - (errors_before[kind] or 0) end
  end
  local delta = {}
  for k, v in pairs(after) do
    if k ~= "open_watches" and type(v) == "number" then delta[k] = v - (before[k] or 0) end
  end
  result = {
    date = os.date("!%Y-%m-%dT%H:%M:%SZ"),
    seconds = elapsed, workers = WORKERS, secrets = SECRETS, quick = quick,
    bookmark_interval_ms = bookmark_ms or 60000,
    lists_per_hour = delta.list * per_hour,
    watches_per_hour = delta.watch * per_hour,
    gets_per_hour = delta.get * per_hour,
    requests_per_hour = (function()
      local total = 0
      for _, v in pairs(delta) do total = total + v end
      return total * per_hour
    end)(),
    open_watches = after.open_watches,
    open_watches_min = open_min, open_watches_max = open_max, seconds_without_watch = gaps, samples = samples,
    counted = delta,
    watcher_errors = watcher_errors,
    last_watcher_error = watcher_after and watcher_after.last_error and watcher_after.last_error.message,
    -- A period shorter than a watch's timeoutSeconds sees no re-open: this
    -- is what the watch timeout alone gives, for comparison.
    expected_watches_per_hour = 3600 / 450,
    watcher_before = watcher_before, watcher_after = watcher_after,
    host = { before = load_before, after = host_load.snapshot() },
  }
end)
stack:stop()
if not ok then error(err, 0) end

print(string.format("API cost in steady state: %d workers, %d Secrets, %.0f s measured, bookmarks every %d ms",
  WORKERS, SECRETS, result.seconds, result.bookmark_interval_ms))
print(string.format("%-22s %10s %10s", "request", "counted", "per hour"))
for _, kind in ipairs({ "list", "watch", "get", "create", "update", "patch", "delete", "discovery", "other",
                        "unauthorized" }) do
  local n = result.counted[kind] or 0
  print(string.format("%-22s %10d %10.1f", kind, n, n * 3600 / result.seconds))
end
print(string.format("open watches: %d at the end, min %d, max %d over %d samples (%d without one)",
  result.open_watches, result.open_watches_min, result.open_watches_max, result.samples, result.seconds_without_watch))
local error_kinds = {}
for kind, n in pairs(result.watcher_errors) do error_kinds[#error_kinds + 1] = kind .. " " .. n end
table.sort(error_kinds)
print("watcher errors during the period: " .. (#error_kinds > 0 and table.concat(error_kinds, ", ") ..
  " (last: " .. tostring(result.last_watcher_error) .. ")" or "none"))
local healthy = result.counted.list == 0 and result.open_watches_min == 1 and result.open_watches_max == 1
  and #error_kinds == 0
print("steady state " .. (healthy and "as expected (1 watch, 0 LIST, no watcher error)" or "NOT as expected"))
out_file = out_file or (kube.root .. "/bench/results/api_cost.json")
result.machine = require("bench.support.common").machine()
proc.check("mkdir -p " .. proc.shell_quote((out_file:match("^(.*)/[^/]*$") or ".")))
proc.write_file(out_file, json.encode(result, { indent = true }) .. "\n")
print("wrote " .. out_file)
