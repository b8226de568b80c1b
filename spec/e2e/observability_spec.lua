-- What an operator sees, from a real nginx with two workers and the API test
-- server: readiness before and after the first list and while the watch is
-- down, the status and its filters, the metrics (checked by promtool, scraped
-- by a real Prometheus that also loads the alert rules), the log lines of
-- accepted and refused changes, and, over everything collected on the way
-- (logs, status, metrics, CLI output, a token rotation included), not one
-- byte of a private key or a token.
local json = require "dkjson"
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local tls_client = require "spec.support.tls_client"
local kube = require "spec.support.kube"
local free_port = require "spec.support.ports"
local assets = require "spec.support.prometheus_assets"
local secrets_sweep = require "spec.support.secrets_sweep"
local q = proc.shell_quote

local SNI = "app.example.test"
local OTHER_SNI = "other.example.test"
local ID = "default/app-tls"
local WATCH_DOWN_BOUND = 3 -- seconds: ready_watch_down_seconds for this spec
-- The watch scope as the status and the metrics name it (secret_types defaults to TLS).
local SCOPE = "namespace default, type kubernetes.io/tls"
local CLI = kube.build_dir .. "/libcertsync/tools/certsync/certsync"

-- Every body this spec reads, for the sweep at the end.
local collected = {}
local function keep(label, text)
  collected[#collected + 1] = { label = label, text = text or "" }
  return text
end

-- The API test server's control endpoints (/testing/..., no token needed).
local function testing(api, method, path, body)
  local data = body and (" -H 'Content-Type: application/json' -d " .. q(body)) or ""
  return proc.check(string.format("curl -sS -X %s --cacert %s%s %s", method, q(api.ca_file), data,
    q(api.url .. "/testing/" .. path)))
end

local function metrics(server)
  local body, code = server:get("/certsync/metrics")
  assert.equal(200, code, body)
  return keep("metrics", body)
end

-- The value of one sample in an exposition, or nil.
local function sample(body, name, labels)
  for line in body:gmatch("[^\n]+") do
    local n, l, v = line:match("^([%w_:]+){?([^}]*)}? (%S+)$")
    if n == name and (labels == nil or l == labels) then return tonumber(v) end
  end
end

local function promtool_accepts(body, dir)
  local path = dir .. "/metrics.prom"
  proc.write_file(path, body)
  return proc.run("promtool check metrics < " .. q(path) .. " 2>&1")
end

describe("observability", function()
  local stack, api, server, a, b, stray

  setup(function()
    stack = stack_support.start({
      workers = 2,
      settings = { ready_watch_down_seconds = tostring(WATCH_DOWN_BOUND) },
      nginx = function(s)
        -- Hold back the first list, so the spec can see the node before it.
        testing(s.api, "POST", "faults", '{"verb":"list","status":503,"count":-1}')
        -- Kong's names, so the rules and the dashboard are checked against this output.
        return { metrics_lua = "require('certsync.core').serve_metrics({ prefix = 'kong_' })" }
      end,
    })
    api, server = stack.api, stack.nginx
    a = stack:cert("a", { SNI })
    b = stack:cert("b", { SNI, "www.example.test" })
    stray = stack:cert("stray", { SNI })
  end)

  teardown(function() if stack then stack:stop() end end)

  it("is not ready before the first list, and says why", function()
    local code
    local body = proc.wait_until("a failed list in the reason", 15, function()
      local text
      text, code = server:get("/certsync/ready")
      return text and text:find("503", 1, true) and text, text
    end)
    keep("ready", body)
    assert.equal(503, code)
    assert.truthy(body:find("not ready: the first list of the API server's Secrets has not been published yet", 1, true), body)
    local status = server:status_table()
    keep("status", json.encode(status))
    assert.is_false(status.node.ready)
    assert.equal(0, status.node.published_generation)
    assert.is_true(status.watcher.scopes[1].errors["503"] >= 1)
    assert.equal(0, sample(metrics(server), "kong_certsync_ready"))
  end)

  it("is ready once every worker serves the first full list", function()
    testing(api, "DELETE", "faults")
    proc.wait_until("ready", 15, function() return select(2, server:get("/certsync/ready")) == 200 end)
    local status = server:status_table()
    assert.is_true(status.node.ready)
    assert.is_true(status.node.published_generation > 0)
    assert.equal(2, #status.workers)
    for _, worker in ipairs(status.workers) do
      assert.equal(status.node.published_generation, worker.generation)
      assert.is_false(worker.behind)
    end
  end)

  it("shows a served Secret with every field, per worker, and filters by SNI and Secret", function()
    api:apply_tls_secret("app-tls", a.crt, a.key)
    api:apply_tls_secret("other-tls", stack:cert("other", { OTHER_SNI }).crt, stack.dir .. "/other.key")
    server:wait_every_worker_serves({ [ID] = a.serial })
    -- The watcher's view reaches the status within a second of the workers'.
    local status = proc.wait_until("the watcher's view of " .. ID, 5, function()
      local s = server:status_table("?secret=" .. ID)
      return s and s.secrets[1] and s.secrets[1].served and s
    end)
    keep("status", json.encode(status))
    assert.equal(1, #status.secrets)
    local secret = status.secrets[1]
    assert.equal("serving", secret.state)
    assert.equal("default", secret.namespace)
    assert.equal("app-tls", secret.name)
    assert.truthy(secret.uid:match("^%x+%-"), secret.uid)
    assert.truthy(tonumber(secret.resource_version))
    assert.same({ SNI }, secret.served.snis)
    assert.equal(a.serial, secret.served.serial)
    assert.truthy(secret.served.fingerprint_sha256:match("^%x+$") and #secret.served.fingerprint_sha256 == 64)
    assert.equal("CN=" .. SNI, secret.served.issuer)
    assert.equal("EC-P-256", secret.served.key_type)
    assert.truthy(secret.served.not_before < secret.served.not_after)
    assert.truthy(math.abs(secret.served.since - os.time()) < 60)
    assert.same({}, secret.workers_behind)
    for _, worker in ipairs(status.workers) do
      assert.same({ [ID] = a.serial }, worker.serials) -- filtered to the one Secret
      assert.truthy(worker.pid > 0)
    end
    local scope = status.watcher.scopes[1]
    assert.equal(api.url, scope.server)
    assert.equal("watching", scope.state)
    assert.is_true(scope.up)
    assert.truthy(scope.last_sync_at > 0)
    assert.equal(0, scope.relists)

    local by_sni = server:status_table("?sni=" .. SNI:upper() .. ".")
    assert.equal(1, #by_sni.secrets)
    assert.equal(ID, by_sni.secrets[1].id)
    assert.same({ ID }, by_sni.this_worker.serves_for_sni)
    local none = server:status_table("?sni=nobody.example.test")
    assert.same({}, none.secrets)
    local _, code = server:get("/certsync/status?secret=no-slash")
    assert.equal(400, code)
  end)

  it("logs each accepted change with its latency and each refusal with its reason", function()
    api:apply_tls_secret("app-tls", b.crt, b.key)
    server:wait_every_worker_serves({ [ID] = b.serial })
    api:apply_tls_secret("app-tls", stray.crt, b.key) -- a key of another certificate
    proc.wait_until("the refusal in the status", 10, function()
      local s = server:status_table("?secret=" .. ID)
      return s and s.secrets[1] and s.secrets[1].state == "refused"
    end)
    local log = server:error_log()
    local accepted = log:match("[^\n]*%[certsync%] " .. ID:gsub("%p", "%%%0") .. ": serving serial " .. b.serial .. "[^\n]*")
    assert.truthy(accepted, "no accepted-change line for B")
    assert.truthy(accepted:find(SNI .. ",www.example.test", 1, true), accepted)
    assert.truthy(accepted:find("notAfter 20%d%d%-%d%d%-%d%dT"), accepted)
    assert.truthy(accepted:match("(%d+) ms from the watch event to publication"), accepted)
    assert.truthy(log:find(ID:gsub("%p", "%%%0") .. ": resourceVersion %d+ refused %(key_mismatch%)"), "no refusal line")
  end)

  it("exports metrics promtool accepts, with the Secret, the refusal and the latency", function()
    local body = metrics(server)
    assert.equal("", (promtool_accepts(body, stack.dir):gsub("^%s+", "")))
    local status = proc.wait_until("the watcher's view of B", 5, function()
      local s = server:status_table("?secret=" .. ID)
      return s and s.secrets[1].served.serial == b.serial and s
    end)
    local served = status.secrets[1].served
    local secret_label = 'secret="' .. ID .. '"'
    assert.equal(served.not_after, sample(body, "kong_certsync_certificate_expiry_timestamp_seconds", secret_label))
    assert.equal(1, sample(body, "kong_certsync_certificate_info",
      string.format('%s,serial="%s",issuer="CN=%s",key_type="EC-P-256"', secret_label, b.serial, SNI)))
    assert.is_nil(sample(body, "kong_certsync_certificate_info",  -- the renewed-away serial is gone
      string.format('%s,serial="%s",issuer="CN=%s",key_type="EC-P-256"', secret_label, a.serial, SNI)))
    assert.equal(1, sample(body, "kong_certsync_secret_refused", secret_label .. ',reason="key_mismatch"'))
    assert.equal(1, sample(body, "kong_certsync_refusals_total", 'reason="key_mismatch"'))
    assert.equal(2, sample(body, "kong_certsync_secrets_served"))
    assert.equal(0, sample(body, "kong_certsync_secret_stale_workers", secret_label))
    assert.equal(1, sample(body, "kong_certsync_watch_up", 'scope="' .. SCOPE .. '"'))
    assert.equal(1, sample(body, "kong_certsync_ready"))
    assert.is_true(sample(body, "kong_certsync_api_errors_total", 'scope="' .. SCOPE .. '",code="503"') >= 1)
    local published = sample(body, "kong_certsync_generation_published")
    assert.equal(published, sample(body, "kong_certsync_worker_generation_served", 'worker="0"'))
    assert.equal(published, sample(body, "kong_certsync_worker_generation_served", 'worker="1"'))
    -- Each worker observed A (after the first list) and B: at least 4.
    assert.is_true(sample(body, "kong_certsync_event_to_served_seconds_count") >= 4)
    -- Every family the rules and the dashboard expect is there, and they use no other.
    local exposed = assets.exposed_names(body)
    for name, kind in pairs(assets.certsync_families()) do
      local sample_name = kind == "histogram" and (name .. "_count") or name
      assert.truthy(exposed[sample_name], name .. " is not exposed")
    end
    local exprs = assets.rule_exprs(kube.root .. "/deploy/prometheus/certsync-rules.yaml")
    for _, e in ipairs(assets.dashboard_exprs(kube.root .. "/deploy/grafana/certsync-dashboard.json")) do
      exprs[#exprs + 1] = e
    end
    assert.same({}, assets.unknown_names(exprs, body))
  end)

  it("is scraped by a real Prometheus, which evaluates the alert rules", function()
    local dir = stack.dir .. "/prometheus"
    proc.check("mkdir -p " .. q(dir))
    local port = free_port()
    proc.write_file(dir .. "/prometheus.yml", table.concat({
      "global: { scrape_interval: 1s, evaluation_interval: 1s }",
      "rule_files: [" .. string.format("%q", kube.root .. "/deploy/prometheus/certsync-rules.yaml") .. "]",
      "scrape_configs:",
      "  - job_name: certsync",
      "    metrics_path: /certsync/metrics",
      "    static_configs: [{ targets: ['127.0.0.1:" .. server.status_port .. "'] }]",
    }, "\n") .. "\n")
    local pid = proc.spawn(string.format("prometheus --config.file=%s --storage.tsdb.path=%s " ..
      "--web.listen-address=127.0.0.1:%d", q(dir .. "/prometheus.yml"), q(dir .. "/data"), port), dir .. "/log")
    local ok, err = pcall(function()
      local function query(expr)
        local out = proc.run(string.format("curl -sS --get --data-urlencode %s http://127.0.0.1:%d/api/v1/query",
          q("query=" .. expr), port))
        return (json.decode(out))
      end
      local status = server:status_table("?secret=" .. ID)
      local result = proc.wait_until("Prometheus to hold the expiry of " .. ID, 60, function()
        local r = query('kong_certsync_certificate_expiry_timestamp_seconds{secret="' .. ID .. '"}')
        return r and r.status == "success" and r.data.result[1] and r.data.result[1]
      end)
      assert.equal(status.secrets[1].served.not_after, tonumber(result.value[2]))
      assert.equal("certsync", result.metric.job)
      -- The rules loaded and evaluate against these series without error.
      local rules = proc.wait_until("the rules to be evaluated", 30, function()
        local out = json.decode((proc.run(string.format("curl -sS http://127.0.0.1:%d/api/v1/rules", port))))
        local group = out and out.data and out.data.groups and out.data.groups[1]
        return group and group.rules[1] and group.rules[1].lastEvaluation ~= "0001-01-01T00:00:00Z" and group
      end)
      for _, rule in ipairs(rules.rules) do assert.equal("ok", rule.health, rule.name .. ": " .. tostring(rule.lastError)) end
    end)
    proc.kill(pid, "TERM")
    assert(ok, err)
  end)

  it("answers the CLI the same way, then follows a token rotation", function()
    local cli_json = (proc.run(string.format("%s inspect --kubeconfig %s -n default app-tls --json", q(CLI),
      q(api.dir .. "/kubeconfig"))))
    keep("cli inspect --json", cli_json)
    local verdict = json.decode(cli_json)
    assert.equal("key_mismatch", verdict and verdict.refusal and verdict.refusal.code, cli_json)
    assert.equal(1, verdict.exit_code)
    keep("cli inspect", proc.run(string.format("%s inspect --kubeconfig %s -n default app-tls", q(CLI),
      q(api.dir .. "/kubeconfig"))))
    keep("cli check", proc.run(string.format("%s check --cert %s --key %s", q(CLI), q(b.crt), q(a.key))))
    keep("cli probe", proc.run(string.format("%s probe 127.0.0.1:%d --sni %s --expect-secret %s --kubeconfig %s",
      q(CLI), server.port, SNI, ID, q(api.dir .. "/kubeconfig"))))
    local old_token = api.token
    testing(api, "POST", "token", '{"token":"rotated-' .. string.rep("7", 40) .. '"}')
    local c = stack:cert("c", { SNI })
    api.token = proc.read_file(api.token_file):gsub("%s+$", "")
    api:apply_tls_secret("app-tls", c.crt, c.key)
    server:wait_every_worker_serves({ [ID] = c.serial })
    assert.equal(c.serial, tls_client.served_serial(server.port, SNI))
    secrets_sweep.tokens = { old_token, api.token }
  end)

  it("turns not ready when the watch stays down longer than the bound, serving all along", function()
    api:stop()
    local body = proc.wait_until("readiness to notice the watch is down", 30, function()
      local text, code = server:get("/certsync/ready")
      return code == 503 and text
    end)
    keep("ready", body)
    assert.truthy(body:find("the watch of " .. SCOPE .. " has been down for %d+ s %(bound " .. WATCH_DOWN_BOUND .. " s%)"),
      body)
    assert.equal(0, sample(metrics(server), "kong_certsync_watch_up", 'scope="' .. SCOPE .. '"'))
    assert.truthy(tls_client.served_serial(server.port, SNI)) -- still serving
    keep("status", server:status())
  end)

  it("never shows a private key or a token, in any log line, status, metrics or CLI output", function()
    keep("error.log", server:error_log())
    keep("api server log", proc.read_file(api.dir .. "/server.log"))
    local keys = {}
    for _, label in ipairs({ "a", "b", "stray", "c", "other" }) do keys[#keys + 1] = proc.read_file(stack.dir .. "/" .. label .. ".key") end
    local leaks = secrets_sweep.find(collected, keys, secrets_sweep.tokens or { api.token })
    assert.same({}, leaks)
    -- The sweep itself finds what it looks for.
    local planted = { { label = "planted", text = "x" .. keys[1]:match("\n([^\n]+)\n") .. "y" } }
    assert.equal(1, #secrets_sweep.find(planted, keys, {}))
  end)
end)
