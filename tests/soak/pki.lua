-- tests.soak.pki: the certificates a soak rotates through, made with the
-- openssl command at run time (no key is committed): a fresh key for every
-- good version, and the four broken writes the library must refuse while the
-- last good certificate keeps serving.
local proc = require "spec.support.proc"
local certs = require "spec.support.certs"
local q = proc.shell_quote

local _M = {}

local KEY_OPTS = {
  ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256",
  rsa = "-newkey rsa:2048",
}

local function san(names)
  local parts = {}
  for i, name in ipairs(names) do parts[i] = "DNS:" .. name end
  return "subjectAltName=" .. table.concat(parts, ",")
end

-- A good self-signed certificate: { crt, key, serial } (as spec.support.certs).
function _M.good(dir, label, names, key_type)
  return certs.make(dir, label, names, { key = key_type })
end

-- `openssl req -x509` cannot backdate in OpenSSL 3.0: `openssl ca -selfsign`
-- can, with a throwaway database in `dir`.
local function ca_config(dir)
  local cnf = dir .. "/expired-ca.cnf"
  if not proc.read_file(cnf) then
    proc.write_file(dir .. "/expired-index.txt", "")
    proc.write_file(cnf, table.concat({
      "[ca]", "default_ca = soak",
      "[soak]", "database = " .. dir .. "/expired-index.txt", "new_certs_dir = " .. dir,
      "rand_serial = yes", "default_md = sha256", "policy = any", "unique_subject = no",
      "copy_extensions = copy",
      "[any]", "commonName = supplied", "",
    }, "\n"))
  end
  return cnf
end

-- A certificate for `names` that expired last year, with its own (matching) key.
function _M.expired(dir, label, names, key_type)
  local crt, key, csr = dir .. "/" .. label .. ".crt", dir .. "/" .. label .. ".key", dir .. "/" .. label .. ".csr"
  proc.check(string.format("openssl req -new %s -nodes -keyout %s -out %s -subj %s -addext %s",
    KEY_OPTS[key_type or "ec"], q(key), q(csr), q("/CN=" .. names[1]), q(san(names))))
  local year = tonumber(os.date("!%Y")) - 1
  proc.check(string.format(
    "openssl ca -batch -notext -config %s -selfsign -keyfile %s -in %s -out %s -startdate %d0101000000Z -enddate %d0201000000Z",
    q(ca_config(dir)), q(key), q(csr), q(crt), year, year))
  os.remove(csr)
  return { crt = crt, key = key, serial = certs.serial(proc.read_file(crt)) }
end

-- The broken writes, each { kind, crt, key, serial (a leaf a client could
-- see, if it were ever served), code (the refusal the status must show) }.
-- `previous` is the good version serving now (its key is the wrong one).
function _M.broken(dir, label, kind, names, key_type, previous)
  if kind == "mismatched_key" then
    -- A new certificate with the old key: what a half-finished renewal writes.
    local fresh = certs.make(dir, label, names, { key = key_type })
    return { kind = kind, crt = fresh.crt, key = previous.key, serial = fresh.serial,
             extra_keys = { fresh.key }, code = "key_mismatch" }
  elseif kind == "garbage" then
    local crt = dir .. "/" .. label .. ".crt"
    proc.check("head -c 1500 /dev/urandom > " .. q(crt))
    return { kind = kind, crt = crt, key = previous.key, code = "cert_parse_error" }
  elseif kind == "truncated_chain" then
    -- A good leaf followed by an intermediate cut off mid-way, no END line.
    local fresh = certs.make(dir, label, names, { key = key_type })
    local other = certs.make(dir, label .. "-ca", { "intermediate.soak.test" })
    local pem = proc.read_file(other.crt)
    local crt = dir .. "/" .. label .. "-truncated.crt"
    proc.write_file(crt, proc.read_file(fresh.crt) .. pem:sub(1, math.floor(#pem / 2)))
    return { kind = kind, crt = crt, key = fresh.key, serial = fresh.serial,
             extra_keys = { other.key }, code = "cert_parse_error" }
  elseif kind == "expired" then
    local old = _M.expired(dir, label, names, key_type)
    return { kind = kind, crt = old.crt, key = old.key, serial = old.serial,
             code = "expired_certificate_not_served" }
  end
  error("no such broken write: " .. tostring(kind))
end

_M.BROKEN_KINDS = { "mismatched_key", "garbage", "truncated_chain", "expired" }

return _M
