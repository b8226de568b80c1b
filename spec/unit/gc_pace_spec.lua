-- certsync.gc_pace: collector steps after each slice keep the heap near
-- what is live while a publication turns many MB into garbage.
local gc_pace = require "certsync.gc_pace"

-- Allocates `slices` x 100 KB of garbage (distinct 2 KB strings, as bundles
-- are), paying after each slice when `pay`; returns the heap's peak (KB)
-- over what was live at the start.
local function peak_over_live(slices, pay)
  collectgarbage()
  local live = collectgarbage("count")
  local peak, n = 0, 0
  for _ = 1, slices do
    local before = collectgarbage("count")
    for _ = 1, 50 do
      n = n + 1
      local _ = string.rep(string.char(65 + n % 26), 2000) .. n
    end
    if pay then gc_pace.pay(before) end
    peak = math.max(peak, collectgarbage("count") - live)
  end
  return peak, live
end

describe("certsync.gc_pace", function()
  local kept
  setup(function()
    kept = {}
    for i = 1, 4000 do kept[i] = string.rep("k", 2000) .. i end -- about 8 MB live, as an owner's index is
  end)
  teardown(function() kept = nil end)

  it("keeps the heap near what is live while garbage is made slice after slice", function()
    local unpaid, live = peak_over_live(300, false)
    local paid = peak_over_live(300, true)
    -- Left alone the collector lets the heap grow by about what is live
    -- before it collects; paying as it goes keeps well below that.
    assert.is_true(unpaid > live * 0.6, "unpaid peak " .. unpaid .. " KB over " .. live .. " KB live")
    assert.is_true(paid < live * 0.3, "paid peak " .. paid .. " KB over " .. live .. " KB live")
  end)
end)
