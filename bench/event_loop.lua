-- bench/event_loop.lua: certsync must never hold nginx's event loop: not
-- while the API server stalls, not during a relist of 10,000 Secrets.
--
--   CERTSYNC_ROOT=$PWD CERTSYNC_BUILD_DIR=$PWD/build \
--     luajit bench/event_loop.lua [--quick] [--secrets 10000] [--rounds 3]
--
-- nginx with 4 workers serves COUNT generated Secrets. wrk sends plain
-- HTTPS requests (keep-alive, 2 threads, 16 connections) to a location
-- that answers at once, for a few seconds per phase, rounds interleaved:
--   idle     nothing happens;
--   relist   the API server ends every watch and answers the next with
--            410 Gone, so the watcher relists all COUNT Secrets (the
--            status's relist count proves it did) and the owner compares
--            them with what it published;
--   stall    every LIST and WATCH request stalls with the connection open.
-- p99 latency per phase (wrk --latency) and the ratio to idle; and, from
-- every worker's status, the longest library call from Lua and the longest
-- tick of certsync's timer since the worker started (the initial sync
-- included). Writes bench/results/event_loop.json.
package.path = (os.getenv("CERTSYNC_ROOT") or ".") .. "/?.lua;" .. package.path
local json = require "dkjson"
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local bench = require "bench.support.common"
local q = proc.shell_quote

local args = bench.args(arg, { secrets = 10000, rounds = 3, workers = 4 })
if args.quick then args.secrets, args.rounds = math.min(args.secrets, 2000), 2 end
local PHASE_SECONDS = args.quick and 4 or 8

local function api_post(api, path, body)
  return proc.check(string.format("curl -sS --max-time 900 -X POST -H 'Content-Type: application/json' --cacert %s " ..
    "--data-binary %s %s%s", q(api.ca_file), q(body or "{}"), q(api.url), path))
end

local function api_delete(api, path)
  return proc.check(string.format("curl -sS -X DELETE --cacert %s %s%s", q(api.ca_file), q(api.url), path))
end

-- wrk's p99 in milliseconds over `seconds` of requests.
local function p99_ms(port, seconds)
  local out = proc.check(string.format("wrk -t2 -c16 -d%ds --latency https://127.0.0.1:%d/ 2>&1", seconds, port))
  local value, unit = out:match("\n%s+99%%%s+([%d%.]+)(%a+)")
  assert(value, "wrk printed no p99: " .. out)
  local scale = { us = 0.001, ms = 1, s = 1000 }
  local errors = out:match("Non%-2xx or 3xx responses: (%d+)") or out:match("Socket errors: ([^\n]+)")
  assert(not errors, "wrk saw errors: " .. out)
  return tonumber(value) * scale[unit]
end

-- The status filtered to one Secret: the unfiltered status of 10,000
-- Secrets reads every key of the shared dict, holding its lock, and would
-- measure the operator's request instead of certsync's own work.
local function relists(stack)
  local status = stack.nginx:status_table("?secret=default/gen-0")
  local n = 0
  for _, scope in ipairs(status and status.watcher and status.watcher.scopes or {}) do
    n = n + (tonumber(scope.relists) or 0)
  end
  return n
end

local function ready(stack)
  local _, code = stack.nginx:get("/certsync/ready")
  return code == 200
end

local stack = stack_support.start({
  workers = args.workers,
  nginx = function(s)
    api_post(s.api, "/testing/generate", json.encode({ count = args.secrets, keys = "mixed", wildcard = true }))
    return { shared_dict_size = string.format("%dm", 16 + math.ceil(args.secrets * 6 / 1024)) }
  end,
})

local samples = { idle = {}, relist = {}, stall = {} }
local ok, err = pcall(function()
  proc.wait_until("the node to serve " .. args.secrets .. " Secrets", 900, function() return ready(stack) end)
  for round = 1, args.rounds do
    io.stderr:write("event loop: round ", round, "\n")
    table.insert(samples.idle, p99_ms(stack.nginx.port, PHASE_SECONDS))

    local before = relists(stack)
    -- The reopened watch is answered 410 Gone, as by an API server whose
    -- history moved on: the watcher lists everything again.
    api_post(stack.api, "/testing/faults", json.encode({ verb = "watch", status = 410, count = 1 }))
    api_post(stack.api, "/testing/close-watches")
    table.insert(samples.relist, p99_ms(stack.nginx.port, PHASE_SECONDS))
    proc.wait_until("the relist of round " .. round, 300, function() return relists(stack) > before end)

    api_post(stack.api, "/testing/faults", json.encode({ verbs = { "list", "watch" }, stall_ms = 600000, count = -1 }))
    api_post(stack.api, "/testing/close-watches")
    table.insert(samples.stall, p99_ms(stack.nginx.port, PHASE_SECONDS))
    api_delete(stack.api, "/testing/faults")
    proc.wait_until("the watch to be back after round " .. round, 120, function() return ready(stack) end)
  end
end)
local status = ok and stack.nginx:status_table("?secret=default/gen-0") or nil
stack:stop()
if not ok then error(err) end

local longest = { tick_ms = 0, ffi_ms = 0 }
for _, worker in ipairs(status.workers or {}) do
  local l = worker.longest or {}
  if (l.tick_ms or 0) > longest.tick_ms then longest.tick_ms = l.tick_ms end
  if (l.ffi_ms or 0) > longest.ffi_ms then longest.ffi_ms, longest.ffi_call = l.ffi_ms, l.ffi_call end
end

local idle = bench.median(samples.idle)
print(string.format("event loop, %d workers, %d Secrets, %d rounds of %d s per phase (wrk -t2 -c16, keep-alive HTTPS)",
  args.workers, args.secrets, args.rounds, PHASE_SECONDS))
print(string.format("%-8s %12s %10s", "phase", "p99 ms", "vs idle"))
for _, phase in ipairs({ "idle", "relist", "stall" }) do
  local m = bench.median(samples[phase])
  print(string.format("%-8s %12.2f %10.3f", phase, m, m / idle))
end
print(string.format("longest library call from Lua: %.2f ms (%s); longest certsync tick: %.2f ms",
  longest.ffi_ms, tostring(longest.ffi_call), longest.tick_ms))
bench.write_result("event_loop", {
  max_ffi_call_ms = longest.ffi_ms,
  max_ffi_call = longest.ffi_call,
  max_tick_ms = longest.tick_ms,
  p99_idle_ms = idle,
  p99_relist_ms = bench.median(samples.relist),
  p99_stall_ms = bench.median(samples.stall),
  p99_ratio_under_relist = bench.median(samples.relist) / idle,
  p99_ratio_under_stall = bench.median(samples.stall) / idle,
}, { samples = samples, secrets = args.secrets, workers = args.workers, longest_by_worker = (function()
  local out = {}
  for _, worker in ipairs(status.workers or {}) do out[#out + 1] = { id = worker.id, longest = worker.longest } end
  return out
end)() })
