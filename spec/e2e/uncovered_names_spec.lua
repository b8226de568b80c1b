-- Handshakes no watched Secret covers, from a real nginx with two workers:
-- real clients ask for names nobody covers (some more often than others, one
-- in mixed case, one longer than a host name may be, one with characters no
-- host name has, and some without a server name at all). The host's own
-- certificate answers them; the status adds the workers' counts up for the
-- node, the metric counts the same handshakes, a covered name is never
-- counted, and what a client made up never reaches the status or the log.
local json = require "dkjson"
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local tls_client = require "spec.support.tls_client"

local COVERED = "app.example.test"
local ID = "default/app-tls"
-- Uncovered names and how many handshakes ask for each (B once more below, in capitals).
local ASKED = { { "a.uncovered.test", 5 }, { "b.uncovered.test", 3 }, { "c.uncovered.test", 1 } }
-- 254 characters: one more than a host name may have (TLS allows 255).
local TOO_LONG = string.rep(string.rep("l", 62) .. ".", 4) .. "xy"
local MADE_UP = "x<y>.test"

-- The one sample of `name` with the label set `labels` in an exposition, or nil.
local function sample(body, name, labels)
  for line in body:gmatch("[^\n]+") do
    local n, l, v = line:match("^([%w_:]+){?([^}]*)}? (%S+)$")
    if n == name and l == labels then return tonumber(v) end
  end
end

local function listed(uncovered)
  local out = {}
  for _, entry in ipairs(uncovered.names) do out[#out + 1] = { entry.name, entry.count } end
  return out
end

describe("handshakes no watched Secret covers", function()
  local stack, server, a, started

  setup(function()
    assert.equal(254, #TOO_LONG)
    stack = stack_support.start({ workers = 2 })
    server = stack.nginx
    a = stack:cert("a", { COVERED })
    stack.api:apply_tls_secret("app-tls", a.crt, a.key)
    server:wait_every_worker_serves({ [ID] = a.serial })
    started = os.time()
  end)

  teardown(function() if stack then stack:stop() end end)

  local function fallback_answers(sni)
    local serial, err = tls_client.served_serial(server.port, sni)
    assert.equal(stack.fallback.serial, serial, err)
  end

  it("are counted per name for the node, with the host's certificate answering them", function()
    -- The covered name first: a worker's report that holds its uncovered
    -- handshakes would hold these too, were they counted.
    for _ = 1, 4 do assert.equal(a.serial, (tls_client.served_serial(server.port, COVERED))) end
    for _, asked in ipairs(ASKED) do
      for _ = 1, asked[2] do fallback_answers(asked[1]) end
    end
    fallback_answers("B.Uncovered.TEST") -- the same name as b.uncovered.test
    for _ = 1, 2 do fallback_answers(TOO_LONG) end
    fallback_answers(MADE_UP)
    for _ = 1, 2 do
      local serial, err = tls_client.served_serial_without_sni(server.port)
      assert.equal(stack.fallback.serial, serial, err)
    end

    -- 10 named + 3 invalid + 2 without a name; the covered ones are not among them.
    local status = proc.wait_until("the workers to report 15 uncovered handshakes", 10, function()
      local s = server:status_table()
      return s and s.uncovered and s.uncovered.total == 15 and s, s and json.encode(s.uncovered)
    end)
    local u = status.uncovered
    assert.same({ { "a.uncovered.test", 5 }, { "b.uncovered.test", 4 }, { "c.uncovered.test", 1 } }, listed(u))
    assert.equal(3, u.invalid)
    assert.equal(2, u.no_sni)
    assert.equal(0, u.other)
    assert.equal(100, u.names_max)
    for _, entry in ipairs(u.names) do
      assert.is_true(entry.last_seen >= started - 1 and entry.last_seen <= os.time() + 1, entry.name)
    end
    assert.is_true(u.since < started + 1) -- counting began before the first handshake (os.time() is whole seconds)

    -- The node's counts are the workers' added up.
    local total, per_name = 0, {}
    for _, worker in ipairs(status.workers) do
      assert.is_table(worker.uncovered, "worker " .. worker.id .. " has no uncovered report")
      total = total + worker.uncovered.total
      for _, entry in ipairs(worker.uncovered.names) do
        per_name[entry.name] = (per_name[entry.name] or 0) + entry.count
      end
    end
    assert.equal(15, total)
    assert.same({ ["a.uncovered.test"] = 5, ["b.uncovered.test"] = 4, ["c.uncovered.test"] = 1 }, per_name)
  end)

  it("are counted by the metric, which has no name label", function()
    local body = proc.wait_until("the metric to count 10 named, 3 invalid, 2 without a name", 10, function()
      local text = server:get("/certsync/metrics")
      local ok = sample(text, "certsync_uncovered_handshakes_total", 'sni="named"') == 10
        and sample(text, "certsync_uncovered_handshakes_total", 'sni="invalid"') == 3
        and sample(text, "certsync_uncovered_handshakes_total", 'sni="none"') == 2
      return ok and text, text:match("[^\n]*uncovered_handshakes_total{[^\n]*")
    end)
    assert.is_nil(body:find("uncovered.test", 1, true))
    -- Three series, labelled by kind only.
    local series = {}
    for line in body:gmatch("[^\n]+") do
      if line:find("^certsync_uncovered_handshakes_total") then series[#series + 1] = line:match("^[^ ]+") end
    end
    table.sort(series)
    assert.same({ 'certsync_uncovered_handshakes_total{sni="invalid"}', 'certsync_uncovered_handshakes_total{sni="named"}',
                  'certsync_uncovered_handshakes_total{sni="none"}' }, series)
  end)

  it("never show or log a name no host name could be", function()
    local text = server:status()
    assert.is_nil(text:find(TOO_LONG:sub(1, 62), 1, true))
    assert.is_nil(text:find("x<y>", 1, true))
    assert.is_nil(text:find("x\\u003cy", 1, true))
    local log = server:error_log()
    assert.is_nil(log:find(TOO_LONG:sub(1, 62), 1, true))
    assert.is_nil(log:find("x<y>", 1, true))
  end)

  it("narrowed to one name with ?sni=, list that name alone", function()
    local status = server:status_table("?sni=B.uncovered.test")
    assert.same({ { "b.uncovered.test", 4 } }, listed(status.uncovered))
    assert.equal(15, status.uncovered.total)
    assert.same({}, server:status_table("?sni=" .. COVERED).uncovered.names)
  end)

  it("stop for a name once a Secret covers it", function()
    local function a_counts(status)
      local out = {}
      for _, worker in ipairs(status.workers) do
        out[worker.id] = 0
        for _, entry in ipairs(worker.uncovered and worker.uncovered.names or {}) do
          if entry.name == "a.uncovered.test" then out[worker.id] = entry.count end
        end
      end
      return out
    end
    local before = a_counts(server:status_table())
    local c = stack:cert("c", { "c.uncovered.test" })
    stack.api:apply_tls_secret("c-tls", c.crt, c.key)
    server:wait_every_worker_serves({ ["default/c-tls"] = c.serial })
    for _ = 1, 3 do assert.equal(c.serial, (tls_client.served_serial(server.port, "c.uncovered.test"))) end
    -- More uncovered handshakes until every worker has reported one: each
    -- worker's report is then newer than the handshakes for c it answered.
    local extra = 0
    proc.wait_until("every worker to report a handshake after those for c", 30, function()
      local s = server:status_table()
      if s then
        local reported = true
        for id, n in pairs(a_counts(s)) do reported = reported and n > before[id] end
        if reported then return true end
      end
      fallback_answers("a.uncovered.test")
      extra = extra + 1
      return false
    end)
    -- No more handshakes now: the reports settle on what was sent.
    local status = proc.wait_until("the reports to count every handshake", 10, function()
      local s = server:status_table()
      if not s then return false end
      local sum = 0
      for _, n in pairs(a_counts(s)) do sum = sum + n end
      return sum == 5 + extra and s, "the workers' counts of a.uncovered.test add up to " .. sum
    end)
    assert.same({ { "a.uncovered.test", 5 + extra }, { "b.uncovered.test", 4 }, { "c.uncovered.test", 1 } },
      listed(status.uncovered))
    assert.equal(15 + extra, status.uncovered.total)
  end)
end)
