-- The short soak (tests/soak/): 4 workers, 24 Secrets, constant handshakes
-- from curl clients through 50 rotations with broken writes, a reload, a
-- SIGKILL of the watcher's owner and a scope change, on each host certsync
-- runs in: plain nginx, and the Kong host harness as Kong 2.8 and 3.x drive
-- the plugin (SOAK_HOST=... runs one of them). The long one is `make soak`
-- (tests/soak/README.md).
local driver = require "tests.soak.driver"
local report = require "tests.soak.report"
local kube = require "spec.support.kube"

local HOSTS = os.getenv("SOAK_HOST") and { os.getenv("SOAK_HOST") } or { "nginx", "kong-2.8", "kong-3.x" }

describe("the short soak", function()
  for _, host in ipairs(HOSTS) do
    it("on " .. host .. " serves every handshake a valid certificate through rotations, broken writes, a reload, " ..
       "a SIGKILL and a scope change", function()
      local result = driver.run({ mode = "short", host = host })
      local summary, json_path, txt_path = report.write(result,
        kube.build_dir .. "/soak/short-" .. host .. "-" .. os.date("!%Y%m%dT%H%M%SZ"))
      print("\n" .. report.table(summary) .. "report: " .. json_path .. "\n        " .. txt_path)
      local c = summary.counts
      assert.equal(0, c.failed, table.concat(summary.examples, "\n"))
      assert.equal(0, c.violations, table.concat(summary.examples, "\n"))
      assert.is_true(c.completed > 500, "too few handshakes to mean anything: " .. c.completed)
      assert.same({}, summary.crash)
      assert.same({}, summary.leaks)
      assert.equal(50, c.rotations)
      assert.equal(12, c.broken_writes)
      assert.same({ 1, 1, 1 }, { c.reloads, c.kills, c.scope_changes >= 1 and 1 or 0 })
      assert.equal(1, c.owner_kills)
      assert.same({}, report.failures(summary))
    end)
  end
end)
