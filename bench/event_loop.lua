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
-- "idle" starts once every worker serves the first sync. The API test
-- server runs at nice 10 (it would be on other machines). p99 latency per
-- phase (wrk --latency) and the ratio to idle; and, from every worker's
-- per-second record in the status (workers[].holds), the longest library
-- call from Lua and the longest tick of certsync's timer within each phase;
-- the targets' figures are those of the relist and stall phases. The
-- longest since the workers started (the first sync included) is reported
-- beside them. Writes bench/results/event_loop.json.
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
-- In a cluster the API server runs on other machines. Here it shares the
-- two cores with nginx, and serialising a relist of 10,000 Secrets (43 MB
-- of JSON) is its work, not certsync's: it runs at a lower priority, so
-- that what the phases compare is what certsync costs nginx.
proc.check(string.format("renice -n 10 -p %d $(pgrep -P %d) >/dev/null", stack.api.pid, stack.api.pid))

-- Every worker serves the generation the owner published: the first sync's
-- tail (the owner's status feed, the workers' convergence) must not count
-- as "idle".
local function settled(stack)
  local status = stack.nginx:status_table("?secret=default/gen-0")
  if not (status and status.node and status.node.ready) then return false end
  for _, worker in ipairs(status.workers or {}) do
    if worker.missing or worker.behind then return false end
  end
  return #(status.workers or {}) == args.workers
end

-- The longest tick and library call of any worker within [from, to]
-- (wall-clock seconds), from the workers' per-second records
-- (certsync.hold_history: the last 60 seconds, so read right after a phase).
local function holds_between(stack, from, to)
  local status = stack.nginx:status_table("?secret=default/gen-0")
  local out = { tick_ms = 0, tick_cpu_ms = 0, ffi_ms = 0 }
  for _, worker in ipairs(status and status.workers or {}) do
    for _, second in ipairs(worker.holds or {}) do
      if second.at >= math.floor(from) and second.at <= math.floor(to) then
        if second.tick_ms > out.tick_ms then out.tick_ms, out.tick_worker = second.tick_ms, worker.id end
        if (second.tick_cpu_ms or 0) > out.tick_cpu_ms then out.tick_cpu_ms = second.tick_cpu_ms end
        if second.ffi_ms > out.ffi_ms then out.ffi_ms, out.ffi_call = second.ffi_ms, second.ffi_call end
      end
    end
  end
  return out
end

local samples = { idle = {}, relist = {}, stall = {} }
local holds = { idle = {}, relist = {}, stall = {} }
local function measure(phase, before)
  local from = bench.wall_clock()
  if before then before() end
  table.insert(samples[phase], p99_ms(stack.nginx.port, PHASE_SECONDS))
  table.insert(holds[phase], holds_between(stack, from, bench.wall_clock()))
end

local ok, err = pcall(function()
  proc.wait_until("the node to serve " .. args.secrets .. " Secrets", 900, function() return ready(stack) end)
  proc.wait_until("every worker to serve what was published", 300, function() return settled(stack) end)
  for round = 1, args.rounds do
    io.stderr:write("event loop: round ", round, "\n")
    measure("idle")

    local before = relists(stack)
    measure("relist", function()
      -- The reopened watch is answered 410 Gone, as by an API server whose
      -- history moved on: the watcher lists everything again.
      api_post(stack.api, "/testing/faults", json.encode({ verb = "watch", status = 410, count = 1 }))
      api_post(stack.api, "/testing/close-watches")
    end)
    proc.wait_until("the relist of round " .. round, 300, function() return relists(stack) > before end)

    measure("stall", function()
      api_post(stack.api, "/testing/faults", json.encode({ verbs = { "list", "watch" }, stall_ms = 600000, count = -1 }))
      api_post(stack.api, "/testing/close-watches")
    end)
    api_delete(stack.api, "/testing/faults")
    proc.wait_until("the watch to be back after round " .. round, 120, function() return ready(stack) end)
    proc.wait_until("every worker to serve what was published after round " .. round, 300,
      function() return settled(stack) end)
  end
end)
local status = ok and stack.nginx:status_table("?secret=default/gen-0") or nil
stack:stop()
if not ok then error(err) end

-- Since each worker started: the first sync included.
local longest = { tick_ms = 0, ffi_ms = 0 }
for _, worker in ipairs(status.workers or {}) do
  local l = worker.longest or {}
  if (l.tick_ms or 0) > longest.tick_ms then longest.tick_ms = l.tick_ms end
  if (l.ffi_ms or 0) > longest.ffi_ms then longest.ffi_ms, longest.ffi_call = l.ffi_ms, l.ffi_call end
end

-- Within the relist and stall phases, the targets' figures.
local function phase_max(phase)
  local out = { tick_ms = 0, tick_cpu_ms = 0, ffi_ms = 0 }
  for _, h in ipairs(holds[phase]) do
    if h.tick_ms > out.tick_ms then out.tick_ms = h.tick_ms end
    if h.tick_cpu_ms > out.tick_cpu_ms then out.tick_cpu_ms = h.tick_cpu_ms end
    if h.ffi_ms > out.ffi_ms then out.ffi_ms, out.ffi_call = h.ffi_ms, h.ffi_call end
  end
  return out
end
local phase_holds = { idle = phase_max("idle"), relist = phase_max("relist"), stall = phase_max("stall") }
local during = { tick_ms = math.max(phase_holds.relist.tick_ms, phase_holds.stall.tick_ms),
                 tick_cpu_ms = math.max(phase_holds.relist.tick_cpu_ms, phase_holds.stall.tick_cpu_ms) }
if phase_holds.relist.ffi_ms >= phase_holds.stall.ffi_ms then
  during.ffi_ms, during.ffi_call = phase_holds.relist.ffi_ms, phase_holds.relist.ffi_call
else
  during.ffi_ms, during.ffi_call = phase_holds.stall.ffi_ms, phase_holds.stall.ffi_call
end

local idle = bench.median(samples.idle)
print(string.format("event loop, %d workers, %d Secrets, %d rounds of %d s per phase (wrk -t2 -c16, keep-alive HTTPS)",
  args.workers, args.secrets, args.rounds, PHASE_SECONDS))
print(string.format("%-8s %8s %8s %14s %14s %16s", "phase", "p99 ms", "vs idle", "longest tick", "its CPU (most)",
  "longest call ms"))
for _, phase in ipairs({ "idle", "relist", "stall" }) do
  local m = bench.median(samples[phase])
  local h = phase_holds[phase]
  print(string.format("%-8s %8.2f %8.3f %11.2f ms %11.2f ms %10.3f %s", phase, m, m / idle, h.tick_ms,
    h.tick_cpu_ms, h.ffi_ms, tostring(h.ffi_call or "")))
end
print(string.format("during relists and stalls: longest library call %.3f ms (%s), longest tick %.2f ms " ..
  "(most CPU in one tick %.2f ms)", during.ffi_ms, tostring(during.ffi_call), during.tick_ms, during.tick_cpu_ms))
print(string.format("since the workers started (first sync included): longest call %.2f ms (%s), longest tick %.2f ms",
  longest.ffi_ms, tostring(longest.ffi_call), longest.tick_ms))
bench.write_result("event_loop", {
  max_ffi_call_ms = during.ffi_ms,
  max_ffi_call = during.ffi_call,
  max_tick_ms = during.tick_ms,
  max_tick_cpu_ms = during.tick_cpu_ms,
  max_ffi_call_ms_since_start = longest.ffi_ms,
  max_tick_ms_since_start = longest.tick_ms,
  p99_idle_ms = idle,
  p99_relist_ms = bench.median(samples.relist),
  p99_stall_ms = bench.median(samples.stall),
  p99_ratio_under_relist = bench.median(samples.relist) / idle,
  p99_ratio_under_stall = bench.median(samples.stall) / idle,
}, { samples = samples, holds = holds, secrets = args.secrets, workers = args.workers, longest_by_worker = (function()
  local out = {}
  for _, worker in ipairs(status.workers or {}) do out[#out + 1] = { id = worker.id, longest = worker.longest } end
  return out
end)() })
