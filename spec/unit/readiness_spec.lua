-- certsync.readiness: ready only once the first full list is published and
-- served by every worker, and not while a watch is down past the bound.
local readiness = require "certsync.readiness"

local function node(overrides)
  local n = {
    now = 1000, published_generation = 5, synced_generation = 3, watch_down_bound = 300,
    workers = { { id = 0, pid = 10, generation = 5 }, { id = 1, pid = 11, generation = 5 } },
    library = { synced = true, watchers = { { scope = "namespace default", up = true, down_since = 0 } } },
  }
  for k, v in pairs(overrides or {}) do n[k] = v end
  return n
end

describe("readiness", function()
  it("is ready when every worker serves the published generation and the watch is up", function()
    assert.is_true(readiness.check(node()))
  end)

  it("is not ready before the first publication, naming the watcher's last error", function()
    local ok, reason = readiness.check(node({ published_generation = 0,
      library = { watchers = { { scope = "namespace default", last_error = { message = "list secrets: HTTP 403" } } } } }))
    assert.is_false(ok)
    assert.equal("the first list of the API server's Secrets has not been published yet (list secrets: HTTP 403)", reason)
  end)

  it("is not ready before the first publication when the watcher cannot start", function()
    local ok, reason = readiness.check(node({ published_generation = 0, library = { error = "no CA file" } }))
    assert.is_false(ok)
    assert.equal("the watcher cannot start: no CA file", reason)
  end)

  it("is not ready while the first list is still being published, slice by slice", function()
    local ok, reason = readiness.check(node({ synced_generation = false }))
    assert.is_false(ok)
    assert.equal("the first list of the API server's Secrets is still being published to the workers", reason)
  end)

  it("is not ready while a worker lags, has not reported or stopped ticking", function()
    local ok, reason = readiness.check(node({ workers = { { id = 0, pid = 10, generation = 5 },
                                                          { id = 1, pid = 11, generation = 4 } } }))
    assert.is_false(ok)
    assert.equal("worker 1 serves generation 4, not the published 5", reason)
    ok, reason = readiness.check(node({ workers = { { id = 0, missing = true } } }))
    assert.is_false(ok)
    assert.equal("worker 0 has not loaded the certificates yet", reason)
    ok, reason = readiness.check(node({ workers = { { id = 0, pid = 10, generation = 5, stale = true } } }))
    assert.is_false(ok)
    assert.truthy(reason:find("has not ticked", 1, true))
  end)

  it("stays ready through a short watch outage and turns not ready past the bound", function()
    local down = { scope = "namespace default", up = false, down_since = 800, last_error = { message = "connection refused" } }
    assert.is_true(readiness.check(node({ now = 1000, library = { watchers = { down } } })))
    local ok, reason = readiness.check(node({ now = 1101, library = { watchers = { down } } }))
    assert.is_false(ok)
    assert.equal("the watch of namespace default has been down for 301 s (bound 300 s): connection refused", reason)
    assert.is_true(readiness.check(node({ now = 5000, watch_down_bound = 0, library = { watchers = { down } } })))
  end)

  it("turns not ready when a restarted watcher keeps failing to start past the bound", function()
    local ok, reason = readiness.check(node({ now = 1400, library = { error = "bad kubeconfig", failing_since = 1000 } }))
    assert.is_false(ok)
    assert.equal("the watcher has not run for 400 s (bound 300 s): bad kubeconfig", reason)
  end)
end)
