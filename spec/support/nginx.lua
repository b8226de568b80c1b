-- A real nginx with lua-nginx-module, configured the way the README tells
-- users to wire certsync into plain nginx.
local proc = require "spec.support.proc"
local q = proc.shell_quote

local _M = {}
local Nginx = {}
Nginx.__index = Nginx

local free_port = require "spec.support.ports"

-- opts: { workers, settings = { server, ca_file, token_file, namespace, ... },
--         lua_path, lib_path, fallback_crt, fallback_key,
--         shared_dict = false (leave out `lua_shared_dict certsync`),
--         http_lua / certificate_lua (replace the init_worker block and the
--         certificate phase's code, e.g. to host the Kong handler),
--         init_lua (init_by_lua code, run in the master), env = { NAME = value },
--         status_lua (the status location's content code) }
function _M.start(dir, opts)
  local self = setmetatable({ dir = dir, port = free_port() }, Nginx)
  repeat self.status_port = free_port() until self.status_port ~= self.port
  proc.check("mkdir -p " .. q(dir .. "/logs") .. " " .. q(dir .. "/conf"))
  local settings = {}
  for k, v in pairs(opts.settings or {}) do settings[#settings + 1] = string.format("%s = %q,", k, v) end
  table.sort(settings)
  local conf = table.concat({
    "load_module /usr/lib/nginx/modules/ndk_http_module.so;",
    "load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;",
    -- As root, nginx would run its workers as nobody, who cannot read the test's files.
    (proc.run("id -u"):match("^0") and "user root;" or ""),
    "worker_processes " .. (opts.workers or 2) .. ";",
    "error_log logs/error.log notice;",
    "pid logs/nginx.pid;",
    "events { worker_connections 256; }",
    "http {",
    "  access_log off;",
    "  lua_package_path " .. string.format("%q", opts.lua_path .. ";;") .. ";",
    opts.lua_cpath and ("  lua_package_cpath " .. string.format("%q", opts.lua_cpath .. ";;") .. ";") or "",
    opts.shared_dict == false and "" or "  lua_shared_dict certsync 16m;",
    opts.init_lua and ("  init_by_lua_block { " .. opts.init_lua .. " }") or "",
    opts.http_lua or table.concat({
      "  init_worker_by_lua_block {",
      "    require('certsync.core').init_worker({",
      "      " .. table.concat(settings, "\n      "),
      "      lib_path = " .. string.format("%q", opts.lib_path or "") .. ",",
      "    })",
      "  }",
    }, "\n"),
    "  server {",
    "    listen 127.0.0.1:" .. self.port .. " ssl reuseport;",
    "    ssl_certificate " .. opts.fallback_crt .. ";",
    "    ssl_certificate_key " .. opts.fallback_key .. ";",
    "    ssl_certificate_by_lua_block { " .. (opts.certificate_lua or "require('certsync.core').certificate()") .. " }",
    "    location / { return 200 'ok\\n'; }",
    "  }",
    "  server {",
    "    listen 127.0.0.1:" .. self.status_port .. " reuseport;",
    "    location = /certsync/status { content_by_lua_block { " ..
      (opts.status_lua or "ngx.say(require('certsync.core').status_json())") .. " } }",
    "  }",
    "}",
  }, "\n")
  proc.write_file(dir .. "/conf/nginx.conf", conf)
  local env = {}
  for k, v in pairs(opts.env or {}) do env[#env + 1] = k .. "=" .. q(v) end
  proc.check((#env > 0 and "env " .. table.concat(env, " ") .. " " or "") ..
    "nginx -p " .. q(dir) .. " -c conf/nginx.conf -e logs/error.log")
  proc.wait_until("nginx to write its pid", 10, function() return proc.read_file(dir .. "/logs/nginx.pid") end)
  self.master_pid = tonumber(proc.read_file(dir .. "/logs/nginx.pid"))
  return self
end

function Nginx:worker_pids()
  local out = proc.run("pgrep -P " .. self.master_pid .. " | sort -n")
  local pids = {}
  for pid in out:gmatch("%d+") do pids[#pids + 1] = tonumber(pid) end
  return pids
end

function Nginx:status()
  return (proc.run(string.format("curl -sS http://127.0.0.1:%d/certsync/status", self.status_port)))
end

-- Asks the status endpoint until every worker has answered; returns
-- { [pid] = { generation = n, serials = { [id] = serial } } }.
function Nginx:status_per_worker(seconds)
  local want, seen = #self:worker_pids(), {}
  local count = 0
  proc.wait_until("every worker to answer the status endpoint", seconds or 10, function()
    local s = self:status()
    local pid = tonumber(s:match('"worker":{"pid":(%d+)'))
    if pid and not seen[pid] then
      local serials = {}
      for id, serial in s:gmatch('{"id":"([^"]+)","serial":"(%x+)"') do serials[id] = serial end
      seen[pid] = { generation = tonumber(s:match('"generation":(%-?%d+)')), serials = serials }
      count = count + 1
    end
    return count >= want
  end)
  return seen
end

-- Waits until every worker says it serves each { [id] = serial } given: one
-- handshake only proves that one worker has converged.
function Nginx:wait_every_worker_serves(serials, seconds)
  local ids = {}
  for id in pairs(serials) do ids[#ids + 1] = id end
  table.sort(ids)
  proc.wait_until("every worker to serve " .. table.concat(ids, ", "), seconds or 10, function()
    for _, worker in pairs(self:status_per_worker()) do
      for id, serial in pairs(serials) do
        if worker.serials[id] ~= serial then return false end
      end
    end
    return true
  end)
end

function Nginx:error_log()
  return proc.read_file(self.dir .. "/logs/error.log") or ""
end

function Nginx:signal(name)
  return proc.run("nginx -p " .. q(self.dir) .. " -c conf/nginx.conf -e logs/error.log -s " .. name)
end

function Nginx:stop()
  proc.run("nginx -p " .. q(self.dir) .. " -c conf/nginx.conf -e logs/error.log -s stop")
  proc.wait_until("nginx to exit", 10, function() return not proc.alive(self.master_pid) end)
end

return _M
