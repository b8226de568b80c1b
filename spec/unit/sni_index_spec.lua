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
end)
