-- certsync.status: the node as operators see it, from whichever worker
-- answers: what the watcher knows of every Secret, what each worker serves,
-- whether the node is ready, and why not. Built from the shared dict (the
-- owner's copy of the library's status, the workers' reports), encoded with
-- cjson. Never holds key material: the library's status has none and the
-- workers report serials only.
local certificates_join = require "certsync.certificates"
local json = require "certsync.json"
local propagation = require "certsync.propagation"
local readiness = require "certsync.readiness"
local status_feed = require "certsync.status_feed"
local uncovered = require "certsync.uncovered"
local unpublished = require "certsync.unpublished"
local worker_report = require "certsync.worker_report"

local _M = {}

_M.LIBRARY_KEY = status_feed.SUMMARY_KEY        -- the library's node-wide status, or why the watcher cannot start
_M.LIBRARY_AT_KEY = status_feed.SUMMARY_AT_KEY  -- when the owner wrote it
_M.OWNER_KEY = "owner"

-- What the status, the readiness check and the metrics share.
function _M.node_view(dict, published_generation, watch_down_bound)
  local now = ngx.now()
  local view = {
    now = now,
    published_generation = published_generation,
    synced_generation = dict:get(propagation.SYNCED_KEY),
    owner_pid = dict:get(_M.OWNER_KEY),
    library = json.decode(dict:get(_M.LIBRARY_KEY)),
    library_at = dict:get(_M.LIBRARY_AT_KEY),
    workers = worker_report.read_all(dict, ngx.worker.count(), now),
    watch_down_bound = watch_down_bound,
    unpublished = unpublished.read(dict),
    dict = { capacity_bytes = dict.capacity and dict:capacity() or nil,
             free_bytes = dict.free_space and dict:free_space() or nil },
  }
  if type(view.library) ~= "table" then view.library = nil end
  view.ready, view.not_ready_reason = readiness.check(view)
  return view
end

-- Does `name` fall under `sni` (exact, or a one-label wildcard)?
local function covers(sni, name)
  if sni == name then return "exact" end
  if sni:sub(1, 2) == "*." then
    local dot = name:find(".", 1, true)
    if dot and dot > 1 and name:sub(dot + 1) == sni:sub(3) then return "wildcard" end
  end
end

local function matches(secret, filters)
  if filters.secret and secret.id ~= filters.secret then return false end
  if filters.sni then
    for _, part in ipairs({ "served", "deferred" }) do
      local bundle = secret[part]
      for _, sni in ipairs(type(bundle) == "table" and type(bundle.snis) == "table" and bundle.snis or {}) do
        local how = covers(sni, filters.sni)
        if how then
          secret.matched = how
          return true
        end
      end
    end
    return false
  end
  return true
end

local function as_arrays(secret)
  for _, part in ipairs({ "served", "deferred" }) do
    local bundle = secret[part]
    if type(bundle) == "table" and type(bundle.snis) == "table" then bundle.snis = json.array(bundle.snis) end
  end
end

-- What each worker serves, from the published headers: a worker serves
-- the bundle of a Secret once its generation reached the bundle's stamp,
-- unless it failed to load it. Returns { [worker id] = { [secret] = serial } }.
local function served_by_workers(dict, workers, ids)
  local out = {}
  for _, w in ipairs(workers) do out[w.id] = {} end
  for _, id in ipairs(ids) do
    local header = propagation.header(dict, id)
    if header then
      for _, w in ipairs(workers) do
        if worker_report.serves(w, id, header.stamp, header.serial) then out[w.id][id] = header.serial end
      end
    end
  end
  return out
end

-- Handshakes no Secret covered: each worker's own counts, and the node's
-- (certsync.uncovered.merge). Returns the node's view and { [worker id] = view }.
local function uncovered_views(dict, workers, limit, sni)
  local snapshots, per_worker = {}, {}
  for _, w in ipairs(workers) do
    local snapshot = worker_report.read_uncovered(dict, w)
    snapshots[#snapshots + 1] = snapshot
    local view = uncovered.worker_view(snapshot, sni)
    if view then
      view.names = json.array(view.names)
      per_worker[w.id] = view
    end
  end
  local node = uncovered.merge(snapshots, limit, sni)
  node.names = json.array(node.names)
  return node, per_worker
end

-- The cert-manager Certificates (as the owner copied them from the
-- library), each joined with its Secret among `secrets` and with what each
-- worker serves of it; the first Certificate naming a Secret is also that
-- Secret's `certificate`. Filtered, only the Certificates of the Secrets
-- shown (and of the Secret asked for, even when it is missing).
local function join_certificates(dict, view, secrets, served, filters)
  local listed = json.decode(status_feed.certificates_text(dict))
  if type(listed) ~= "table" then return {} end
  local by_id = {}
  for _, secret in ipairs(secrets) do by_id[secret.id] = secret end
  local filtered = filters.sni or filters.secret
  local synced = type(view.library) == "table" and view.library.synced == true
  local out = {}
  for _, c in ipairs(listed) do
    local secret = type(c) == "table" and by_id[c.secret] or nil
    if type(c) == "table" and (not filtered or secret or filters.secret == c.secret) then
      -- workers_behind is an array, or json.array's placeholder string when empty.
      local behind = secret and type(secret.workers_behind) == "table" and #secret.workers_behind or 0
      local entry = certificates_join.join(c, secret, behind, view.now, synced)
      local workers = {}
      for _, w in ipairs(view.workers) do
        if not w.missing then workers[#workers + 1] = { id = w.id, serial = served[w.id] and served[w.id][c.secret] } end
      end
      entry.workers = json.array(workers)
      out[#out + 1] = entry
      if secret and not secret.certificate then secret.certificate = entry end
    end
  end
  return out
end

-- filters: { sni = NAME, secret = "ns/name" } (either may be nil).
-- this_worker: { id, pid, generation, conflicts, served_for_sni = fn(name),
--                uncovered_limit = names the node's uncovered list holds }.
function _M.build(view, this_worker, filters, dict)
  filters = filters or {}
  local library = view.library or {}
  -- One read of the dict's keys (it locks the dict for every worker): the
  -- Secrets' statuses, and the published bundles, which a worker serves the
  -- moment they are published, before the owner writes their status.
  local status_ids, published_ids
  if filters.secret then
    status_ids, published_ids = { filters.secret }, { filters.secret }
  else
    status_ids, published_ids = status_feed.secret_ids(dict, propagation.HEADER_PREFIX)
  end
  local secrets, wanted = {}, {}
  for _, id in ipairs(status_ids) do
    local secret = json.decode(status_feed.secret_text(dict, id))
    if type(secret) == "table" and matches(secret, filters) then
      secrets[#secrets + 1] = secret
      wanted[#wanted + 1] = secret.id
    end
  end
  local ids = filters.sni and wanted or published_ids
  local served = served_by_workers(dict, view.workers, ids)
  for _, secret in ipairs(secrets) do
    local current = type(secret.served) == "table" and secret.served.serial or nil
    local behind = {}
    for _, w in ipairs(view.workers) do
      if current and not w.missing and served[w.id][secret.id] ~= current then
        behind[#behind + 1] = w.id
      end
    end
    secret.workers_behind = json.array(behind)
    as_arrays(secret)
  end
  local certificates = join_certificates(dict, view, secrets, served, filters)
  local node_uncovered, worker_uncovered = uncovered_views(dict, view.workers,
    this_worker.uncovered_limit or uncovered.DEFAULT_LIMIT, filters.sni)
  local workers = {}
  for _, w in ipairs(view.workers) do
    workers[#workers + 1] = {
      id = w.id, pid = w.pid, generation = w.generation, missing = w.missing or nil, stale = w.stale,
      last_tick = w.last_tick, converged_at = w.converged_at, serials = served[w.id],
      bundles = w.bundles, failed = w.failed, longest = w.longest,
      holds = w.holds and json.array(w.holds) or nil,
      behind = not w.missing and w.generation ~= view.published_generation,
      uncovered = worker_uncovered[w.id],
    }
  end
  local watcher = {}
  for k, v in pairs(library) do
    if k ~= "secrets" and k ~= "cert_manager" then watcher[k] = v end
  end
  local cert_manager = type(library.cert_manager) == "table" and library.cert_manager or nil
  if cert_manager and type(cert_manager.scopes) == "table" then cert_manager.scopes = json.array(cert_manager.scopes) end
  watcher.scopes = json.array(type(library.watchers) == "table" and library.watchers or {})
  watcher.watchers = nil
  watcher.published_at = view.library_at
  local conflicts = {}
  for _, c in ipairs(this_worker.conflicts or {}) do
    if not filters.sni or covers(c.sni, filters.sni) then conflicts[#conflicts + 1] = c end
  end
  local out = {
    node = {
      published_generation = view.published_generation,
      -- The generation that completed the last full list: 0 until the first one is in.
      synced_generation = view.synced_generation or 0,
      owner_pid = view.owner_pid,
      worker_count = #view.workers,
      ready = view.ready,
      not_ready_reason = view.not_ready_reason,
      -- Accepted certificates the shared dict had no room for, and the size that would hold them.
      unpublished = view.unpublished,
      -- free_bytes counts whole free pages only: a dict can be fuller than it looks.
      shared_dict = view.dict,
    },
    watcher = watcher,
    workers = json.array(workers),
    secrets = json.array(secrets),
    -- cert-manager: whether its Certificates are watched (and why not), and
    -- each one joined with its Secret and the workers (certsync.certificates).
    cert_manager = cert_manager,
    certificates = json.array(certificates),
    -- Handshakes the host's own certificate answered, and the names they asked for.
    uncovered = node_uncovered,
    this_worker = {
      id = this_worker.id, pid = this_worker.pid, generation = this_worker.generation,
      conflicts = json.array(conflicts),
    },
    filter = (filters.sni or filters.secret) and filters or nil,
  }
  if filters.sni and this_worker.served_for_sni then
    -- What this worker would answer a client asking for that name.
    out.this_worker.serves_for_sni = this_worker.served_for_sni(filters.sni) or json.null
  end
  return out
end

function _M.encode(status)
  return json.encode(status)
end

return _M
