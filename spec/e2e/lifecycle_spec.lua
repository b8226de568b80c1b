-- One watch per node, whatever happens to the workers; reloads and shutdowns
-- under continuous handshakes break nothing and crash nothing.
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local tls_client = require "spec.support.tls_client"
local handshake_load = require "spec.support.handshake_load"

local SNI = "app.example.test"

local function serving(server, serial)
  return function() return tls_client.served_serial(server.port, SNI) == serial end
end

local function crash_lines(log)
  local found = {}
  for line in log:gmatch("[^\n]+") do
    if line:find("exited on signal", 1, true) or line:find("core dumped", 1, true) or line:find("[alert]", 1, true) then
      found[#found + 1] = line
    end
  end
  return found
end

describe("certsync in an nginx with 4 workers", function()
  local stack, api, server, cert

  setup(function()
    stack = stack_support.start({ workers = 4 })
    api, server = stack.api, stack.nginx
    cert = stack:cert("a", { SNI })
    api:apply_tls_secret("app-tls", cert.crt, cert.key)
    proc.wait_until("A to be served", 10, serving(server, cert.serial))
  end)

  teardown(function() if stack then stack:stop() end end)

  it("opens one watch stream for the node, not one per worker", function()
    -- Every worker converges on its own timer (so each has run it many
    -- times): one handshake served A only proves one worker did...
    server:wait_every_worker_serves({ ["default/app-tls"] = cert.serial })
    -- ...and the node has opened exactly one watch.
    local c = api:watch_counters()
    assert.equal(1, c.open_watches)
    assert.equal(1, c.watch)
  end)

  it("resumes watching within seconds when the owning worker dies, serving all along", function()
    local owner = tonumber(server:status():match('"owner_pid":(%d+)'))
    assert.is_number(owner)
    local load = handshake_load.start(stack.dir, server.port, SNI)
    proc.kill(owner, "KILL")
    proc.wait_until("another worker to watch", 15, function()
      local c = api:watch_counters()
      local now_owner = tonumber(server:status():match('"owner_pid":(%d+)'))
      return c.open_watches == 1 and c.watch == 2 and now_owner and now_owner ~= owner
    end)
    local results = load:stop()
    assert.same({}, results.failures)
    assert.same({ [cert.serial] = results.ok }, results.serials)
    assert.equal(4, #server:worker_pids())
  end)

  it("reloads under handshake load without a failed handshake or a crash, and watches again", function()
    local old_workers = server:worker_pids()
    local log_mark = #server:error_log() -- the previous test killed a worker on purpose
    local load = handshake_load.start(stack.dir, server.port, SNI)
    proc.wait_until("handshakes to flow", 10, function() return load:results().ok >= 3 end)
    assert.is_true(select(2, server:signal("reload")))
    proc.wait_until("the old workers to exit", 15, function()
      for _, pid in ipairs(old_workers) do if proc.alive(pid) then return false end end
      return true
    end)
    proc.wait_until("one watch again, from a new worker", 15, function() return api:watch_counters().open_watches == 1 end)
    proc.wait_until("handshakes after the reload", 10, function() return load:results().ok >= 10 end)
    local results = load:stop()
    assert.same({}, results.failures)
    assert.same({ [cert.serial] = results.ok }, results.serials)
    assert.same({}, crash_lines(server:error_log():sub(log_mark + 1)))
  end)
end)

for _, how in ipairs({ "quit", "stop" }) do
  describe("nginx -s " .. how .. " under handshake load", function()
    it("stops every worker promptly, with no crash and the watch closed", function()
      local stack = stack_support.start({ workers = 2 })
      local ok, err = pcall(function()
        local cert = stack:cert("a", { SNI })
        stack.api:apply_tls_secret("app-tls", cert.crt, cert.key)
        proc.wait_until("A to be served", 10, serving(stack.nginx, cert.serial))
        proc.wait_until("the watch", 10, function() return stack.api:watch_counters().open_watches == 1 end)
        local load = handshake_load.start(stack.dir, stack.nginx.port, SNI)
        proc.wait_until("handshakes to flow", 10, function() return load:results().ok >= 3 end)
        local workers = stack.nginx:worker_pids()
        stack.nginx:signal(how)
        proc.wait_until("nginx to exit", 10, function()
          if proc.alive(stack.nginx.master_pid) then return false end
          for _, pid in ipairs(workers) do if proc.alive(pid) then return false end end
          return true
        end)
        load:stop()
        proc.wait_until("the API server to see the watch closed", 5, function()
          return stack.api:watch_counters().open_watches == 0
        end)
        assert.same({}, crash_lines(stack.nginx:error_log()))
      end)
      stack.nginx = nil -- already stopped
      stack:stop()
      assert(ok, err)
    end)
  end)
end
