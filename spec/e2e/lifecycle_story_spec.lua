-- Issue 11's story, end to end on one node: "cert-manager says it renewed,
-- so why does this client still get the old or the wrong certificate?"
-- One API test server with the Certificate CRD, one real nginx with
-- complete_chain on, one real Prometheus loading certsync's alert rules (the
-- `for:` durations cut to 0 s so that an alert fires within the spec), and
-- real clients. In order: a renewal served with every flag clear; a renewal
-- failing past renewalTime (renewal_overdue, and its alert firing); a
-- Certificate whose Secret is outside the watched scope (secret_missing);
-- clients asking for a name no Secret covers (the top-N); a chain missing
-- its intermediate (flagged), then completed from ca.crt.
local json = require "dkjson"
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local certs = require "spec.support.certs"
local tls_client = require "spec.support.tls_client"
local kube = require "spec.support.kube"
local free_port = require "spec.support.ports"
local q = proc.shell_quote

local DEADLINE = 20
local LABELS = { ["certsync.io/watch"] = "yes" }

local function rfc3339(unix) return os.date("!%Y-%m-%dT%H:%M:%SZ", unix) end

-- The status cert-manager writes: Ready (or failing) after revision `revision`.
local function certificate_status(revision, ready, renewal_time)
  local now = rfc3339(os.time())
  local status = {
    conditions = { { type = "Ready", status = "True", reason = "Ready",
                     message = "Certificate is up to date and has not expired", lastTransitionTime = now } },
    notBefore = rfc3339(os.time() - 60), notAfter = rfc3339(os.time() + 30 * 86400),
    renewalTime = rfc3339(renewal_time), revision = revision,
  }
  if not ready then
    local failed = "The certificate request has failed to complete and will be retried: the ACME order failed"
    status.conditions = {
      { type = "Ready", status = "False", reason = "Failed", message = failed, lastTransitionTime = now },
      { type = "Issuing", status = "False", reason = "Failed", message = failed, lastTransitionTime = now },
    }
    status.lastFailureTime = now
  end
  return status
end

-- certsync's rules with every `for:` at 0 s: the same expressions, firing at
-- the first evaluation that holds.
local function immediate_rules(dir)
  local text = proc.read_file(kube.root .. "/deploy/prometheus/certsync-rules.yaml")
  local path = dir .. "/rules.yaml"
  proc.write_file(path, (text:gsub("\n(%s+)for: [%w]+", "\n%1for: 0s")))
  return path
end

describe("the lifecycle story", function()
  local stack, api, server, prometheus_pid, prometheus_port

  local function certificate(id)
    local status = server:status_table()
    for _, c in ipairs(status and status.certificates or {}) do
      if c.id == id then return c end
    end
  end

  local function firing(alert, label, value)
    local out = proc.run(string.format("curl -sS http://127.0.0.1:%d/api/v1/alerts", prometheus_port))
    local body = json.decode(out)
    for _, a in ipairs(body and body.data and body.data.alerts or {}) do
      if a.labels.alertname == alert and a.labels[label] == value and a.state == "firing" then return a end
    end
    local up = proc.run(string.format("curl -sS --get --data-urlencode %s http://127.0.0.1:%d/api/v1/query",
      q("query=up or kong_certsync_certificate_renewal_overdue"), prometheus_port))
    return false, out .. " " .. up
  end

  setup(function()
    stack = stack_support.start({ workers = 2, api_args = { "--cert-manager", "served" },
                                  settings = { label_selector = "certsync.io/watch=yes", complete_chain = "true" },
                                  -- Kong's metric names, as the rules query them.
                                  nginx = { metrics_lua = "require('certsync.core').serve_metrics({ prefix = 'kong_' })" } })
    api, server = stack.api, stack.nginx
    local dir = stack.dir .. "/prometheus"
    proc.check("mkdir -p " .. q(dir))
    prometheus_port = free_port()
    proc.write_file(dir .. "/prometheus.yml", table.concat({
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      "rule_files: [" .. string.format("%q", immediate_rules(dir)) .. "]",
      "scrape_configs:",
      "  - job_name: certsync",
      "    metrics_path: /certsync/metrics",
      "    static_configs: [{ targets: ['127.0.0.1:" .. server.status_port .. "'] }]",
    }, "\n") .. "\n")
    prometheus_pid = proc.spawn(string.format("prometheus --config.file=%s --storage.tsdb.path=%s " ..
      "--web.listen-address=127.0.0.1:%d", q(dir .. "/prometheus.yml"), q(dir .. "/data"), prometheus_port),
      dir .. "/log")
  end)

  teardown(function()
    if prometheus_pid then proc.kill(prometheus_pid, "TERM") end
    if stack then stack:stop() end
  end)

  it("1. a Certificate renewed by cert-manager is served on every worker, every flag clear", function()
    local first, renewed = stack:cert("first", { "shop.example.test" }), stack:cert("renewed", { "shop.example.test" })
    api:apply_tls_secret("shop-tls", first.crt, first.key, nil, { labels = LABELS })
    api:apply_certificate("shop", "shop-tls", nil, { "shop.example.test" })
    api:set_certificate_status("shop", certificate_status(1, true, os.time() + 20 * 86400))
    server:wait_every_worker_serves({ ["default/shop-tls"] = first.serial }, DEADLINE)
    -- The renewal: the Secret replaced, then the Certificate's revision 2.
    api:apply_tls_secret("shop-tls", renewed.crt, renewed.key, nil, { labels = LABELS })
    api:set_certificate_status("shop", certificate_status(2, true, os.time() + 40 * 86400))
    server:wait_every_worker_serves({ ["default/shop-tls"] = renewed.serial }, DEADLINE)
    assert.equal(renewed.serial, (tls_client.served_serial(server.port, "shop.example.test")))
    local c = proc.wait_until("revision 2 joined to its served Secret", DEADLINE, function()
      local got = certificate("default/shop")
      return got and got.revision == 2 and got.secret_serial == renewed.serial and not got.not_served and got
    end)
    assert.equal("True", c.ready.status)
    assert.is_false(c.renewal_overdue)
    assert.is_false(c.secret_missing)
  end)

  it("2. a renewal failing past renewalTime raises renewal_overdue and CertsyncRenewalOverdue fires", function()
    api:set_certificate_status("shop", certificate_status(2, false, os.time() - 3600))
    local c = proc.wait_until("renewal_overdue in the status", DEADLINE, function()
      local got = certificate("default/shop")
      return got and got.renewal_overdue and got
    end)
    assert.equal("Failed", c.ready.reason)
    proc.wait_until("CertsyncRenewalOverdue to fire in Prometheus", 60, function()
      return firing("CertsyncRenewalOverdue", "certificate", "default/shop")
    end)
    -- Serving goes on with what the Secret holds.
    assert.is_false(certificate("default/shop").not_served)
  end)

  it("3. a Certificate naming a Secret outside the watched scope raises secret_missing", function()
    local other = stack:cert("other", { "other.example.test" })
    api:apply_tls_secret("unwatched-tls", other.crt, other.key) -- no certsync.io/watch label
    api:apply_certificate("other", "unwatched-tls", nil, { "other.example.test" })
    local c = proc.wait_until("secret_missing in the status", DEADLINE, function()
      local got = certificate("default/other")
      return got and got.secret_missing and got
    end)
    assert.equal("default/unwatched-tls", c.secret)
  end)

  it("4. clients asking for a name no Secret covers appear in the top-N", function()
    for _ = 1, 3 do
      local serial = tls_client.served_serial(server.port, "other.example.test")
      assert.equal(stack.fallback.serial, serial) -- the host's own certificate answered
    end
    local status = proc.wait_until("other.example.test among the uncovered names", DEADLINE, function()
      local s = server:status_table()
      for _, entry in ipairs(s and s.uncovered and s.uncovered.names or {}) do
        if entry.name == "other.example.test" and entry.count == 3 then return s end
      end
    end)
    assert.truthy(status.uncovered.total >= 3)
  end)

  it("5. a chain missing its intermediate is flagged, then completed from ca.crt", function()
    local chain = certs.make_chain(stack.dir, "api", { "api.example.test" })
    local root_only = stack.dir .. "/api-root-only.crt"
    proc.write_file(root_only, proc.read_file(chain.root))
    -- ca.crt without the intermediate: nothing to complete it from.
    api:apply_tls_secret("api-tls", chain.leaf.crt, chain.leaf.key, nil, { labels = LABELS, ca_file = root_only })
    server:wait_every_worker_serves({ ["default/api-tls"] = chain.leaf.serial }, DEADLINE)
    local served = proc.wait_until("chain_incomplete in the status", DEADLINE, function()
      local s = server:status_table("?secret=default/api-tls")
      local b = s and s.secrets and s.secrets[1] and s.secrets[1].served
      return b and b.chain_incomplete and b
    end)
    assert.equal("CN=api test intermediate", served.chain_missing_issuer)
    -- cert-manager writes ca.crt with the intermediate too: completed.
    local full = stack.dir .. "/api-ca.crt"
    proc.write_file(full, proc.read_file(chain.intermediate) .. proc.read_file(chain.root))
    api:apply_tls_secret("api-tls", chain.leaf.crt, chain.leaf.key, nil, { labels = LABELS, ca_file = full })
    proc.wait_until("a handshake that verifies to the root", DEADLINE, function()
      local out = proc.run(string.format("echo | timeout 10 openssl s_client -connect 127.0.0.1:%d " ..
        "-servername api.example.test -CAfile %s 2>&1", server.port, q(chain.root)))
      return out:find("Verify return code: 0 (ok)", 1, true) ~= nil, out:match("Verify return code: [^\n]*")
    end)
    served = proc.wait_until("chain_completed in the status", DEADLINE, function()
      local s = server:status_table("?secret=default/api-tls")
      local b = s and s.secrets and s.secrets[1] and s.secrets[1].served
      return b and b.chain_completed == 1 and b
    end)
    assert.is_false(served.chain_incomplete)
  end)
end)
