-- A real TLS client: which certificate does the server present for a name?
local proc = require "spec.support.proc"
local certs = require "spec.support.certs"
local q = proc.shell_quote

local _M = {}

local function serial_of(out)
  if not out:find("Cipher is ", 1, true) or out:find("Cipher is (NONE)", 1, true) then
    return nil, "handshake did not complete: " .. out:sub(-300)
  end
  local pem = out:match("(%-%-%-%-%-BEGIN CERTIFICATE%-%-%-%-%-.-%-%-%-%-%-END CERTIFICATE%-%-%-%-%-)")
  if not pem then return nil, "no certificate in the output" end
  return certs.serial(pem)
end

-- Returns the serial of the certificate served for `sni`, only when the
-- handshake completed (a client sees the certificate before the server
-- proves it holds the key), or nil and what went wrong.
function _M.served_serial(port, sni, extra_args)
  return serial_of(proc.run(string.format(
    "echo | timeout 10 openssl s_client -connect 127.0.0.1:%d -servername %s %s",
    port, q(sni), extra_args or "")))
end

-- The same for a handshake that sends no server name at all.
function _M.served_serial_without_sni(port)
  return serial_of(proc.run(string.format(
    "echo | timeout 10 openssl s_client -connect 127.0.0.1:%d -noservername", port)))
end

return _M
