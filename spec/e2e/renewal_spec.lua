-- End to end: a renewed Secret is served by every nginx worker without a
-- reload, a restart or an Admin API, and a broken renewal is refused while
-- the last good certificate keeps serving.
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local tls_client = require "spec.support.tls_client"

local SNI = "app.example.test"
local RENEWAL_DEADLINE = 10 -- seconds

local function all_handshakes_serve(port, serial, count)
  for i = 1, count do
    local got, err = tls_client.served_serial(port, SNI)
    if got ~= serial then return false, "handshake " .. i .. " got " .. tostring(got or err) end
  end
  return true
end

describe("a TLS Secret watched by certsync in nginx", function()
  local stack, api, server, a, b, stray, pids_before

  setup(function()
    stack = stack_support.start({ workers = 2 })
    api, server = stack.api, stack.nginx
    a = stack:cert("a", { SNI })
    b = stack:cert("b", { SNI })
    stray = stack:cert("stray", { SNI })
  end)

  teardown(function()
    if stack then stack:stop() end
  end)

  it("serves the host's own certificate before any Secret exists", function()
    assert.are_not.equal(a.serial, (tls_client.served_serial(server.port, SNI)))
    pids_before = { master = server.master_pid, workers = server:worker_pids() }
    assert.equal(2, #pids_before.workers)
  end)

  it("serves certificate A once the Secret is created", function()
    api:apply_tls_secret("app-tls", a.crt, a.key)
    proc.wait_until("every worker to serve A", RENEWAL_DEADLINE, function()
      return all_handshakes_serve(server.port, a.serial, 4)
    end)
  end)

  it("serves B on every worker after a renewal, within the deadline", function()
    local started = proc.now()
    api:apply_tls_secret("app-tls", b.crt, b.key)
    local written = proc.now() -- kubectl has returned: the API server holds B
    proc.wait_until("a handshake to get B", RENEWAL_DEADLINE, function()
      return tls_client.served_serial(server.port, SNI) == b.serial
    end)
    local first = proc.now()
    -- Every worker converges on its own timer: wait until each says it serves
    -- B, all at one generation, then prove it with fresh handshakes (spread
    -- over the workers by reuseport).
    proc.wait_until("every worker to serve B", RENEWAL_DEADLINE, function()
      local generations, serving_b = {}, 0
      for _, worker in pairs(server:status_per_worker()) do
        generations[worker.generation] = true
        if worker.serials["default/app-tls"] == b.serial then serving_b = serving_b + 1 end
      end
      return serving_b == #server:worker_pids() and next(generations, next(generations)) == nil
    end)
    local all = proc.now()
    assert(all_handshakes_serve(server.port, b.serial, 20))
    print(string.format("\n  renewal-to-served, from the API server's write: first handshake %.3f s," ..
      " every worker %.3f s (%.3f s including kubectl apply)", first - written, all - written, all - started))
  end)

  it("refuses a broken pair and keeps serving B, naming the refusal in status", function()
    api:apply_tls_secret("app-tls", stray.crt, a.key) -- a key that belongs to another certificate
    local status = proc.wait_until("status to name the refusal", RENEWAL_DEADLINE, function()
      local s = server:status()
      return s:find('"code":"key_mismatch"', 1, true) and s, s
    end)
    local secret = server:status_table("?secret=default/app-tls").secrets[1]
    assert.equal("refused", secret.state)
    assert.equal("key_mismatch", secret.refusal.code)
    assert.equal(b.serial, secret.served.serial:upper())  -- the last good one still serves
    assert(all_handshakes_serve(server.port, b.serial, 20))
    assert.is_nil(status:find("PRIVATE KEY", 1, true))
  end)

  it("never reloaded or restarted nginx, and no worker crashed", function()
    assert.equal(pids_before.master, server.master_pid)
    assert.same(pids_before.workers, server:worker_pids())
    local log = server:error_log()
    assert.is_nil(log:find("exited on signal", 1, true))
    assert.is_nil(log:find("[emerg]", 1, true))
    assert.is_nil(log:find("PRIVATE KEY", 1, true))
  end)
end)
