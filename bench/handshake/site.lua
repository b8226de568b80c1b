-- One nginx for the handshake benchmark. Every configuration uses the same
-- binary and the same lines except how the certificate is chosen, so that
-- a difference in CPU per handshake is the certificate phase's:
--   static:   `ssl_certificate` of the probe's certificates (ECDSA and RSA)
--   certsync: the host's own (fallback) certificate, certsync in the
--             certificate phase, serving what the API server holds
-- and, to take the certificate phase apart, any other Lua in it (`hook`)
-- over either certificate, with or without certsync running.
local proc = require "spec.support.proc"
local free_port = require "spec.support.ports"
local q = proc.shell_quote

local _M = {}
local Site = {}
Site.__index = Site

local function certsync_lines(opts)
  local settings = {}
  for k, v in pairs(opts.settings) do settings[#settings + 1] = string.format("%s = %q,", k, v) end
  table.sort(settings)
  return table.concat({
    -- Room for 10,000 bundles (certificate and key PEM each) in the dict.
    "  lua_shared_dict certsync 128m;",
    "  init_worker_by_lua_block {",
    "    require('certsync.core').init_worker({ " .. table.concat(settings, " "),
    "      lib_path = " .. string.format("%q", opts.lib_path) .. " })",
    "  }",
  }, "\n")
end

local CERTSYNC_HOOK = "require('certsync.core').certificate()"

-- opts: { mode = "static"|"certsync", workers, certs = { ec = {crt,key}, rsa = {crt,key} },
--         fallback = {crt,key}, settings, lua_path, lib_path,
--         hook = Lua code for the certificate phase (replaces certsync's in
--         "certsync" mode; added over the static certificates in "static"),
--         init_lua = Lua code for init_by_lua (the master, before fork) }
function _M.start(dir, opts)
  local self = setmetatable({ dir = dir, mode = opts.mode, port = free_port() }, Site)
  local hook = opts.hook or (opts.mode == "certsync" and CERTSYNC_HOOK)
  repeat self.status_port = free_port() until self.status_port ~= self.port
  proc.check("mkdir -p " .. q(dir .. "/logs") .. " " .. q(dir .. "/conf"))
  local certificate
  if opts.mode == "static" then
    certificate = table.concat({
      "    ssl_certificate " .. opts.certs.ec.crt .. ";", "    ssl_certificate_key " .. opts.certs.ec.key .. ";",
      "    ssl_certificate " .. opts.certs.rsa.crt .. ";", "    ssl_certificate_key " .. opts.certs.rsa.key .. ";",
    }, "\n")
  else
    certificate = table.concat({
      "    ssl_certificate " .. opts.fallback.crt .. ";", "    ssl_certificate_key " .. opts.fallback.key .. ";",
    }, "\n")
  end
  if hook then certificate = certificate .. "\n    ssl_certificate_by_lua_block { " .. hook .. " }" end
  local conf = table.concat({
    "load_module /usr/lib/nginx/modules/ndk_http_module.so;",
    "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;",
    (proc.run("id -u"):match("^0") and "user root;" or ""),
    "worker_processes " .. opts.workers .. ";",
    "error_log logs/error.log notice;",
    "pid logs/nginx.pid;",
    "events { worker_connections 1024; }",
    "http {",
    "  access_log off;",
    -- Full handshakes only, whatever a client asks for.
    "  ssl_session_cache off;",
    "  ssl_session_tickets off;",
    "  ssl_protocols TLSv1.2 TLSv1.3;",
    hook and ("  lua_package_path " .. string.format("%q", opts.lua_path .. ";;") .. ";") or "",
    opts.mode == "certsync" and certsync_lines(opts) or "",
    opts.init_lua and ("  init_by_lua_block { " .. opts.init_lua .. " }") or "",
    "  server {",
    "    listen 127.0.0.1:" .. self.port .. " ssl reuseport;",
    certificate,
    "    location / { return 200 'ok\\n'; }",
    "  }",
    opts.mode == "certsync" and table.concat({
      "  server {",
      "    listen 127.0.0.1:" .. self.status_port .. ";",
      "    location = /certsync/status { content_by_lua_block { require('certsync.core').serve_status() } }",
      "  }" }, "\n") or "",
    "}",
  }, "\n")
  proc.write_file(dir .. "/conf/nginx.conf", conf)
  proc.check("nginx -p " .. q(dir) .. " -c conf/nginx.conf -e logs/error.log")
  proc.wait_until("nginx to write its pid", 10, function() return proc.read_file(dir .. "/logs/nginx.pid") end)
  self.master_pid = tonumber(proc.read_file(dir .. "/logs/nginx.pid"))
  proc.wait_until("nginx to start " .. opts.workers .. " workers", 10, function()
    return #self:worker_pids() == opts.workers
  end)
  return self
end

function Site:worker_pids()
  local pids = {}
  for pid in proc.run("pgrep -P " .. self.master_pid):gmatch("%d+") do pids[#pids + 1] = tonumber(pid) end
  table.sort(pids)
  return pids
end

-- The status's JSON body (certsync only).
function Site:status_body()
  return (proc.run(string.format("curl -sS 'http://127.0.0.1:%d/certsync/status'", self.status_port)))
end

function Site:error_log()
  return proc.read_file(self.dir .. "/logs/error.log") or ""
end

function Site:stop()
  proc.run("nginx -p " .. q(self.dir) .. " -c conf/nginx.conf -e logs/error.log -s stop")
  proc.wait_until("nginx to exit", 10, function() return not proc.alive(self.master_pid) end)
end

return _M
