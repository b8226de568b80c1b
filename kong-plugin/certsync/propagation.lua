-- certsync.propagation: how the owner's publications reach every worker
-- through the shared dict, at any scale.
--
-- Keys:
--   "b:<namespace>/<name>"  the bundle: its header lines, then the
--                           certificate and key PEM (read when a worker
--                           parses it, on its first handshake for a name)
--   "h:<namespace>/<name>"  the same header lines alone: what a worker
--                           reads per Secret to serve it. It keeps less in
--                           memory: the stamp, notBefore, the key's kind
--                           and the names (certsync.sni_index's record);
--                           the rest it reads again when it parses the
--                           bundle
--   "c:<generation>"        the ids that publication changed, one per line,
--                           after a first line "full" (a slice of a full
--                           set: a first list or a relist) or "delta"
--   "gen"                   the published generation
--   "synced"                the generation that completed the last full
--                           set: until then the node has not seen the whole
--                           truth of the API server, whatever "gen" says
--   "owned"                 set once a worker has owned the watcher: a later
--                           owner (a crash, a reload) inherits what it wrote
--                           and must read it once; the first owner need not
-- A publication writes its bundles, headers and change log before it
-- raises "gen", so a worker that sees a new "gen" finds everything it
-- names. A worker reads only the change logs between its generation and
-- "gen", and the headers they name: converging costs what changed, not
-- what is stored. Only when the logs it needs are gone (it was stopped for
-- longer than LOG_KEEP publications) does it read every header.
--
-- The writing side is certsync.publisher; this module is the format and
-- the worker's side.
local ffi = require "ffi"
local concat = table.concat
local tonumber = tonumber
local sub = string.sub
local find = string.find

local _M = {}

_M.BUNDLE_PREFIX = "b:"
_M.HEADER_PREFIX = "h:"
_M.LOG_PREFIX = "c:"
_M.GEN_KEY = "gen"
_M.SYNCED_KEY = "synced"
_M.OWNED_KEY = "owned"  -- set by the node's first owner: from then on an owner inherits what others wrote
_M.LOG_KEEP = 1024  -- publications whose change log stays in the dict

pcall(ffi.cdef, "int memcmp(const void *s1, const void *s2, size_t n);")

local BUNDLE_PREFIX, HEADER_PREFIX, LOG_PREFIX = _M.BUNDLE_PREFIX, _M.HEADER_PREFIX, _M.LOG_PREFIX
local HEADER_LINES = 9

-- The header: stamp, observed_at, id, snis, serial, notBefore, notAfter,
-- key type, certificate PEM length; each line ends in "\n". The first two
-- say when, not what: body() leaves them out.
-- A change's PEM may be left out (certsync.ffi's get(i, true)): then its
-- lengths say how long it is.
local function cert_len(change)
  return change.cert_pem and #change.cert_pem or change.cert_pem_len
end

function _M.encode_header(stamp, change)
  return concat({ stamp, change.observed_at or 0, change.id, change.snis, change.serial, change.not_before or 0,
                  change.not_after, change.key_type or "", cert_len(change), "" }, "\n")
end

function _M.encode(stamp, change)
  return _M.encode_header(stamp, change) .. change.cert_pem .. change.key_pem
end

-- Where a value's body starts: after its first two lines.
local function body_start(value)
  local first = find(value, "\n", 1, true)
  local second = first and find(value, "\n", first + 1, true)
  return second and second + 1 or 1
end

-- What a value says apart from when (its stamp, and when the watcher saw
-- it): two values with the same body publish the same thing, whichever
-- owner wrote them.
function _M.body(value)
  return sub(value, body_start(value))
end

-- Whether two values have the same body, without copying either body (a
-- relist compares every bundle with the one in the dict).
function _M.same_body(a, b)
  local from_a, from_b = body_start(a), body_start(b)
  local len = #a - from_a + 1
  if len ~= #b - from_b + 1 then return false end
  return ffi.C.memcmp(ffi.cast("const char *", a) + from_a - 1, ffi.cast("const char *", b) + from_b - 1, len) == 0
end

-- The header's fields, and where the PEM starts; nil when malformed.
local function decode_header(value)
  local fields, pos = {}, 1
  for i = 1, HEADER_LINES do
    local nl = find(value, "\n", pos, true)
    if not nl then return nil end
    fields[i] = sub(value, pos, nl - 1)
    pos = nl + 1
  end
  local cert_len = tonumber(fields[9])
  if not cert_len then return nil end
  return {
    stamp = tonumber(fields[1]),
    observed_at = tonumber(fields[2]) or 0,
    id = fields[3],
    snis = fields[4], -- "name name ...": split by whoever needs the names
    serial = fields[5],
    not_before = tonumber(fields[6]),
    not_after = tonumber(fields[7]),
    key_type = fields[8],
    cert_len = cert_len,
  }, pos
end
_M.decode_header = decode_header

-- A bundle's header fields plus cert_pem and key_pem; nil when malformed.
function _M.decode(value)
  local bundle, pos = decode_header(value)
  if not bundle then return nil end
  bundle.cert_pem = sub(value, pos, pos + bundle.cert_len - 1)
  bundle.key_pem = sub(value, pos + bundle.cert_len)
  return bundle
end

-- The size a change takes in the dict, for sizing advice.
function _M.encoded_size(change)
  local header = #_M.encode_header(0, change)
  return 2 * header + cert_len(change) + (change.key_pem and #change.key_pem or change.key_pem_len)
end

function _M.published_generation(dict)
  return dict:get(_M.GEN_KEY) or 0
end

-- A change log entry: `kind` ("full" or "delta") and the ids.
function _M.encode_log(kind, ids)
  return kind .. "\n" .. concat(ids, "\n")
end

-- The ids publication `generation` changed and whether it was a slice of
-- a full set, or nil when its log is gone.
function _M.changed_ids(dict, generation)
  local text = dict:get(LOG_PREFIX .. generation)
  if not text then return nil end
  local ids, kind = {}, nil
  for line in text:gmatch("[^\n]+") do
    if kind then ids[#ids + 1] = line else kind = line end
  end
  return ids, kind == "full"
end

-- The header of `id` as published now, or nil (not published, or removed).
function _M.header(dict, id)
  local value = dict:get(HEADER_PREFIX .. id)
  return value and decode_header(value) or nil
end

-- The whole bundle of `id` as published now (with its PEM), or nil.
function _M.bundle(dict, id)
  local value = dict:get(BUNDLE_PREFIX .. id)
  return value and _M.decode(value) or nil
end

-- Every published id (reads every key of the dict: for a worker that lost
-- track, the owner taking over, and the operator's status).
function _M.published_ids(dict)
  local ids = {}
  for _, key in ipairs(dict:get_keys(0)) do
    if sub(key, 1, #HEADER_PREFIX) == HEADER_PREFIX then ids[#ids + 1] = sub(key, #HEADER_PREFIX + 1) end
  end
  return ids
end

return _M
