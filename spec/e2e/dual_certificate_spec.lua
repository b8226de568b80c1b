-- An RSA and an ECDSA certificate for one name, from two Secrets: both are
-- served and each client gets the one its signature algorithms allow.
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local tls_client = require "spec.support.tls_client"

local SNI = "dual.example.test"
local ECDSA_ONLY = "-sigalgs ECDSA+SHA256"
local RSA_ONLY = "-sigalgs RSA-PSS+SHA256:RSA+SHA256"

describe("two Secrets, RSA and ECDSA, for one name", function()
  local stack, rsa, ec

  setup(function()
    stack = stack_support.start({ workers = 2 })
    rsa = stack:cert("rsa", { SNI }, { key = "rsa" })
    ec = stack:cert("ec", { SNI })
    stack.api:apply_tls_secret("dual-rsa", rsa.crt, rsa.key)
    stack.api:apply_tls_secret("dual-ec", ec.crt, ec.key)
  end)

  teardown(function() if stack then stack:stop() end end)

  it("serves the ECDSA certificate to an ECDSA-only client", function()
    proc.wait_until("the ECDSA certificate", 10, function()
      return tls_client.served_serial(stack.nginx.port, SNI, ECDSA_ONLY) == ec.serial
    end)
  end)

  it("serves the RSA certificate to an RSA-only client", function()
    proc.wait_until("the RSA certificate", 10, function()
      return tls_client.served_serial(stack.nginx.port, SNI, RSA_ONLY) == rsa.serial
    end)
  end)

  it("keeps both for fresh handshakes on every worker", function()
    -- The two Secrets arrive in two publications, and each worker converges
    -- on its own timer: until a worker has both, an RSA-only client cannot
    -- complete a handshake with it (it has only the ECDSA pair to offer).
    stack.nginx:wait_every_worker_serves({ ["default/dual-rsa"] = rsa.serial, ["default/dual-ec"] = ec.serial })
    for _ = 1, 10 do
      assert.equal(ec.serial, tls_client.served_serial(stack.nginx.port, SNI, ECDSA_ONLY))
      assert.equal(rsa.serial, tls_client.served_serial(stack.nginx.port, SNI, RSA_ONLY))
    end
  end)

  it("reports a name claimed twice with one kind of key as a conflict, and serves the winner", function()
    local newer = stack:cert("newer", { SNI }) -- ECDSA as well: the later notBefore wins, then the smaller name
    stack.api:apply_tls_secret("dual-ec-zz", newer.crt, newer.key)
    local conflict = proc.wait_until("the conflict in the status", 10, function()
      local status = stack.nginx:status_table()
      for _, c in ipairs(status and status.this_worker.conflicts or {}) do
        if c.sni == SNI then return c end
      end
    end)
    local winner = conflict.winner:match("^default/([%w-]+)$")
    local serial_of = { ["dual-ec"] = ec.serial, ["dual-ec-zz"] = newer.serial }
    assert.is_not_nil(serial_of[winner])
    proc.wait_until("every worker to serve the winner", 10, function()
      for _ = 1, 6 do
        if tls_client.served_serial(stack.nginx.port, SNI, ECDSA_ONLY) ~= serial_of[winner] then return false end
      end
      return true
    end)
    assert.equal(rsa.serial, tls_client.served_serial(stack.nginx.port, SNI, RSA_ONLY))
  end)
end)
