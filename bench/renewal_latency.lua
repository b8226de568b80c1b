-- bench/renewal_latency.lua: from the API server acknowledging a renewal to
-- every nginx worker serving it in a completed TLS handshake, event-driven
-- (the owner wakes the workers) against polling alone (notify_socket = ""),
-- side by side in one run, rounds interleaved.
--
--   CERTSYNC_ROOT=$PWD CERTSYNC_BUILD_DIR=$PWD/build \
--     luajit bench/renewal_latency.lua [--quick] [RENEWALS per mode, default 200 (--quick: 30)]
--                                      [WORKERS, default 4]
--                                      [--no-pin [--parallel N, default 4]] [--interval-us N]
--
-- One renewal: a new key and certificate, written in one PUT of the Secret
-- (as cert-manager writes it in one request) by bench/tools/renewal_probe,
-- which starts its clock when the PUT's status line arrives and then opens
-- fresh TLS connections until every worker id has completed a handshake
-- with the new serial: by default one thread per worker, each from a local
-- port learnt to reach that worker (--no-pin: N threads from any port, the
-- kernel's reuseport hash deciding). After each renewal the same probe runs once more
-- without a write (a baseline): how long the probe itself needs to reach
-- every worker when they all serve already, the floor under the figure.
-- Writes bench/results/renewal_latency.json.
package.path = (os.getenv("CERTSYNC_ROOT") or ".") .. "/?.lua;" .. package.path
local json = require "dkjson"
local proc = require "spec.support.proc"
local kube = require "spec.support.kube"
local stack_support = require "spec.support.stack"
local probe = require "bench.support.renewal_probe"
local percentiles = require "bench.support.percentiles"
local host_load = require "bench.support.host_load"

local args = {}
local quick, PIN, PARALLEL, INTERVAL_US = false, true, 4, 0
local i = 1
while i <= #arg do
  local a = arg[i]
  if a == "--quick" then quick = true
  elseif a == "--no-pin" then PIN = false
  elseif a == "--parallel" then i = i + 1; PARALLEL = assert(tonumber(arg[i]), "--parallel N")
  elseif a == "--interval-us" then i = i + 1; INTERVAL_US = assert(tonumber(arg[i]), "--interval-us N")
  else args[#args + 1] = a end
  i = i + 1
end
local RENEWALS = tonumber(args[1]) or (quick and 30 or 200)
local WORKERS = tonumber(args[2]) or 4
local SECRET_PATH = "/api/v1/namespaces/default/secrets/app-tls"
local TIMEOUT_MS = 10000
local ID = "default/app-tls"

local function start(mode)
  local settings = mode == "polling" and { notify_socket = "" } or {}
  local stack = stack_support.start({ workers = WORKERS, settings = settings,
                                      nginx = { extra_server = probe.EXTRA_SERVER } })
  stack.mode = mode
  return stack
end

local function base64_file(path)
  return (proc.check("base64 -w0 " .. proc.shell_quote(path)):gsub("%s+$", ""))
end

local function secret_json(cert)
  return string.format('{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/tls",' ..
    '"metadata":{"name":"app-tls","namespace":"default"},"data":{"tls.crt":%q,"tls.key":%q}}',
    base64_file(cert.crt), base64_file(cert.key))
end

local binary = probe.build()
local load_before = host_load.snapshot()
local stacks = { start("events"), start("polling") }
local samples = {}
for _, mode in ipairs({ "events", "polling" }) do
  samples[mode] = { all = {}, first = {}, floor = {}, put = {}, probes = {}, stamped = {}, timeouts = 0,
                    misrouted = 0, failed = 0, failures = {}, unpinned = 0 }
end

-- Round 0 creates the Secret and waits, with the probe's baseline, until
-- every worker serves it: first list, connections, parsed certificate.
local function warm_up(stack)
  local cert = stack:cert(stack.mode .. "0", { "app.example.test" })
  stack.api:apply_tls_secret("app-tls", cert.crt, cert.key)
  proc.wait_until(stack.mode .. ": every worker to serve the first certificate", 15, function()
    local report, rc = probe.run(binary, stack, { serial = cert.serial, workers = WORKERS, timeout_ms = 1000,
                                                  parallel = PARALLEL, pin = PIN, interval_us = INTERVAL_US })
    return rc == 0, report.seen .. " workers seen"
  end)
  stack.serial = cert.serial
end

-- The workers' own account, as a cross-check without the probe's sampling:
-- the latest converged_at (ms, nginx's cached wall clock, updated when the
-- worker converges) once every worker reports the serial.
local function stamped_convergence(stack, serial)
  local latest
  proc.wait_until(stack.mode .. ": every worker to report " .. serial, 10, function()
    local status = stack.nginx:status_table()
    if not status or type(status.workers) ~= "table" or #status.workers ~= WORKERS then return false end
    latest = 0
    for _, worker in ipairs(status.workers) do
      if worker.serials[ID] ~= serial then return false end
      latest = math.max(latest, worker.converged_at or 0)
    end
    return true
  end)
  return latest * 1000
end

local function renew(stack, round)
  local s = samples[stack.mode]
  local cert = stack:cert(stack.mode .. round, { "app.example.test" })
  local body_file = stack.dir .. "/put.json"
  proc.write_file(body_file, secret_json(cert))
  local report, rc = probe.run(binary, stack, {
    serial = cert.serial, workers = WORKERS, parallel = PARALLEL, pin = PIN, interval_us = INTERVAL_US,
    timeout_ms = TIMEOUT_MS, body_file = body_file, api_path = SECRET_PATH,
  })
  if rc == 1 then error(stack.mode .. " round " .. round .. ": " .. (report.error or "probe failed")) end
  if rc == 2 then
    -- Counted at the deadline, so that a stuck worker shows in the tail instead of vanishing.
    s.timeouts = s.timeouts + 1
    table.insert(s.all, TIMEOUT_MS)
  else
    table.insert(s.all, report.all_ms)
  end
  if report.first_ms >= 0 then table.insert(s.first, report.first_ms) end
  table.insert(s.put, report.put_ms)
  table.insert(s.probes, report.probes)
  table.insert(s.stamped, stamped_convergence(stack, cert.serial) - report.ack_unix * 1000)
  s.misrouted = s.misrouted + report.misrouted
  s.failed = s.failed + report.failed
  for kind, n in pairs(report.failures or {}) do s.failures[kind] = (s.failures[kind] or 0) + n end
  if PIN and not report.pinned then s.unpinned = s.unpinned + 1 end
  stack.serial = cert.serial
  local floor = probe.run(binary, stack, {
    serial = cert.serial, workers = WORKERS, parallel = PARALLEL, pin = PIN, interval_us = INTERVAL_US,
    timeout_ms = TIMEOUT_MS,
  })
  if floor.all_ms >= 0 then table.insert(s.floor, floor.all_ms) end
end

local ok, err = pcall(function()
  for _, stack in ipairs(stacks) do warm_up(stack) end
  for round = 1, RENEWALS do
    for _, stack in ipairs(stacks) do renew(stack, round) end
  end
end)
for _, stack in ipairs(stacks) do stack:stop() end
if not ok then error(err, 0) end
local load_after = host_load.snapshot()

local summary = {}
for mode, s in pairs(samples) do
  summary[mode] = { all = percentiles.summary(s.all), first = percentiles.summary(s.first),
                    floor = percentiles.summary(s.floor), put = percentiles.summary(s.put),
                    stamped = percentiles.summary(s.stamped),
                    probes = percentiles.summary(s.probes), timeouts = s.timeouts,
                    misrouted = s.misrouted, failed = s.failed, failures = s.failures,
                    unpinned = s.unpinned }
end

local probe_shape = PIN and "probes pinned, one thread per worker" or (PARALLEL .. " probe threads, any port")
print(string.format("renewal: API server's acknowledgement of the PUT to a completed TLS handshake with the new " ..
  "serial; %d workers, %d renewals per mode, %s, %d us between a thread's probes (ms)",
  WORKERS, RENEWALS, probe_shape, INTERVAL_US))
print(string.format("%-8s %-26s %8s %8s %8s %8s", "mode", "figure", "p50", "p90", "p99", "max"))
local rows = {
  { "all", "every worker" }, { "first", "first handshake" },
  { "stamped", "workers' own stamps" }, { "floor", "probe floor (no renewal)" },
  { "put", "PUT sent to ack" },
}
for _, mode in ipairs({ "events", "polling" }) do
  for _, row in ipairs(rows) do
    local t = summary[mode][row[1]]
    if t then
      print(string.format("%-8s %-26s %8.1f %8.1f %8.1f %8.1f", mode, row[2], t.p50, t.p90, t.p99, t.max))
    end
  end
  local p = summary[mode].probes
  local m = summary[mode]
  print(string.format("%-8s %-26s %8d %8d %8d %8d   timeouts %d; probes failed %d, misrouted %d; unpinned runs %d",
    mode, "probes per renewal", p.p50, p.p90, p.p99, p.max, m.timeouts, m.failed, m.misrouted, m.unpinned))
end
local events, polling = summary.events.all, summary.polling.all
local met = events.p50 <= 25 and events.p99 <= 100 and summary.events.timeouts == 0
print(string.format("target p50 <= 25 ms, p99 <= 100 ms (events, every worker): %s; p50 ratio polling/events: %.1fx",
  met and "met" or "NOT met", polling.p50 / events.p50))

local result = {
  date = os.date("!%Y-%m-%dT%H:%M:%SZ"),
  measured_from = "PUT response status line (API server acknowledgement), CLOCK_MONOTONIC",
  measured_to = "completed TLS handshake serving the new serial, on every worker",
  renewals_per_mode = RENEWALS, workers = WORKERS, quick = quick,
  probe = { pinned = PIN, threads = PIN and WORKERS or PARALLEL, interval_us = INTERVAL_US },
  renewal_p50_ms = events.p50, renewal_p90_ms = events.p90, renewal_p99_ms = events.p99,
  renewal_max_ms = events.max,
  first_handshake_p50_ms = summary.events.first.p50, first_handshake_p99_ms = summary.events.first.p99,
  polling_renewal_p50_ms = polling.p50, polling_renewal_p90_ms = polling.p90,
  polling_renewal_p99_ms = polling.p99, polling_renewal_max_ms = polling.max,
  polling_first_handshake_p50_ms = summary.polling.first.p50,
  polling_first_handshake_p99_ms = summary.polling.first.p99,
  stamped_p50_ms = summary.events.stamped.p50, stamped_p99_ms = summary.events.stamped.p99,
  polling_stamped_p50_ms = summary.polling.stamped.p50, polling_stamped_p99_ms = summary.polling.stamped.p99,
  probe_floor_p50_ms = summary.events.floor and summary.events.floor.p50,
  probe_floor_p99_ms = summary.events.floor and summary.events.floor.p99,
  target = { p50_ms = 25, p99_ms = 100, met = met },
  modes = summary,
  host = { before = load_before, after = load_after },
}
result.machine = require("bench.support.common").machine()
local out_dir = kube.root .. "/bench/results"
proc.check("mkdir -p " .. proc.shell_quote(out_dir))
proc.write_file(out_dir .. "/renewal_latency.json", json.encode(result, { indent = true }) .. "\n")
print("wrote " .. out_dir .. "/renewal_latency.json")
