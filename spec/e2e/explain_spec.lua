-- certsync explain --sni NAME against a running node's status: which Secret
-- covers the name, what every worker serves, and the first broken link.
local json = require "dkjson"
local kube = require "spec.support.kube"
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local tls_client = require "spec.support.tls_client"
local q = proc.shell_quote

local CLI = kube.build_dir .. "/libcertsync/tools/certsync/certsync"
local DEADLINE = 20

describe("certsync explain", function()
  local stack, api, server, good, renewed, mismatched

  -- Runs explain for `sni`: the decoded --json answer (or, with `human`,
  -- the text for people) and the exit code.
  local function explain(sni, human)
    local url = "http://127.0.0.1:" .. server.status_port
    local out, _, rc = proc.run(q(CLI) .. " explain --sni " .. q(sni) .. " --status " .. q(url) ..
      (human and "" or " --json"))
    return human and out or json.decode(out), rc
  end

  local function link(answer, name)
    for _, l in ipairs(answer.links) do if l.link == name then return l end end
  end

  setup(function()
    stack = stack_support.start({ workers = 2 })
    api, server = stack.api, stack.nginx
    good = stack:cert("good", { "app.example.test", "*.app.example.test" })
    renewed = stack:cert("renewed", { "app.example.test", "*.app.example.test" })
    mismatched = stack:cert("mismatched", { "other.example.test" })
    api:apply_tls_secret("app-tls", good.crt, good.key)
    proc.wait_until("the node to be ready", DEADLINE, function() return select(2, server:get("/certsync/ready")) == 200 end)
    server:wait_every_worker_serves({ ["default/app-tls"] = good.serial }, DEADLINE)
    -- The watcher's view of the Secret reaches the status on the owner's next status tick.
    proc.wait_until("the Secret in the status", DEADLINE, function()
      local status = server:status_table("?secret=default/app-tls")
      return status and status.secrets and status.secrets[1] and status.secrets[1].served
    end)
  end)

  teardown(function() if stack then stack:stop() end end)

  it("says every link holds for a served name, exact or wildcard", function()
    for _, sni in ipairs({ "app.example.test", "www.app.example.test" }) do
      local answer, rc = explain(sni)
      assert.equal(0, rc, json.encode(answer))
      assert.is_nil(answer.broken_link)
      assert.truthy(link(answer, "secret").detail:find("default/app-tls", 1, true))
      assert.truthy(link(answer, "workers").detail:find("2 of 2 workers serve serial", 1, true))
      local human, human_rc = explain(sni, true)
      assert.equal(0, human_rc)
      assert.truthy(human:find("every link holds", 1, true), human)
      assert.truthy(human:find("workers +2 of 2 workers serve serial"), human)
    end
    assert.truthy(link(explain("www.app.example.test"), "secret").detail:find("wildcard match", 1, true))
  end)

  it("names a refused renewal as the broken link, with the certificate that still serves", function()
    -- The renewed certificate with the old key: refused, the good one keeps serving.
    api:apply_tls_secret("app-tls", renewed.crt, good.key)
    local answer = proc.wait_until("explain to see the refusal", DEADLINE, function()
      local a, code = explain("app.example.test")
      return code == 3 and a, json.encode(a)
    end)
    assert.equal("secret", answer.broken_link)
    local detail = link(answer, "secret").detail
    assert.truthy(detail:find("key_mismatch", 1, true), detail)
    assert.truthy(detail:find(good.serial:sub(1, 16), 1, true), detail)
    assert.equal(3, answer.exit_code)
    -- What clients get is still the good certificate.
    assert.equal(good.serial, (tls_client.served_serial(server.port, "app.example.test")))
    local human = explain("app.example.test", true)
    assert.truthy(human:find("secret +BROKEN: default/app%-tls: its latest version"), human)
  end)

  it("says nothing covers a name, with the handshakes that asked for it and the refused Secrets", function()
    api:apply_tls_secret("other-tls", mismatched.crt, good.key) -- refused from its first version
    for _ = 1, 3 do tls_client.served_serial(server.port, "nobody.example.test") end
    local answer = proc.wait_until("the uncovered handshakes and the refusal in the status", DEADLINE, function()
      local a = explain("nobody.example.test")
      local detail = a and link(a, "secret").detail or ""
      return detail:find("3 handshakes", 1, true) and detail:find("default/other-tls (key_mismatch)", 1, true) and a,
        detail
    end)
    assert.equal("secret", answer.broken_link)
    assert.equal(5, answer.exit_code)
  end)

  it("fails with exit code 4 when the status cannot be read, and 2 without --sni", function()
    local out, _, rc = proc.run(q(CLI) .. " explain --sni a.example.test --status http://127.0.0.1:1")
    assert.equal(4, rc, out)
    assert.truthy(out:find("cannot read the status at http://127.0.0.1:1", 1, true), out)
    local _, _, usage_rc = proc.run(q(CLI) .. " explain")
    assert.equal(2, usage_rc)
  end)
end)
