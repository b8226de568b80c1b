-- certsync.hold_history: the longest tick and library call of each second
-- of the last minute, so a long hold at one moment is not hidden by an
-- older, longer one.
local hold_history = require "certsync.hold_history"

describe("hold_history", function()
  it("keeps the longest tick and call of each second, and which call it was", function()
    local h = hold_history.new(60)
    h:tick(100.1, 0.4, 0.3)
    h:tick(100.9, 3.5, 0.5) -- long on the wall clock, preempted
    h:tick(100.95, 2.0, 1.9)
    h:call(100.2, 0.3, "generation")
    h:call(100.3, 0.8, "changes_since")
    h:call(100.4, 0.5, "notify")
    h:tick(101.0, 0.7)
    local seconds = h:snapshot(101.5)
    assert.same({
      { at = 100, tick_ms = 3.5, tick_cpu_ms = 1.9, ffi_ms = 0.8, ffi_call = "changes_since" },
      { at = 101, tick_ms = 0.7, tick_cpu_ms = 0, ffi_ms = 0, ffi_call = nil },
    }, seconds)
  end)

  it("forgets seconds older than its window, and reuses their slots", function()
    local h = hold_history.new(60)
    h:tick(100, 9)
    h:tick(159, 1)
    assert.equal(2, #h:snapshot(159))
    local later = h:snapshot(160) -- second 100 is now 61 seconds old
    assert.same({ { at = 159, tick_ms = 1, tick_cpu_ms = 0, ffi_ms = 0 } }, later)
    h:tick(160, 2) -- the slot that held second 100
    assert.same({ { at = 159, tick_ms = 1, tick_cpu_ms = 0, ffi_ms = 0 },
                  { at = 160, tick_ms = 2, tick_cpu_ms = 0, ffi_ms = 0 } }, h:snapshot(160))
  end)

  it("is worth writing out only after a notable tick or call", function()
    local h = hold_history.new(60)
    h:tick(100, hold_history.NOTABLE_TICK_MS / 2)
    h:call(100, hold_history.NOTABLE_CALL_MS / 2, "generation")
    assert.is_false(h.changed)
    h:call(100, hold_history.NOTABLE_CALL_MS, "changes_since")
    assert.is_true(h.changed)
    h:snapshot(100)
    assert.is_false(h.changed)
    h:tick(101, hold_history.NOTABLE_TICK_MS * 3)
    assert.is_true(h.changed)
  end)
end)
