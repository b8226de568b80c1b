-- The propagation protocol over an in-memory dict with the shared dict's
-- semantics (the e2e specs run it on a real lua_shared_dict).
local propagation = require "certsync.propagation"

local function memory_dict()
  local data = {}
  return {
    get = function(_, k) return data[k] end,
    set = function(_, k, v) data[k] = v return true end,
    safe_set = function(_, k, v) data[k] = v return true end,
    delete = function(_, k) data[k] = nil end,
    get_keys = function()
      local keys = {}
      for k in pairs(data) do keys[#keys + 1] = k end
      return keys
    end,
  }
end

local function change(id, serial)
  return { id = id, removed = false, snis = id:gsub(".*/", "") .. ".example.test www.example.test",
           cert_pem = "-----CERT " .. serial .. "-----\n", key_pem = "-----KEY " .. serial .. "-----\n",
           serial = serial, not_before = 1800000000, not_after = 1900000000, key_type = "EC-P-256" }
end

local parses
local function parse(b)
  parses = parses + 1
  return { stamp = b.stamp, id = b.id, snis = b.snis, serial = b.serial, cert = b.cert_pem, key = b.key_pem,
           not_before = b.not_before, not_after = b.not_after, key_type = b.key_type }
end
local function no_error(id, err) error(id .. ": " .. tostring(err)) end

describe("propagation through the shared dict", function()
  before_each(function() parses = 0 end)

  it("carries certificate, key, names and serial to a worker intact", function()
    local dict = memory_dict()
    assert.equal(1, propagation.publish(dict, { full = true, changes = { change("ns/a", "A1") } }))
    local got = propagation.collect(dict, {}, parse, no_error)
    assert.equal("-----CERT A1-----\n", got["ns/a"].cert)
    assert.equal("-----KEY A1-----\n", got["ns/a"].key)
    assert.same({ "a.example.test", "www.example.test" }, got["ns/a"].snis)
    assert.equal("A1", got["ns/a"].serial)
    assert.equal(1800000000, got["ns/a"].not_before)
    assert.equal(1900000000, got["ns/a"].not_after)
    assert.equal("EC-P-256", got["ns/a"].key_type)
  end)

  it("parses only what changed since the worker last looked", function()
    local dict = memory_dict()
    propagation.publish(dict, { full = true, changes = { change("ns/a", "A1"), change("ns/b", "B1") } })
    local first = propagation.collect(dict, {}, parse, no_error)
    assert.equal(2, parses)
    propagation.publish(dict, { full = false, changes = { change("ns/b", "B2") } })
    local second = propagation.collect(dict, first, parse, no_error)
    assert.equal(3, parses)
    assert.equal(first["ns/a"], second["ns/a"])
    assert.equal("B2", second["ns/b"].serial)
  end)

  it("raises the published generation with each publication", function()
    local dict = memory_dict()
    assert.equal(0, propagation.published_generation(dict))
    propagation.publish(dict, { full = true, changes = {} })
    propagation.publish(dict, { full = false, changes = { change("ns/a", "A1") } })
    assert.equal(2, propagation.published_generation(dict))
  end)

  it("drops removed bundles, and everything a full set does not name", function()
    local dict = memory_dict()
    propagation.publish(dict, { full = true, changes = { change("ns/a", "A1"), change("ns/b", "B1"), change("ns/c", "C1") } })
    propagation.publish(dict, { full = false, changes = { { id = "ns/a", removed = true } } })
    assert.is_nil(propagation.collect(dict, {}, parse, no_error)["ns/a"])
    propagation.publish(dict, { full = true, changes = { change("ns/c", "C2") } })
    local got = propagation.collect(dict, {}, parse, no_error)
    assert.is_nil(got["ns/b"])
    assert.equal("C2", got["ns/c"].serial)
  end)

  it("keeps a worker's previous bundle when the new one cannot be parsed there", function()
    local dict = memory_dict()
    propagation.publish(dict, { full = true, changes = { change("ns/a", "A1") } })
    local first = propagation.collect(dict, {}, parse, no_error)
    propagation.publish(dict, { full = false, changes = { change("ns/a", "A2") } })
    local reported
    local second = propagation.collect(dict, first, function() return nil, "bad PEM" end,
      function(id, err) reported = id .. ": " .. err end)
    assert.equal("A1", second["ns/a"].serial)
    assert.equal("ns/a: bad PEM", reported)
  end)

  -- A dict that holds `capacity` bytes of values and, like nginx's, frees an
  -- existing value before it finds no room for the new one.
  local function small_dict(capacity)
    local dict = memory_dict()
    local data, used = {}, 0
    dict.get = function(_, k) return data[k] end
    dict.set = function(_, k, v) used = used - #tostring(data[k] or "") + #tostring(v) data[k] = v return true end
    dict.safe_set = function(_, k, v)
      used = used - #tostring(data[k] or "")
      data[k] = nil
      if used + #tostring(v) > capacity then return nil, "no memory" end
      used = used + #tostring(v)
      data[k] = v
      return true
    end
    dict.delete = function(_, k) used = used - #tostring(data[k] or "") data[k] = nil end
    dict.get_keys = function()
      local keys = {}
      for k in pairs(data) do keys[#keys + 1] = k end
      return keys
    end
    return dict
  end

  local function big_change(id, serial)
    local c = change(id, serial)
    c.cert_pem = c.cert_pem .. string.rep("x", 400)
    return c
  end

  it("publishes what fits when the dict is full, and names what did not", function()
    local dict = small_dict(1200)
    local gen, unstored, err = propagation.publish(dict, { full = true, changes = {
      big_change("ns/a", "A1"), big_change("ns/b", "B1"), big_change("ns/c", "C1"), big_change("ns/d", "D1") } })
    assert.equal(1, gen)
    assert.equal("no memory", err)
    assert.is_true(#unstored >= 1 and #unstored < 4)
    local got = propagation.collect(dict, {}, parse, no_error)
    local served = 0
    for _ in pairs(got) do served = served + 1 end
    assert.equal(4 - #unstored, served)
    for _, id in ipairs(unstored) do assert.is_nil(got[id]) end
  end)

  it("keeps the bundle served before when its renewal does not fit", function()
    local dict = small_dict(300)
    propagation.publish(dict, { full = true, changes = { change("ns/a", "A1") } })
    local first = propagation.collect(dict, {}, parse, no_error)
    local gen, unstored = propagation.publish(dict, { full = false, changes = { big_change("ns/a", "A2") } })
    assert.equal(2, gen)
    assert.same({ "ns/a" }, unstored)
    local second = propagation.collect(dict, first, parse, no_error)
    assert.equal("A1", second["ns/a"].serial) -- put back, not lost
    -- and a full set that could not store it does not delete it either
    propagation.publish(dict, { full = true, changes = { big_change("ns/a", "A2") } })
    assert.equal("A1", propagation.collect(dict, {}, parse, no_error)["ns/a"].serial)
  end)
end)
