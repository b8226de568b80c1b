-- The propagation protocol (certsync.publisher writes, workers read through
-- certsync.propagation) over an in-memory dict with the shared dict's
-- semantics; the e2e specs run it on a real lua_shared_dict.
local propagation = require "certsync.propagation"
local publisher = require "certsync.publisher"
local fake_dict = require "spec.support.fake_dict"

local function change(id, serial, observed_at)
  return { id = id, removed = false, snis = id:gsub(".*/", "") .. ".example.test www.example.test",
           cert_pem = "-----CERT " .. serial .. "-----\n", key_pem = "-----KEY " .. serial .. "-----\n",
           serial = serial, not_before = 1800000000, not_after = 1900000000, key_type = "EC-P-256",
           observed_at = observed_at or 0 }
end

-- Publishes a whole set (every slice); returns the last report.
local function publish(p, set, budget_ms)
  p:begin(set)
  local report
  repeat
    report = assert(p:step(budget_ms or 1000))
  until report.done
  return report
end

-- What a worker that serves generation `from` reads, log by log, to reach
-- the published one (as certsync.core follows it); nil when a log is gone.
local function changed_since(dict, from)
  local seen, ids = {}, {}
  for generation = from + 1, propagation.published_generation(dict) do
    local changed = propagation.changed_ids(dict, generation)
    if not changed then return nil end
    for _, id in ipairs(changed) do
      if not seen[id] then seen[id], ids[#ids + 1] = true, id end
    end
  end
  table.sort(ids)
  return ids
end

describe("propagation through the shared dict", function()
  it("carries certificate, key, names and serial to a worker intact", function()
    local dict = fake_dict.new()
    publish(publisher.new(dict), { full = true, changes = { change("ns/a", "A1", 1799999999.5) } })
    local header = propagation.header(dict, "ns/a")
    assert.equal("a.example.test www.example.test", header.snis)
    assert.equal("A1", header.serial)
    assert.equal(1800000000, header.not_before)
    assert.equal(1900000000, header.not_after)
    assert.equal("EC-P-256", header.key_type)
    assert.equal(1799999999.5, header.observed_at)
    assert.is_nil(header.cert_pem) -- a header alone: what a worker keeps per Secret
    local bundle = propagation.bundle(dict, "ns/a")
    assert.equal("-----CERT A1-----\n", bundle.cert_pem)
    assert.equal("-----KEY A1-----\n", bundle.key_pem)
    assert.equal(header.stamp, bundle.stamp)
  end)

  it("tells a worker only the ids that changed since the generation it serves", function()
    local dict = fake_dict.new()
    local p = publisher.new(dict)
    publish(p, { full = true, changes = { change("ns/a", "A1"), change("ns/b", "B1") } })
    local served = propagation.published_generation(dict)
    assert.same({ "ns/a", "ns/b" }, changed_since(dict, 0))
    publish(p, { full = false, changes = { change("ns/b", "B2") } })
    assert.same({ "ns/b" }, changed_since(dict, served))
    assert.equal("B2", propagation.header(dict, "ns/b").serial)
  end)

  it("sends a worker that fell behind the change log to read every header", function()
    local dict = fake_dict.new()
    local p = publisher.new(dict)
    publish(p, { full = true, changes = { change("ns/a", "A1") } })
    publish(p, { full = false, changes = { change("ns/a", "A2") } })
    publish(p, { full = false, changes = { change("ns/a", "A3") } })
    dict:delete(propagation.LOG_PREFIX .. 2) -- as if LOG_KEEP publications had passed
    assert.is_nil(changed_since(dict, 1))
    assert.same({ "ns/a" }, changed_since(dict, 2))
    assert.same({ "ns/a" }, propagation.published_ids(dict))
  end)

  it("publishes a large set in slices, each its own generation, synced only after the last", function()
    local dict = fake_dict.new()
    local p = publisher.new(dict)
    local changes = {}
    for i = 1, 50 do changes[i] = change("ns/s" .. i, "S" .. i) end
    p:begin({ full = true, changes = changes })
    local slices, generations = 0, {}
    local report
    repeat
      report = assert(p:step(0)) -- a zero budget: one change per slice
      slices = slices + 1
      if report.generation then generations[#generations + 1] = report.generation end
      if not report.done then assert.is_nil(dict:get(propagation.SYNCED_KEY)) end
    until report.done
    assert.equal(50, slices)
    assert.equal(50, #generations)
    assert.equal(50, propagation.published_generation(dict))
    assert.equal(50, dict:get(propagation.SYNCED_KEY))
    assert.equal(50, #propagation.published_ids(dict))
    assert.same({ "ns/s50" }, changed_since(dict, 49))
  end)

  it("writes nothing for a relist or a new owner that finds the same bundles", function()
    local dict = fake_dict.new()
    publish(publisher.new(dict), { full = true, changes = { change("ns/a", "A1", 100), change("ns/b", "B1", 100) } })
    local generation = propagation.published_generation(dict)
    -- Another owner, whose watcher saw the same Secrets later.
    local report = publish(publisher.new(dict, true), { full = true, changes = { change("ns/a", "A1", 200),
                                                                          change("ns/b", "B1", 200) } })
    assert.equal(0, report.written)
    assert.equal(2, report.unchanged)
    assert.equal(generation, propagation.published_generation(dict))
    assert.equal(generation, dict:get(propagation.SYNCED_KEY))
  end)

  it("marks an empty first list as synced, so an empty namespace gets ready", function()
    local dict = fake_dict.new()
    publish(publisher.new(dict), { full = true, changes = {} })
    assert.equal(1, propagation.published_generation(dict))
    assert.equal(1, dict:get(propagation.SYNCED_KEY))
    assert.same({}, changed_since(dict, 0))
  end)

  it("drops removed bundles, and everything a full set does not name", function()
    local dict = fake_dict.new()
    local p = publisher.new(dict)
    publish(p, { full = true, changes = { change("ns/a", "A1"), change("ns/b", "B1"), change("ns/c", "C1") } })
    publish(p, { full = false, changes = { { id = "ns/a", removed = true } } })
    assert.is_nil(propagation.header(dict, "ns/a"))
    assert.is_nil(propagation.bundle(dict, "ns/a"))
    local before = propagation.published_generation(dict)
    -- A new owner's full set: what it does not name was deleted meanwhile.
    local report = publish(publisher.new(dict, true), { full = true, changes = { change("ns/c", "C2") } })
    assert.equal(1, report.removed)
    assert.is_nil(propagation.header(dict, "ns/b"))
    assert.equal("C2", propagation.header(dict, "ns/c").serial)
    assert.same({ "ns/b", "ns/c" }, changed_since(dict, before))
  end)

  it("lets a new set supersede one still being published", function()
    local dict = fake_dict.new()
    local p = publisher.new(dict)
    p:begin({ full = true, changes = { change("ns/a", "A1"), change("ns/b", "B1"), change("ns/c", "C1") } })
    p:step(0)
    assert.is_true(p:busy())
    publish(p, { full = true, changes = { change("ns/c", "C1") } })
    assert.is_false(p:busy())
    assert.same({ "ns/c" }, propagation.published_ids(dict))
  end)

  -- A dict that holds `capacity` bytes of values and, like nginx's, frees an
  -- existing value before it finds no room for the new one.
  local function small_dict(capacity)
    local dict = fake_dict.new()
    local used = 0
    local function size(k) return #tostring(dict.data[k] or "") end
    dict.safe_set = function(self, k, v)
      used = used - size(k)
      self.data[k] = nil
      if used + #tostring(v) > capacity then return nil, "no memory" end
      used = used + #tostring(v)
      self.data[k] = v
      return true
    end
    dict.delete = function(self, k) used = used - size(k) self.data[k] = nil end
    return dict
  end

  local function big_change(id, serial)
    local c = change(id, serial)
    c.cert_pem = c.cert_pem .. string.rep("x", 400)
    return c
  end

  it("publishes what fits when the dict is full, and names what did not", function()
    local dict = small_dict(2200)
    local report = publish(publisher.new(dict), { full = true, changes = {
      big_change("ns/a", "A1"), big_change("ns/b", "B1"), big_change("ns/c", "C1"), big_change("ns/d", "D1") } })
    assert.equal("no memory", report.store_err)
    assert.is_true(#report.unstored >= 1 and #report.unstored < 4)
    assert.equal(4 - #report.unstored, #propagation.published_ids(dict))
    for _, id in ipairs(report.unstored) do assert.is_nil(propagation.bundle(dict, id)) end
    assert.equal(4 - #report.unstored, report.published)
  end)

  it("keeps the bundle served before when its renewal does not fit", function()
    local dict = small_dict(500)
    local p = publisher.new(dict)
    publish(p, { full = true, changes = { change("ns/a", "A1") } })
    local report = publish(p, { full = false, changes = { big_change("ns/a", "A2") } })
    assert.same({ "ns/a" }, report.unstored)
    assert.equal("-----CERT A1-----\n", propagation.bundle(dict, "ns/a").cert_pem) -- put back, not lost
    -- and a full set that could not store it does not delete it either
    publish(p, { full = true, changes = { big_change("ns/a", "A2") } })
    assert.equal("A1", propagation.bundle(dict, "ns/a").serial)
  end)

  -- A change set as certsync.ffi hands it out: get(i, true) leaves the PEM
  -- out, with_pem(i, prefix) puts it behind the header in one string.
  local function library_set(full, changes)
    return {
      full = full, count = #changes,
      get = function(_, i, without_pem)
        local c = {}
        for k, v in pairs(changes[i]) do c[k] = v end
        c.cert_pem_len, c.key_pem_len = #changes[i].cert_pem, #changes[i].key_pem
        if without_pem then c.cert_pem, c.key_pem = nil, nil end
        return c
      end,
      with_pem = function(_, i, prefix) return prefix .. changes[i].cert_pem .. changes[i].key_pem end,
    }
  end

  it("stores the same values from a library's set (PEM taken straight into them) as from a table", function()
    local from_table, from_library = fake_dict.new(), fake_dict.new()
    local changes = { change("ns/a", "A1", 17), big_change("ns/b", "B1") }
    publish(publisher.new(from_table), { full = true, changes = changes })
    local report = publish(publisher.new(from_library), library_set(true, changes))
    assert.equal(2, report.written)
    for _, id in ipairs({ "ns/a", "ns/b" }) do
      assert.equal(from_table:get("b:" .. id), from_library:get("b:" .. id))
      assert.equal(from_table:get("h:" .. id), from_library:get("h:" .. id))
    end
    assert.equal(400 + #"-----CERT B1-----\n", propagation.header(from_library, "ns/b").cert_len)
    -- the sizing advice reads the lengths when the PEM is left out
    assert.equal(propagation.encoded_size(changes[2]), propagation.encoded_size(library_set(true, changes):get(2, true)))
  end)

  it("leaves a relisted bundle alone when only its stamp and observation time differ", function()
    local dict = fake_dict.new()
    local p = publisher.new(dict)
    publish(p, library_set(true, { change("ns/a", "A1", 1), change("ns/b", "B1", 1) }))
    local gen = propagation.published_generation(dict)
    local report = publish(p, library_set(true, { change("ns/a", "A1", 2), change("ns/b", "B2", 2) }))
    assert.equal(1, report.unchanged)
    assert.equal(1, report.written)
    assert.same({ "ns/b" }, changed_since(dict, gen))
    assert.equal("B2", propagation.header(dict, "ns/b").serial)
  end)

  it("compares bodies in place", function()
    local a = propagation.encode(1, change("ns/a", "A1", 5))
    assert.is_true(propagation.same_body(a, propagation.encode(2, change("ns/a", "A1", 6))))
    assert.is_false(propagation.same_body(a, propagation.encode(1, change("ns/a", "A2", 5))))
    local longer = change("ns/a", "A1", 5)
    longer.key_pem = longer.key_pem .. "x"
    assert.is_false(propagation.same_body(a, propagation.encode(1, longer)))
  end)
end)
