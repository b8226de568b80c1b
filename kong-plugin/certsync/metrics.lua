-- certsync.metrics: certsync's Prometheus metrics, fed into one or more
-- registries with the interface of Kong's prometheus plugin: always
-- certsync's own (certsync.metrics_registry, served by /certsync/metrics and
-- certsync.metrics()), and Kong's when its prometheus plugin is loaded, so the
-- same series appear on Kong's /metrics.
--
-- Who writes what: the worker that owns the watcher writes the node's view
-- (watch scopes, published generation, readiness) once per status
-- publication, and each Secret's series as its status changes; every worker writes its own
-- served generation and observes its own event-to-served latencies. Label
-- sets are bounded: Secrets watched, scopes, reason codes, worker ids, HTTP
-- statuses, whether a handshake had a server name, cert-manager
-- Certificates ("namespace/name"); never a client's SNI.
local certificates_join = require "certsync.certificates"
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
  { "gauge", "certsync_certificate_chain_incomplete",
    "1 while the certificate served for a Secret lacks its issuer in tls.crt (clients without it cached fail).",
    { "secret" } },
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
  { "gauge", "certsync_cert_manager_watching",
    "1 while cert-manager Certificates are watched (the CRD exists and RBAC allows list and watch)." },
  { "gauge", "certsync_certificate_ready", "1 while a cert-manager Certificate's Ready condition is True.",
    { "certificate" } },
  { "gauge", "certsync_certificate_renewal_overdue",
    "1 while a Certificate's renewalTime has passed and it is not Ready: issuance is failing.", { "certificate" } },
  { "gauge", "certsync_certificate_not_served_seconds",
    "How long the certificate in a Certificate's Secret has not been what every worker serves, in seconds; 0 while it is.",
    { "certificate" } },
  { "gauge", "certsync_certificate_secret_missing",
    "1 while the Secret a Certificate names is not one certsync watches.", { "certificate" } },
  { "gauge", "certsync_certificate_not_after_timestamp_seconds",
    "A Certificate's status.notAfter, in Unix seconds (0 until cert-manager sets it).", { "certificate" } },
  { "gauge", "certsync_certificate_renewal_timestamp_seconds",
    "A Certificate's status.renewalTime, in Unix seconds (0 until cert-manager sets it).", { "certificate" } },
  { "counter", "certsync_uncovered_handshakes_total",
    "TLS handshakes no watched Secret covers (the host's certificate answered), by server name: named, none, invalid.",
    { "sni" } },
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

-- Per-Secret series follow the library's status one Secret at a time
-- (certsync.status_feed). Which series a Secret has follows from its
-- status alone (series_of), so the status the dict held before ("s:<id>",
-- whoever wrote it) says which series to remove when it changes or goes:
-- no copy of the label sets is kept beside it. Earlier versions kept one
-- under "ms:<id>"; a new owner removes those (forget_secrets_except).
local LEGACY_SERIES_PREFIX = "ms:"
-- id -> what certsync.certificates.join needs of its status ({ state,
-- served = { serial, since }, deferred = { serial }, refusal = { since } },
-- each but state only when the status has it) and its refusal counts
-- (refusals = { [reason] = n }, nil when none), in the owner: two small
-- tables a Secret at most, which the owner keeps for every Secret watched.
local secrets = {}
local NONE = {}
local served_count = 0
local reason_totals = {}  -- reason -> refusals summed over the Secrets
-- Secrets whose stale-worker count may still move: id -> the generation
-- that published them (workers at or past it serve them, unless they failed).
local stale_watch = {}
local stale_value = {}    -- id -> the stale-worker count last set
local STALE_BATCH = 500
-- The owner's view of the cert-manager Certificates (update_certificates):
-- the JSON last decoded, its entries, and per id the values last set.
local certificates_text, certificates_list = nil, {}
local certificate_values = {}  -- id -> { [family] = value last set }

-- The library's counters restart with each watcher this worker starts,
-- and so does what the owner knows of each Secret's series.
function _M.watcher_started()
  counted = {}
  certificates_text, certificates_list, certificate_values = nil, {}, {}
  secrets, served_count, reason_totals, stale_watch, stale_value = {}, 0, {}, {}, {}
end

local function count(name, labels, total)
  local key = name .. "\0" .. table.concat(labels, "\0")
  local last = counted[key] or 0
  if total > last then each(name, "inc", total - last, labels) end
  counted[key] = total
end

local function delete_series(sets)
  for name, label_sets in pairs(type(sets) == "table" and sets or {}) do
    for _, labels in ipairs(label_sets) do each(name, "del", labels) end
  end
end

-- The gauges a Secret's status (decoded) makes: calls add(name, value, labels).
local function series_of(id, secret, add)
  if type(secret) ~= "table" then return end
  local b = secret.served
  if type(b) == "table" then
    add("certsync_certificate_expiry_timestamp_seconds", b.not_after, { id })
    add("certsync_certificate_info", 1, { id, b.serial, b.issuer, b.key_type })
    if b.chain_incomplete == true then add("certsync_certificate_chain_incomplete", 1, { id }) end
  end
  if type(secret.refusal) == "table" then add("certsync_secret_refused", 1, { id, secret.refusal.code }) end
end

local function series_key(name, labels)
  return name .. "\0" .. table.concat(labels, "\0")
end

-- secret: the library's status of Secret `id` (decoded), or nil when it is
-- gone; before: the status the dict held until now (decoded), or nil.
function _M.update_secret(dict, id, secret, before)
  local written = {}
  series_of(id, secret, function(name, value, labels)
    each(name, "set", value, labels)
    written[series_key(name, labels)] = true
  end)
  local known = secrets[id] or NONE
  local now_served = type(secret) == "table" and type(secret.served) == "table"
  local was_served = type(before) == "table" and type(before.served) == "table"
  local refusals = {}
  if secret then
    if now_served and stale_value[id] == nil then
      -- A new series; watch_stale() (the publication) makes it count.
      each("certsync_secret_stale_workers", "set", 0, { id })
      stale_value[id] = 0
    end
    for reason, n in pairs(type(secret.refusals) == "table" and secret.refusals or {}) do
      count("certsync_secret_refusals_total", { id, reason }, n)
      refusals[reason] = n
    end
  end
  -- What this Secret showed before and no longer does (an old serial, a
  -- refusal that cleared, the whole Secret) goes.
  series_of(id, before, function(name, _, labels)
    if not written[series_key(name, labels)] then each(name, "del", labels) end
  end)
  if not now_served and (stale_value[id] or was_served) then
    each("certsync_secret_stale_workers", "del", { id })
    stale_watch[id], stale_value[id] = nil, nil
  end
  served_count = served_count + (now_served and 1 or 0) - (known.served and 1 or 0)
  local known_refusals = known.refusals or NONE
  for reason, n in pairs(refusals) do
    reason_totals[reason] = (reason_totals[reason] or 0) + n - (known_refusals[reason] or 0)
  end
  if secret then
    secrets[id] = {
      state = secret.state,
      served = now_served and { serial = secret.served.serial, since = secret.served.since } or nil,
      deferred = type(secret.deferred) == "table" and { serial = secret.deferred.serial } or nil,
      refusal = type(secret.refusal) == "table" and { since = secret.refusal.since } or nil,
      refusals = next(refusals) and refusals or nil,
    }
  else
    secrets[id] = nil
  end
end

-- Secret `id` was published as `generation`: count its stale workers until
-- every worker serves it.
function _M.watch_stale(id, generation)
  stale_watch[id] = generation
end

-- After a full status taken over from an earlier owner: the label sets
-- an earlier version kept under "ms:<id>" go, and with them the series of
-- Secrets not in the status (those in it were rewritten from their status).
function _M.forget_secrets_except(dict, present)
  for _, key in ipairs(dict:get_keys(0)) do
    if key:sub(1, #LEGACY_SERIES_PREFIX) == LEGACY_SERIES_PREFIX then
      local id = key:sub(#LEGACY_SERIES_PREFIX + 1)
      if not present[id] then
        delete_series(json.decode(dict:get(key)))
        each("certsync_secret_stale_workers", "del", { id })
      end
      dict:delete(key)
    end
  end
end

-- The owner's view of the node. summary: the watcher's node-wide status
-- (decoded: watchers, ...); reports: worker_report.read_all(); ready:
-- boolean; unpublished: how many certificates did not fit in the dict.
function _M.update_node(dict, summary, reports, published_generation, ready, unpublished)
  local gauges = {}  -- name -> { label values... } written this time
  local function gauge(name, value, labels)
    each(name, "set", value, labels)
    if labels then
      gauges[name] = gauges[name] or {}
      gauges[name][#gauges[name] + 1] = labels
    end
  end
  -- Workers behind on a Secret, for the Secrets published lately (and
  -- those a worker failed to load): once every worker serves a Secret, its
  -- count stays 0 until it is published again. Costs a comparison per
  -- watched Secret, and a registry write only where the count moved.
  local oldest = math.huge
  local failed = {}
  for _, report in ipairs(reports) do
    if not report.missing then oldest = math.min(oldest, tonumber(report.generation) or -1) end
    for id in pairs(type(report.failed) == "table" and report.failed or {}) do
      failed[id] = true
      stale_watch[id] = stale_watch[id] or 0
    end
  end
  -- At most STALE_BATCH Secrets a call (one a second): after a first list
  -- of 50,000 the counts settle over a few seconds instead of holding the
  -- owner's event loop for one long tick.
  local batch = {}
  for id in pairs(failed) do batch[#batch + 1] = id end
  for id in pairs(stale_watch) do
    if #batch >= STALE_BATCH then break end
    if not failed[id] then batch[#batch + 1] = id end
  end
  for _, id in ipairs(batch) do
    local stamp = stale_watch[id]
    local stale = 0
    if stamp > oldest or failed[id] then
      for _, report in ipairs(reports) do
        if not report.missing and ((tonumber(report.generation) or -1) < stamp or
                                   (type(report.failed) == "table" and report.failed[id])) then
          stale = stale + 1
        end
      end
    end
    if stale_value[id] ~= stale and secrets[id] then
      each("certsync_secret_stale_workers", "set", stale, { id })
      stale_value[id] = stale
    end
    if stale == 0 then stale_watch[id] = nil end
  end
  for reason, n in pairs(reason_totals) do count("certsync_refusals_total", { reason }, n) end
  for _, scope in ipairs(summary and summary.watchers or {}) do
    local name = tostring(scope.scope)
    gauge("certsync_watch_up", scope.up and 1 or 0, { name })
    gauge("certsync_last_sync_timestamp_seconds", tonumber(scope.last_sync_at) or 0, { name })
    count("certsync_watch_relists_total", { name }, tonumber(scope.relists) or 0)
    for code, n in pairs(type(scope.errors) == "table" and scope.errors or {}) do
      count("certsync_api_errors_total", { name, code }, n)
    end
  end
  each("certsync_secrets_served", "set", served_count)
  each("certsync_generation_published", "set", published_generation)
  each("certsync_ready", "set", ready and 1 or 0)
  each("certsync_secrets_unpublished", "set", unpublished or 0)

  -- Scope series written last time (by this worker or a previous owner)
  -- but not now belong to scopes that are gone: remove them.
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

-- cert-manager Certificates, in the owner: the text the library gave last
-- (decoded again only when it changes), the values written per series (a
-- registry write only where one moved), and in the dict the ids written,
-- so that the next owner removes the series of Certificates gone meanwhile.
local CERTIFICATE_IDS_KEY = "metrics:certificates"
local CERTIFICATE_FAMILIES = {
  "certsync_certificate_ready", "certsync_certificate_renewal_overdue", "certsync_certificate_not_served_seconds",
  "certsync_certificate_secret_missing", "certsync_certificate_not_after_timestamp_seconds",
  "certsync_certificate_renewal_timestamp_seconds",
}

local function bool_number(b) return b and 1 or 0 end

-- cert_manager: the library's summary.cert_manager; text: the Certificates'
-- JSON (certsync.status_feed); synced: whether every Secret scope listed.
function _M.update_certificates(dict, cert_manager, text, synced, now)
  local watching = type(cert_manager) == "table" and cert_manager.watching == true and cert_manager.enabled ~= false
  each("certsync_cert_manager_watching", "set", bool_number(watching))
  if text ~= certificates_text then
    certificates_text = text
    local decoded = json.decode(text)
    certificates_list = type(decoded) == "table" and decoded or {}
  end
  local seen, ids = {}, {}
  for _, c in ipairs(certificates_list) do
    if type(c) == "table" and type(c.id) == "string" then
      local known = secrets[c.secret]
      local entry = certificates_join.join(c, known, stale_value[c.secret] or 0, now, synced)
      local values = {
        certsync_certificate_ready = bool_number(entry.ready.status == "True"),
        certsync_certificate_renewal_overdue = bool_number(entry.renewal_overdue),
        certsync_certificate_not_served_seconds = math.floor(entry.not_served_seconds),
        certsync_certificate_secret_missing = bool_number(entry.secret_missing),
        certsync_certificate_not_after_timestamp_seconds = tonumber(c.not_after) or 0,
        certsync_certificate_renewal_timestamp_seconds = tonumber(c.renewal_time) or 0,
      }
      local last = certificate_values[c.id] or {}
      for name, value in pairs(values) do
        if last[name] ~= value then each(name, "set", value, { c.id }) end
      end
      certificate_values[c.id] = values
      seen[c.id] = true
      ids[#ids + 1] = c.id
    end
  end
  local previous = json.decode(dict:get(CERTIFICATE_IDS_KEY))
  for _, id in ipairs(type(previous) == "table" and previous or {}) do
    if not seen[id] then
      for _, name in ipairs(CERTIFICATE_FAMILIES) do each(name, "del", { id }) end
      certificate_values[id] = nil
    end
  end
  for id in pairs(certificate_values) do
    if not seen[id] then certificate_values[id] = nil end
  end
  table.sort(ids)
  local list = json.encode(json.array(ids))
  if list and list ~= dict:get(CERTIFICATE_IDS_KEY) then dict:safe_set(CERTIFICATE_IDS_KEY, list) end
end

-- A worker's own share: the generation it serves.
function _M.update_worker(worker_id, generation)
  each("certsync_worker_generation_served", "set", generation, { tostring(worker_id) })
end

-- A worker's own share: handshakes no Secret covered since its last call.
-- kind: "named" (a host name nothing covers), "none" (no server name) or
-- "invalid" (a server name that cannot be a host name). Called with 0 from
-- a timer, not init_worker, to create the series before the first handshake
-- (a rate() needs a sample before the first increase): Kong's registry
-- refuses a counter before its own init_worker, which may come after ours.
function _M.uncovered_handshakes(kind, count)
  each("certsync_uncovered_handshakes_total", "inc", count, { kind })
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
