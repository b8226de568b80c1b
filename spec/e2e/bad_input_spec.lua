-- Every refused case of the validator's bad-input corpus (tests/unit/tls_bad_corpus.cc,
-- written as files by certsync-corpus) goes through the whole path once: kubectl
-- writes it into a Secret that serves a good certificate, the status names the
-- exact reason code, and real handshakes still get the good certificate.
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local kube = require "spec.support.kube"
local tls_client = require "spec.support.tls_client"
local q = proc.shell_quote

local SNI = "good.example.test"
local MAX_SECRET_BYTES = 900 * 1024 -- the API server refuses Secrets over 1 MiB itself

local function refusal_for(status, resource_version)
  for code, rv in status:gmatch('"refusal":{"code":"([%w_]+)","message":"[^"]*","resource_version":"(%d+)"}') do
    if rv == resource_version then return code end
  end
end

describe("the bad-input corpus pushed through a running nginx", function()
  local stack, good, dir, cases = nil, nil, nil, {}

  setup(function()
    stack = stack_support.start({ workers = 2 })
    good = stack:cert("good", { SNI })
    stack.api:apply_tls_secret("target", good.crt, good.key)
    proc.wait_until("the good certificate", 10, function()
      return tls_client.served_serial(stack.nginx.port, SNI) == good.serial
    end)
    dir = stack.dir .. "/corpus"
    proc.check(q(kube.build_dir .. "/tests/corpus/certsync-corpus") .. " --default-options-only " .. q(dir))
    for name in proc.read_file(dir .. "/index.txt"):gmatch("[^\n]+") do
      local expected = proc.read_file(dir .. "/" .. name .. ".expected"):gsub("%s+$", "")
      local size = #proc.read_file(dir .. "/" .. name .. ".crt") + #proc.read_file(dir .. "/" .. name .. ".key")
      if not expected:find("^accepted") and size < MAX_SECRET_BYTES then
        cases[#cases + 1] = { name = name, expected = expected }
      end
    end
  end)

  teardown(function() if stack then stack:stop() end end)

  it("has at least 40 refused cases to push", function()
    assert.is_true(#cases >= 40, "only " .. #cases .. " cases")
  end)

  it("refuses each with its exact reason code while the good certificate keeps serving", function()
    local mismatches = {}
    for _, case in ipairs(cases) do
      stack.api:apply_tls_secret("target", dir .. "/" .. case.name .. ".crt", dir .. "/" .. case.name .. ".key")
      local rv = (stack.api:kubectl("get secret target -o jsonpath={.metadata.resourceVersion}"))
      local code = proc.wait_until("the refusal of " .. case.name, 10, function()
        return refusal_for(stack.nginx:status(), rv)
      end)
      if code ~= case.expected then
        mismatches[#mismatches + 1] = case.name .. ": expected " .. case.expected .. ", got " .. code
      end
      assert.equal(good.serial, tls_client.served_serial(stack.nginx.port, SNI), case.name)
    end
    assert.same({}, mismatches)
    -- Refusals are logged and shown in status, but never a line of a key.
    local log, status = stack.nginx:error_log(), stack.nginx:status()
    for _, case in ipairs(cases) do
      for line in proc.read_file(dir .. "/" .. case.name .. ".key"):gmatch("[^\r\n]+") do
        if #line >= 16 and not line:find("^%-%-%-%-%-") then
          assert.is_nil(log:find(line, 1, true), case.name .. ": a key line is in the error log")
          assert.is_nil(status:find(line, 1, true), case.name .. ": a key line is in the status")
        end
      end
    end
    assert.is_nil(log:find("exited on signal", 1, true))
  end)
end)
