-- certsync.certificates: a cert-manager Certificate joined with its Secret's
-- status and what the workers serve, and the flags that name the broken link.
local certificates = require "certsync.certificates"

local NOW = 1800000000

local function cert(status)
  local c = { id = "shop/www", secret = "shop/www-tls", renewal_time = NOW + 86400, not_after = NOW + 30 * 86400,
              last_failure_time = 0, ready = { status = "True", reason = "Ready", message = "up to date" } }
  for k, v in pairs(status or {}) do c[k] = v end
  return c
end

local function serving(serial, since)
  return { id = "shop/www-tls", state = "serving", served = { serial = serial or "AA", since = since or NOW - 60 } }
end

describe("certsync.certificates.join", function()
  it("clears every flag when the Secret's certificate is what every worker serves", function()
    local e = certificates.join(cert(), serving("AA"), 0, NOW, true)
    assert.is_false(e.renewal_overdue)
    assert.is_false(e.not_served)
    assert.is_false(e.secret_missing)
    assert.equal("AA", e.secret_serial)
    assert.equal("serving", e.secret_state)
    assert.equal(0, e.not_served_seconds)
    assert.equal("True", e.ready.status)
  end)

  it("says renewal_overdue once renewalTime passed and the Certificate is not Ready", function()
    local failing = cert({ renewal_time = NOW - 10, ready = { status = "False", reason = "Failed", message = "order" } })
    assert.is_true(certificates.join(failing, serving(), 0, NOW, true).renewal_overdue)
    -- Not yet due: a Certificate that is not Ready is not overdue.
    failing.renewal_time = NOW + 10
    assert.is_false(certificates.join(failing, serving(), 0, NOW, true).renewal_overdue)
  end)

  it("says renewal_overdue when the latest issuance failed past renewalTime, though Ready stays True", function()
    local c = cert({ renewal_time = NOW - 10, last_failure_time = NOW - 5 })
    assert.is_true(certificates.join(c, serving(), 0, NOW, true).renewal_overdue)
    c.last_failure_time = 0  -- renewed since: cert-manager unsets it on success
    assert.is_false(certificates.join(c, serving(), 0, NOW, true).renewal_overdue)
  end)

  it("says not_served, since when, while workers are behind on the Secret's serial", function()
    local e = certificates.join(cert(), serving("BB", NOW - 30), 1, NOW, true)
    assert.is_true(e.not_served)
    assert.equal(NOW - 30, e.not_served_since)
    assert.equal(30, e.not_served_seconds)
  end)

  it("says not_served when the Secret's latest version was refused, from the refusal on", function()
    local refused = serving("AA")
    refused.state = "refused"
    refused.refusal = { code = "key_mismatch", since = NOW - 120 }
    local e = certificates.join(cert(), refused, 0, NOW, true)
    assert.is_true(e.not_served)
    assert.is_nil(e.secret_serial)
    assert.equal(120, e.not_served_seconds)
  end)

  it("says not_served while the Secret's new certificate waits for its notBefore", function()
    local deferred = serving("AA")
    deferred.deferred = { serial = "CC" }
    local e = certificates.join(cert(), deferred, 0, NOW, true)
    assert.is_true(e.not_served)
    assert.equal("CC", e.secret_serial)
  end)

  it("says secret_missing for a Secret certsync does not see, once every scope has listed", function()
    local e = certificates.join(cert(), nil, 0, NOW, true)
    assert.is_true(e.secret_missing)
    assert.is_false(e.not_served)
    assert.is_false(certificates.join(cert(), nil, 0, NOW, false).secret_missing)
  end)

  it("reads a Certificate cert-manager has not touched as Ready Unknown", function()
    local e = certificates.join({ id = "a/b", secret = "a/b-tls" }, serving(), 0, NOW, true)
    assert.equal("Unknown", e.ready.status)
    assert.is_false(e.renewal_overdue)
  end)
end)

describe("certsync.certificates.by_secret", function()
  it("groups Certificates by the Secret they name", function()
    local by = certificates.by_secret({ { id = "a/x", secret = "a/s" }, { id = "a/y", secret = "a/s" },
                                        { id = "a/z", secret = "a/t" } })
    assert.equal(2, #by["a/s"])
    assert.equal("a/z", by["a/t"][1].id)
  end)
end)
