-- Test certificates, made at run time with the openssl command (no key is committed).
local proc = require "spec.support.proc"
local q = proc.shell_quote

local _M = {}

-- Makes a self-signed certificate for `names` in dir/<label>.crt and .key.
-- opts.key: "ec" (P-256, default) or "rsa". Returns { crt, key, serial }.
function _M.make(dir, label, names, opts)
  opts = opts or {}
  local crt, key = dir .. "/" .. label .. ".crt", dir .. "/" .. label .. ".key"
  local san = {}
  for i, name in ipairs(names) do san[i] = "DNS:" .. name end
  local keyopt = opts.key == "rsa" and "-newkey rsa:2048"
    or "-newkey ec -pkeyopt ec_paramgen_curve:P-256"
  proc.check(string.format(
    "openssl req -x509 %s -nodes -keyout %s -out %s -days %d -subj %s -addext %s",
    keyopt, q(key), q(crt), opts.days or 30, q("/CN=" .. names[1]),
    q("subjectAltName=" .. table.concat(san, ","))))
  return { crt = crt, key = key, serial = _M.serial(proc.read_file(crt)) }
end

-- A root CA, an intermediate CA it issued, and a leaf for `names` issued by
-- the intermediate, in dir/<label>-{root,intermediate,leaf}.crt (and .key).
-- Returns { root = path, intermediate = path, leaf = { crt, key, serial } }.
function _M.make_chain(dir, label, names)
  local base = dir .. "/" .. label
  local function path(part, ext) return base .. "-" .. part .. "." .. ext end
  local ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
  local ext_file = base .. "-ca.ext"
  proc.write_file(ext_file, "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
  proc.check(string.format("openssl req -x509 %s -keyout %s -out %s -days 30 -subj %s " ..
    "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
    ec, q(path("root", "key")), q(path("root", "crt")), q("/CN=" .. label .. " test root")))
  -- issue(part, subject, extensions file): a CSR signed by the part above it.
  local function issue(part, parent, subject, extensions)
    local csr = path(part, "csr")
    proc.check(string.format("openssl req -new %s -keyout %s -out %s -subj %s", ec, q(path(part, "key")), q(csr),
      q(subject)))
    proc.check(string.format("openssl x509 -req -in %s -CA %s -CAkey %s -CAcreateserial -days 30 -out %s -extfile %s",
      q(csr), q(path(parent, "crt")), q(path(parent, "key")), q(path(part, "crt")), q(extensions)))
  end
  issue("intermediate", "root", "/CN=" .. label .. " test intermediate", ext_file)
  local san = {}
  for i, name in ipairs(names) do san[i] = "DNS:" .. name end
  local leaf_ext = base .. "-leaf.ext"
  proc.write_file(leaf_ext, "subjectAltName=" .. table.concat(san, ",") .. "\nextendedKeyUsage=serverAuth\n")
  issue("leaf", "intermediate", "/CN=" .. names[1], leaf_ext)
  local leaf = path("leaf", "crt")
  return { root = path("root", "crt"), intermediate = path("intermediate", "crt"),
           leaf = { crt = leaf, key = path("leaf", "key"), serial = _M.serial(proc.read_file(leaf)) } }
end

-- The serial number of a PEM certificate, uppercase hex as openssl prints it.
function _M.serial(pem)
  local tmp = os.tmpname()
  proc.write_file(tmp, pem)
  local out = proc.check("openssl x509 -noout -serial -in " .. q(tmp))
  os.remove(tmp)
  return (out:match("serial=(%x+)"))
end

return _M
