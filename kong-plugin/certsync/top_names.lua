-- certsync.top_names: the names seen most often in a stream, kept in a
-- table of at most `limit` names, at O(1) per name seen.
--
-- The stream is client-controlled (server names of TLS handshakes), so the
-- table must stay bounded whatever clients send, and a table that simply
-- stops taking names once full would miss the name that starts failing
-- tomorrow. This is Space-Saving (Metwally, Agrawal, El Abbadi, "Efficient
-- Computation of Frequent and Top-k Elements in Data Streams", 2005): when
-- the table is full, a new name takes the place of the name with the
-- smallest count and inherits that count as its `error` (its count is then
-- at most `error` too high). Any name seen more often than 1/limit of all
-- hits is guaranteed to be in the table, so heavy hitters survive a flood of
-- one-off names, and each flood name only pushes out another small one.
--
-- Finding the smallest count in O(1): the "stream summary". Names with equal
-- counts share a bucket; buckets form a list ordered by count, lowest first.
-- A hit moves a name from its bucket (count c) to the next one (c + 1),
-- creating it when missing; the lowest bucket is always `self.low`. Within a
-- bucket names are in arrival order, so the one replaced is the one that has
-- had the smallest count the longest.
--
-- What is reported is exact, never an estimate: `count - error` is how many
-- hits a name had since it (last) entered the table, and `other()` counts
-- every hit not attributed to a listed name, so the listed counts plus
-- other() are all hits.
local sort = table.sort
local setmetatable = setmetatable
local pairs = pairs

local _M = {}

local Top = {}
Top.__index = Top

function _M.new(limit)
  return setmetatable({
    limit = limit,
    size = 0,       -- names in the table
    hits = 0,       -- every name seen, listed or not
    by_name = {},   -- name -> entry { name, error, last_seen, bucket, prev, next }
    low = nil,      -- the bucket of the smallest count: { count, head, tail, up, down }
  }, Top)
end

-- Takes `entry` out of its bucket; an emptied bucket leaves the list.
local function detach(self, entry)
  local bucket = entry.bucket
  if entry.prev then entry.prev.next = entry.next else bucket.head = entry.next end
  if entry.next then entry.next.prev = entry.prev else bucket.tail = entry.prev end
  entry.prev, entry.next, entry.bucket = nil, nil, nil
  if not bucket.head then
    if bucket.down then bucket.down.up = bucket.up else self.low = bucket.up end
    if bucket.up then bucket.up.down = bucket.down end
  end
end

local function append(bucket, entry)
  entry.bucket = bucket
  entry.prev = bucket.tail
  if bucket.tail then bucket.tail.next = entry else bucket.head = entry end
  bucket.tail = entry
end

-- The bucket of `count` right above `below` (nil: at the bottom), made if missing.
local function bucket_above(self, below, count)
  local above
  if below then above = below.up else above = self.low end
  if above and above.count == count then return above end
  local bucket = { count = count, up = above, down = below }
  if above then above.down = bucket end
  if below then below.up = bucket else self.low = bucket end
  return bucket
end

local function increment(self, entry)
  local from = entry.bucket
  local to = bucket_above(self, from, from.count + 1)
  detach(self, entry)
  append(to, entry)
end

-- One more hit for `name` at time `now`.
function Top:hit(name, now)
  self.hits = self.hits + 1
  local entry = self.by_name[name]
  if entry then
    entry.last_seen = now
    return increment(self, entry)
  end
  if self.size < self.limit then
    entry = { name = name, error = 0, last_seen = now }
    self.by_name[name] = entry
    self.size = self.size + 1
    return append(bucket_above(self, nil, 1), entry)
  end
  local low = self.low
  if not low then return end -- limit 0: counted in other() only
  -- Full: the new name replaces the oldest name of the smallest count.
  entry = low.head
  self.by_name[entry.name] = nil
  entry.name, entry.error, entry.last_seen = name, low.count, now
  self.by_name[name] = entry
  increment(self, entry)
end

-- Keeps at most `limit` names from now on, dropping the smallest first.
function Top:resize(limit)
  self.limit = limit
  while self.size > limit do
    local entry = self.low.head
    detach(self, entry)
    self.by_name[entry.name] = nil
    self.size = self.size - 1
  end
end

-- The listed names, most hits first (then by name): { { name, count, last_seen } }.
function Top:entries()
  local out = {}
  for name, entry in pairs(self.by_name) do
    out[#out + 1] = { name = name, count = entry.bucket.count - entry.error, last_seen = entry.last_seen }
  end
  sort(out, function(a, b)
    if a.count ~= b.count then return a.count > b.count end
    return a.name < b.name
  end)
  return out
end

-- Hits not attributed to a listed name: those of names no longer (or never)
-- in the table, and those a listed name had before it last entered it.
function Top:other()
  local listed = 0
  for _, entry in pairs(self.by_name) do listed = listed + entry.bucket.count - entry.error end
  return self.hits - listed
end

return _M
