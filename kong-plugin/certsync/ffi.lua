-- certsync.ffi: the only module that knows libcertsync's C names.
-- Everything above it speaks Lua values and `nil, err`.
local ffi = require "ffi"

local C_NULL = nil
local ffi_string = ffi.string
local ffi_gc = ffi.gc
local ffi_new = ffi.new
local ffi_copy = ffi.copy
local tonumber = tonumber
local pairs = pairs
local tostring = tostring

ffi.cdef(require "certsync.cdef")

local _M = {}

local lib -- the loaded libcertsync; dlopen shares one copy per process

local errbuf = ffi_new("char *[1]")
local lenbuf = ffi_new("size_t[1]")
local levelbuf = ffi_new("int[1]")

local function take_error(what)
  local msg = errbuf[0] ~= C_NULL and ffi_string(errbuf[0]) or "unknown error"
  if errbuf[0] ~= C_NULL then
    lib.certsync_free(errbuf[0])
    errbuf[0] = C_NULL
  end
  return what .. ": " .. msg
end

local function take_string(ptr)
  if ptr == C_NULL then return nil end
  local s = ffi_string(ptr, lenbuf[0])
  lib.certsync_free(ptr)
  return s
end

-- Finds libcertsync.so along package.cpath, as Lua finds C modules, unless an
-- explicit path is given. Returns the path or nil, err listing where it looked.
local function find_library(explicit)
  if explicit and explicit ~= "" then return explicit end
  local tried = {}
  for pattern in package.cpath:gmatch("[^;]+") do
    local candidate = pattern:gsub("%?", "libcertsync")
    local f = io.open(candidate, "rb")
    if f then
      f:close()
      return candidate
    end
    tried[#tried + 1] = candidate
  end
  return nil, "libcertsync.so not found along package.cpath (tried " .. table.concat(tried, ", ") ..
    "); install the certsync rock or set the library path"
end

-- Loads the library once per Lua VM. Returns true or nil, err. A library
-- preloaded from the default place gives way to an explicit path, as long
-- as no instance was made from it.
local loaded_path, instances_made = nil, false
function _M.load(explicit_path)
  if lib and (instances_made or not explicit_path or explicit_path == "" or explicit_path == loaded_path) then
    return true
  end
  local path, err = find_library(explicit_path)
  if not path then return nil, err end
  local ok, loaded = pcall(ffi.load, path)
  if not ok then return nil, "cannot load " .. path .. ": " .. tostring(loaded) end
  lib, loaded_path = loaded, path
  return true
end

-- The file the library was loaded from, or nil.
function _M.library_path() return loaded_path end

-- Loading the library maps it and what it links (libcurl and its own
-- dependencies): 60 ms measured, which would stall the event loop of the
-- worker that takes the lease, at start and again whenever the lease moves.
-- Called where the host loads its modules before nginx forks (Kong requires
-- plugin handlers in the master), every worker inherits it mapped. Nothing
-- runs in the library until an instance is made and started (no thread, no
-- curl_global_init), so the master and the `kong` CLI may load it safely.
-- Failing here is silent: the worker loads it (and says why not) itself.
function _M.preload(path)
  if not lib then pcall(_M.load, path) end
end

local Watcher = {}
Watcher.__index = Watcher

-- Creates a library instance from a table of string settings (see certsync.h).
-- Nothing runs until :start(). Returns the instance or nil, err.
function _M.new(settings)
  if not lib then return nil, "libcertsync is not loaded" end
  local cfg = ffi_gc(lib.certsync_config_new(), lib.certsync_config_free)
  if cfg == C_NULL then return nil, "out of memory" end
  for key, value in pairs(settings) do
    if lib.certsync_config_set(cfg, tostring(key), tostring(value), errbuf) ~= 0 then
      return nil, take_error("invalid setting " .. tostring(key))
    end
  end
  instances_made = true
  local handle = lib.certsync_new(cfg, errbuf)
  if handle == C_NULL then return nil, take_error("invalid configuration") end
  return setmetatable({ handle = ffi_gc(handle, lib.certsync_destroy) }, Watcher)
end

function Watcher:start()
  if lib.certsync_start(self.handle, errbuf) ~= 0 then return nil, take_error("start") end
  return true
end

-- Stops the watcher thread (within a second) and frees the instance now,
-- rather than whenever the garbage collector gets to it.
function Watcher:destroy()
  local handle = self.handle
  if handle == nil then return end
  self.handle = nil
  lib.certsync_destroy(ffi_gc(handle, nil))
end

function Watcher:generation()
  return tonumber(lib.certsync_generation(self.handle))
end

-- Wakes every worker waiting on the notify socket.
function Watcher:notify()
  lib.certsync_notify(self.handle)
end

-- A change set, read one change at a time: the library shares its bundles
-- with the set, so taking one is cheap whatever its size, and the caller
-- copies a bundle into Lua only when it gets to it (a full set of 10,000
-- Secrets is published over many ticks, not copied in one).
local ChangeSet = {}
ChangeSet.__index = ChangeSet

local view = ffi_new("certsync_bundle_t")

-- The id of change i (1-based), without copying its bundle.
function ChangeSet:id(i)
  lib.certsync_changes_get(self.handle, i - 1, view)
  return ffi_string(view.id, view.id_len)
end

-- Change i (1-based): { id, removed, snis, cert_pem, key_pem, serial,
-- not_before, not_after, key_type, observed_at (Unix seconds, fractional; 0
-- if unknown), cert_pem_len, key_pem_len }. With `without_pem`, cert_pem
-- and key_pem are left out (their lengths stay): the owner's publisher
-- takes them with :with_pem() straight into the value it stores, instead
-- of as two more strings per change for the garbage collector.
function ChangeSet:get(i, without_pem)
  lib.certsync_changes_get(self.handle, i - 1, view)
  local cert_len, key_len = tonumber(view.cert_pem_len), tonumber(view.key_pem_len)
  return {
    id = ffi_string(view.id, view.id_len),
    removed = view.removed == 1,
    snis = ffi_string(view.snis, view.snis_len),
    cert_pem = not without_pem and ffi_string(view.cert_pem, cert_len) or nil,
    key_pem = not without_pem and ffi_string(view.key_pem, key_len) or nil,
    cert_pem_len = cert_len,
    key_pem_len = key_len,
    serial = ffi_string(view.serial, view.serial_len),
    not_before = tonumber(view.not_before),
    not_after = tonumber(view.not_after),
    key_type = ffi_string(view.key_type, view.key_type_len),
    observed_at = tonumber(view.observed_at_ms) / 1000,
  }
end

-- One reusable buffer for :with_pem(), grown to the largest bundle seen.
local pem_buf, pem_buf_size = nil, 0

-- `prefix` followed by change i's certificate and key PEM, as one string:
-- the only copy of the PEM Lua makes. The view's PEM pointers hold only
-- until the next get on this set (the library unpacks the PEM into one
-- buffer per set, see certsync.h), so it is copied at once.
function ChangeSet:with_pem(i, prefix)
  lib.certsync_changes_get(self.handle, i - 1, view)
  local cert_len, key_len = tonumber(view.cert_pem_len), tonumber(view.key_pem_len)
  local total = #prefix + cert_len + key_len
  if total > pem_buf_size then
    pem_buf_size = math.max(total, 2 * pem_buf_size, 8192)
    pem_buf = ffi_new("char[?]", pem_buf_size)
  end
  ffi_copy(pem_buf, prefix, #prefix)
  ffi_copy(pem_buf + #prefix, view.cert_pem, cert_len)
  ffi_copy(pem_buf + #prefix + cert_len, view.key_pem, key_len)
  local value = ffi_string(pem_buf, total)
  ffi.fill(pem_buf + #prefix + cert_len, key_len) -- no key left behind in the buffer
  return value
end

-- Every change as a table (for small sets and tests).
function ChangeSet:all()
  local out = {}
  for i = 1, self.count do out[i] = self:get(i) end
  return out
end

-- Frees the library's side now rather than at the next garbage collection.
function ChangeSet:free()
  local handle = self.handle
  if handle == nil then return end
  self.handle = nil
  lib.certsync_changes_free(ffi_gc(handle, nil))
end

-- Returns a change set { generation, full, count, :id(i), :get(i), :all(), :free() }.
function Watcher:changes_since(generation)
  local set = lib.certsync_changes_since(self.handle, generation, errbuf)
  if set == C_NULL then return nil, take_error("changes") end
  set = ffi_gc(set, lib.certsync_changes_free)
  return setmetatable({
    handle = set,
    generation = tonumber(lib.certsync_changes_generation(set)),
    full = lib.certsync_changes_full(set) == 1,
    count = tonumber(lib.certsync_changes_count(set)),
  }, ChangeSet)
end

-- A status delta (certsync_status_since), read one Secret at a time.
local StatusDelta = {}
StatusDelta.__index = StatusDelta

local idbuf, idlenbuf = ffi_new("const char *[1]"), ffi_new("size_t[1]")
local jsonbuf, jsonlenbuf = ffi_new("const char *[1]"), ffi_new("size_t[1]")

-- Secret i (1-based): its id and its status JSON, or its id and nil when
-- the Secret is no longer known.
function StatusDelta:get(i)
  if lib.certsync_status_get(self.handle, i - 1, idbuf, idlenbuf, jsonbuf, jsonlenbuf) ~= 0 then return nil end
  local id = ffi_string(idbuf[0], idlenbuf[0])
  if jsonlenbuf[0] == 0 then return id, nil end
  return id, ffi_string(jsonbuf[0], jsonlenbuf[0])
end

function StatusDelta:free()
  local handle = self.handle
  if handle == nil then return end
  self.handle = nil
  lib.certsync_status_free(ffi_gc(handle, nil))
end

-- The status with only the Secrets whose status changed after `version`
-- (0: all): { version, full, summary (JSON: generation, synced, watchers,
-- ...), count, :get(i), :free() }, or nil, err.
function Watcher:status_since(version)
  local st = lib.certsync_status_since(self.handle, version, errbuf)
  if st == C_NULL then return nil, take_error("status") end
  st = ffi_gc(st, lib.certsync_status_free)
  local summary = lib.certsync_status_summary(st, lenbuf)
  return setmetatable({
    handle = st,
    version = tonumber(lib.certsync_status_version(st)),
    full = lib.certsync_status_full(st) == 1,
    summary = ffi_string(summary, lenbuf[0]),
    count = tonumber(lib.certsync_status_count(st)),
  }, StatusDelta)
end

local versionbuf = ffi_new("uint64_t[1]")

-- The cert-manager Certificates (a JSON array, see certsync.h) when they
-- changed since `known`, and the version to pass next time; nil and the
-- version when nothing changed.
function Watcher:certificates_json(known)
  local text = take_string(lib.certsync_certificates_json(self.handle, known or 0, versionbuf, lenbuf))
  return text, tonumber(versionbuf[0])
end

function Watcher:status_json()
  return take_string(lib.certsync_status_json(self.handle, lenbuf))
end

-- The oldest queued log record: level (a syslog number, 3 error … 7
-- debug) and message, or nil when the queue is empty.
function Watcher:pop_log()
  local msg = take_string(lib.certsync_log_pop(self.handle, levelbuf, lenbuf))
  if not msg then return nil end
  return levelbuf[0], msg
end

return _M
