-- certsync.hold_history: how long a worker's certsync timer held nginx's
-- event loop, second by second, over the last minute.
--
-- The worker's status already carries the longest tick and library call
-- since it started, but one long tick at the first sync hides everything
-- after it. An operator who saw latency rise at 10:42 (and a benchmark
-- that runs a relist between two marks) must see what certsync did then:
-- this keeps, for each of the last SECONDS wall-clock seconds, the longest
-- tick and the longest library call of that second, and which call it was,
-- and the most CPU time a tick of that second took (on a busy machine a
-- tick's wall time includes waiting for a core; its CPU time is
-- certsync's own work).
-- Seconds with no tick are left out of the snapshot.
--
-- `changed` says whether the snapshot is worth writing out: only a tick
-- or a call long enough to matter sets it, so an idle worker (ticks of a
-- few hundred microseconds) writes nothing.
local floor = math.floor

local _M = {}

_M.SECONDS = 60
_M.NOTABLE_TICK_MS = 1    -- a fifth of the 5 ms a tick may take at most
_M.NOTABLE_CALL_MS = 0.2  -- a fifth of the 1 ms a library call may take at most

local History = {}
History.__index = History

function _M.new(seconds)
  return setmetatable({ seconds = seconds or _M.SECONDS, slots = {}, changed = false }, History)
end

-- The slot of wall-clock second `now`, emptied if it last held an older second.
local function slot_at(self, now)
  local second = floor(now)
  local i = second % self.seconds
  local slot = self.slots[i]
  if not slot then
    slot = {}
    self.slots[i] = slot
  end
  if slot.at ~= second then
    slot.at, slot.tick_ms, slot.tick_cpu_ms, slot.ffi_ms, slot.ffi_call = second, 0, 0, 0, nil
  end
  return slot
end

-- ms: the tick's wall time; cpu_ms: its CPU time (optional).
function History:tick(now, ms, cpu_ms)
  local slot = slot_at(self, now)
  if cpu_ms and cpu_ms > slot.tick_cpu_ms then slot.tick_cpu_ms = cpu_ms end
  if ms > slot.tick_ms then
    slot.tick_ms = ms
    if ms >= _M.NOTABLE_TICK_MS then self.changed = true end
  end
end

function History:call(now, ms, name)
  local slot = slot_at(self, now)
  if ms > slot.ffi_ms then
    slot.ffi_ms, slot.ffi_call = ms, name
    if ms >= _M.NOTABLE_CALL_MS then self.changed = true end
  end
end

-- The seconds within the last `seconds` before `now` that saw a tick or a
-- call, oldest first: { { at, tick_ms, tick_cpu_ms, ffi_ms, ffi_call }, ... }. Clears
-- the changed flag: the caller writes it out.
function History:snapshot(now)
  local oldest = floor(now) - self.seconds + 1
  local out = {}
  for _, slot in pairs(self.slots) do
    if slot.at >= oldest then
      out[#out + 1] = { at = slot.at, tick_ms = slot.tick_ms, tick_cpu_ms = slot.tick_cpu_ms, ffi_ms = slot.ffi_ms,
                        ffi_call = slot.ffi_call }
    end
  end
  table.sort(out, function(a, b) return a.at < b.at end)
  self.changed = false
  return out
end

return _M
