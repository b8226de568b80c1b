-- The fault matrix end to end (docs/faults.md): real nginx with two workers
-- under a steady load of fresh TLS handshakes while the API server goes
-- down, comes back answering 503 to every LIST and WATCH, and then comes
-- back with its history lost. A certificate rotated while the watcher was
-- blind must reach every worker once it can see again, and not one
-- handshake may fail on the way.
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local handshake_load = require "spec.support.handshake_load"

local SNI = "faults.example.test"
local ID = "default/faults-tls"
local DOWN_SECONDS = 5
-- Twice the watcher's backoff cap (30 s, kube/backoff.h): the bound of the
-- matrix for recovering once the API server answers properly again.
local RECOVERY_BOUND = 2 * 30

local function scope_of(server)
  local status = server:status_table()
  return status and status.watcher and status.watcher.scopes and status.watcher.scopes[1]
end

local function errors_of(server, code)
  local scope = scope_of(server)
  return scope and scope.errors and scope.errors[code] or 0
end

-- Handshakes logged so far, and their serials: each must have completed.
local function handshakes_so_far(load)
  local r = load:results()
  assert.equal(0, r.failed, table.concat(r.failures, "\n"))
  return r
end

describe("API server faults under a steady handshake load", function()
  local stack, api, server, load, first, rotated

  setup(function()
    stack = stack_support.start({ workers = 2, api_restartable = true })
    api, server = stack.api, stack.nginx
  end)

  teardown(function()
    if load then pcall(load.stop, load) end
    if stack then stack:stop() end
  end)

  it("serves the Secret on every worker, then starts the load", function()
    first = stack:cert("first", { SNI })
    api:apply_tls_secret("faults-tls", first.crt, first.key)
    server:wait_every_worker_serves({ [ID] = first.serial }, 20)
    load = handshake_load.start(stack.dir, server.port, SNI)
    proc.wait_until("handshakes to flow", 10, function() return load:results().ok >= 3 end)
  end)

  it("keeps serving the same certificate while the API server is down", function()
    local before = load:results().ok
    local down_at = proc.now()
    api:go_down()
    proc.wait_until("the watcher to meet the outage", 20, function()
      local scope = scope_of(server)
      return scope and scope.state == "backoff" and scope.last_error
    end)
    proc.wait_until("the outage to last " .. DOWN_SECONDS .. " s", DOWN_SECONDS + 5, function()
      return proc.now() - down_at >= DOWN_SECONDS
    end)
    local r = handshakes_so_far(load)
    assert.is_true(r.ok > before, "no handshake during the outage")
    assert.same({ [first.serial] = r.ok }, r.serials)
  end)

  it("keeps serving while the API server answers 503, and a rotation made meanwhile is not yet seen", function()
    api:come_back({ faults = '{"verbs":["list","watch"],"status":503,"count":-1}' })
    rotated = stack:cert("rotated", { SNI })
    api:apply_tls_secret("faults-tls", rotated.crt, rotated.key)
    local errors = errors_of(server, "503")
    proc.wait_until("a 503", RECOVERY_BOUND, function() return errors_of(server, "503") >= errors + 1 end)
    local r = handshakes_so_far(load)
    assert.same({ [first.serial] = r.ok }, r.serials)
  end)

  it("after the API server is back with its history lost, every worker serves the rotation", function()
    local relists = scope_of(server).relists or 0
    api:go_down()
    api:come_back({ forget_history = true })
    local started = proc.now()
    server:wait_every_worker_serves({ [ID] = rotated.serial }, RECOVERY_BOUND)
    print(string.format("# every worker serves the rotation %.1f s after the API server came back (bound %d s)",
      proc.now() - started, RECOVERY_BOUND))
    -- The old resourceVersion got 410: one relist, and it brought the rotation
    -- (the status shows the watcher as the owner last published it).
    proc.wait_until("the status to show one relist", 10, function()
      local scope = scope_of(server)
      return scope and scope.relists == relists + 1 and scope.state == "watching", scope and scope.relists
    end)
    proc.wait_until("handshakes with the rotated certificate", 10, function()
      return (load:results().serials[rotated.serial] or 0) >= 2
    end)
    local r = load:stop()
    load = nil
    print(string.format("# handshakes: %d completed, %d failed", r.ok, r.failed))
    assert.equal(0, r.failed, table.concat(r.failures, "\n"))
    for serial in pairs(r.serials) do
      assert.truthy(serial == first.serial or serial == rotated.serial, "unexpected serial " .. serial)
    end
    local log = server:error_log()
    assert.falsy(log:find("exited on signal", 1, true), log)
    assert.falsy(log:find("[alert]", 1, true), log)
  end)
end)
