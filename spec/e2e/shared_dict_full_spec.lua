-- A shared dict too small for every certificate: what fits is served, what
-- does not is reported (status, metric, one log line with the size that
-- would hold them), and nothing served before is lost when more arrive.
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local tls_client = require "spec.support.tls_client"

local FIRST = 5     -- Secrets that fit
local MORE = 150    -- Secrets that cannot all fit in a 256 KB dict

-- One kubectl apply of a List of TLS Secrets (many Secrets, one round trip).
local function apply_many(stack, certs)
  local items = {}
  for name, cert in pairs(certs) do
    local crt = proc.check("base64 -w0 " .. proc.shell_quote(cert.crt)):gsub("%s+$", "")
    local key = proc.check("base64 -w0 " .. proc.shell_quote(cert.key)):gsub("%s+$", "")
    items[#items + 1] = string.format('{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/tls",' ..
      '"metadata":{"name":%q,"namespace":"default"},"data":{"tls.crt":%q,"tls.key":%q}}', name, crt, key)
  end
  local path = stack.dir .. "/many.json"
  proc.write_file(path, '{"apiVersion":"v1","kind":"List","items":[' .. table.concat(items, ",") .. "]}")
  local out, ok = stack.api:kubectl("apply --validate=false -f " .. proc.shell_quote(path))
  assert(ok, out)
end

describe("a shared dict too small for every certificate", function()
  local stack, server, first

  setup(function()
    stack = stack_support.start({ workers = 2, nginx = { shared_dict_size = "256k" } })
    server = stack.nginx
    first = {}
    for i = 1, FIRST do first["first-" .. i] = stack:cert("first-" .. i, { "first-" .. i .. ".example.test" }) end
  end)

  teardown(function() if stack then stack:stop() end end)

  it("serves what fits, keeps it when more arrive, and says how large the dict must be", function()
    apply_many(stack, first)
    local serials = {}
    for name, cert in pairs(first) do serials["default/" .. name] = cert.serial end
    server:wait_every_worker_serves(serials, 15)

    local more = {}
    for i = 1, MORE do more["more-" .. i] = stack:cert("more-" .. i, { "more-" .. i .. ".example.test" }) end
    apply_many(stack, more)
    -- Wait until the node has settled: every new Secret either published
    -- (in a worker's report) or reported unpublished, and the metric says so.
    local status, count
    proc.wait_until("every new Secret published or reported unpublished", 30, function()
      status = server:status_table()
      local unpublished = status and status.node.unpublished
      if not unpublished or unpublished.count == 0 then return false end
      local published = 0
      for id in pairs(status.workers[1].serials) do
        if id:find("^default/more%-") then published = published + 1 end
      end
      count = unpublished.count
      return published > 0 and published + count == MORE, published .. " published + " .. count .. " unpublished"
    end)
    local unpublished = status.node.unpublished
    assert.truthy(unpublished.advice:match("^lua_shared_dict certsync %d+m %(about %d+ KB per certificate"), unpublished.advice)
    assert.truthy(#unpublished.ids > 0)
    -- What was served before still is, on every worker, and in handshakes.
    server:wait_every_worker_serves(serials, 15)
    for name, cert in pairs(first) do
      assert.equal(cert.serial, tls_client.served_serial(server.port, name .. ".example.test"))
    end
    -- The metric follows within a status publication or two.
    proc.wait_until("the metric to count them", 10, function()
      local body = server:get("/certsync/metrics")
      return tonumber(body:match("\ncertsync_secrets_unpublished (%d+)")) == count
    end)
    local log = server:error_log()
    local _, lines = log:gsub('the shared dict "certsync" is full', "")
    assert.equal(1, lines, "one line, not one per certificate or per retry")
    assert.truthy(log:find("to fix: lua_shared_dict certsync %d+m"))
  end)
end)
