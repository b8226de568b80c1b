-- deploy/prometheus: the alert rules, their PrometheusRule form and their
-- promtool unit tests. promtool (Debian package `prometheus`) is the judge of
-- both the rules and the tests; the spec proves the tests are complete by
-- breaking each alert on purpose and requiring promtool to notice: made never
-- to fire, some case must miss it; made always to fire, some case that
-- expects silence must fail.
local proc = require "spec.support.proc"
local assets = require "spec.support.prometheus_assets"

local ROOT = os.getenv("CERTSYNC_ROOT") or "."
local DIR = ROOT .. "/deploy/prometheus"
local RULES = DIR .. "/certsync-rules.yaml"
local OPERATOR = DIR .. "/certsync-prometheusrule.yaml"
local GENERATE = DIR .. "/generate-prometheusrule.sh"
local FIXTURE = ROOT .. "/spec/fixtures/metrics/sample.prom"
local q = proc.shell_quote

-- What issue 8 asks for; the file may hold more (the 3-day critical one).
local REQUIRED_ALERTS = { "CertsyncCertificateExpiringSoon", "CertsyncUpdateRefused",
  "CertsyncWatchDown", "CertsyncWorkerBehind", "CertsyncStaleSerialServed", "CertsyncRenewalOverdue",
  "CertsyncCertificateNotServed" }

local function lines_of(text)
  local lines = {}
  for line in (text .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = line end
  if lines[#lines] == "" then lines[#lines] = nil end
  return lines
end

local function promtool(args)
  return proc.run("promtool " .. args)
end

-- The alert names, in file order, and each alert's lines.
local function alerts(text)
  local names, blocks, current = {}, {}, nil
  for _, line in ipairs(lines_of(text)) do
    local name = line:match("^%s*%-%s*alert:%s*(%S+)%s*$")
    if name then
      names[#names + 1] = name
      current = {}
      blocks[name] = current
    elseif line:match("^%s*%-%s*record:") then
      current = nil
    end
    if current then current[#current + 1] = line end
  end
  return names, blocks
end

local function test_files(dir)
  local out = proc.check("ls " .. q(dir) .. "/*.yaml")
  return lines_of((out:gsub("%s+$", "")))
end

-- `text` with the given keys of one alert's rule replaced by one-line values
-- (and the old values' continuation lines dropped); block style only, which
-- is how certsync-rules.yaml is written.
local function with_rule_fields(text, alert, fields)
  local lines = lines_of(text)
  local start
  for n, line in ipairs(lines) do
    if line:match("^%s*%-%s*alert:%s*" .. alert .. "%s*$") then start = n; break end
  end
  assert(start, "no alert " .. alert .. " in the rules")
  local dash_col = lines[start]:find("-", 1, true)
  local key_col = lines[start]:find("alert:", 1, true)
  local pad = (" "):rep(key_col - 1)
  local out, replaced, n = {}, {}, start + 1
  for m = 1, start do out[m] = lines[m] end
  while n <= #lines do
    local indent = lines[n]:match("^( *)%S")
    if indent and #indent < dash_col then break end -- the next rule, or the group's end
    local key = lines[n]:match("^" .. pad .. "([%w_]+):")
    out[#out + 1] = (key and fields[key]) and (pad .. key .. ": " .. fields[key]) or lines[n]
    n = n + 1
    if key and fields[key] then
      replaced[key] = true
      repeat
        local deeper = lines[n] and lines[n]:match("^( *)%S")
        local continues = lines[n] and (not deeper or #deeper >= key_col)
        if continues then n = n + 1 end
      until not continues
    end
  end
  for key in pairs(fields) do assert(replaced[key], alert .. " has no " .. key .. ":") end
  for m = n, #lines do out[#out + 1] = lines[m] end
  return table.concat(out, "\n") .. "\n"
end

-- Runs every test file against `rules_text` (a copy laid out as deploy/prometheus
-- is, since the tests name ../certsync-rules.yaml); returns promtool's output
-- and whether it passed.
local function test_rules_with(rules_text)
  local dir = proc.tmpdir()
  proc.write_file(dir .. "/certsync-rules.yaml", rules_text)
  proc.check("mkdir " .. q(dir .. "/tests") .. " && cp " .. q(DIR) .. "/tests/*.yaml " .. q(dir .. "/tests/"))
  local _, valid = promtool("check rules " .. q(dir .. "/certsync-rules.yaml"))
  local out, ok = promtool("test rules " .. q(dir) .. "/tests/*.yaml")
  proc.run("rm -rf " .. q(dir))
  assert(valid, "the altered rules are not valid any more: the alteration is wrong")
  return out, ok
end

-- The failed cases in promtool's output: { alert = name, expected_silence = bool }.
local function failed_cases(out)
  local cases = {}
  for name, exp in out:gmatch("alertname: ([%w_]+), time: [^\n]*\n%s*exp:(%[%]?)") do
    cases[#cases + 1] = { alert = name, expected_silence = (exp == "[]") }
  end
  return cases
end

local function has_case(cases, alert, expected_silence)
  for _, c in ipairs(cases) do
    if c.alert == alert and c.expected_silence == expected_silence then return true end
  end
  return false
end

-- The rules file without its leading comments and blank lines, as the
-- generator takes it.
local function rules_body(text)
  local body, started = {}, false
  for _, line in ipairs(lines_of(text)) do
    started = started or not (line:match("^#") or line:match("^%s*$"))
    if started then body[#body + 1] = line end
  end
  return table.concat(body, "\n") .. "\n"
end

describe("the Prometheus alert rules", function()
  local rules_text

  setup(function()
    assert(select(2, proc.run("command -v promtool")),
      "promtool is missing: install the Debian package prometheus (scripts/install-deps.sh does)")
    rules_text = assert(proc.read_file(RULES))
  end)

  it("pass promtool check rules, with every required alert and nothing else than alerts", function()
    local out, ok = promtool("check rules " .. q(RULES))
    assert.is_true(ok, out)
    local names, blocks = alerts(rules_text)
    -- promtool counts recording rules too: equal counts mean alerts only.
    assert.equal(#names .. " rules found", out:match("SUCCESS: (%d+ rules found)"))
    for _, required in ipairs(REQUIRED_ALERTS) do assert.is_truthy(blocks[required], required) end
  end)

  it("give every alert a for:, a severity, a summary and a description", function()
    local names, blocks = alerts(rules_text)
    for _, name in ipairs(names) do
      local block = table.concat(blocks[name], "\n")
      assert.is_truthy(block:match("\n%s+for: %d+[smh]"), name .. ": for:")
      assert.is_truthy(block:match("\n%s+severity: %a+"), name .. ": severity")
      assert.is_truthy(block:match("\n%s+summary: "), name .. ": summary")
      assert.is_truthy(block:match("\n%s+description: "), name .. ": description")
      assert.is_truthy(block:match("certsync") and block:match("%$labels%."), name .. ": names what it is about")
    end
  end)

  it("catch a broken rule: promtool check rules fails on one", function()
    local broken = with_rule_fields(rules_text, "CertsyncWatchDown", { expr = "kong_certsync_watch_up ==" })
    local path = os.tmpname()
    proc.write_file(path, broken)
    local out, ok = promtool("check rules " .. q(path))
    os.remove(path)
    assert.is_false(ok, out)
  end)

  it("pass every promtool test file in deploy/prometheus/tests", function()
    local files = test_files(DIR .. "/tests")
    assert.is_true(#files >= 1)
    local out, ok = promtool("test rules " .. q(DIR) .. "/tests/*.yaml")
    assert.is_true(ok, out)
    local _, tested = out:gsub("Unit Testing:", "")
    local _, passed = out:gsub("\n%s*SUCCESS", "")
    assert.equal(#files, tested, out)
    assert.equal(#files, passed, out)
  end)

  it("have, for every alert, a test case that fails when the alert never fires", function()
    for _, name in ipairs((alerts(rules_text))) do
      local out, ok = test_rules_with(with_rule_fields(rules_text, name, { expr = "vector(0) > 1" }))
      assert.is_false(ok, name .. " can be removed without a test noticing")
      assert.is_true(has_case(failed_cases(out), name, false), name .. ": no firing case failed\n" .. out)
    end
  end)

  it("have, for every alert, a test case that fails when the alert always fires", function()
    for _, name in ipairs((alerts(rules_text))) do
      local out, ok = test_rules_with(with_rule_fields(rules_text, name, { expr = "vector(1)", ["for"] = "0s" }))
      assert.is_false(ok, name .. " can fire always without a test noticing")
      assert.is_true(has_case(failed_cases(out), name, true), name .. ": no non-firing case failed\n" .. out)
    end
  end)

  it("use only metric names the exporter emits (the fixture exposition)", function()
    local exposition = assert(proc.read_file(FIXTURE))
    local exprs = assets.rule_exprs(RULES)
    assert.equal(#alerts(rules_text), #exprs)
    assert.same({}, assets.unknown_names(exprs, exposition))
    assert.same({}, assets.unknown_names(assets.rule_exprs(OPERATOR), exposition))
  end)
end)

describe("the PrometheusRule", function()
  it("is what generate-prometheusrule.sh writes from the plain rules", function()
    local out, ok = proc.run("bash " .. q(GENERATE) .. " --check")
    assert.is_true(ok, out)
  end)

  it("holds the plain file's groups as its spec, byte for byte once unindented, valid for promtool", function()
    local text = assert(proc.read_file(OPERATOR))
    assert.is_truthy(text:match("\napiVersion: monitoring%.coreos%.com/v1\n"))
    assert.is_truthy(text:match("\nkind: PrometheusRule\n"))
    assert.is_truthy(text:match("\nmetadata:\n  name: certsync\n  labels:\n[^%a]"))
    local spec = {}
    for _, line in ipairs(lines_of(assert(text:match("\nspec:\n(.*)$")))) do
      assert.is_truthy(line == "" or line:match("^  "), "spec line not indented: " .. line)
      spec[#spec + 1] = line:sub(3)
    end
    local extracted = table.concat(spec, "\n") .. "\n"
    assert.equal(rules_body(assert(proc.read_file(RULES))), extracted)
    local path = os.tmpname()
    proc.write_file(path, extracted)
    local out, ok = promtool("check rules " .. q(path))
    os.remove(path)
    assert.is_true(ok, out)
  end)

  it("is found out of date when it differs from the plain rules", function()
    local stale = (assert(proc.read_file(OPERATOR)):gsub("for: 10m", "for: 5m"))
    local path = os.tmpname()
    proc.write_file(path, stale)
    local out, ok = proc.run("bash " .. q(GENERATE) .. " --check " .. q(RULES) .. " " .. q(path))
    os.remove(path)
    assert.is_false(ok, out)
    assert.is_truthy(out:match("%+%s+for: 10m"), out)
  end)

  it("equals the plain file's groups as parsed YAML (where python3 has PyYAML)", function()
    local _, has_yaml = proc.run("python3 -c 'import yaml'")
    if not has_yaml then return pending("python3 with PyYAML is not installed") end
    local script = [[
import sys, yaml
plain = yaml.safe_load(open(sys.argv[1]))
rule = yaml.safe_load(open(sys.argv[2]))
assert rule["apiVersion"] == "monitoring.coreos.com/v1" and rule["kind"] == "PrometheusRule"
assert rule["spec"]["groups"] == plain["groups"], "spec.groups differ"
print("same")]]
    local out, ok = proc.run("python3 -c " .. q(script) .. " " .. q(RULES) .. " " .. q(OPERATOR))
    assert.is_true(ok, out)
  end)
end)
