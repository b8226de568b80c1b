-- cert-manager's Certificates beside the Secrets they write, against the
-- API test server with the Certificate CRD installed and a real nginx: a
-- renewal that is served clears every flag, a renewal that fails past
-- renewalTime raises renewal_overdue (and the metric its alert reads), and
-- a Certificate whose Secret certsync does not watch raises secret_missing.
local json = require "dkjson"
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local tls_client = require "spec.support.tls_client"

local DEADLINE = 20
local SELECTOR = "certsync.io/watch=yes"  -- the Secrets certsync watches carry this label

local function rfc3339(unix) return os.date("!%Y-%m-%dT%H:%M:%SZ", unix) end

-- The status cert-manager writes after an issuance of `revision`.
local function issued(revision, not_after, renewal_time)
  local now = rfc3339(os.time())
  return {
    conditions = {
      { type = "Ready", status = "True", reason = "Ready", message = "Certificate is up to date and has not expired",
        lastTransitionTime = now, observedGeneration = 1 },
    },
    notBefore = rfc3339(os.time() - 60), notAfter = rfc3339(not_after), renewalTime = rfc3339(renewal_time),
    revision = revision,
  }
end

describe("cert-manager Certificates", function()
  local stack, api, server, first, renewed

  local function certificate(id, query)
    local status = server:status_table(query)
    for _, c in ipairs(status and status.certificates or {}) do
      if c.id == id then return c, status end
    end
    return nil, status
  end

  local function metric_value(name, certificate_id)
    local body = server:get("/certsync/metrics")
    local pattern = name:gsub("_", "%%_") .. '{certificate="' .. certificate_id:gsub("%-", "%%-") .. '"} (%S+)'
    return tonumber((body or ""):match(pattern))
  end

  setup(function()
    stack = stack_support.start({ workers = 2, api_args = { "--cert-manager", "served" },
                                  settings = { label_selector = SELECTOR } })
    api, server = stack.api, stack.nginx
    first = stack:cert("first", { "app.example.test" })
    renewed = stack:cert("renewed", { "app.example.test" })
    api:apply_tls_secret("app-tls", first.crt, first.key, nil, { labels = { ["certsync.io/watch"] = "yes" } })
    api:apply_certificate("app", "app-tls")
    api:set_certificate_status("app", issued(1, os.time() + 30 * 86400, os.time() + 20 * 86400))
    server:wait_every_worker_serves({ ["default/app-tls"] = first.serial }, DEADLINE)
  end)

  teardown(function() if stack then stack:stop() end end)

  it("joins a Certificate to its Secret and clears every flag once its renewal is served", function()
    local c = proc.wait_until("the Certificate in the status", DEADLINE, function()
      local c, status = certificate("default/app")
      return c and c.secret_serial == first.serial and c, json.encode(status and status.cert_manager)
    end)
    assert.equal("True", c.ready.status)
    assert.is_false(c.renewal_overdue)
    assert.is_false(c.not_served)
    assert.is_false(c.secret_missing)

    -- cert-manager renews: the Secret replaced in one write, then revision 2 in the status.
    api:apply_tls_secret("app-tls", renewed.crt, renewed.key, nil, { labels = { ["certsync.io/watch"] = "yes" } })
    api:set_certificate_status("app", issued(2, os.time() + 60 * 86400, os.time() + 40 * 86400))
    server:wait_every_worker_serves({ ["default/app-tls"] = renewed.serial }, DEADLINE)
    assert.equal(renewed.serial, (tls_client.served_serial(server.port, "app.example.test")))
    c = proc.wait_until("revision 2 served with every flag clear", DEADLINE, function()
      local got, s = certificate("default/app")
      return got and got.revision == 2 and got.secret_serial == renewed.serial and not got.not_served and got,
        json.encode(got or s)
    end)
    local status = server:status_table()
    assert.is_false(c.renewal_overdue)
    assert.is_false(c.secret_missing)
    assert.equal(0, c.not_served_seconds)
    for _, w in ipairs(c.workers) do assert.equal(renewed.serial, w.serial) end
    assert.is_true(status.cert_manager.watching)
    -- The Secret's entry carries the Certificate, as `certsync explain` reads it.
    local secret = server:status_table("?secret=default/app-tls").secrets[1]
    assert.equal("default/app", secret.certificate.id)
    assert.equal("True", secret.certificate.ready.status)
    assert.equal(1, metric_value("certsync_certificate_ready", "default/app"))
    assert.equal(0, metric_value("certsync_certificate_renewal_overdue", "default/app"))
  end)

  it("raises renewal_overdue when issuance fails past renewalTime, and keeps serving", function()
    local failed = "The certificate request has failed to complete and will be retried: the ACME order failed"
    local status = issued(2, os.time() + 3 * 86400, os.time() - 3600)
    status.conditions = {
      { type = "Ready", status = "False", reason = "Failed", message = failed,
        lastTransitionTime = rfc3339(os.time()), observedGeneration = 1 },
      { type = "Issuing", status = "False", reason = "Failed", message = failed,
        lastTransitionTime = rfc3339(os.time()), observedGeneration = 1 },
    }
    status.lastFailureTime = rfc3339(os.time())
    status.failedIssuanceAttempts = 1
    api:set_certificate_status("app", status)
    local c = proc.wait_until("renewal_overdue in the status", DEADLINE, function()
      local got, s = certificate("default/app")
      return got and got.renewal_overdue and got, json.encode(got or s)
    end)
    assert.equal("False", c.ready.status)
    assert.equal("Failed", c.issuing.reason)
    assert.truthy(c.last_failure_time > 0)
    assert.is_false(c.not_served)  -- what the Secret holds is still what every worker serves
    proc.wait_until("the metric the alert reads", DEADLINE, function()
      return metric_value("certsync_certificate_renewal_overdue", "default/app") == 1
    end)
    assert.equal(0, metric_value("certsync_certificate_ready", "default/app"))
    assert.equal(renewed.serial, (tls_client.served_serial(server.port, "app.example.test")))
  end)

  it("raises secret_missing for a Certificate whose Secret the watched scope leaves out", function()
    -- The Secret exists, but without the label certsync's selector asks for.
    local other = stack:cert("other", { "other.example.test" })
    api:apply_tls_secret("unlabelled-tls", other.crt, other.key)
    api:apply_certificate("unlabelled", "unlabelled-tls", nil, { "other.example.test" })
    local c = proc.wait_until("secret_missing in the status", DEADLINE, function()
      local got, s = certificate("default/unlabelled")
      return got and got.secret_missing and got, json.encode(got or s)
    end)
    local status = server:status_table()
    assert.equal("default/unlabelled-tls", c.secret)
    for _, secret in ipairs(status.secrets) do assert.not_equal("default/unlabelled-tls", secret.id) end
    proc.wait_until("the secret_missing metric", DEADLINE, function()
      return metric_value("certsync_certificate_secret_missing", "default/unlabelled") == 1
    end)
    assert.equal(0, metric_value("certsync_certificate_secret_missing", "default/app"))
    -- Deleting the Certificate removes its series.
    assert.truthy(select(2, api:kubectl("delete certificate unlabelled")))
    proc.wait_until("the series of the deleted Certificate to go", DEADLINE, function()
      return metric_value("certsync_certificate_secret_missing", "default/unlabelled") == nil
    end)
  end)
end)
