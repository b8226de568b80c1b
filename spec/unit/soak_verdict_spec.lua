-- tests.soak.verdict: the soak's judgement of each handshake can fail, for
-- each reason it exists.
local verdict = require "tests.soak.verdict"

local NB, NA = "Jan  1 00:00:00 2026 GMT", "Jan  1 00:00:00 2030 GMT"
local T = verdict.parse_date("Jun  1 00:00:00 2027 GMT")

local function record(fields)
  local r = { start = T + 10, sni = "a.w01.soak.test", rc = 0, connect = 0.001, appconnect = 0.005, total = 0.006,
              serial = "B", san = "DNS:*.w01.soak.test", not_before = NB, not_after = NA }
  for k, v in pairs(fields) do r[k] = v end
  return r
end

local timeline = {
  secret_of_sni = function(sni) return sni:match("w01") and "default/w01" or nil end,
  versions = { ["default/w01"] = {
    { serial = "A", written_at = T, converged_at = T + 1 },
    { serial = "B", written_at = T + 5, converged_at = T + 6 },
    { serial = "C", written_at = T + 20, converged_at = T + 21 },
  } },
  refused = { BAD = "mismatched_key" }, fallback_serial = "FALLBACK", kills = { T + 30 },
}

local function judge(fields) return verdict.judge({ record(fields) }, timeline) end

describe("the soak's verdict on a handshake", function()
  it("passes the current serial, and the previous one until the next has reached every worker", function()
    assert.equal(0, judge({}).violations)
    assert.equal(0, judge({ serial = "A", start = T + 5.5 }).violations)
  end)

  it("flags a serial every worker had replaced before the handshake began", function()
    local v = judge({ serial = "A", start = T + 7 })
    assert.equal(1, v.kinds["stale after every worker served the next"])
  end)

  it("flags a refused write, the fallback, an unknown serial, a wrong name and a lapsed certificate", function()
    assert.equal(1, judge({ serial = "BAD" }).kinds["a refused write served"])
    assert.equal(1, judge({ serial = "FALLBACK" }).kinds["the host's fallback served"])
    assert.equal(1, judge({ serial = "Z" }).kinds["a serial never written for this SNI"])
    assert.equal(1, judge({ san = "DNS:a.w02.soak.test" }).kinds["name mismatch"])
    assert.equal(1, judge({ not_after = "Jan  1 00:00:00 2027 GMT" }).kinds["outside its validity"])
    assert.equal(1, judge({ serial = "C", start = T + 1 }).kinds["served before it was written"])
  end)

  it("counts a handshake that did not complete as failed, unless it was in flight at a SIGKILL", function()
    local failed = judge({ rc = 35, appconnect = 0, serial = false })
    assert.equal(1, failed.failed)
    assert.same({ ["35"] = 1 }, failed.failures_by_code)
    local cut = judge({ rc = 35, appconnect = 0, serial = false, start = T + 29.99, total = 0.02 })
    assert.same({ 0, 1 }, { cut.failed, cut.cut_by_kill })
  end)

  it("reads crash lines, but not the exit of a worker it killed", function()
    local log = table.concat({
      "2026/12/04 01:00:00 [alert] 1#1: worker process 42 exited on signal 9",
      "2026/12/04 01:00:01 [alert] 1#1: worker process 43 exited on signal 9",
      "2026/12/04 01:00:02 [notice] 1#1: signal 1 (SIGHUP) received",
      "2026/12/04 01:00:03 [alert] 1#1: worker process 44 exited on signal 11 (core dumped)",
    }, "\n")
    assert.same({ log:match("[^\n]*worker process 43[^\n]*"), log:match("[^\n]*worker process 44[^\n]*") },
      verdict.crash_lines(log, { [42] = true }))
  end)
end)
