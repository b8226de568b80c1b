-- A node that reloads or restarts while the API server fails every request.
-- A reload keeps what the node served (the shared dict outlives the old
-- workers); a restart starts with nothing, and must say so: not ready, with
-- the reason, rather than answer every name with the host's own
-- certificate as if all were well. certsync keeps no copy of the keys on
-- disk (docs/kong.md, "Reloading or restarting during an API server outage").
local json = require "dkjson"
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local tls_client = require "spec.support.tls_client"
local q = proc.shell_quote

local SNI = "outage.example.test"
local DEADLINE = 20 -- seconds; the watcher's backoff is at most 30 s, but the first retries come within seconds

local function testing(api, method, path, body)
  local data = body and (" -H 'Content-Type: application/json' -d " .. q(body)) or ""
  return proc.check(string.format("curl -sS -X %s --cacert %s%s %s", method, q(api.ca_file), data,
    q(api.url .. "/testing/" .. path)))
end

local function every_handshake_serves(port, serial, count)
  for i = 1, count do
    local got, err = tls_client.served_serial(port, SNI)
    if got ~= serial then return false, "handshake " .. i .. " got " .. tostring(got or err) end
  end
  return true
end

describe("a node restarted while the API server fails", function()
  local stack, api, server, cert

  setup(function()
    stack = stack_support.start({ workers = 2 })
    api, server = stack.api, stack.nginx
    cert = stack:cert("served", { SNI })
    api:apply_tls_secret("outage-tls", cert.crt, cert.key)
    proc.wait_until("the node to be ready", DEADLINE, function() return select(2, server:get("/certsync/ready")) == 200 end)
    proc.wait_until("every worker to serve the Secret", DEADLINE, function()
      return every_handshake_serves(server.port, cert.serial, 4)
    end)
    -- From now on every LIST and WATCH is answered 503, and the open watch ends.
    testing(api, "POST", "faults", '{"verbs":["list","watch"],"status":503,"count":-1}')
    testing(api, "POST", "close-watches")
    proc.wait_until("the watcher to meet the outage", DEADLINE, function()
      local status = server:status_table()
      local scope = status and status.watcher and status.watcher.scopes and status.watcher.scopes[1]
      return scope and scope.errors and (scope.errors["503"] or 0) >= 1
    end)
  end)

  teardown(function() if stack then stack:stop() end end)

  it("keeps serving across a reload, from what the shared dict kept", function()
    local before = server:worker_pids()
    server:signal("reload")
    proc.wait_until("the old workers to be replaced", DEADLINE, function()
      local now = server:worker_pids()
      for _, pid in ipairs(now) do
        for _, old in ipairs(before) do if pid == old then return false end end
      end
      return #now == #before
    end)
    assert(every_handshake_serves(server.port, cert.serial, 8))
  end)

  it("after a restart, is not ready and says why instead of passing off the host's certificate", function()
    server:restart()
    local body = proc.wait_until("readiness to name the failing API server", DEADLINE, function()
      local text, code = server:get("/certsync/ready")
      return code == 503 and text:find("503", 1, true) and text, text
    end)
    assert.truthy(body:find("the first list of the API server's Secrets has not been published yet", 1, true), body)
    -- What the node serves meanwhile is the host's own certificate, and the status says so.
    assert.equal(stack.fallback.serial, (tls_client.served_serial(server.port, SNI)))
    local status = server:status_table()
    assert.is_false(status.node.ready)
    assert.equal(0, status.node.published_generation)
    assert.truthy(json.encode(status.watcher.scopes[1].last_error):find("503", 1, true))
  end)

  it("serves the Secret again and turns ready once the API server answers", function()
    testing(api, "DELETE", "faults")
    proc.wait_until("the node to be ready", 2 * 30, function() return select(2, server:get("/certsync/ready")) == 200 end)
    assert(every_handshake_serves(server.port, cert.serial, 8))
    local log = server:error_log()
    assert.falsy(log:find("exited on signal", 1, true), log)
    assert.falsy(log:find("[alert]", 1, true), log)
  end)
end)
