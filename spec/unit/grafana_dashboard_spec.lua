-- deploy/grafana/certsync-dashboard.json: it parses, every panel queries the
-- `${datasource}` variable, every query is PromQL promtool accepts, and every
-- metric name it uses is one the exporter emits, under Kong's kong_ prefix, as
-- written down in spec/fixtures/metrics/sample.prom (the e2e holds the real
-- exporter's body to the same check). Also the checker itself
-- (spec/support/prometheus_assets).
local proc = require "spec.support.proc"
local assets = require "spec.support.prometheus_assets"
local json = require "dkjson"

local ROOT = os.getenv("CERTSYNC_ROOT") or "."
local DASHBOARD = ROOT .. "/deploy/grafana/certsync-dashboard.json"
local FIXTURE = ROOT .. "/spec/fixtures/metrics/sample.prom"
local q = proc.shell_quote

local function load_dashboard()
  local dashboard, _, err = json.decode(assert(proc.read_file(DASHBOARD)))
  assert(type(dashboard) == "table", "the dashboard does not parse: " .. tostring(err))
  return dashboard
end

-- Every panel, rows' nested ones included, except the rows themselves.
local function panels_of(dashboard)
  local out = {}
  local function walk(panels)
    for _, panel in ipairs(panels or {}) do
      if panel.type ~= "row" then out[#out + 1] = panel end
      walk(panel.panels)
    end
  end
  walk(dashboard.panels)
  return out
end

local function variable(dashboard, name)
  for _, var in ipairs(dashboard.templating.list) do
    if var.name == name then return var end
  end
end

local function is_datasource_ref(ds)
  return type(ds) == "table" and ds.type == "prometheus" and ds.uid == "${datasource}"
end

describe("the Grafana dashboard", function()
  local exposition

  setup(function()
    exposition = assert(proc.read_file(FIXTURE))
  end)

  it("parses, with a prometheus ${datasource} variable and instance and secret variables", function()
    local dashboard = load_dashboard()
    assert.is_number(dashboard.schemaVersion)
    assert.is_true(dashboard.schemaVersion >= 36)
    local ds = variable(dashboard, "datasource")
    assert.same({ "datasource", "prometheus" }, { ds and ds.type, ds and ds.query })
    for _, name in ipairs { "instance", "secret" } do
      local var = variable(dashboard, name)
      assert.equal("query", var and var.type, name)
      assert.is_true(is_datasource_ref(var.datasource), name)
    end
  end)

  it("gives every panel the ${datasource} variable and at least one query", function()
    local panels = panels_of(load_dashboard())
    assert.is_true(#panels >= 10)
    local ids = {}
    for _, panel in ipairs(panels) do
      local title = tostring(panel.title)
      assert.is_true(is_datasource_ref(panel.datasource), title)
      assert.is_nil(ids[panel.id], title .. ": id reused")
      ids[panel.id] = true
      assert.is_table(panel.gridPos, title)
      assert.is_true(#(panel.targets or {}) >= 1, title)
      for _, target in ipairs(panel.targets) do
        assert.is_truthy(type(target.expr) == "string" and target.expr:match("%S"), title)
        assert.is_true(target.datasource == nil or is_datasource_ref(target.datasource), title)
      end
    end
  end)

  it("has only queries promtool parses (as recording rules, Grafana's variables filled in)", function()
    local exprs, where = assets.dashboard_exprs(DASHBOARD)
    local rules, index = { "groups:", "  - name: dashboard", "    rules:" }, {}
    for n, expr in ipairs(exprs) do
      index[#index + 1] = ("dashboard:query_%d is %s"):format(n, where[n])
      local promql = expr:gsub("%$__rate_interval", "5m"):gsub("%$__interval", "1m")
        :gsub("%$__range", "1h"):gsub("%$[%a_]+", ".*")
      rules[#rules + 1] = ("      - record: dashboard:query_%d"):format(n)
      rules[#rules + 1] = "        expr: '" .. promql:gsub("'", "''"):gsub("\n", " ") .. "'"
    end
    local path = os.tmpname()
    proc.write_file(path, table.concat(rules, "\n") .. "\n")
    local out, ok = proc.run("promtool check rules " .. q(path))
    os.remove(path)
    assert.is_true(ok, out .. "\n" .. table.concat(index, "\n"))
    assert.equal(#exprs .. " rules found", out:match("SUCCESS: (%d+ rules found)"))
  end)

  it("uses only metric names the exporter emits", function()
    local exprs, where = assets.dashboard_exprs(DASHBOARD)
    -- every panel target and both query variables
    local targets = 0
    for _, panel in ipairs(panels_of(load_dashboard())) do targets = targets + #panel.targets end
    assert.equal(targets + 2, #exprs, table.concat(where, "\n"))
    assert.same({}, assets.unknown_names(exprs, exposition))
  end)

  it("covers every family the exporter emits", function()
    local used = {}
    for _, expr in ipairs((assets.dashboard_exprs(DASHBOARD))) do
      for _, name in ipairs(assets.metric_names_in_expr(expr)) do used[name] = true end
    end
    for family, kind in pairs(assets.certsync_families()) do
      local name = kind == "histogram" and family .. "_bucket" or family
      assert.is_true(used[name] or false, name)
    end
  end)

  it("fails the check when a query misspells a metric name, in a panel or a variable", function()
    local dashboard = load_dashboard()
    local panel = panels_of(dashboard)[1]
    panel.targets[1].expr = panel.targets[1].expr:gsub("kong_certsync_ready", "kong_certsync_readyy")
    variable(dashboard, "secret").query = "label_values(kong_certsync_certificate_expiry_seconds, secret)"
    local path = os.tmpname()
    proc.write_file(path, json.encode(dashboard))
    local exprs = assets.dashboard_exprs(path)
    os.remove(path)
    assert.same({ "kong_certsync_certificate_expiry_seconds", "kong_certsync_readyy" },
      assets.unknown_names(exprs, exposition))
  end)
end)

describe("the fixture exposition spec/fixtures/metrics/sample.prom", function()
  it("passes promtool check metrics", function()
    local out, ok = proc.run("promtool check metrics < " .. q(FIXTURE))
    assert.is_true(ok, out)
    assert.equal("", out)
  end)

  it("declares every certsync family with its type, under Kong's kong_ prefix, and nothing else", function()
    local declared = {}
    for family, kind in assert(proc.read_file(FIXTURE)):gmatch("# TYPE (%S+) (%S+)") do declared[family] = kind end
    assert.same(assets.certsync_families(), declared)
  end)
end)

describe("prometheus_assets", function()
  local names = assets.metric_names_in_expr

  it("finds metric names, not functions, keywords, label lists, strings, numbers or variables", function()
    assert.same({ "a_bucket" },
      names('histogram_quantile(0.99, sum by (le) (rate(a_bucket{instance=~"$instance"}[$__rate_interval])))'))
    assert.same({ "served", "published" },
      names("served < ignoring(worker) group_left published"))
    assert.same({ "a", "b" }, names("a * on(job, instance) group_right(pod) b offset 5m @ end()"))
    assert.same({ "up" }, names('label_replace(up, "dst", "$1", "src", "(by|on)") and bool Inf > NaN'))
    assert.same({ "x", "y", "w" },
      names("sum(x) without (le) / count(y) BY (a) # z is a comment\n + max_over_time(w[1h:5m]) + 1e3 + 0x1F + .5 + ${v} + $__range_s"))
    assert.same({ "job:requests:rate5m" }, names("topk(5, job:requests:rate5m)"))
  end)

  it("reads exact __name__ matchers and quoted names, and skips braces inside strings", function()
    assert.same({ "m1", "utf8.name" }, names('{__name__="m1", a="}{"} + {"utf8.name", b="c"} + {__name__=~"re.*"}'))
    assert.same({ "x" }, names('x{job!="kong", a!~"b", c=~"d", e="f", g = "h"}'))
  end)

  it("names the families with Kong's kong_ prefix, or with the prefix given", function()
    local kong = assets.certsync_families()
    assert.equal("gauge", kong.kong_certsync_ready)
    assert.equal("histogram", kong.kong_certsync_event_to_served_seconds)
    assert.is_nil(kong.certsync_ready)
    assert.same(kong, assets.certsync_families("kong_"))
    local plain, count = assets.certsync_families(""), 0
    for family, kind in pairs(plain) do
      assert.is_truthy(family:match("^certsync_"), family)
      assert.equal(kind, kong["kong_" .. family], family)
      count = count + 1
    end
    local kong_count = 0
    for _ in pairs(kong) do kong_count = kong_count + 1 end
    assert.equal(kong_count, count)
    kong.kong_certsync_ready = nil -- a fresh table each time
    assert.equal("gauge", assets.certsync_families().kong_certsync_ready)
  end)

  it("takes the selector out of Grafana variable queries", function()
    assert.equal('m{a="b,c"}', assets.variable_query_expr('label_values(m{a="b,c"}, lbl)'))
    assert.is_nil(assets.variable_query_expr("label_values(instance)"))
    assert.is_nil(assets.variable_query_expr("metrics(kong_certsync_.*)"))
    assert.equal("sum(x)", assets.variable_query_expr("query_result(sum(x))"))
  end)

  it("reads every expr of a rules file, whatever its scalar style", function()
    local path = os.tmpname()
    proc.write_file(path, table.concat({
      "groups:",
      "  - name: g",
      "    rules:",
      "      - alert: A",
      "        expr: |",
      "          a_total",
      "            > 1",
      "        for: 1m",
      "      - expr: 'b == 1'",
      "        record: r:b",
      '      - record: r:c',
      '        expr: "c{x=\\"y\\"}"',
      "      - record: r:d",
      "        expr: d",
      "          + e # plain, on two lines",
    }, "\n") .. "\n")
    local exprs = assets.rule_exprs(path)
    os.remove(path)
    assert.same({ "a_total\n            > 1", "b == 1", 'c{x="y"}', "d\n          + e" }, exprs)
  end)

  it("knows a histogram by its _bucket/_sum/_count samples, and a declared family without samples", function()
    local known = assets.exposed_names(table.concat({
      "# TYPE h histogram",
      'h_bucket{le="+Inf"} 1',
      "# TYPE g gauge",
      "# TYPE c counter",
      "c_total 3",
      "other 1",
    }, "\n"))
    assert.same({ c = true, c_total = true, g = true, h_bucket = true, h_sum = true, h_count = true, other = true }, known)
    assert.same({ "h", "missing" }, assets.unknown_names({ "rate(h_bucket[5m]) + h + g + other", "missing" },
      "# TYPE h histogram\n# TYPE g gauge\nother 1\n"))
    assert.same({}, assets.unknown_names("up + ALERTS", "", { "up", "ALERTS" }))
  end)
end)
