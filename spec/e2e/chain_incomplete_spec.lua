-- A Secret whose tls.crt holds the leaf alone, issued by an intermediate that
-- only its ca.crt carries: what real clients get from nginx, what the status,
-- the log and the metrics say, by default and with complete_chain.
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local certs = require "spec.support.certs"
local tls_client = require "spec.support.tls_client"
local q = proc.shell_quote

local SNI = "shop.example.test"
local ID = "default/shop-tls"
local DEADLINE = 10 -- seconds

-- What `openssl s_client -showcerts` sees for SNI, verifying against `root`:
-- the number of certificates sent and the verify result.
local function handshake(port, root)
  local out = proc.run(string.format(
    "echo | timeout 10 openssl s_client -connect 127.0.0.1:%d -servername %s -showcerts -CAfile %s 2>&1",
    port, q(SNI), q(root)))
  local sent = 0
  for _ in out:gmatch("BEGIN CERTIFICATE") do sent = sent + 1 end
  return { sent = sent, verify = out:match("Verify return code: (%d+ %b())"), out = out }
end

-- The served bundle of ID in the status (the watcher's view follows the
-- workers' within a second).
local function served_entry(server)
  return proc.wait_until("the status to show " .. ID .. " served", DEADLINE, function()
    local status = server:status_table("?secret=" .. ID)
    local secret = status and status.secrets and status.secrets[1]
    return secret and secret.served
  end)
end

local function metric_line(server)
  local body = server:get("/certsync/metrics")
  return body:match('certsync_certificate_chain_incomplete{secret="' .. ID:gsub("%p", "%%%0") .. '"} (%d+)')
end

-- Starts a stack with `settings`, writes the leaf-only Secret with its ca.crt
-- (intermediate + root), and waits until a handshake serves the leaf.
local function serve_leaf_only(settings)
  local stack = stack_support.start({ workers = 2, settings = settings })
  local chain = certs.make_chain(stack.dir, "shop", { SNI })
  local ca_file = stack.dir .. "/shop-ca.crt"
  proc.write_file(ca_file, proc.read_file(chain.intermediate) .. proc.read_file(chain.root))
  stack.api:apply_tls_secret("shop-tls", chain.leaf.crt, chain.leaf.key, nil, { ca_file = ca_file })
  proc.wait_until("the leaf to be served", DEADLINE, function()
    return tls_client.served_serial(stack.nginx.port, SNI) == chain.leaf.serial
  end)
  stack.nginx:wait_every_worker_serves({ [ID] = chain.leaf.serial }, DEADLINE)
  return stack, chain
end

describe("a tls.crt without its intermediate", function()
  local stack, chain

  after_each(function()
    if stack then stack:stop() end
    stack = nil
  end)

  it("is served as it is and flagged chain_incomplete in the status, the log and the metrics", function()
    stack, chain = serve_leaf_only({})
    local server = stack.nginx
    local got = handshake(server.port, chain.root)
    assert.equal(1, got.sent, got.out)
    -- A client without the intermediate cached cannot build the chain.
    assert.truthy((got.verify or ""):find("^2[01] %(unable to "), got.out)

    local served = served_entry(server)
    assert.is_table(served)
    assert.is_true(served.chain_incomplete)
    assert.equal("CN=shop test intermediate", served.chain_missing_issuer)
    assert.equal(0, served.chain_completed)
    assert.equal("1", metric_line(server))
    proc.wait_until("the warning in the error log", DEADLINE, function()
      return server:error_log():find(ID .. ": serial " .. chain.leaf.serial ..
        ": chain incomplete: tls.crt does not carry CN=shop test intermediate", 1, true) ~= nil
    end)
    assert.truthy(server:error_log():find("complete_chain = true appends it", 1, true))
  end)

  it("is completed from ca.crt with complete_chain, and clients then verify it", function()
    stack, chain = serve_leaf_only({ complete_chain = "true" })
    local server = stack.nginx
    local got = handshake(server.port, chain.root)
    assert.equal(2, got.sent, got.out) -- the leaf and the intermediate; never the root
    assert.equal("0 (ok)", got.verify, got.out)

    local served = served_entry(server)
    assert.is_false(served.chain_incomplete)
    assert.equal(1, served.chain_completed)
    assert.equal(2, served.chain_length)
    assert.is_nil(metric_line(server))
    proc.wait_until("the note in the error log", DEADLINE, function()
      return server:error_log():find("1 intermediate from ca.crt appended (complete_chain)", 1, true) ~= nil
    end)
  end)
end)
