-- certsync.top_names (Space-Saving over a stream summary) and what
-- certsync.uncovered builds on it: a bounded table that keeps the heavy
-- hitters, exact counts for what it lists, everything else in "other", and
-- only names that could be host names.
local top_names = require "certsync.top_names"
local uncovered = require "certsync.uncovered"

local function counts(top)
  local out = {}
  for _, e in ipairs(top:entries()) do out[e.name] = e.count end
  return out
end

local function listed_sum(top)
  local n = 0
  for _, e in ipairs(top:entries()) do n = n + e.count end
  return n
end

describe("the top names table", function()
  it("counts names exactly while it has room, most hits first, then by name", function()
    local top = top_names.new(10)
    for _, name in ipairs({ "b", "a", "c", "a", "b", "a" }) do top:hit(name, 1) end
    local entries = top:entries()
    assert.same({ "a", "b", "c" }, { entries[1].name, entries[2].name, entries[3].name })
    assert.same({ a = 3, b = 2, c = 1 }, counts(top))
    assert.equal(0, top:other())
  end)

  it("never holds more names than its limit, however many it sees", function()
    local top = top_names.new(5)
    for i = 1, 1000 do top:hit("n" .. i, i) end
    assert.equal(5, top.size)
    assert.equal(5, #top:entries())
    assert.equal(1000, top.hits)
  end)

  it("keeps a heavy hitter through a flood of one-off names", function()
    local top = top_names.new(10)
    for i = 1, 10 do top:hit("early" .. i, 0) end -- the table is full before the hitter comes
    for i = 1, 2000 do
      top:hit("flood" .. i, i)
      if i % 5 == 0 then top:hit("heavy.example.test", i) end -- 1 in 6 hits: above 1/10
    end
    local heavy = counts(top)["heavy.example.test"]
    assert.is_not_nil(heavy, "the heavy hitter was pushed out")
    assert.equal(400, heavy)
    assert.equal("heavy.example.test", top:entries()[1].name)
  end)

  it("counts what it does not list in other, so listed plus other is every hit", function()
    local top = top_names.new(3)
    for _ = 1, 5 do top:hit("a", 1) end
    for _ = 1, 4 do top:hit("b", 1) end
    for _ = 1, 3 do top:hit("c", 1) end
    top:hit("d", 2) -- replaces c (3 hits), inheriting them as its error
    assert.same({ a = 5, b = 4, d = 1 }, counts(top))
    assert.equal(3, top:other())
    assert.equal(top.hits, listed_sum(top) + top:other())
  end)

  it("reports a name that came back after being pushed out with the hits since its return", function()
    local top = top_names.new(2)
    top:hit("x", 1)
    top:hit("y", 1)
    top:hit("z", 2) -- pushes out x, the oldest of the smallest count
    assert.is_nil(counts(top).x)
    top:hit("x", 3) -- pushes out y; x's count restarts at 1
    top:hit("x", 4)
    assert.equal(2, counts(top).x)
    assert.equal(top.hits, listed_sum(top) + top:other())
  end)

  it("remembers when each name was seen last", function()
    local top = top_names.new(4)
    top:hit("a", 10)
    top:hit("b", 11)
    top:hit("a", 12)
    for _, e in ipairs(top:entries()) do
      assert.equal(({ a = 12, b = 11 })[e.name], e.last_seen)
    end
  end)

  it("with a limit of 0 lists nothing and counts everything in other", function()
    local top = top_names.new(0)
    for i = 1, 7 do top:hit("n" .. i, i) end
    assert.same({}, top:entries())
    assert.equal(7, top:other())
  end)

  it("shrinks to a smaller limit by dropping the smallest counts into other", function()
    local top = top_names.new(4)
    for name, n in pairs({ a = 4, b = 3, c = 2, d = 1 }) do
      for _ = 1, n do top:hit(name, 1) end
    end
    top:resize(2)
    assert.same({ a = 4, b = 3 }, counts(top))
    assert.equal(3, top:other())
    top:hit("e", 2) -- full at the new limit: replaces b
    assert.equal(2, top.size)
  end)

  it("lists every name seen more often than 1/limit of all hits, in a skewed random stream", function()
    local top, truth, seed = top_names.new(10), {}, 777
    for i = 1, 20000 do
      seed = (seed * 1103515245 + 12345) % 2147483648
      local r = seed % 1000
      -- a few frequent names, then a long tail of rare ones
      local name = r < 300 and ("hot" .. (r % 3)) or r < 400 and ("warm" .. (r % 5)) or ("tail" .. r)
      truth[name] = (truth[name] or 0) + 1
      top:hit(name, i)
    end
    local listed = counts(top)
    for name, n in pairs(truth) do
      if n > top.hits / 10 then assert.is_not_nil(listed[name], name .. " (" .. n .. " hits) is not listed") end
    end
    for name, n in pairs(listed) do assert.is_true(n <= truth[name], name) end -- never more than it had
  end)

  it("keeps its bucket list consistent over a long random stream", function()
    local top = top_names.new(8)
    local seed = 12345
    for i = 1, 5000 do
      seed = (seed * 1103515245 + 12345) % 2147483648
      top:hit("n" .. (seed % 40), i)
      if i % 500 == 0 then
        -- Buckets ascend from `low`, each non-empty, and every name's bucket is in the list.
        local seen, last, names = {}, 0, 0
        local bucket = top.low
        while bucket do
          assert.is_true(bucket.count > last)
          assert.is_not_nil(bucket.head)
          last = bucket.count
          local e = bucket.head
          while e do
            seen[e] = true
            names = names + 1
            e = e.next
          end
          bucket = bucket.up
        end
        assert.equal(top.size, names)
        for _, entry in pairs(top.by_name) do assert.is_true(seen[entry]) end
        assert.equal(top.hits, listed_sum(top) + top:other())
      end
    end
  end)
end)

describe("the uncovered handshakes of a worker", function()
  it("keeps a server name only if it could be a host name, lowercased", function()
    assert.equal("app.example.test", uncovered.clean("App.EXAMPLE.test"))
    assert.equal("a-b.c9.test", uncovered.clean("a-b.c9.test"))
    assert.equal(string.rep("a", 253), uncovered.clean(string.rep("a", 253)))
    for _, bad in ipairs({ "", string.rep("a", 254), "bad_name.test", "<script>.test", 'q"uote', "sp ace",
                           "tab\tname", "new\nline", "caf\195\169.test", "back\\slash" }) do
      assert.is_nil(uncovered.clean(bad), bad)
    end
  end)

  it("counts names, names it cannot keep and handshakes without a name apart", function()
    local r = uncovered.new(10, 100)
    r:named("a.test", 101)
    r:named("A.TEST", 102)
    r:named("<b>", 103)
    r:named(string.rep("x", 300), 104)
    r:without_sni()
    local s = r:snapshot(42)
    assert.equal(42, s.pid)
    assert.equal(100, s.since)
    assert.equal(5, s.total)
    assert.equal(2, s.invalid)
    assert.equal(1, s.no_sni)
    assert.equal(0, s.other)
    assert.same({ { name = "a.test", count = 2, last_seen = 102 } }, s.names)
  end)

  it("hands the metric each handshake once", function()
    local r = uncovered.new(10, 0)
    r:named("a.test", 1)
    r:without_sni()
    assert.same({ named = 1, no_sni = 1, invalid = 0 }, r:take_deltas())
    r:named("%", 2)
    r:named("a.test", 2)
    assert.same({ named = 1, no_sni = 0, invalid = 1 }, r:take_deltas())
    assert.same({ named = 0, no_sni = 0, invalid = 0 }, r:take_deltas())
  end)
end)

describe("the node's uncovered handshakes", function()
  local w0 = { since = 50, total = 12, no_sni = 2, invalid = 1, other = 1,
               names = { { name = "a.test", count = 5, last_seen = 70 }, { name = "b.test", count = 3, last_seen = 60 } } }
  local w1 = { since = 40, total = 9, no_sni = 1, invalid = 0, other = 0,
               names = { { name = "b.test", count = 4, last_seen = 80 }, { name = "c.test", count = 4, last_seen = 65 } } }

  it("adds the workers up: counts per name, the latest last_seen, the earliest since", function()
    local node = uncovered.merge({ w0, w1 }, 100)
    assert.equal(21, node.total)
    assert.equal(3, node.no_sni)
    assert.equal(1, node.invalid)
    assert.equal(1, node.other)
    assert.equal(40, node.since)
    assert.same({ { name = "b.test", count = 7, last_seen = 80 }, { name = "a.test", count = 5, last_seen = 70 },
                  { name = "c.test", count = 4, last_seen = 65 } }, node.names)
  end)

  it("lists at most its limit of names and counts the rest in other", function()
    local node = uncovered.merge({ w0, w1 }, 2)
    assert.same({ "b.test", "a.test" }, { node.names[1].name, node.names[2].name })
    assert.equal(1 + 4, node.other)
    local listed = 0
    for _, e in ipairs(node.names) do listed = listed + e.count end
    assert.equal(node.total, listed + node.other + node.no_sni + node.invalid)
  end)

  it("narrowed to one name lists that name alone, and skips what is not a snapshot", function()
    local node = uncovered.merge({ w0, "junk", w1 }, 100, "c.test")
    assert.same({ { name = "c.test", count = 4, last_seen = 65 } }, node.names)
    assert.equal(21, node.total)
    assert.same({}, uncovered.merge({ w0 }, 100, "nobody.test").names)
    assert.same({}, uncovered.worker_view(w1, "a.test").names)
    assert.is_nil(uncovered.worker_view(nil))
  end)
end)
