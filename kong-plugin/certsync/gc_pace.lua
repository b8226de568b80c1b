-- certsync.gc_pace: how hard LuaJIT's collector works in the owner while it
-- publishes a large change set (a first list, a relist) and the statuses
-- that come with it.
--
-- Publishing 10,000 bundles turns tens of MB into garbage in a few
-- seconds. At the default pace (a new cycle once the heap doubled) the
-- owner's heap climbs to twice what it keeps, and LuaJIT's allocator never
-- hands those pages back: the peak stays in the worker's RSS for good,
-- 2 to 3 KB per certificate. While a set is being published the collector
-- starts each cycle at once and works faster per byte allocated, so the
-- heap stays close to what is live; the default pace comes back when the
-- set is in. The 2 ms slices are timed with the collector's work in them,
-- so the event loop is held no longer.
local _M = {}

_M.PAUSE = 100    -- percent of the live heap a cycle waits for (LuaJIT's default: 200)
_M.STEPMUL = 400  -- collector work per byte allocated (default: 200)

local saved_pause, saved_stepmul -- the pace to go back to; nil while not tightened

-- While a large set is being published.
function _M.tighten()
  if saved_pause then return end
  saved_pause = collectgarbage("setpause", _M.PAUSE)
  saved_stepmul = collectgarbage("setstepmul", _M.STEPMUL)
end

-- Once it is in: the pace the worker had before.
function _M.relax()
  if not saved_pause then return end
  collectgarbage("setpause", saved_pause)
  collectgarbage("setstepmul", saved_stepmul)
  saved_pause, saved_stepmul = nil, nil
end

function _M.tightened()
  return saved_pause ~= nil
end

return _M
