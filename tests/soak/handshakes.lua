-- tests.soak.handshakes: constant load of fresh TLS handshakes from real
-- clients: `clients` bash loops, each running one curl per handshake (a new
-- connection, no session reuse) over the SNI list, and one awk per loop that
-- keeps, per handshake, what the client was shown: curl's exit code, its
-- timings and the leaf's serial, names and validity (curl's certinfo).
-- curl runs with -k: the checks in tests.soak.verdict judge the certificate
-- (names, dates, which serial at which moment); a completed handshake proves
-- the server held the certificate's key.
--
-- One line per handshake in clients/N.log, fields separated by "|":
--   start (epoch s, bash's EPOCHREALTIME) | sni | curl exit code |
--   time_connect | time_appconnect | time_total | serial | SAN | notBefore | notAfter
local proc = require "spec.support.proc"
local q = proc.shell_quote

local _M = {}
local Load = {}
Load.__index = Load

local AWK = [[
function flush() { if (start != "") { print start "|" sni "|" rc "|" tc "|" ta "|" tt "|" serial "|" san "|" nb "|" na; fflush() } }
/^B / { flush(); start = $2; sni = $3; rc = ""; tc = ""; ta = ""; tt = ""; serial = ""; san = ""; nb = ""; na = ""; certs = 0; next }
/^R / { rc = $2; tc = $3; ta = $4; tt = $5; next }
/^Subject:/ { certs++ }
certs == 1 && /^Serial Number:/ { serial = toupper(substr($0, 15)) }
certs == 1 && /^X509v3 Subject Alternative Name:/ { san = substr($0, 33) }
certs == 1 && /^Start date:/ { nb = substr($0, 12) }
certs == 1 && /^Expire date:/ { na = substr($0, 13) }
END { flush() }
]]

-- snis: names to ask for, in order; each client starts at its own offset.
function _M.start(dir, port, snis, clients)
  local self = setmetatable({ dir = dir .. "/clients", stop_file = dir .. "/clients/stop", pids = {}, logs = {} }, Load)
  proc.check("mkdir -p " .. q(self.dir))
  os.remove(self.stop_file)
  local quoted = {}
  for i, sni in ipairs(snis) do quoted[i] = q(sni) end
  proc.write_file(self.dir .. "/filter.awk", AWK)
  for c = 1, clients do
    local script = string.format([[
snis=(%s)
n=${#snis[@]}
i=%d
while [ ! -e %s ]; do
  sni=${snis[$((i %% n))]}
  i=$((i + 1))
  echo "B $EPOCHREALTIME $sni"
  curl -sk -o /dev/null --max-time 5 --no-keepalive --resolve "$sni:%d:127.0.0.1" "https://$sni:%d/" \
    -w 'R %%{exitcode} %%{time_connect} %%{time_appconnect} %%{time_total}\n%%{certs}'
  echo
done | awk -f %s]], table.concat(quoted, " "), (c - 1) * 7, q(self.stop_file), port, port, q(self.dir .. "/filter.awk"))
    local path = string.format("%s/client-%d.sh", self.dir, c)
    proc.write_file(path, script)
    self.logs[c] = string.format("%s/%d.log", self.dir, c)
    self.pids[c] = proc.spawn("bash " .. q(path), self.logs[c])
  end
  return self
end

-- Every handshake so far, as tables, in no particular order.
function Load:records()
  local out = {}
  for _, log in ipairs(self.logs) do
    for line in (proc.read_file(log) or ""):gmatch("[^\n]+") do
      local f = {}
      for field in (line .. "|"):gmatch("([^|]*)|") do f[#f + 1] = field end
      if #f >= 10 then
        out[#out + 1] = { start = tonumber(f[1]), sni = f[2], rc = tonumber(f[3]), connect = tonumber(f[4]),
                          appconnect = tonumber(f[5]), total = tonumber(f[6]), serial = f[7] ~= "" and f[7] or nil,
                          san = f[8], not_before = f[9], not_after = f[10] }
      end
    end
  end
  return out
end

function Load:count()
  local n = 0
  for _, log in ipairs(self.logs) do
    local _, lines = (proc.read_file(log) or ""):gsub("\n", "")
    n = n + lines
  end
  return n
end

function Load:stop()
  proc.write_file(self.stop_file, "")
  for _, pid in ipairs(self.pids) do
    proc.wait_until("a handshake client to stop", 15, function() return not proc.alive(pid) end)
  end
  return self:records()
end

return _M
