-- certsync.log_limiter: an error that repeats (an API server down, a dict
-- that is full) is logged once per window, and the next line says how many
-- like it were held back, so a log stays readable and nothing is lost
-- silently. Messages that differ only in their numbers count as the same
-- (libcurl says "after 0 ms" one time and "after 1 ms" the next).
local _M = {}

local MAX_TRACKED = 256  -- distinct messages remembered; beyond that the oldest is forgotten

local Limiter = {}
Limiter.__index = Limiter

-- emit(level, message): where lines go; window: seconds.
function _M.new(emit, window)
  return setmetatable({ emit = emit, window = window, seen = {}, order = {} }, Limiter)
end

local function held_back_note(entry, window)
  return " (" .. entry.suppressed .. " more like this held back in the last " .. window .. " s)"
end

local function same_kind(message)
  return (message:gsub("%d+", "#"))
end

function Limiter:log(level, message, now)
  local kind = same_kind(message)
  local entry = self.seen[kind]
  if entry and now - entry.since < self.window then
    entry.suppressed = entry.suppressed + 1
    return false
  end
  local note = entry and entry.suppressed > 0 and held_back_note(entry, self.window) or ""
  if not entry then
    if #self.order >= MAX_TRACKED then self.seen[table.remove(self.order, 1)] = nil end
    self.order[#self.order + 1] = kind
  end
  self.seen[kind] = { since = now, suppressed = 0, level = level, message = message }
  self.emit(level, message .. note)
  return true
end

-- Says what was held back for messages that have not come again in a whole
-- window, so the count is not lost when a problem stops.
function Limiter:flush(now)
  for _, kind in ipairs(self.order) do
    local entry = self.seen[kind]
    if entry.suppressed > 0 and now - entry.since >= self.window then
      self.emit(entry.level, entry.message .. held_back_note(entry, self.window))
      entry.since, entry.suppressed = now, 0
    end
  end
end

return _M
