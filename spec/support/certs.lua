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

-- The serial number of a PEM certificate, uppercase hex as openssl prints it.
function _M.serial(pem)
  local tmp = os.tmpname()
  proc.write_file(tmp, pem)
  local out = proc.check("openssl x509 -noout -serial -in " .. q(tmp))
  os.remove(tmp)
  return (out:match("serial=(%x+)"))
end

return _M
