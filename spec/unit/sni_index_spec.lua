local sni_index = require "certsync.sni_index"

local function bundles(t)
  local out = {}
  for id, b in pairs(t) do
    out[id] = { id = id, snis = table.concat(b.snis or b, " "), key_type = b.key_type or "EC-P-256",
                not_before = b.not_before or 0 }
  end
  return out
end

local function served_id(index, name)
  local first = sni_index.lookup(index, name)
  return first and sni_index.id_of(first)
end

describe("the SNI index", function()
  local index = sni_index.build(bundles {
    ["ns/exact"] = { "app.example.test" },
    ["ns/wild"] = { "*.example.test" },
  })

  it("prefers the exact name over a wildcard", function()
    assert.equal("ns/exact", served_id(index, "app.example.test"))
  end)

  it("matches a wildcard for one left-most label only", function()
    assert.equal("ns/wild", served_id(index, "other.example.test"))
    assert.is_nil(sni_index.lookup(index, "a.b.example.test"))
    assert.is_nil(sni_index.lookup(index, "example.test"))
  end)

  it("compares names without regard to case", function()
    assert.equal("ns/exact", served_id(index, "APP.Example.TEST"))
    assert.equal("ns/wild", served_id(index, "Other.EXAMPLE.test"))
  end)

  it("returns nothing for a name no Secret covers, leaving the host's certificate", function()
    assert.is_nil(sni_index.lookup(index, "unrelated.test"))
    assert.is_nil(sni_index.lookup(index, "localhost"))
  end)

  it("gives a name claimed twice to the later notBefore, then the smaller id, every time", function()
    for _ = 1, 5 do
      local idx, conflicts = sni_index.build(bundles {
        ["team-b/site"] = { snis = { "shop.example.test" }, not_before = 200 },
        ["team-a/site"] = { snis = { "shop.example.test", "a.example.test" }, not_before = 100 },
        ["team-c/site"] = { snis = { "shop.example.test" }, not_before = 200 },
      })
      assert.equal("team-b/site", served_id(idx, "shop.example.test"))
      assert.equal("team-a/site", served_id(idx, "a.example.test"))
      assert.equal(2, #conflicts)
      for _, c in ipairs(conflicts) do assert.equal("team-b/site", c.winner) end
    end
  end)

  it("serves an RSA and an ECDSA certificate for one name side by side, ECDSA first", function()
    local idx, conflicts = sni_index.build(bundles {
      ["ns/rsa"] = { snis = { "dual.example.test" }, key_type = "RSA-2048" },
      ["ns/ec"] = { snis = { "dual.example.test" }, key_type = "EC-P-256" },
    })
    local first, second = sni_index.lookup(idx, "dual.example.test")
    assert.equal("ns/ec", sni_index.id_of(first))
    assert.equal("ns/rsa", sni_index.id_of(second))
    assert.same({}, conflicts)
  end)

  describe("kept up to date one Secret at a time", function()
    local function record(id, snis, key_type, not_before)
      return sni_index.record({ id = id, stamp = 1, snis = snis, key_type = key_type or "EC-P-256",
                                not_before = not_before or 0 })
    end

    it("keeps no claims for a name one Secret claims, and drops them when a second one leaves", function()
      local idx = sni_index.new()
      idx:set(record("ns/a", "shop.example.test"))
      assert.is_nil(idx.claims["shop.example.test"])
      idx:set(record("ns/b", "shop.example.test", "EC-P-256", 100))
      assert.equal("ns/b", sni_index.id_of((sni_index.lookup(idx.names, "shop.example.test"))))
      assert.same({ { sni = "shop.example.test", winner = "ns/b", loser = "ns/a" } }, idx:conflicts())
      idx:remove("ns/b")
      assert.equal("ns/a", sni_index.id_of((sni_index.lookup(idx.names, "shop.example.test"))))
      assert.is_nil(idx.claims["shop.example.test"])
      assert.same({}, idx:conflicts())
      idx:remove("ns/a")
      assert.is_nil(sni_index.lookup(idx.names, "shop.example.test"))
      assert.is_nil(next(idx.names))
      assert.equal(0, idx.count)
    end)

    it("moves a renewed Secret to its new names and frees the old ones", function()
      local idx = sni_index.new()
      idx:set(record("ns/a", "old.example.test both.example.test"))
      local renewed = record("ns/a", "both.example.test new.example.test")
      idx:set(renewed)
      assert.is_nil(sni_index.lookup(idx.names, "old.example.test"))
      assert.equal(renewed, (sni_index.lookup(idx.names, "both.example.test")))
      assert.equal(renewed, (sni_index.lookup(idx.names, "new.example.test")))
      assert.equal(1, idx.count)
    end)

    it("serves the RSA certificate alone once the ECDSA one beside it is removed", function()
      local idx = sni_index.new()
      local rsa = record("ns/rsa", "dual.example.test", "RSA-2048")
      idx:set(rsa)
      idx:set(record("ns/ec", "dual.example.test"))
      local first, second = sni_index.lookup(idx.names, "dual.example.test")
      assert.equal("ns/ec", sni_index.id_of(first))
      assert.equal(rsa, second)
      idx:remove("ns/ec")
      first, second = sni_index.lookup(idx.names, "dual.example.test")
      assert.equal(rsa, first)
      assert.is_nil(second)
    end)

    it("reports a conflict within one kind only, beside a certificate of the other kind", function()
      local idx = sni_index.new()
      idx:set(record("ns/ec-old", "x.example.test", "EC-P-256", 100))
      idx:set(record("ns/ec-new", "x.example.test", "EC-P-384", 200))
      idx:set(record("ns/rsa", "x.example.test", "RSA-2048", 300))
      local first, second = sni_index.lookup(idx.names, "x.example.test")
      assert.equal("ns/ec-new", sni_index.id_of(first))
      assert.equal("ns/rsa", sni_index.id_of(second))
      assert.same({ { sni = "x.example.test", winner = "ns/ec-new", loser = "ns/ec-old" } }, idx:conflicts())
    end)

    it("forgets a name a certificate lists twice once the Secret is removed", function()
      local idx = sni_index.new()
      idx:set(record("ns/a", "twice.example.test twice.example.test"))
      assert.equal("ns/a", sni_index.id_of((sni_index.lookup(idx.names, "twice.example.test"))))
      idx:remove("ns/a")
      assert.is_nil(sni_index.lookup(idx.names, "twice.example.test"))
    end)
  end)
end)
