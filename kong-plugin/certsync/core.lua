-- certsync.core: the host-agnostic plugin, for Kong and for plain nginx with
-- lua-nginx-module alike.
--
--   init_worker_by_lua_block   { require("certsync.core").init_worker(settings) }
--   ssl_certificate_by_lua_block { require("certsync.core").certificate() }
--
-- One worker per node holds a lease in the shared dict and runs the
-- library's watcher; it publishes accepted bundles into the dict
-- (certsync.publisher), a slice at a time. Every worker follows the dict's
-- change log from a timer (woken at once through the owner's notify
-- socket, polling as the safety net), keeps what changed in a per-worker
-- index, and serves it in the certificate phase, parsing a certificate on
-- the first handshake that needs it (or at once when few changed, or when
-- it replaces one in use).
--
-- For operators (any worker answers for the node): status() / status_json(),
-- ready(), metrics(), and the content handlers serve_status(), serve_ready(),
-- serve_metrics() (see certsync.status, certsync.readiness, certsync.metrics).
local ssl = require "ngx.ssl"
local certsync_ffi = require "certsync.ffi"
local json = require "certsync.json"
local log_limiter = require "certsync.log_limiter"
local metrics = require "certsync.metrics"
local metrics_registry = require "certsync.metrics_registry"
local clock = require "certsync.clock"
local gc_pace = require "certsync.gc_pace"
local propagation = require "certsync.propagation"
local publisher_module = require "certsync.publisher"
local status_feed = require "certsync.status_feed"
local hold_history = require "certsync.hold_history"
local readiness = require "certsync.readiness"
local sni_index = require "certsync.sni_index"
local status = require "certsync.status"
local uncovered = require "certsync.uncovered"
local unpublished = require "certsync.unpublished"
local worker_report = require "certsync.worker_report"

local ngx = ngx
local ngx_log = ngx.log
local ERR, WARN, NOTICE, INFO, DEBUG = ngx.ERR, ngx.WARN, ngx.NOTICE, ngx.INFO, ngx.DEBUG
local server_name = ssl.server_name
local clear_certs = ssl.clear_certs
local set_cert = ssl.set_cert
local set_priv_key = ssl.set_priv_key
local lookup = sni_index.lookup
local id_of = sni_index.id_of
local ngx_now = ngx.now

local _M = { _VERSION = "0.1.0" }

local DICT_NAME = "certsync"
local LEASE_KEY = status.OWNER_KEY
local STATUS_KEY = status.LIBRARY_KEY
local STATUS_AT_KEY = status.LIBRARY_AT_KEY
local LEASE_TTL = 5           -- seconds (at least) a silent owner keeps the watcher before another worker takes over
local STATUS_EVERY = 1        -- seconds between status publications
local RETRY_AFTER = 10        -- seconds before retrying a watcher that could not be created
local DEFAULT_INTERVAL = 0.2  -- seconds between ticks unless settings.poll_interval says otherwise
local MAX_LOGS_PER_TICK = 200
local LOG_WINDOW = 60         -- seconds an error like one just logged is held back
local SLICE_MS = 2            -- milliseconds of publishing at most before the owner yields to the event loop
local EAGER_PARSE_MAX = 64    -- a converge naming at most this many bundles parses them at once
local WAKE_RECONNECT = 1      -- seconds between attempts to reach the owner's notify socket
local MAX_WAIT = 1            -- seconds a worker waits at most before looking whether it is exiting
local MAX_SOCKET_PATH = 107   -- bytes in a Unix socket path (sun_path, NUL excluded)
local LUA_KB_REPORT_STEP = 1024 -- KB the Lua heap (or its peak) moves before the worker's record is rewritten

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
  failing_since = nil,     -- when the watcher first failed to start, in this run of failures
  watch_down_bound = readiness.DEFAULT_WATCH_DOWN_SECONDS,
  interval = DEFAULT_INTERVAL,
  notify_path = nil,       -- the owner's notify socket, which every worker waits on between ticks
  status_at = 0,           -- when the library's status is copied next
  metrics_at = 0,          -- when the node's metrics are rebuilt next
  feed = nil,              -- certsync.status_feed, in the owner
  local_gen = -1,          -- dict generation this worker serves
  converged_at = nil,      -- when it started serving local_gen
  failed = {},             -- id -> serial of bundles this worker could not load
  report_due = false,      -- the worker's report must be written again (a load failed)
  conflicts = {},
  conflicts_logged = {},   -- "sni\0loser" -> true: each conflict is logged once
  registry = nil,          -- certsync's own metrics registry (certsync.metrics_registry)
  publisher = nil,         -- certsync.publisher, in the owner
  longest = { tick_ms = 0, ffi_ms = 0, ffi_call = nil }, -- the longest this worker held its event loop
  longest_reported = {},
  holds = hold_history.new(), -- the longest tick and library call of each of the last 60 seconds
  holds_written_at = 0,    -- when `holds` was last written to the dict
  behind = false,          -- converge stopped short of the published generation (it resumes at once)
  pending = nil,           -- { generation, ids, next, eager }: a publication taken up to ids[next - 1]
  uncovered_limit = uncovered.DEFAULT_LIMIT, -- names of uncovered handshakes kept (settings.uncovered_names_max)
  uncovered_at = 0,        -- when this worker's uncovered handshakes may be reported next
  uncovered_written = -1,  -- the count last reported (-1: not yet by this process)
}
-- Server name -> what to serve (certsync.sni_index); the certificate phase
-- reads `names`, the timer updates it one bundle at a time.
local index = sni_index.new()
local names = index.names
local shared_dict -- ngx.shared.certsync, once init_worker found it
-- The handshakes this worker answered with the host's certificate
-- (certsync.uncovered): the certificate phase counts, the timer reports.
local recorder = uncovered.new(uncovered.DEFAULT_LIMIT, 0)

-- What the host tells operators to change when a prerequisite is missing
-- (plain nginx directives by default; the Kong handler passes kong.conf lines).
local fixes = {
  shared_dict = "add `lua_shared_dict " .. DICT_NAME .. " 16m;` to the http block",
  explain = function() return nil end, -- start error -> the fix, or nil
}

local limiter = log_limiter.new(function(level, message) ngx_log(level, "[certsync] ", message) end, LOG_WINDOW)

-- Errors go through the limiter: one that repeats is logged once a minute
-- with a count. Warnings (a refused Secret, a conflict) and lower are logged
-- as they come: each names its own Secret and version.
local function log(level, ...)
  if level <= ERR then
    local parts = { ... }
    for i = 1, select("#", ...) do parts[i] = tostring(parts[i]) end
    limiter:log(level, table.concat(parts), ngx.now())
  else
    ngx_log(level, "[certsync] ", ...)
  end
end

local function canonical(settings)
  local keys = {}
  for k in pairs(settings) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. tostring(settings[k]) end
  return table.concat(parts, "\n")
end

-- The lease outlives a few ticks, however long the poll interval is set:
-- an owner must renew it before it runs out, or ownership would flip.
local function lease_ttl()
  return math.max(LEASE_TTL, 3 * state.interval)
end

local function hold_lease(dict, pid)
  if dict:safe_add(LEASE_KEY, pid, lease_ttl()) then return true end
  if dict:get(LEASE_KEY) == pid then
    dict:safe_set(LEASE_KEY, pid, lease_ttl())
    return true
  end
  return false
end

local function stop_watcher(dict, reason)
  if not state.watcher then return end
  -- The lease goes first: destroying the watcher closes the other workers'
  -- connections to its notify socket, which makes them look for it at once.
  if dict and dict:get(LEASE_KEY) == ngx.worker.pid() then dict:delete(LEASE_KEY) end
  state.watcher:destroy()
  state.watcher = nil
  state.watcher_key = nil
  state.published_lib_gen = 0
  -- The next watcher of this worker (or another worker's) starts over from
  -- what the dict holds then.
  if state.publisher then state.publisher:reset() end
  if state.feed then state.feed:reset() end
  state.publisher, state.feed = nil, nil
  log(INFO, "watcher stopped in worker ", ngx.worker.pid(), ": ", reason)
end

-- Calls a library function, keeping the longest call this worker made:
-- every one must return in well under a millisecond (design invariant 1),
-- and the status shows whether it did.
local function timed(name, fn, ...)
  local started = clock.now_ms()
  local a, b = fn(...)
  local took = clock.now_ms() - started
  if took > state.longest.ffi_ms then state.longest.ffi_ms, state.longest.ffi_call = took, name end
  state.holds:call(ngx_now(), took, name)
  return a, b
end

local function drain_logs(watcher)
  for _ = 1, MAX_LOGS_PER_TICK do
    local level, message = timed("log_pop", watcher.pop_log, watcher)
    if not level then return end
    log(LEVELS[level] or NOTICE, message)
  end
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
    state.failing_since = state.failing_since or ngx.now()
    dict:safe_set(STATUS_KEY, json.encode({ error = err, failed_starts = state.start_attempts,
                                       retry_in_seconds = RETRY_AFTER, failing_since = state.failing_since }))
    dict:safe_set(STATUS_AT_KEY, ngx.now())
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
  state.failing_since = nil
  metrics.watcher_started()
  unpublished.reset(dict)
  log(NOTICE, "watcher started in worker ", ngx.worker.pid())
end

local function utc(seconds)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", seconds)
end

-- One line per accepted change, with how long it took from the watch event
-- to the shared dict; a full set (first sync, relist) gets one summary
-- line once its last slice is in. What did not fit (`unstored`) is logged
-- by certsync.unpublished instead.
local function log_published(report)
  if report.full then
    if report.done then
      log(NOTICE, "published a full sync of ", report.total, " certificates as generation ",
          propagation.published_generation(shared_dict), " in ", string.format("%d ms", report.elapsed_ms), " (",
          report.written, " new or changed, ", report.unchanged, " unchanged, ", report.removed, " removed)")
    end
    return
  end
  local now = ngx.now()
  for _, change in ipairs(report.changes) do
    if change.removed then
      log(NOTICE, change.id, ": no longer served (generation ", report.generation, ")")
    else
      local latency = change.observed_at > 0 and string.format("%d ms", (now - change.observed_at) * 1000) or "unknown"
      log(NOTICE, change.id, ": serving serial ", change.serial, " for ", change.snis:gsub(" ", ","),
          ", notAfter ", utc(change.not_after), " (generation ", report.generation, ", ", latency,
          " from the watch event to publication)")
    end
  end
end

-- The owner's publishing: takes the next change set from the library when
-- the last one is in, and publishes one slice of it (run() comes back at
-- once while a set is unfinished).
local function publish(dict, watcher)
  local publisher = state.publisher
  local err
  if not publisher:busy() then
    local set
    if timed("generation", watcher.generation, watcher) ~= state.published_lib_gen then
      set, err = timed("changes_since", watcher.changes_since, watcher, state.published_lib_gen)
    elseif unpublished.due() then
      -- Certificates that did not fit last time: try them again.
      local full
      full, err = timed("changes_since", watcher.changes_since, watcher, 0)
      if full then set = unpublished.retry_set(full) end
    end
    if set then publisher:begin(set) end
  end
  if not publisher:busy() then return err end
  local report, step_err = publisher:step(SLICE_MS)
  if not report then return step_err end
  if report.generation then timed("notify", watcher.notify, watcher) end -- every worker pulls now
  if report.done then state.published_lib_gen = math.max(state.published_lib_gen, report.library_generation) end
  log_published(report)
  if report.generation then
    for _, change in ipairs(report.changes) do
      if not change.removed then metrics.watch_stale(change.id, report.generation) end
    end
  end
  local slice = { changes = report.changes }
  for _, change in ipairs(report.unstored_changes) do slice.changes[#slice.changes + 1] = change end
  local dict_line = unpublished.record(dict, slice, report.unstored, report.store_err, report.published)
  if dict_line then log(#report.unstored > 0 and ERR or NOTICE, dict_line) end
  return err
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
  if not state.publisher then
    local inherited = dict:get(propagation.OWNED_KEY) ~= nil
    dict:safe_set(propagation.OWNED_KEY, true)
    state.publisher = publisher_module.new(dict, inherited)
    state.feed = status_feed.new(dict,
      function(id, text, before)
        metrics.update_secret(dict, id, text and json.decode(text), before and json.decode(before))
      end,
      function(present) metrics.forget_secrets_except(dict, present) end, inherited)
  end
  local lua_kb_before = collectgarbage("count")
  drain_logs(watcher)
  local err = publish(dict, watcher)
  if err then log(ERR, err) end
  -- The library's status reaches the dict (and the metrics) a slice at a
  -- time, at most every STATUS_EVERY seconds.
  local feed = state.feed
  local now = ngx.now()
  if not feed:busy() and now >= state.status_at then
    state.status_at = now + STATUS_EVERY
    local ok, feed_err = feed:take(watcher, timed)
    if not ok then log(ERR, "cannot publish the watcher's status: ", feed_err) end
  end
  if feed:busy() then feed:step(SLICE_MS) end
  -- What the slices allocated is collected as it is made (certsync.gc_pace).
  gc_pace.pay(lua_kb_before)
  if not feed:busy() and now >= state.metrics_at then
    state.metrics_at = now + STATUS_EVERY
    local view = status.node_view(dict, propagation.published_generation(dict), state.watch_down_bound)
    metrics.update_node(dict, view.library, view.workers, view.published_generation, view.ready,
                        view.unpublished and view.unpublished.count or 0)
    metrics.update_certificates(dict, view.library and view.library.cert_manager,
                                status_feed.certificates_text(dict), view.library and view.library.synced == true, now)
  end
end

-- Parses a bundle's certificate and key into `bundle` (an index record,
-- certsync.sni_index): once per bundle per worker. The serial they are of
-- goes into the record now too (give_up() reports it): a record nothing
-- parsed yet holds only what the index needs, it is kept for every Secret.
-- Returns true, or nil, err.
local function load_bundle(dict, bundle)
  local id = id_of(bundle)
  local stored = propagation.bundle(dict, id)
  if not stored then
    local header = propagation.header(dict, id)
    bundle.serial = header and header.serial
    return nil, "no longer in the shared dict"
  end
  bundle.serial = stored.serial
  local cert, err = ssl.parse_pem_cert(stored.cert_pem)
  if not cert then return nil, "certificate: " .. tostring(err) end
  local key
  key, err = ssl.parse_pem_priv_key(stored.key_pem)
  if not key then return nil, "private key: " .. tostring(err) end
  bundle.cert, bundle.key = cert, key
  return true
end

-- This worker cannot use `bundle`: it stops serving it (the names it
-- claims go to another Secret's certificate, or back to the host's) and
-- says so in its report.
local function give_up(bundle, err)
  local id = id_of(bundle)
  log(ERR, id, ": cannot be loaded in this worker (", err, "); this worker stops serving it")
  state.failed[id] = bundle.serial or "unknown"
  state.report_due = true
  index:remove(id)
end

-- A worker's report: its generation and the bundles it failed to load. A
-- process that is not a numbered worker (nginx's privileged agent) has no
-- place among the workers' reports.
local function report(dict)
  local worker_id = ngx.worker.id()
  if not worker_id then return end
  state.report_due = false
  local ok, err = worker_report.publish(dict, worker_id, ngx.worker.pid(), state.local_gen, index.count, state.failed,
                                        state.converged_at)
  if not ok then log(ERR, "cannot report what this worker serves: ", err) end
  metrics.update_worker(worker_id, state.local_gen)
end

local function log_new_conflicts()
  local logged = {}
  for _, c in ipairs(state.conflicts) do
    local key = c.sni .. "\0" .. c.loser
    if not state.conflicts_logged[key] then
      log(WARN, "server name ", c.sni, " is claimed by ", c.winner, " and ", c.loser, "; serving ", c.winner)
    end
    logged[key] = true
  end
  state.conflicts_logged = logged
end

-- One changed id: takes its header as published now into the index. A
-- bundle is parsed now when few changed (`eager`) or when it replaces one
-- in use (a renewal: its first handshake must not wait, and a bundle this
-- worker cannot load must not push out the one it serves); otherwise on
-- its first handshake.
local function take(dict, id, eager, first_load, now)
  local known = index.bundles[id]
  local header = propagation.header(dict, id)
  if not header then
    if known then index:remove(id) end
    state.failed[id] = nil
    return
  end
  if known and sni_index.stamp_of(known) == header.stamp then return end
  local bundle = sni_index.record(header)
  if eager or (known and known.cert) then
    local ok, err = load_bundle(dict, bundle)
    if not ok then
      log(ERR, id, ": cannot be loaded in this worker (", err, "); ",
          known and "keeping what it served before" or "not serving it")
      state.failed[id] = header.serial
      return
    end
  end
  state.failed[id] = nil
  index:set(bundle)
  -- Event-to-served latency, not on a worker's first load (after a start
  -- or reload the events are old news). A new stamp is a new body (the
  -- publisher rewrites nothing else): a new certificate, or its chain.
  if not first_load and header.observed_at > 0 then
    metrics.observe_latency(now - header.observed_at)
  end
end

-- Reads everything published (a worker's first load, or one that fell
-- further behind than the change log reaches).
local function rescan(dict, first_load, now)
  local ids = propagation.published_ids(dict)
  local listed = {}
  for _, id in ipairs(ids) do
    listed[id] = true
    take(dict, id, false, first_load, now)
  end
  for id in pairs(index.bundles) do
    if not listed[id] then index:remove(id) end
  end
end

-- Follows the change log from the generation this worker serves, for at
-- most SLICE_MS: a worker that was busy while the owner published a first
-- list of 10,000 in 300 slices catches up over several ticks, not in one
-- long one. The deadline is checked after every id, not every
-- publication: one publication of a relist can name hundreds of ids, and
-- taking them costs a worker more than writing them cost the owner. What
-- is left of a publication waits in state.pending for the next tick.
-- Returns the generation it finished, or nil when a log it needs is gone.
local function follow_log(dict, from, to, first_load, now)
  local deadline = clock.now_ms() + SLICE_MS
  local at = from
  while at < to do
    local pending = state.pending
    if not pending or pending.generation ~= at + 1 then
      local ids, from_full_set = propagation.changed_ids(dict, at + 1)
      if not ids then return nil end
      -- A renewal or two: parse now, the first handshake must not wait. A
      -- first list or a relist (in slices of a few dozen): parse on first
      -- use, or a worker would hold every certificate of the node parsed.
      pending = { generation = at + 1, ids = ids, next = 1, eager = not from_full_set and #ids <= EAGER_PARSE_MAX }
      state.pending = pending
    end
    local ids = pending.ids
    while pending.next <= #ids do
      take(dict, ids[pending.next], pending.eager, first_load, now)
      pending.next = pending.next + 1
      if clock.now_ms() >= deadline and pending.next <= #ids then return at end
    end
    state.pending = nil
    at = at + 1
    if clock.now_ms() >= deadline then break end
  end
  return at
end

-- Every worker's share of a tick: converge on the published generation,
-- reading only what changed since the generation it serves. Returns true
-- while it is still behind (run() comes back at once).
local function converge(dict)
  local gen = propagation.published_generation(dict)
  if gen == state.local_gen then
    if state.report_due then report(dict) end
    return false
  end
  local first_load = state.local_gen < 0
  local now = ngx.now()
  local reached
  if not first_load and gen - state.local_gen <= propagation.LOG_KEEP then
    reached = follow_log(dict, state.local_gen, gen, first_load, now)
  end
  if not reached then
    state.pending = nil
    rescan(dict, first_load, now)
    reached = gen
  end
  -- Halfway through a publication: the report keeps the generation this
  -- worker serves in full until the rest is taken, next tick.
  if reached == state.local_gen then return true end
  state.conflicts = index:conflicts()
  log_new_conflicts()
  state.local_gen = reached
  ngx.update_time()
  state.converged_at = ngx.now()
  report(dict)
  return reached < gen
end

-- This worker's uncovered handshakes: into the metrics and its report, at
-- most every STATUS_EVERY seconds and only when there are new ones (or
-- none was reported by this process yet, so that a respawned worker's
-- report replaces its predecessor's at once).
local UNCOVERED_LABELS = { named = "named", no_sni = "none", invalid = "invalid" }

local function report_uncovered(dict, now)
  local worker_id = ngx.worker.id()
  if not worker_id or now < state.uncovered_at then return end
  local total = recorder:total()
  if total == state.uncovered_written then return end
  state.uncovered_at = now + STATUS_EVERY
  local first = state.uncovered_written < 0 -- the series are created at 0
  for kind, n in pairs(recorder:take_deltas()) do
    if n > 0 or first then metrics.uncovered_handshakes(UNCOVERED_LABELS[kind], n) end
  end
  local ok, err = worker_report.uncovered(dict, worker_id, recorder:snapshot(ngx.worker.pid()))
  if not ok then
    log(ERR, "cannot report this worker's uncovered handshakes: ", err)
    return
  end
  state.uncovered_written = total
end

-- Returns how long the owner's and the converging share took (ms), for
-- the longest tick's record.
local function work(dict)
  if ngx.worker.id() then worker_report.heartbeat(dict, ngx.worker.id()) end
  limiter:flush(ngx.now())
  local started = clock.now_ms()
  if hold_lease(dict, ngx.worker.pid()) then
    own(dict)
  elseif state.watcher then
    stop_watcher(nil, "another worker holds the lease")
  end
  local owned = clock.now_ms()
  state.behind = converge(dict)
  report_uncovered(dict, ngx.now())
  return owned - started, clock.now_ms() - owned
end

-- Whether a file exists, without opening it (a Unix socket cannot be
-- opened as a file). Connecting to a path that is not there would make
-- nginx log an error every time.
local file_exists = (function()
  local ffi = require "ffi"
  pcall(ffi.cdef, "int access(const char *pathname, int mode);")
  local ok = pcall(function() return ffi.C.access end)
  if not ok then return function() return true end end
  return function(path) return ffi.C.access(path, 0) == 0 end
end)()

-- The connection to the owner's notify socket (see util/wake_server.h),
-- used only by the loop's own timer: a cosocket belongs to the timer that
-- made it.
--
-- A light thread of that timer reads the socket with a timeout far beyond
-- any poll and posts a semaphore per wake-up; the loop waits on the
-- semaphore for at most the poll interval. A read timeout every poll would
-- make nginx log "lua tcp socket read timed out" each time (unless
-- lua_socket_log_errors is off, as Kong has it); a semaphore's timeout
-- logs nothing.
local wake = { sock = nil, reader = nil, closed = false, retry_at = 0, sema = nil }
local READ_FOREVER = 2 ^ 31 - 1 -- milliseconds: the largest timeout a cosocket takes

local function drop_wake_connection()
  if wake.reader then ngx.thread.kill(wake.reader) end
  if wake.sock then wake.sock:close() end
  wake.sock, wake.reader, wake.closed = nil, nil, false
end

local function read_wakeups(sock)
  while true do
    local bytes, err = sock:receiveany(64)
    if not bytes and err ~= "timeout" then
      wake.closed = true
      wake.sema:post(1)
      return
    end
    if bytes then wake.sema:post(1) end
  end
end

-- Waits up to `seconds`, returning true as soon as the owner's library
-- writes a byte (an accepted change, or the owner's publication of one) or
-- the owner closes the connection (it stopped: its lease is free).
-- Without a connection (no owner yet, no socket, or it just went away) it
-- sleeps, and connects again at most every WAKE_RECONNECT seconds.
local function wait_for_wake(dict, seconds)
  local path = state.notify_path
  if not wake.sock and path and state.settings and ngx.now() >= wake.retry_at
     and dict:get(LEASE_KEY) and file_exists(path) then
    local sock = ngx.socket.tcp()
    sock:settimeout(1000)
    if sock:connect("unix:" .. path) then
      sock:settimeout(READ_FOREVER)
      wake.sema = wake.sema or require("ngx.semaphore").new()
      wake.sock, wake.closed = sock, false
      wake.reader = ngx.thread.spawn(read_wakeups, sock)
    else
      wake.retry_at = ngx.now() + WAKE_RECONNECT
    end
  end
  if not wake.sock then
    ngx.sleep(seconds)
    return false
  end
  local woken = wake.sema:wait(seconds)
  -- Several bytes since the last look are one wake-up.
  while wake.sema:count() > 0 do wake.sema:wait(0) end
  if wake.closed then
    -- Closed: the owner stopped or went away; the next owner listens anew.
    drop_wake_connection()
    wake.retry_at = ngx.now() + 0.05
    return true -- look now: the lease may be free for this worker to take
  end
  return woken == true
end

-- This worker's per-second record of how long it held the event loop
-- (certsync.hold_history), into the dict at most once a second, and only
-- when a second saw a tick or a call long enough to matter: an idle
-- worker writes nothing.
local function report_holds(dict)
  local now = ngx_now()
  local worker_id = ngx.worker.id()
  if not worker_id or not state.holds.changed or now < state.holds_written_at + 1 then return end
  state.holds_written_at = now
  local ok, err = worker_report.holds(dict, worker_id, state.holds:snapshot(now))
  if not ok then log(ERR, "cannot report how long this worker held its event loop: ", err) end
end

-- The worker's loop, in one long-lived timer: work when woken or when the
-- poll interval (the safety net) has passed, until the worker exits, which
-- it notices within MAX_WAIT.
local function run(premature)
  local dict = ngx.shared[DICT_NAME]
  local woken, next_poll = true, 0
  while not premature and not ngx.worker.exiting() do
    if woken or ngx.now() >= next_poll then
      next_poll = ngx.now() + state.interval
      if state.settings then
        local started, started_cpu = clock.now_ms(), clock.cpu_ms()
        local ok, own_ms, converge_ms = pcall(work, dict)
        if not ok then log(ERR, "tick failed: ", own_ms) end
        local took, took_cpu = clock.now_ms() - started, clock.cpu_ms() - started_cpu
        if took > state.longest.tick_ms then
          -- Which share of the tick it was, and how much memory Lua held:
          -- a long tick with little of either was the garbage collector or
          -- the machine.
          state.longest.tick_ms = took
          state.longest.tick_own_ms = ok and own_ms or nil
          state.longest.tick_converge_ms = ok and converge_ms or nil
          state.longest.tick_cpu_ms = took_cpu
          state.longest.tick_lua_kb = math.floor(collectgarbage("count"))
        end
        state.holds:tick(ngx_now(), took, took_cpu)
        -- The Lua heap after a tick, and its peak: what the first sync
        -- costs a worker (the owner above all) beyond what it keeps.
        -- LuaJIT's allocator keeps the pages its heap once took, so the
        -- peak is what the process holds afterwards.
        local lua_kb = math.floor(collectgarbage("count"))
        local longest, reported = state.longest, state.longest_reported
        longest.lua_kb = lua_kb
        if lua_kb > (longest.lua_kb_peak or 0) then longest.lua_kb_peak = lua_kb end
        if longest.tick_ms ~= reported.tick_ms or longest.ffi_ms ~= reported.ffi_ms or
           longest.lua_kb_peak - (reported.lua_kb_peak or 0) >= LUA_KB_REPORT_STEP or
           math.abs(lua_kb - (reported.lua_kb or 0)) >= LUA_KB_REPORT_STEP then
          if ngx.worker.id() then worker_report.longest(dict, ngx.worker.id(), longest) end
          state.longest_reported = { tick_ms = longest.tick_ms, ffi_ms = longest.ffi_ms,
                                     lua_kb_peak = longest.lua_kb_peak, lua_kb = lua_kb }
        end
        report_holds(dict)
      else
        drop_wake_connection() -- not configured (yet, or any more): nothing to wait for
      end
    end
    if state.behind or (state.publisher and state.publisher:busy()) or (state.feed and state.feed:busy()) then
      -- A change set or a status is half published: let the event loop
      -- serve what waits, then carry on at once.
      ngx.sleep(0)
      woken = true
    else
      local wait = math.max(0.001, math.min(next_poll - ngx.now(), MAX_WAIT))
      local ok, result = pcall(wait_for_wake, dict, wait)
      woken = ok and result
      if not ok then
        log(ERR, "waiting for changes failed: ", result)
        drop_wake_connection()
        ngx.sleep(wait)
      end
    end
  end
  -- Graceful reload or quit: stop the thread before the worker exits.
  drop_wake_connection()
  stop_watcher(dict, "worker exiting")
end

-- Registers the metrics in certsync's own registry and in the host's
-- (Kong's prometheus registry), and forgets workers a reload removed.
local function init_metrics(dict, host)
  state.registry = metrics_registry.new(dict, host.metrics_prefix)
  local registries = { state.registry }
  for _, extra in ipairs(host.metrics_registries or {}) do registries[#registries + 1] = extra end
  metrics.init_worker(registries)
  if ngx.worker.id() == 0 then
    metrics.forget_workers_beyond(dict, ngx.worker.count())
    worker_report.forget_beyond(dict, ngx.worker.count())
  end
end

-- settings: { server, ca_file, token_file, namespace, deletion_policy, ... }
-- (strings, see certsync.h) plus `lib_path` (optional), `poll_interval`
-- (seconds, default 0.2), `ready_watch_down_seconds` (default 300) and
-- `uncovered_names_max` (default 100). May be nil and given later through
-- configure().
-- host (optional): what the host adds:
--   shared_dict = "what to add", explain = function(err): a missing
--     prerequisite names the host's own fix;
--   metrics_registries = { registry }: more registries to feed (Kong's);
--   metrics_prefix = "kong_": put before metric names in certsync's own output.
function _M.init_worker(settings, host)
  host = host or {}
  fixes.shared_dict = host.shared_dict or fixes.shared_dict
  fixes.explain = host.explain or fixes.explain
  local dict = ngx.shared[DICT_NAME]
  if not dict then
    log(ERR, "no shared dict \"", DICT_NAME, "\": ", fixes.shared_dict,
        "; the host's own certificates keep serving")
    return nil, "no shared dict"
  end
  shared_dict = dict
  recorder = uncovered.new(state.uncovered_limit, ngx.now())
  local ok_metrics, metrics_err = pcall(init_metrics, dict, host)
  if not ok_metrics then log(ERR, "cannot set up the metrics: ", metrics_err) end
  _M.configure(settings)
  -- Serve what the node already has before the first handshake reaches this
  -- worker: after a reload the shared dict still holds every bundle, and a
  -- new worker must not answer with the host's certificate meanwhile.
  local ok, err = pcall(converge, ngx.shared[DICT_NAME])
  if not ok then log(ERR, "cannot load the published certificates: ", err) end
  ok, err = ngx.timer.at(0, run)
  if not ok then
    log(ERR, "cannot start the timer: ", err)
    return nil, err
  end
  return true
end

-- Settings of the Lua side, not the library's.
local HOST_SETTINGS = { lib_path = true, poll_interval = true, ready_watch_down_seconds = true,
                        uncovered_names_max = true }

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
    if not HOST_SETTINGS[k] then lib_settings[k] = tostring(v) end
  end
  -- Where the owner's library wakes the workers: a Unix socket in nginx's
  -- prefix (Kong: /usr/local/kong/logs), the same for every worker of the
  -- node and distinct between nodes and instances. "" turns it off (polling only).
  if lib_settings.notify_socket == nil then
    local path = ngx.config.prefix() .. "logs/certsync.sock"
    if #path <= MAX_SOCKET_PATH then lib_settings.notify_socket = path end
  end
  if lib_settings.notify_socket == "" then lib_settings.notify_socket = nil end
  if lib_settings.in_cluster == "true" then
    lib_settings.in_cluster_host = lib_settings.in_cluster_host or IN_CLUSTER_HOST
    lib_settings.in_cluster_port = lib_settings.in_cluster_port or IN_CLUSTER_PORT
  end
  state.settings = lib_settings
  state.settings_key = canonical(lib_settings)
  state.lib_path = settings.lib_path
  state.interval = tonumber(settings.poll_interval) or DEFAULT_INTERVAL
  state.notify_path = lib_settings.notify_socket
  state.watch_down_bound = tonumber(settings.ready_watch_down_seconds) or readiness.DEFAULT_WATCH_DOWN_SECONDS
  local limit = tonumber(settings.uncovered_names_max) or uncovered.DEFAULT_LIMIT
  if limit ~= state.uncovered_limit then
    state.uncovered_limit = limit
    recorder:resize(limit)
    state.uncovered_written = -1 -- the report shows the new limit's table at once
  end
  if state.settings_key ~= previous_key then state.retry_at = 0 end
end

-- What to serve for `name`, its certificates parsed (the first record and
-- the one beside it): nil leaves the host's own. A bundle this worker
-- cannot parse is given up (once), and the name looked up again.
local function records_for(name)
  for _ = 1, 3 do
    local first, second = lookup(names, name)
    if not first then return nil end
    local ok, err = true, nil
    if not first.cert then
      ok, err = load_bundle(shared_dict, first)
      if not ok then give_up(first, err) end
    end
    if ok and second and not second.cert then
      ok, err = load_bundle(shared_dict, second)
      if not ok then give_up(second, err) end
    end
    if ok then return first, second end
  end
  return nil
end

-- The certificate phase. Leaves the host's certificate alone unless a
-- watched Secret covers the requested name; a handshake left alone is
-- counted (O(1), in this worker's memory only).
function _M.certificate()
  local name, err = server_name()
  if not name then
    -- err: nginx could not tell (not the client's doing), so not counted.
    if not err then recorder:without_sni() end
    return
  end
  local first, second = lookup(names, name)
  if not first then return recorder:named(name, ngx_now()) end
  if not first.cert or (second and not second.cert) then
    -- The first handshake for this name in this worker.
    first, second = records_for(name)
    if not first then return end
  end
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
    give_up(first, err)
    if second then give_up(second, err) end
  end
end

local function node_view(dict)
  return status.node_view(dict, propagation.published_generation(dict), state.watch_down_bound)
end

local function served_for_sni(name)
  local first, second = lookup(names, name)
  if not first then return nil end
  local ids = { id_of(first) }
  if second then ids[2] = id_of(second) end
  return json.array(ids)
end

-- The node's status (see certsync.status) as a Lua table, or nil, err.
-- filters: { sni = NAME, secret = "namespace/name" }, both optional.
function _M.status(filters)
  local dict = ngx.shared[DICT_NAME]
  if not dict then return nil, "no shared dict \"" .. DICT_NAME .. "\": " .. fixes.shared_dict end
  return status.build(node_view(dict), {
    id = ngx.worker.id(), pid = ngx.worker.pid(), generation = state.local_gen,
    conflicts = state.conflicts, served_for_sni = served_for_sni, uncovered_limit = state.uncovered_limit,
  }, filters, dict)
end

-- The status as JSON: what every worker serves, the watcher, every Secret.
function _M.status_json(filters)
  local result, err = _M.status(filters)
  if not result then return json.encode({ error = err }) end
  return status.encode(result)
end

-- Filters from a request's query (?sni=NAME&secret=ns/name), normalised as
-- the certificate phase sees names. Returns filters, or nil, err.
function _M.status_filters(args)
  local filters = {}
  for _, key in ipairs({ "sni", "secret" }) do
    local value = args[key]
    if type(value) == "table" then return nil, key .. " is given more than once" end
    if value == true or value == "" then return nil, key .. " needs a value" end
    if value ~= nil then filters[key] = tostring(value) end
  end
  if filters.sni then filters.sni = filters.sni:lower():gsub("%.$", "") end
  if filters.secret and not filters.secret:match("^[^/]+/[^/]+$") then
    return nil, "secret must be namespace/name"
  end
  return filters
end

-- Readiness: true, or false and a one-line reason.
function _M.ready()
  local dict = ngx.shared[DICT_NAME]
  if not dict then return false, "no shared dict \"" .. DICT_NAME .. "\": " .. fixes.shared_dict end
  local view = node_view(dict)
  return view.ready, view.not_ready_reason
end

-- The metrics in the Prometheus text format, from certsync's own registry.
-- opts.prefix: put before every name (Kong's registry uses "kong_").
function _M.metrics(opts)
  if not state.registry then return nil, "certsync has not been initialised in this worker" end
  return state.registry:render(opts and opts.prefix)
end

-- Content handlers for plain nginx (Kong has its own in status_api.lua):
--   location = /certsync/status  { content_by_lua_block { require("certsync.core").serve_status() } }
--   location = /certsync/ready   { content_by_lua_block { require("certsync.core").serve_ready() } }
--   location = /certsync/metrics { content_by_lua_block { require("certsync.core").serve_metrics() } }
function _M.serve_status()
  local filters, err = _M.status_filters(ngx.req.get_uri_args())
  ngx.header["Content-Type"] = "application/json"
  if not filters then
    ngx.status = 400
    ngx.say(json.encode({ error = err }))
    return
  end
  ngx.say(_M.status_json(filters))
end

function _M.serve_ready()
  local ok, reason = _M.ready()
  ngx.header["Content-Type"] = "text/plain"
  ngx.status = ok and 200 or 503
  ngx.say(ok and "ready" or ("not ready: " .. reason))
end

function _M.serve_metrics(opts)
  local text, err = _M.metrics(opts)
  ngx.header["Content-Type"] = "text/plain; version=0.0.4"
  if not text then
    ngx.status = 503
    ngx.say("# ", err)
    return
  end
  ngx.print(text)
end

return _M
