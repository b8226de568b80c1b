-- bench/worker_heap.lua: what one nginx worker's Lua heap holds per Secret
-- once it has read every published header into its SNI index (the
-- worker's share of the node's memory per certificate, bench/README.md).
--
--   luajit bench/worker_heap.lua [COUNT]      (from the repository root)
--
-- No build and no nginx needed: the index and the header format are plain
-- Lua. COUNT synthetic Secrets (default 10,000) are published into an
-- in-memory dict (header lines as certsync.publisher writes them), each
-- naming HOST and *.HOST, half ECDSA, half RSA; then each header is read
-- back and set into a fresh index, as a worker's first load does
-- (certsync.core take()). Printed: collectgarbage("count") growth after a
-- full collection, per Secret, with the dict itself left out; then, so that
-- a smaller heap is not bought with a slower worker, the time of the load,
-- of a renewal of every Secret, and of the handshake path's lookup.
package.path = "./?.lua;./kong-plugin/?.lua;" .. package.path
local propagation = require "certsync.propagation"
local sni_index = require "certsync.sni_index"

local COUNT = tonumber(arg[1]) or 10000
local LOOKUPS = 2000000

-- The dict hands out a copy of what it stores, as ngx.shared does: a value
-- kept by the index must be counted, not shared with the dict's own copy.
-- Values are stored behind one byte and cut out on get, which makes a new
-- string each time (the stored one differs by that byte).
local dict = { data = {} }
function dict:get(key)
  local value = self.data[key]
  return value and value:sub(2) or nil
end

local function id_of(i) return string.format("certsync-bench/tls-%05d", i) end
local function host_of(i) return string.format("host-%05d.bench.test", i) end

local function publish(stamp)
  for i = 1, COUNT do
    local host = host_of(i)
    local change = {
      id = id_of(i), snis = host .. " *." .. host,
      serial = string.format("%040X", i * 7919 + stamp),
      not_before = 1800000000 + i, not_after = 1807776000 + i,
      key_type = (i % 2 == 0) and "RSA-2048" or "EC-P-256",
      observed_at = 1800000000.25 + i / 1000,
      cert_pem = string.rep("x", (i % 2 == 0) and 2900 or 1500),
    }
    dict.data[propagation.HEADER_PREFIX .. change.id] = "\0" .. propagation.encode_header(stamp, change)
  end
end

local function heap_kb()
  collectgarbage("collect")
  collectgarbage("collect")
  return collectgarbage("count")
end

local function now_ms() return os.clock() * 1000 end

-- As core.lua's take(): the header as published now, into the index.
local function load_all(index)
  for i = 1, COUNT do
    local id = id_of(i)
    local known = index.bundles[id]
    local header = propagation.header(dict, id)
    if not (known and sni_index.stamp_of(known) == header.stamp) then index:set(sni_index.record(header)) end
  end
end

publish(1)
local before = heap_kb()
local index = sni_index.new()
local started = now_ms()
load_all(index)
local load_ms = now_ms() - started
local after = heap_kb()
assert(index.count == COUNT, "every Secret is in the index")

-- A renewal of every Secret (new stamp and serial), one at a time.
publish(2)
started = now_ms()
load_all(index)
local renew_ms = now_ms() - started
local renewed = heap_kb()

-- The handshake path: exact names, wildcard matches and misses, mixed.
local queries = {}
for i = 1, 1000 do
  local n = (i * 37) % COUNT + 1
  queries[#queries + 1] = host_of(n)
  queries[#queries + 1] = "api." .. host_of(n)
  queries[#queries + 1] = "nowhere-" .. i .. ".test"
end
local lookup, names, served = sni_index.lookup, index.names, 0
started = now_ms()
for i = 1, LOOKUPS do
  if lookup(names, queries[i % #queries + 1]) then served = served + 1 end
end
local lookup_ns = (now_ms() - started) * 1e6 / LOOKUPS
assert(served > 0, "names are served")

print(string.format("Secrets: %d (2 names each, half RSA, half ECDSA)", COUNT))
print(string.format("Lua heap per Secret after the first load: %.3f KB (%.1f MB in all)",
                    (after - before) / COUNT, (after - before) / 1024))
print(string.format("Lua heap per Secret after renewing every one: %.3f KB", (renewed - before) / COUNT))
print(string.format("first load: %.1f ms (%.2f us per Secret); renewing all: %.1f ms (%.2f us per Secret)",
                    load_ms, load_ms * 1000 / COUNT, renew_ms, renew_ms * 1000 / COUNT))
print(string.format("lookup: %.0f ns per call (exact, wildcard and missing names mixed)", lookup_ns))
