-- Renewals reach every worker the moment the owner publishes them, not at
-- the next poll: the poll interval here is 8 s, and every worker must serve
-- the new certificate within 1.5 s of the API server holding it, also after
-- a reload (new workers, a new owner, new connections to its socket).
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"

local POLL = 8        -- seconds: the safety-net poll, far longer than the deadline
local DEADLINE = 1.5  -- seconds from kubectl apply returning to every worker serving
local ID = "default/app-tls"

describe("event-driven propagation", function()
  local stack, api, server

  setup(function()
    stack = stack_support.start({ workers = 2, settings = { poll_interval = tostring(POLL) } })
    api, server = stack.api, stack.nginx
  end)

  teardown(function() if stack then stack:stop() end end)

  -- Every worker waits on the owner's notify socket (the owner's own too).
  local function all_connected()
    proc.wait_until("every worker to connect to the notify socket", 15, function()
      local status = server:status_table()
      local notify = status and status.watcher and status.watcher.notify
      return notify and notify.connections == #server:worker_pids()
    end)
  end

  local function renew(label)
    local cert = stack:cert(label, { "app.example.test" })
    api:apply_tls_secret("app-tls", cert.crt, cert.key)
    local started = proc.now()
    server:wait_every_worker_serves({ [ID] = cert.serial }, DEADLINE)
    return proc.now() - started
  end

  it("serves the first certificate and each renewal on every worker well before the next poll", function()
    -- The first list is published on the owner's first tick and wakes the others.
    server:wait_every_worker_serves({}, 5)
    all_connected()
    renew("a")
    for i = 1, 3 do
      local took = renew("r" .. i)
      assert.is_true(took < DEADLINE, "took " .. took .. " s")
    end
  end)

  it("keeps waking every worker after a reload", function()
    local before = server:worker_pids()
    server:signal("reload")
    proc.wait_until("new workers", 15, function()
      local now = server:worker_pids()
      if #now ~= #before then return false end
      for _, pid in ipairs(now) do
        for _, old in ipairs(before) do if pid == old then return false end end
      end
      return true
    end)
    -- A new owner runs the watcher and listens on the socket.
    proc.wait_until("a new owner", 15, function()
      local status = server:status_table()
      local owner = status and status.node.owner_pid
      for _, old in ipairs(before) do if owner == old then return false end end
      return owner ~= nil
    end)
    all_connected()
    renew("after-reload")
  end)
end)

-- The poll is the safety net for a wake-up that never comes (a worker whose
-- connection to the owner's socket broke, an owner that could not bind it):
-- with no wake-ups at all, every renewal still reaches every worker within
-- a few polls.
describe("the poll without wake-ups", function()
  local POLL_ONLY = 0.5  -- seconds
  local stack

  setup(function()
    stack = stack_support.start({ workers = 2, settings = { poll_interval = tostring(POLL_ONLY), notify_socket = "" } })
  end)

  teardown(function() if stack then stack:stop() end end)

  it("brings each renewal to every worker within a few polls", function()
    stack.nginx:wait_every_worker_serves({}, 10)
    local status = stack.nginx:status_table()
    assert.is_nil(status.watcher.notify) -- no socket: nothing wakes anyone
    for i = 1, 2 do
      local cert = stack:cert("poll" .. i, { "app.example.test" })
      stack.api:apply_tls_secret("app-tls", cert.crt, cert.key)
      stack.nginx:wait_every_worker_serves({ [ID] = cert.serial }, 6 * POLL_ONLY + 2)
    end
  end)
end)
