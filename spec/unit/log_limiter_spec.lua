-- certsync.log_limiter: a repeated error is logged once per window, with a
-- count of what was held back, and nothing is lost when it stops.
local log_limiter = require "certsync.log_limiter"

describe("log_limiter", function()
  local lines, limiter

  before_each(function()
    lines = {}
    limiter = log_limiter.new(function(level, message) lines[#lines + 1] = { level, message } end, 60)
  end)

  it("logs the first occurrence and holds back the same error within the window", function()
    assert.is_true(limiter:log(3, "list secrets: Failed to connect after 0 ms", 100))
    assert.is_false(limiter:log(3, "list secrets: Failed to connect after 0 ms", 101))
    assert.is_false(limiter:log(3, "list secrets: Failed to connect after 2 ms", 102)) -- only numbers differ
    assert.equal(1, #lines)
  end)

  it("logs a different error at once", function()
    limiter:log(3, "one thing", 100)
    limiter:log(3, "another thing", 100)
    assert.equal(2, #lines)
  end)

  it("says how many were held back when the error comes again after the window", function()
    limiter:log(3, "boom", 100)
    limiter:log(3, "boom", 110)
    limiter:log(3, "boom", 120)
    limiter:log(3, "boom", 161)
    assert.equal(2, #lines)
    assert.equal("boom (2 more like this held back in the last 60 s)", lines[2][2])
  end)

  it("tells the count on flush when the error has stopped", function()
    limiter:log(4, "dict full", 100)
    limiter:log(4, "dict full", 101)
    limiter:flush(130)
    assert.equal(1, #lines) -- the window has not passed
    limiter:flush(161)
    assert.same({ 4, "dict full (1 more like this held back in the last 60 s)" }, lines[2])
    limiter:flush(300)
    assert.equal(2, #lines) -- said once
  end)

  it("remembers a bounded number of distinct messages", function()
    for i = 1, 300 do limiter:log(3, "error " .. string.rep("x", i), 100) end
    assert.equal(300, #lines)
    assert.is_true(limiter:log(3, "error x", 100)) -- the oldest was forgotten
  end)
end)
