-- certsync.certificates: each cert-manager Certificate joined with the
-- Secret it writes (spec.secretName) and with what the workers serve, and
-- the flags that say where the chain of custody breaks:
--
--   renewal_overdue  renewalTime has passed and the Certificate is not
--                    Ready, or its latest issuance failed (lastFailureTime
--                    is set only then: cert-manager keeps Ready True while
--                    the old certificate is valid): issuance is failing
--                    while expiry comes closer
--   not_served       the Secret's current certificate is not what every
--                    worker serves (its latest version was refused, waits
--                    for its notBefore, or workers are behind), with
--                    not_served_seconds: for how long
--   secret_missing   certsync does not see the Secret the Certificate names
--                    (another namespace, a label selector or secret_names
--                    that leaves it out, a misspelt name)
--
-- The library watches the Certificates and hands over their facts
-- (certsync.h's certsync_certificates_json); the join happens here because
-- what the workers serve is only known here. The status (certsync.status)
-- and the metrics (certsync.metrics) both use it.
local _M = {}

local function ready_of(certificate)
  local ready = type(certificate.ready) == "table" and certificate.ready or {}
  return { status = ready.status or "Unknown", reason = ready.reason or "", message = ready.message or "" }
end

-- The serial in the Secret now: the bundle waiting for its notBefore, else
-- the served one; nil when its latest version was refused (what it holds
-- did not pass validation, so it has no serial certsync vouches for).
local function secret_serial(secret)
  if secret.state == "refused" then return nil end
  if type(secret.deferred) == "table" then return secret.deferred.serial end
  return type(secret.served) == "table" and secret.served.serial or nil
end

-- Whether the Secret's current certificate is not what every worker serves,
-- and since when (Unix seconds, nil when unknown).
local function not_served(secret, workers_behind)
  if secret.state == "refused" then
    return true, type(secret.refusal) == "table" and secret.refusal.since or nil
  end
  if type(secret.deferred) == "table" then return true, nil end
  if type(secret.served) ~= "table" then return true, nil end
  if (workers_behind or 0) > 0 then return true, secret.served.since end
  return false, nil
end

-- certificate: one entry of the library's Certificates (decoded).
-- secret: the library's status of the Secret it names (decoded), or nil.
-- workers_behind: how many workers serve another serial of that Secret.
-- synced: whether every Secret scope has listed once (before that, a Secret
-- not seen yet is not missing). Returns a new table: the Certificate's
-- facts, `ready` = { status, reason, message }, the flags, and
-- secret_serial / secret_state beside them.
function _M.join(certificate, secret, workers_behind, now, synced)
  local entry = {}
  for k, v in pairs(certificate) do entry[k] = v end
  entry.ready = ready_of(certificate)
  local renewal = tonumber(certificate.renewal_time) or 0
  local failed = (tonumber(certificate.last_failure_time) or 0) > 0
  entry.renewal_overdue = renewal > 0 and now >= renewal and (entry.ready.status ~= "True" or failed)
  if secret == nil then
    entry.secret_missing = synced and true or false
    entry.not_served = false
    entry.not_served_seconds = 0
    return entry
  end
  entry.secret_missing = false
  entry.secret_state = secret.state
  entry.secret_serial = secret_serial(secret)
  local flag, since = not_served(secret, workers_behind)
  entry.not_served = flag
  entry.not_served_since = flag and since or nil
  entry.not_served_seconds = (flag and since) and math.max(0, now - since) or 0
  return entry
end

-- Certificates by the Secret they name: { [secret id] = { certificate, ... } }.
function _M.by_secret(certificates)
  local out = {}
  for _, c in ipairs(certificates) do
    if type(c) == "table" and type(c.secret) == "string" then
      local list = out[c.secret]
      if not list then
        list = {}
        out[c.secret] = list
      end
      list[#list + 1] = c
    end
  end
  return out
end

return _M
