-- bench/renewal_latency.lua: how long a renewal takes to reach every worker,
-- event-driven (the owner wakes the workers) against polling alone
-- (notify_socket = ""), side by side in one run, rounds interleaved.
--
--   CERTSYNC_ROOT=$PWD CERTSYNC_BUILD_DIR=$PWD/build \
--     luajit bench/renewal_latency.lua [renewals per mode, default 200] [workers, default 4]
--
-- One renewal: a new key and certificate written in one PUT of the Secret
-- (curl, as cert-manager writes it in one request). Its latency runs from
-- the moment curl was started (so it includes curl's own start-up and the
-- API server's handling: an upper bound of the time from the API server's
-- acknowledgement) to the moment the last worker started serving it, as
-- each worker stamps its converge (status workers[].converged_at, taken
-- with ngx.update_time()). Both are the same wall clock of one machine.
package.path = (os.getenv("CERTSYNC_ROOT") or ".") .. "/?.lua;" .. package.path
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"

local RENEWALS = tonumber(arg[1]) or 200
local WORKERS = tonumber(arg[2]) or 4
local ID = "default/app-tls"

-- The wall clock (CLOCK_REALTIME), as nginx's ngx.now() reads it.
local ffi = require "ffi"
local realtime = ffi.new("struct certsync_spec_timespec") -- declared by spec.support.proc
local function wall_clock()
  ffi.C.clock_gettime(0, realtime)
  return tonumber(realtime.tv_sec) + tonumber(realtime.tv_nsec) / 1e9
end

local function start(mode)
  local settings = mode == "polling" and { notify_socket = "" } or {}
  local stack = stack_support.start({ workers = WORKERS, settings = settings })
  stack.mode = mode
  return stack
end

local function base64_file(path)
  return (proc.check("base64 -w0 " .. proc.shell_quote(path)):gsub("%s+$", ""))
end

-- Replaces the Secret in one PUT; returns the wall clock just before it was sent.
local function put_secret(api, cert, dir)
  local path = dir .. "/put.json"
  proc.write_file(path, string.format('{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/tls",' ..
    '"metadata":{"name":"app-tls","namespace":"default"},"data":{"tls.crt":%q,"tls.key":%q}}',
    base64_file(cert.crt), base64_file(cert.key)))
  local command = string.format("curl -sS -o /dev/null -w '%%{http_code}' --cacert %s -H %s " ..
    "-H 'Content-Type: application/json' -X PUT --data-binary @%s %s/api/v1/namespaces/default/secrets/app-tls",
    proc.shell_quote(api.ca_file), proc.shell_quote("Authorization: Bearer " .. api.token),
    proc.shell_quote(path), proc.shell_quote(api.url))
  local sent = wall_clock()
  local code = proc.check(command)
  assert(code:match("^200"), "PUT answered " .. code)
  return sent
end

-- Renews once; returns seconds from sending the write to the last worker serving it.
local function renew(stack, round)
  local cert = stack:cert(stack.mode .. round, { "app.example.test" })
  local applied
  if round == 0 then
    stack.api:apply_tls_secret("app-tls", cert.crt, cert.key) -- creates it
    applied = wall_clock()
  else
    applied = put_secret(stack.api, cert, stack.dir)
  end
  local last
  proc.wait_until("every worker to serve round " .. round, 10, function()
    local status = stack.nginx:status_table()
    if not status or #status.workers ~= WORKERS then return false end
    local latest = 0
    for _, worker in ipairs(status.workers) do
      if worker.serials[ID] ~= cert.serial then return false end
      latest = math.max(latest, worker.converged_at or 0)
    end
    last = latest
    return true
  end)
  return last - applied
end

local function percentile(sorted, p)
  return sorted[math.max(1, math.ceil(#sorted * p))]
end

local stacks = { start("events"), start("polling") }
local samples = { events = {}, polling = {} }
local ok, err = pcall(function()
  for _, stack in ipairs(stacks) do renew(stack, 0) end -- warm up: first list, connections
  for round = 1, RENEWALS do
    for _, stack in ipairs(stacks) do
      local t = renew(stack, round)
      table.insert(samples[stack.mode], t)
    end
  end
end)
for _, stack in ipairs(stacks) do stack:stop() end
if not ok then error(err) end

print(string.format("from sending the write to every worker serving it, %d workers, %d renewals per mode (ms)",
  WORKERS, RENEWALS))
print(string.format("%-10s %8s %8s %8s %8s", "mode", "p50", "p90", "p99", "max"))
local p50 = {}
for _, mode in ipairs({ "events", "polling" }) do
  local s = samples[mode]
  table.sort(s)
  p50[mode] = percentile(s, 0.5)
  print(string.format("%-10s %8.1f %8.1f %8.1f %8.1f", mode, p50[mode] * 1000, percentile(s, 0.9) * 1000,
    percentile(s, 0.99) * 1000, s[#s] * 1000))
end
print(string.format("p50 ratio polling/events: %.1fx", p50.polling / p50.events))
