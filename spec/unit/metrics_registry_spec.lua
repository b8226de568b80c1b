-- certsync.metrics_registry: the shared-dict registry and its text exposition.
local fake_dict = require "spec.support.fake_dict"
local metrics_registry = require "certsync.metrics_registry"
local proc = require "spec.support.proc"

describe("metrics_registry", function()
  local dict, registry

  before_each(function()
    dict = fake_dict.new()
    registry = metrics_registry.new(dict, "kong_")
  end)

  it("renders gauges and counters with HELP, TYPE and escaped labels, also for families without series", function()
    local g = registry:gauge("certsync_info", "Info.", { "secret", "issuer" })
    local c = registry:counter("certsync_refusals_total", "Refusals.", { "reason" })
    registry:gauge("certsync_ready", "Ready.")
    g:set(1, { "ns/a", 'CN=a "quoted" \\ back\nslash' })
    c:inc(2, { "key_mismatch" })
    c:inc(1, { "key_mismatch" })
    local text = registry:render()
    assert.truthy(text:find('# HELP kong_certsync_info Info.\n# TYPE kong_certsync_info gauge\n', 1, true))
    assert.truthy(text:find('kong_certsync_info{secret="ns/a",issuer="CN=a \\"quoted\\" \\\\ back\\nslash"} 1\n', 1, true), text)
    assert.truthy(text:find('kong_certsync_refusals_total{reason="key_mismatch"} 3\n', 1, true))
    assert.truthy(text:find("# TYPE kong_certsync_ready gauge\n", 1, true))
  end)

  it("renders a histogram with cumulative buckets, +Inf, sum and count", function()
    local h = registry:histogram("certsync_latency_seconds", "Latency.", nil, { 0.01, 0.1, 1 })
    h:observe(0.005)
    h:observe(0.05)
    h:observe(0.07)
    h:observe(5)
    local text = registry:render("")
    assert.truthy(text:find(table.concat({
      'certsync_latency_seconds_bucket{le="0.01"} 1',
      'certsync_latency_seconds_bucket{le="0.1"} 3',
      'certsync_latency_seconds_bucket{le="1"} 3',
      'certsync_latency_seconds_bucket{le="+Inf"} 4',
      "certsync_latency_seconds_sum 5.125",
      "certsync_latency_seconds_count 4",
    }, "\n"), 1, true), text)
  end)

  it("forgets a series on del, and refuses label values that do not fit", function()
    local g = registry:gauge("certsync_expiry", "Expiry.", { "secret" })
    g:set(10, { "ns/a" })
    g:set(20, { "ns/b" })
    g:del({ "ns/a" })
    local text = registry:render()
    assert.is_nil(text:find('secret="ns/a"', 1, true))
    assert.truthy(text:find('kong_certsync_expiry{secret="ns/b"} 20', 1, true))
    local ok, err = g:set(1, { "ns/a", "extra" })
    assert.is_nil(ok)
    assert.truthy(err:find("expected 1 label values", 1, true))
  end)

  it("writes what promtool check metrics accepts", function()
    registry:gauge("certsync_expiry_timestamp_seconds", "Expiry.", { "secret" }):set(1.7e9, { "ns/a" })
    registry:counter("certsync_refusals_total", "Refusals.", { "reason" }):inc(1, { "key_mismatch" })
    registry:histogram("certsync_latency_seconds", "Latency.", nil, { 0.1, 1 }):observe(0.2)
    local path = os.tmpname()
    proc.write_file(path, registry:render())
    local out, ok = proc.run("promtool check metrics < " .. path .. " 2>&1")
    os.remove(path)
    assert.is_true(ok, out)
    assert.equal("", (out:gsub("%s", "")))
  end)
end)
