local sni_index = require "certsync.sni_index"

local function bundles(t)
  local out = {}
  for id, snis in pairs(t) do out[id] = { id = id, snis = snis } end
  return out
end

describe("the SNI index", function()
  local index = sni_index.build(bundles {
    ["ns/exact"] = { "app.example.test" },
    ["ns/wild"] = { "*.example.test" },
  })

  it("prefers the exact name over a wildcard", function()
    assert.equal("ns/exact", sni_index.lookup(index, "app.example.test").id)
  end)

  it("matches a wildcard for one left-most label only", function()
    assert.equal("ns/wild", sni_index.lookup(index, "other.example.test").id)
    assert.is_nil(sni_index.lookup(index, "a.b.example.test"))
    assert.is_nil(sni_index.lookup(index, "example.test"))
  end)

  it("compares names without regard to case", function()
    assert.equal("ns/exact", sni_index.lookup(index, "APP.Example.TEST").id)
    assert.equal("ns/wild", sni_index.lookup(index, "Other.EXAMPLE.test").id)
  end)

  it("returns nothing for a name no Secret covers, leaving the host's certificate", function()
    assert.is_nil(sni_index.lookup(index, "unrelated.test"))
    assert.is_nil(sni_index.lookup(index, "localhost"))
  end)

  it("resolves two Secrets claiming one name the same way every time, and reports it", function()
    for _ = 1, 5 do
      local idx, conflicts = sni_index.build(bundles {
        ["team-b/site"] = { "shop.example.test" },
        ["team-a/site"] = { "shop.example.test", "a.example.test" },
      })
      assert.equal("team-a/site", sni_index.lookup(idx, "shop.example.test").id)
      assert.same({ { sni = "shop.example.test", winner = "team-a/site", loser = "team-b/site" } }, conflicts)
    end
  end)
end)
