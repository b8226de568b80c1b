-- certsync.metrics: certsync's Prometheus metrics, fed into one or more
-- registries with the interface of Kong's prometheus plugin: always
-- certsync's own (certsync.metrics_registry, served by /certsync/metrics and
-- certsync.metrics()), and Kong's when its prometheus plugin is loaded, so the
-- same series appear on Kong's /metrics.
--
-- Who writes what: the worker that owns the watcher writes the node's view
-- (Secrets, watch scopes, published generation, readiness) from the
-- library's status, once per status publication; every worker writes its own
-- served generation and observes its own event-to-served latencies. Label
-- sets are bounded: Secrets watched, scopes, reason codes, worker ids, HTTP
-- statuses; never a client's SNI.
local json = require "certsync.json"

local _M = {}

local LATENCY_BUCKETS = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 }

-- { kind, name, help, label names (nil: none), buckets }
local FAMILIES = {
  { "gauge", "certsync_certificate_expiry_timestamp_seconds",
    "notAfter of the certificate served for a Secret, in Unix seconds.", { "secret" } },
  { "gauge", "certsync_certificate_info",
    "The certificate served for a Secret (always 1): serial, issuer, key type.",
    { "secret", "serial", "issuer", "key_type" } },
  { "gauge", "certsync_secret_refused",
    "1 while the latest version of a Secret is refused; its last good certificate keeps serving.",
    { "secret", "reason" } },
  { "counter", "certsync_secret_refusals_total", "Versions of a Secret refused, by reason.", { "secret", "reason" } },
  { "counter", "certsync_refusals_total", "Secret versions refused, by reason.", { "reason" } },
  { "gauge", "certsync_secrets_served", "Secrets whose certificate this node serves." },
  { "gauge", "certsync_watch_up", "1 while the watch of a scope is in step with the API server.", { "scope" } },
  { "counter", "certsync_watch_relists_total", "LISTs after the first, e.g. after 410 Gone.", { "scope" } },
  { "counter", "certsync_api_errors_total",
    "Failed requests to the API server, by HTTP status or transport/decode/too_large/token.", { "scope", "code" } },
  { "gauge", "certsync_last_sync_timestamp_seconds",
    "When a scope was last known in step with the API server (LIST, event or bookmark), Unix seconds.",
    { "scope" } },
  { "gauge", "certsync_generation_published", "Generation of certificates published to the node's workers." },
  { "gauge", "certsync_worker_generation_served", "Generation a worker serves.", { "worker" } },
  { "gauge", "certsync_secret_stale_workers",
    "Workers serving a serial other than the Secret's current one.", { "secret" } },
  { "histogram", "certsync_event_to_served_seconds",
    "From the watch event to a worker serving the change, in seconds.", nil, LATENCY_BUCKETS },
  { "gauge", "certsync_ready", "1 when GET /certsync/ready answers 200." },
  { "gauge", "certsync_secrets_unpublished",
    "Certificates accepted but not published to the workers: the shared dict \"certsync\" is too small." },
}
_M.FAMILIES = FAMILIES

local SERIES_KEY = "metrics:series"    -- node gauges' label sets last written, for removing vanished ones
local WORKERS_KEY = "metrics:workers"  -- highest worker count seen, for removing workers that are gone

local sinks = {}      -- { { [name] = metric object } } one per registry
local counted = {}    -- counter series -> value last seen in this worker's library

-- Registers every family in each registry (call once per worker, in
-- init_worker, as Kong's registry wants).
function _M.init_worker(registries)
  sinks = {}
  for _, registry in ipairs(registries) do
    local handles = {}
    for _, f in ipairs(FAMILIES) do
      local kind, name, help, labels, buckets = f[1], f[2], f[3], f[4], f[5]
      if kind == "histogram" then
        handles[name] = registry:histogram(name, help, labels, buckets)
      else
        handles[name] = registry[kind](registry, name, help, labels)
      end
    end
    sinks[#sinks + 1] = handles
  end
end

local function each(name, method, ...)
  for _, handles in ipairs(sinks) do
    local metric = handles[name]
    if metric then metric[method](metric, ...) end
  end
end

-- The library's counters restart with each watcher this worker starts.
function _M.watcher_started()
  counted = {}
end

local function count(name, labels, total)
  local key = name .. "\0" .. table.concat(labels, "\0")
  local last = counted[key] or 0
  if total > last then each(name, "inc", total - last, labels) end
  counted[key] = total
end

-- The owner's view of the node. library: the watcher's decoded status;
-- reports: worker_report.read_all(); ready: boolean; unpublished: how many
-- certificates did not fit in the dict.
function _M.update_node(dict, library, reports, published_generation, ready, unpublished)
  local gauges = {}  -- name -> { label values... } written this time
  local function gauge(name, value, labels)
    each(name, "set", value, labels)
    if labels then
      gauges[name] = gauges[name] or {}
      gauges[name][#gauges[name] + 1] = labels
    end
  end
  local served = 0
  local refusals_by_reason = {}
  for _, secret in ipairs(library and library.secrets or {}) do
    local id = secret.id
    local b = secret.served
    if type(b) == "table" then
      served = served + 1
      gauge("certsync_certificate_expiry_timestamp_seconds", b.not_after, { id })
      gauge("certsync_certificate_info", 1, { id, b.serial, b.issuer, b.key_type })
      local stale = 0
      for _, report in ipairs(reports) do
        if not report.missing and type(report.serials) == "table" and report.serials[id] ~= b.serial then
          stale = stale + 1
        end
      end
      gauge("certsync_secret_stale_workers", stale, { id })
    end
    if type(secret.refusal) == "table" then
      gauge("certsync_secret_refused", 1, { id, secret.refusal.code })
    end
    for reason, n in pairs(type(secret.refusals) == "table" and secret.refusals or {}) do
      count("certsync_secret_refusals_total", { id, reason }, n)
      refusals_by_reason[reason] = (refusals_by_reason[reason] or 0) + n
    end
  end
  for reason, n in pairs(refusals_by_reason) do count("certsync_refusals_total", { reason }, n) end
  for _, scope in ipairs(library and library.watchers or {}) do
    local name = tostring(scope.scope)
    gauge("certsync_watch_up", scope.up and 1 or 0, { name })
    gauge("certsync_last_sync_timestamp_seconds", tonumber(scope.last_sync_at) or 0, { name })
    count("certsync_watch_relists_total", { name }, tonumber(scope.relists) or 0)
    for code, n in pairs(type(scope.errors) == "table" and scope.errors or {}) do
      count("certsync_api_errors_total", { name, code }, n)
    end
  end
  each("certsync_secrets_served", "set", served)
  each("certsync_generation_published", "set", published_generation)
  each("certsync_ready", "set", ready and 1 or 0)
  each("certsync_secrets_unpublished", "set", unpublished or 0)

  -- Series written last time (by this worker or a previous owner) but not now
  -- belong to Secrets or scopes that are gone: remove them.
  local previous = json.decode(dict:get(SERIES_KEY)) or {}
  local now_written = {}
  for name, sets in pairs(gauges) do
    now_written[name] = {}
    for _, labels in ipairs(sets) do now_written[name][table.concat(labels, "\0")] = true end
  end
  for name, sets in pairs(previous) do
    for _, labels in ipairs(type(sets) == "table" and sets or {}) do
      if not (now_written[name] and now_written[name][table.concat(labels, "\0")]) then
        each(name, "del", labels)
      end
    end
  end
  local text = json.encode(gauges)
  if text then dict:safe_set(SERIES_KEY, text) end
end

-- A worker's own share: the generation it serves.
function _M.update_worker(worker_id, generation)
  each("certsync_worker_generation_served", "set", generation, { tostring(worker_id) })
end

function _M.observe_latency(seconds)
  if seconds >= 0 then each("certsync_event_to_served_seconds", "observe", seconds) end
end

-- Called by one worker at start: workers numbered `count` and above (from a
-- larger worker_processes before a reload) no longer exist.
function _M.forget_workers_beyond(dict, worker_count)
  local highest = dict:get(WORKERS_KEY) or 0
  for id = worker_count, highest - 1 do each("certsync_worker_generation_served", "del", { tostring(id) }) end
  dict:safe_set(WORKERS_KEY, worker_count)
end

return _M
