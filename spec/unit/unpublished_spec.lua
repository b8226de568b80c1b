-- certsync.unpublished: what did not fit in the dict is remembered, retried,
-- summarised for the status and logged once with the size that would hold it.
local fake_dict = require "spec.support.fake_dict"
local json = require "dkjson"

describe("unpublished", function()
  local unpublished, dict, now

  before_each(function()
    now = 1000
    _G.ngx = { now = function() return now end, null = false }
    package.loaded["certsync.unpublished"] = nil
    unpublished = require "certsync.unpublished"
    dict = fake_dict.new()
  end)

  local function change(id) return { id = id, snis = "a.example.test", serial = "01", cert_pem = string.rep("c", 1500),
                                     key_pem = string.rep("k", 200), not_after = 0 } end

  it("logs once what did not fit, with a dict size that would hold every certificate", function()
    local set = { full = true, changes = { change("ns/a"), change("ns/b"), change("ns/c") } }
    local line = unpublished.record(dict, set, { "ns/b", "ns/c" }, "no memory", 1)
    assert.truthy(line:find('the shared dict "certsync" is full (no memory): 2 certificate(s) could not be published', 1, true), line)
    assert.truthy(line:find("e.g. ns/b, ns/c", 1, true), line)
    assert.truthy(line:find("to fix: lua_shared_dict certsync %d+m %(about 3 KB per certificate for 3 certificates%)"), line)
    local summary = json.decode(dict:get(unpublished.KEY))
    assert.equal(2, summary.count)
    assert.same({ "ns/b", "ns/c" }, summary.ids)
    -- More that do not fit while it is full: no new line (the status and the metric count).
    assert.is_nil(unpublished.record(dict, { full = false, changes = { change("ns/d") } }, { "ns/d" }, "no memory"))
    assert.equal(3, json.decode(dict:get(unpublished.KEY)).count)
  end)

  it("retries when due, only what is still pending and still in the library", function()
    unpublished.record(dict, { full = true, changes = { change("ns/a"), change("ns/b") } }, { "ns/a", "ns/b" }, "no memory")
    assert.is_false(unpublished.due())
    now = now + unpublished.RETRY_EVERY
    assert.is_true(unpublished.due())
    -- The library's full set, as certsync.ffi hands it out: read one change at a time.
    local changes, freed = { change("ns/b"), change("ns/z") }, false
    local retry = unpublished.retry_set({ generation = 9, count = #changes,
      id = function(_, i) return changes[i].id end, get = function(_, i) return changes[i] end,
      free = function() freed = true end })
    assert.is_true(freed)
    assert.equal(1, #retry.changes)
    assert.equal("ns/b", retry.changes[1].id)
    assert.is_false(retry.full)
    -- It fits this time: nothing is pending, the summary is gone, and the log says so.
    assert.equal('every accepted certificate is published again: the shared dict "certsync" has room',
      unpublished.record(dict, retry, {}, nil))
    assert.is_nil(dict:get(unpublished.KEY))
    assert.is_false(unpublished.due())
  end)

  it("sizes the dict from the values' slabs, with room to spare", function()
    local mb, per = unpublished.advice(10000, 2500)
    assert.equal(4096 + 1024, per)
    assert.equal(math.ceil((4 * 1024 * 1024 + 1.5 * 10000 * per) / 1048576), mb)
  end)
end)
