-- certsync.gc_pace: the owner's collector keeps up with the garbage a
-- large publication makes (a first list, a relist, and their statuses).
--
-- Publishing 10,000 bundles turns tens of MB into garbage within seconds.
-- Left to itself, LuaJIT's collector lets the heap double before each
-- cycle, so the owner's heap climbed to twice what it keeps, and LuaJIT's
-- allocator never hands those pages back: the peak stayed in the worker's
-- RSS for good, 2 to 3 KB per certificate. Changing the pause does not
-- help in time (the threshold it sets only moves at the end of a cycle),
-- so after each slice the owner pays for what the slice allocated with
-- collector steps of its own, which also start a cycle at once when none
-- runs, for at most BUDGET_MS a tick (the rest is owed to the next). The
-- heap then stays near what is live.
local clock = require "certsync.clock"

local _M = {}

_M.STEPS_PER_KB = 4  -- collector work asked per KB the heap grew during a slice (in collectgarbage "step" KB)
_M.BUDGET_MS = 1     -- at most this long in the collector per call: what is left is paid on the next
local CHUNK_KB = 64

local debt = 0 -- step KB still owed

-- Call with collectgarbage("count") from before the slice.
function _M.pay(kb_before)
  local grown = collectgarbage("count") - kb_before
  if grown > 0 then debt = debt + grown * _M.STEPS_PER_KB end
  if debt <= 0 then return end
  local deadline = clock.now_ms() + _M.BUDGET_MS
  repeat
    if collectgarbage("step", CHUNK_KB) then
      debt = 0 -- a cycle ended: what the slices made is collected
    else
      debt = debt - CHUNK_KB
    end
  until debt <= 0 or clock.now_ms() >= deadline
end

return _M
