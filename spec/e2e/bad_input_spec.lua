-- Every case of the validator's bad-input corpus (tests/unit/tls_bad_corpus.cc,
-- written as files by certsync-corpus) goes through the whole path once: kubectl
-- writes it into a Secret, and a running nginx shows the outcome.
--   refused:  the status names the exact reason code, and the good certificate
--             of that Secret keeps serving;
--   accepted: it is served (or, flagged not_yet_valid, deferred; flagged
--             temporary, held back while a real certificate is valid).
-- Cases that need node settings (cn_fallback, verify_chain, reorder_chain) run
-- in an nginx configured so; SNI overrides travel as the certsync.io/server-names
-- annotation, ca.crt in the Secret. No line of any key ever shows in logs or status.
local json = require "dkjson"
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local kube = require "spec.support.kube"
local tls_client = require "spec.support.tls_client"
local q = proc.shell_quote

local GOOD_SNI = "good.example.test"
local MAX_SECRET_BYTES = 900 * 1024 -- the API server refuses Secrets over 1 MiB itself
local NODE_OPTIONS = { cn_fallback = true, verify_chain = true, reorder_chain = true }

local function same_serial(a, b)
  return a and b and a:upper():gsub("^0+", "") == b:upper():gsub("^0+", "")
end

-- The cases, grouped by the node settings they need.
local function load_corpus(dir)
  proc.check(q(kube.build_dir .. "/tests/corpus/certsync-corpus") .. " " .. q(dir))
  local groups, skipped = {}, {}
  for name in proc.read_file(dir .. "/index.txt"):gmatch("[^\n]+") do
    local base = dir .. "/" .. name
    local case = { name = name, crt = base .. ".crt", key = base .. ".key",
                   expected = proc.read_file(base .. ".expected"):gsub("%s+$", ""), settings = {}, extra = {} }
    if proc.read_file(base .. ".ca.crt") then case.extra.ca_file = base .. ".ca.crt" end
    for line in (proc.read_file(base .. ".options") or ""):gmatch("[^\n]+") do
      local k, v = line:match("^([%w_]+)=(.*)$")
      if NODE_OPTIONS[k] then
        case.settings[k] = v
      elseif k == "sni_override" then
        case.extra.annotations = { ["certsync.io/server-names"] = v }
      else
        case.skip = "needs " .. line .. ", which certsync does not take from a Secret"
      end
    end
    if #proc.read_file(case.crt) + #proc.read_file(case.key) > MAX_SECRET_BYTES then
      case.skip = "larger than the API server accepts"
    end
    local keys = {}
    for k, v in pairs(case.settings) do keys[#keys + 1] = k .. "=" .. v end
    table.sort(keys)
    local group = table.concat(keys, ",")
    if case.skip then
      skipped[#skipped + 1] = name .. ": " .. case.skip
    else
      groups[group] = groups[group] or { settings = case.settings, cases = {} }
      table.insert(groups[group].cases, case)
    end
  end
  return groups, skipped
end

local function secret_status(server, id)
  local status = json.decode(server:status())
  for _, entry in ipairs(status and status.secrets or {}) do
    if entry.id == id then return entry end
  end
end

-- The leaf of a tls.crt, wherever it stands in the file (a case may list the
-- chain out of order): the first certificate with a DNS name, else the first
-- one (named by its CN). Returns its serial and a host name it serves (the
-- first override name when there is one).
local function leaf_of(case)
  local text = proc.read_file(case.crt):gsub("\r", "")
  local first
  for pem in text:gmatch("%-%-%-%-%-BEGIN CERTIFICATE%-%-%-%-%-.-%-%-%-%-%-END CERTIFICATE%-%-%-%-%-") do
    local tmp = os.tmpname()
    proc.write_file(tmp, pem .. "\n")
    local out = proc.run("openssl x509 -noout -serial -subject -nameopt sep_multiline -ext subjectAltName -in " .. q(tmp))
    os.remove(tmp)
    first = first or out
    local name = out:match("DNS:([^,%s]+)")
    if name then
      local override = case.extra.annotations and case.extra.annotations["certsync.io/server-names"]
      if override then name = override:match("^%s*([^,%s]+)") end
      name = name:lower():gsub("%.$", ""):gsub("^%*", "x")
      return out:match("serial=(%x+)"), name
    end
  end
  if first then return first:match("serial=(%x+)"), (first:match("CN=([^\n]+)") or ""):lower() end
end

local function current_rv(stack, name)
  return (stack.api:kubectl("get secret " .. name .. " -o jsonpath={.metadata.resourceVersion}"))
end

-- Pushes one case; returns nil when it behaved, or what went wrong.
local function push(stack, good, case)
  local refused = not case.expected:find("^accepted")
  local serial, name -- a refused tls.crt may not even parse
  if not refused then serial, name = leaf_of(case) end
  local target = refused and "target" or "accepted"
  if not refused and case.expected:find("expired") then
    -- An expired leaf serves only when it is all its Secret has: over a
    -- valid one it is refused (expired_certificate_not_served), so it gets a Secret of its own.
    target = "expired-" .. (case.name:gsub("_", "-"))
  end
  if case.expected:find("temporary") then
    -- A temporary certificate is held back only while a real one is valid: serve one first.
    stack.api:apply_tls_secret("accepted", good.crt, good.key)
    proc.wait_until("the real certificate before " .. case.name, 10, function()
      local entry = secret_status(stack.nginx, "default/accepted")
      return entry and entry.served and same_serial(entry.served.serial, good.serial)
    end)
  end
  stack.api:apply_tls_secret(target, case.crt, case.key, nil, case.extra)
  local rv = current_rv(stack, target)
  local ok, err = pcall(proc.wait_until, case.name, 10, function()
    local entry = secret_status(stack.nginx, "default/" .. target)
    if not entry or entry.resource_version ~= rv then return false end
    if refused then
      return entry.refusal and entry.refusal.resource_version == rv, "no refusal yet"
    elseif case.expected:find("not_yet_valid") then
      return entry.deferred and same_serial(entry.deferred.serial, serial)
    elseif case.expected:find("temporary") then
      return entry.refusal and entry.refusal.code == "temporary_certificate_not_served"
    end
    return entry.served and same_serial(entry.served.serial, serial)
  end)
  if not ok then return tostring(err) end
  if refused then
    local code = secret_status(stack.nginx, "default/target").refusal.code
    if code ~= case.expected then return "expected " .. case.expected .. ", got " .. code end
  -- An accepted expired leaf, in a Secret of its own, loses its name to the
  -- valid certificate an earlier case left for it (the later notBefore
  -- wins): the status above showed it served by its Secret, and that is all.
  elseif not case.expected:find("not_yet_valid") and not case.expected:find("temporary")
      and not case.expected:find("expired") and name then
    -- Every worker converges on its own timer: wait for handshakes to show it.
    local served = pcall(proc.wait_until, case.name .. " to be served", 10, function()
      for _ = 1, 4 do
        if not same_serial(tls_client.served_serial(stack.nginx.port, name), serial) then return false end
      end
      return true
    end)
    if not served then return "accepted but not served for " .. name end
  end
  if not same_serial(tls_client.served_serial(stack.nginx.port, GOOD_SNI), good.serial) then
    return "the good certificate stopped serving"
  end
end

describe("the bad-input corpus pushed through a running nginx", function()
  local groups, skipped, dir, total = nil, nil, nil, 0

  setup(function()
    dir = proc.tmpdir()
    groups, skipped = load_corpus(dir)
    for _, group in pairs(groups) do total = total + #group.cases end
  end)

  teardown(function() proc.run("rm -rf " .. q(dir)) end)

  it("covers at least 40 cases, and skips only what cannot travel in a Secret", function()
    assert.is_true(total >= 40, "only " .. total .. " cases")
    assert.is_true(#skipped <= 2, table.concat(skipped, "; "))
  end)

  it("gives every case its expected outcome while the good certificate keeps serving", function()
    local problems, pushed = {}, 0
    for _, group in pairs(groups) do
      local stack = stack_support.start({ workers = 2, settings = group.settings })
      local ok, err = pcall(function()
        local good = stack:cert("good", { GOOD_SNI })
        stack.api:apply_tls_secret("target", good.crt, good.key)
        proc.wait_until("the good certificate", 10, function()
          return same_serial(tls_client.served_serial(stack.nginx.port, GOOD_SNI), good.serial)
        end)
        for _, case in ipairs(group.cases) do
          local problem = push(stack, good, case)
          if problem then problems[#problems + 1] = case.name .. ": " .. problem end
          pushed = pushed + 1
        end
        local log, status = stack.nginx:error_log(), stack.nginx:status()
        for _, case in ipairs(group.cases) do
          for line in proc.read_file(case.key):gmatch("[^\r\n]+") do
            if #line >= 16 and not line:find("^%-%-%-%-%-") then
              if log:find(line, 1, true) then problems[#problems + 1] = case.name .. ": a key line is in the log" end
              if status:find(line, 1, true) then problems[#problems + 1] = case.name .. ": a key line is in the status" end
            end
          end
        end
        if log:find("exited on signal", 1, true) then problems[#problems + 1] = "a worker crashed" end
      end)
      stack:stop()
      assert(ok, err)
    end
    assert.same({}, problems)
    assert.equal(total, pushed)
  end)
end)
