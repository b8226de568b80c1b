-- Continuous TLS handshakes in the background (a bash loop of openssl
-- s_client), each recorded as "ok SERIAL" or "fail", for proving that a
-- reload or a shutdown does not break handshakes.
local proc = require "spec.support.proc"
local q = proc.shell_quote

local _M = {}
local Load = {}
Load.__index = Load

function _M.start(dir, port, sni)
  local self = setmetatable({ log = dir .. "/handshakes.log", stop_file = dir .. "/handshakes.stop" }, Load)
  os.remove(self.stop_file)
  local loop = string.format([[
while [ ! -e %s ]; do
  out=$(echo | timeout 5 openssl s_client -connect 127.0.0.1:%d -servername %s 2>&1)
  if grep -q "Cipher is " <<<"$out" && ! grep -q "Cipher is (NONE)" <<<"$out"; then
    echo "ok $(openssl x509 -noout -serial <<<"$out" | cut -d= -f2)"
  else
    echo "fail $(tail -1 <<<"$out")"
  fi
done]], q(self.stop_file), port, q(sni))
  proc.write_file(dir .. "/handshakes.sh", loop)
  self.pid = proc.spawn("bash " .. q(dir .. "/handshakes.sh"), self.log)
  return self
end

-- { ok = n, failed = n, serials = { [serial] = n }, failures = { lines } }
function Load:results()
  local r = { ok = 0, failed = 0, serials = {}, failures = {} }
  for line in (proc.read_file(self.log) or ""):gmatch("[^\n]+") do
    local serial = line:match("^ok (%x+)")
    if serial then
      r.ok = r.ok + 1
      r.serials[serial] = (r.serials[serial] or 0) + 1
    else
      r.failed = r.failed + 1
      r.failures[#r.failures + 1] = line
    end
  end
  return r
end

function Load:stop()
  proc.write_file(self.stop_file, "")
  proc.wait_until("the handshake loop to stop", 10, function() return not proc.alive(self.pid) end)
  return self:results()
end

return _M
