-- certsync.core: the host-agnostic plugin, for Kong and for plain nginx with
-- lua-nginx-module alike.
--
--   init_worker_by_lua_block   { require("certsync.core").init_worker(settings) }
--   ssl_certificate_by_lua_block { require("certsync.core").certificate() }
--
-- One worker per node holds a lease in the shared dict and runs the
-- library's watcher; it publishes accepted bundles into the dict. Every
-- worker polls the dict from a timer, parses what changed once, and serves
-- it from a per-worker index in the certificate phase.
local ssl = require "ngx.ssl"
local certsync_ffi = require "certsync.ffi"
local propagation = require "certsync.propagation"
local sni_index = require "certsync.sni_index"

local ngx = ngx
local ngx_log = ngx.log
local ERR, WARN, NOTICE, INFO, DEBUG = ngx.ERR, ngx.WARN, ngx.NOTICE, ngx.INFO, ngx.DEBUG
local server_name = ssl.server_name
local clear_certs = ssl.clear_certs
local set_cert = ssl.set_cert
local set_priv_key = ssl.set_priv_key
local lookup = sni_index.lookup

local _M = { _VERSION = "0.1.0" }

local DICT_NAME = "certsync"
local LEASE_KEY = "owner"
local STATUS_KEY = "status"
local LEASE_TTL = 5           -- seconds a silent owner keeps the watcher before another worker takes over
local STATUS_EVERY = 1        -- seconds between status publications
local RETRY_AFTER = 10        -- seconds before retrying a watcher that could not be created
local DEFAULT_INTERVAL = 0.2  -- seconds between ticks unless settings.poll_interval says otherwise
local MAX_LOGS_PER_TICK = 200

local LEVELS = { [3] = ERR, [4] = WARN, [5] = NOTICE, [6] = INFO, [7] = DEBUG }

-- nginx workers lose the environment unless it is declared (`env` directive,
-- Kong's `nginx_main_env`). Kong requires plugin modules in the master, where
-- it is still intact: remember the in-cluster address now, hand it to the
-- library explicitly later.
local IN_CLUSTER_HOST = os.getenv("KUBERNETES_SERVICE_HOST")
local IN_CLUSTER_PORT = os.getenv("KUBERNETES_SERVICE_PORT")

-- Per-worker state. Only the timer writes it; the certificate phase reads `index`.
local state = {
  settings = nil,          -- what the library is configured with (strings)
  settings_key = nil,      -- canonical form of `settings`, to notice a change
  lib_path = nil,
  watcher = nil,           -- the library instance, in the owning worker only
  watcher_key = nil,       -- settings_key the watcher was created with
  published_lib_gen = 0,   -- library generation last published to the dict
  retry_at = 0,
  start_error = nil,       -- the last reason the watcher could not start, logged once
  start_attempts = 0,      -- failed starts in a row, shown in the status
  interval = DEFAULT_INTERVAL,
  status_at = 0,
  local_gen = -1,          -- dict generation this worker serves
  bundles = {},            -- id -> { stamp, snis, serial, not_after, cert, key }
  conflicts = {},
}
local index = {}           -- server name -> bundle; replaced whole, never mutated

-- What the host tells operators to change when a prerequisite is missing
-- (plain nginx directives by default; the Kong handler passes kong.conf lines).
local fixes = {
  shared_dict = "add `lua_shared_dict " .. DICT_NAME .. " 16m;` to the http block",
  explain = function() return nil end, -- start error -> the fix, or nil
}

local function log(level, ...)
  ngx_log(level, "[certsync] ", ...)
end

-- A JSON string literal (status output is built by hand: no JSON library is assumed).
local function json_string(s)
  return '"' .. tostring(s):gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function canonical(settings)
  local keys = {}
  for k in pairs(settings) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. tostring(settings[k]) end
  return table.concat(parts, "\n")
end

local function hold_lease(dict, pid)
  if dict:add(LEASE_KEY, pid, LEASE_TTL) then return true end
  if dict:get(LEASE_KEY) == pid then
    dict:set(LEASE_KEY, pid, LEASE_TTL)
    return true
  end
  return false
end

local function stop_watcher(dict, reason)
  if not state.watcher then return end
  state.watcher:destroy()
  state.watcher = nil
  state.watcher_key = nil
  state.published_lib_gen = 0
  if dict and dict:get(LEASE_KEY) == ngx.worker.pid() then dict:delete(LEASE_KEY) end
  log(INFO, "watcher stopped in worker ", ngx.worker.pid(), ": ", reason)
end

local function drain_logs(watcher)
  watcher:drain_logs(MAX_LOGS_PER_TICK, function(level, message)
    log(LEVELS[level] or NOTICE, message)
  end)
end

local function start_watcher(dict)
  local ok, err = certsync_ffi.load(state.lib_path)
  if ok then
    state.watcher, err = certsync_ffi.new(state.settings)
    if state.watcher then ok, err = state.watcher:start() end
  end
  if not ok or not state.watcher then
    if state.watcher then state.watcher:destroy() end
    state.watcher = nil
    state.retry_at = ngx.now() + RETRY_AFTER
    local fix = fixes.explain(err)
    if fix then err = err .. "; to fix: " .. fix end
    state.start_attempts = state.start_attempts + 1
    dict:set(STATUS_KEY, string.format('{"error":%s,"failed_starts":%d,"retry_in_seconds":%d}',
      json_string(err), state.start_attempts, RETRY_AFTER))
    -- Once per distinct reason, not every retry: one clear line in the log.
    if err ~= state.start_error then
      log(ERR, "cannot start the watcher: ", err, "; the host's own certificates keep serving",
          " (retrying every ", RETRY_AFTER, " s)")
      state.start_error = err
    end
    return
  end
  state.watcher_key = state.settings_key
  state.start_error = nil
  state.start_attempts = 0
  log(NOTICE, "watcher started in worker ", ngx.worker.pid())
end

-- The owner's share of a tick: keep the watcher matching the settings and
-- publish what the library accepted.
local function own(dict)
  if state.watcher and state.watcher_key ~= state.settings_key then
    stop_watcher(nil, "settings changed")
  end
  if not state.watcher then
    if ngx.now() < state.retry_at then return end
    start_watcher(dict)
    if not state.watcher then return end
  end
  local watcher = state.watcher
  drain_logs(watcher)
  if watcher:generation() ~= state.published_lib_gen then
    local set, err = watcher:changes_since(state.published_lib_gen)
    if set then
      local published
      published, err = propagation.publish(dict, set)
      if published then state.published_lib_gen = set.generation end
    end
    if err then log(ERR, err) end
  end
  local now = ngx.now()
  if now >= state.status_at then
    state.status_at = now + STATUS_EVERY
    dict:set(STATUS_KEY, watcher:status_json())
  end
end

local function parse_bundle(bundle)
  local cert, err = ssl.parse_pem_cert(bundle.cert_pem)
  if not cert then return nil, "certificate: " .. tostring(err) end
  local key
  key, err = ssl.parse_pem_priv_key(bundle.key_pem)
  if not key then return nil, "private key: " .. tostring(err) end
  return { stamp = bundle.stamp, id = bundle.id, snis = bundle.snis, serial = bundle.serial,
           not_before = bundle.not_before, not_after = bundle.not_after, key_type = bundle.key_type,
           cert = cert, key = key }
end

-- Every worker's share of a tick: converge on the published generation.
local function converge(dict)
  local gen = propagation.published_generation(dict)
  if gen == state.local_gen then return end
  state.bundles = propagation.collect(dict, state.bundles, parse_bundle, function(id, err)
    log(ERR, id, ": cannot be loaded in this worker (", err, "); keeping what it served before")
  end)
  local conflicts
  index, conflicts = sni_index.build(state.bundles)
  for _, c in ipairs(conflicts) do
    log(WARN, "server name ", c.sni, " is claimed by ", c.winner, " and ", c.loser, "; serving ", c.winner)
  end
  state.conflicts = conflicts
  state.local_gen = gen
end

local function work(dict)
  if hold_lease(dict, ngx.worker.pid()) then
    own(dict)
  elseif state.watcher then
    stop_watcher(nil, "another worker holds the lease")
  end
  converge(dict)
end

-- One tick re-arms the next, so that a reconfiguration can change the interval.
local function tick(premature)
  local dict = ngx.shared[DICT_NAME]
  if premature then
    -- Graceful reload or quit: stop the thread before the worker exits.
    stop_watcher(dict, "worker exiting")
    return
  end
  if state.settings then
    local ok, err = pcall(work, dict)
    if not ok then log(ERR, "tick failed: ", err) end
  end
  local ok, err = ngx.timer.at(state.interval, tick)
  if not ok and err ~= "process exiting" then
    log(ERR, "cannot schedule the next tick (", err, "): this worker stops following changes")
  end
end

-- settings: { server, ca_file, token_file, namespace, deletion_policy, ... }
-- (strings, see certsync.h) plus `lib_path` (optional) and `poll_interval`
-- (seconds, default 0.2). May be nil and given later through configure().
-- host_fixes (optional): { shared_dict = "what to add", explain = function(err) }
-- so that a missing prerequisite names the host's own fix.
function _M.init_worker(settings, host_fixes)
  if host_fixes then
    fixes.shared_dict = host_fixes.shared_dict or fixes.shared_dict
    fixes.explain = host_fixes.explain or fixes.explain
  end
  if not ngx.shared[DICT_NAME] then
    log(ERR, "no shared dict \"", DICT_NAME, "\": ", fixes.shared_dict,
        "; the host's own certificates keep serving")
    return nil, "no shared dict"
  end
  _M.configure(settings)
  -- Serve what the node already has before the first handshake reaches this
  -- worker: after a reload the shared dict still holds every bundle, and a
  -- new worker must not answer with the host's certificate meanwhile.
  local ok, err = pcall(converge, ngx.shared[DICT_NAME])
  if not ok then log(ERR, "cannot load the published certificates: ", err) end
  ok, err = ngx.timer.at(0, tick)
  if not ok then
    log(ERR, "cannot start the timer: ", err)
    return nil, err
  end
  return true
end

-- (Re)configures; nil stops watching (e.g. the plugin was removed) but keeps
-- serving what was already accepted.
function _M.configure(settings)
  local dict = ngx.shared[DICT_NAME]
  if not dict then return end -- init_worker has said why
  if not settings then
    state.settings, state.settings_key = nil, nil
    stop_watcher(dict, "not configured")
    return
  end
  local previous_key = state.settings_key
  local lib_settings = {}
  for k, v in pairs(settings) do
    if k ~= "lib_path" and k ~= "poll_interval" then lib_settings[k] = tostring(v) end
  end
  if lib_settings.in_cluster == "true" then
    lib_settings.in_cluster_host = lib_settings.in_cluster_host or IN_CLUSTER_HOST
    lib_settings.in_cluster_port = lib_settings.in_cluster_port or IN_CLUSTER_PORT
  end
  state.settings = lib_settings
  state.settings_key = canonical(lib_settings)
  state.lib_path = settings.lib_path
  state.interval = tonumber(settings.poll_interval) or DEFAULT_INTERVAL
  if state.settings_key ~= previous_key then state.retry_at = 0 end
end

-- The certificate phase. Leaves the host's certificate alone unless a
-- watched Secret covers the requested name.
function _M.certificate()
  local name = server_name()
  if not name then return end
  local entry = lookup(index, name)
  if not entry then return end
  local first, second = entry.first, entry.second
  local ok, err = clear_certs()
  if ok then ok, err = set_cert(first.cert) end
  if ok then ok, err = set_priv_key(first.key) end
  -- An RSA certificate beside an ECDSA one: OpenSSL picks per client.
  if ok and second then
    ok, err = set_cert(second.cert)
    if ok then ok, err = set_priv_key(second.key) end
  end
  if not ok then
    -- This handshake is lost (Kong's certificate is cleared already); keep the
    -- next ones from failing the same way: this worker stops using the bundle.
    log(ERR, "cannot serve ", first.id, " for ", name, ": ", err, "; this worker stops serving it")
    local remaining = {}
    for id, bundle in pairs(state.bundles) do
      if bundle ~= first and bundle ~= second then remaining[id] = bundle end
    end
    index = sni_index.build(remaining)
  end
end

-- What this worker serves, and the watcher's status as the owner last published it.
function _M.status_json()
  local dict = ngx.shared[DICT_NAME]
  local serving = {}
  for id, b in pairs(state.bundles) do
    serving[#serving + 1] = string.format('{"id":%s,"serial":%s,"not_after":%d}',
      json_string(id), json_string(b.serial), b.not_after or 0)
  end
  local conflicts = {}
  for _, c in ipairs(state.conflicts) do
    conflicts[#conflicts + 1] = string.format('{"sni":%s,"winner":%s,"loser":%s}',
      json_string(c.sni), json_string(c.winner), json_string(c.loser))
  end
  return string.format(
    '{"worker":{"pid":%d,"generation":%d,"serving":[%s],"conflicts":[%s]},"owner_pid":%s,"library":%s}',
    ngx.worker.pid(), state.local_gen, table.concat(serving, ","), table.concat(conflicts, ","),
    tostring(dict and dict:get(LEASE_KEY) or "null"), dict and dict:get(STATUS_KEY) or "null")
end

return _M
