-- A real nginx with lua-nginx-module, configured the way the README tells
-- users to wire certsync into plain nginx.
local json = require "dkjson"
local proc = require "spec.support.proc"
local q = proc.shell_quote

local _M = {}
local Nginx = {}
Nginx.__index = Nginx

local free_port = require "spec.support.ports"

-- opts: { workers, settings = { server, ca_file, token_file, namespace, ... },
--         lua_path, lib_path, fallback_crt, fallback_key,
--         shared_dict = false (leave out `lua_shared_dict certsync`),
--         shared_dict_size (default "16m"),
--         http_lua / certificate_lua (replace the init_worker block and the
--         certificate phase's code, e.g. to host the Kong handler),
--         init_lua (init_by_lua code, run in the master), env = { NAME = value },
--         status_lua, ready_lua, metrics_lua (the content code of
--         /certsync/status, /ready and /metrics on the status port),
--         kong_metrics_lua (a /metrics location there, as Kong's),
--         extra_http (lines for the http block),
--         extra_server (lines for the TLS server block, e.g. a location) }
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
    opts.shared_dict == false and "" or ("  lua_shared_dict certsync " .. (opts.shared_dict_size or "16m") .. ";"),
    opts.extra_http or "",
    -- As Kong requires the plugin's handler: the library is mapped before
    -- nginx forks (certsync.ffi.preload).
    "  init_by_lua_block { " .. (opts.init_lua or
      ("require('certsync.ffi').preload(" .. string.format("%q", opts.lib_path or "") .. ")")) .. " }",
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
    opts.extra_server or "",
    "    location / { return 200 'ok\\n'; }",
    "  }",
    "  server {",
    "    listen 127.0.0.1:" .. self.status_port .. " reuseport;",
    "    location = /certsync/status { content_by_lua_block { " ..
      (opts.status_lua or "require('certsync.core').serve_status()") .. " } }",
    "    location = /certsync/ready { content_by_lua_block { " ..
      (opts.ready_lua or "require('certsync.core').serve_ready()") .. " } }",
    "    location = /certsync/metrics { content_by_lua_block { " ..
      (opts.metrics_lua or "require('certsync.core').serve_metrics()") .. " } }",
    opts.kong_metrics_lua and ("    location = /metrics { content_by_lua_block { " .. opts.kong_metrics_lua .. " } }") or "",
    "  }",
    "}",
  }, "\n")
  proc.write_file(dir .. "/conf/nginx.conf", conf)
  local env = {}
  for k, v in pairs(opts.env or {}) do env[#env + 1] = k .. "=" .. q(v) end
  -- make e2e-asan: the sanitizer runtime goes only into the processes that
  -- load the library (into every client the specs run it deadlocked curl).
  local preload = os.getenv("CERTSYNC_LIB_PRELOAD")
  if preload and preload ~= "" then env[#env + 1] = "LD_PRELOAD=" .. q(preload) end
  self.start_command = (#env > 0 and "env " .. table.concat(env, " ") .. " " or "") ..
    "nginx -p " .. q(dir) .. " -c conf/nginx.conf -e logs/error.log"
  self:launch()
  return self
end

-- Starts the master from the written configuration and waits for its pid.
function Nginx:launch()
  proc.check(self.start_command)
  proc.wait_until("nginx to write its pid", 10, function() return proc.read_file(self.dir .. "/logs/nginx.pid") end)
  self.master_pid = tonumber(proc.read_file(self.dir .. "/logs/nginx.pid"))
end

-- A node restart: nginx stops and starts again with the same configuration,
-- so, unlike a reload, the shared dict starts empty.
function Nginx:restart()
  self:stop()
  self:launch()
end

function Nginx:worker_pids()
  local out = proc.run("pgrep -P " .. self.master_pid .. " | sort -n")
  local pids = {}
  for pid in out:gmatch("%d+") do pids[#pids + 1] = tonumber(pid) end
  return pids
end

-- The status endpoint's body; query: e.g. "?sni=a.example.test".
function Nginx:status(query)
  return (proc.run(string.format("curl -sS 'http://127.0.0.1:%d/certsync/status%s'", self.status_port, query or "")))
end

-- The status, decoded (nil when the body is not JSON).
function Nginx:status_table(query)
  return json.decode(self:status(query))
end

-- GET path on the status port: body, HTTP status code.
function Nginx:get(path)
  local out = proc.run(string.format("curl -sS -w '\n%%{http_code}' 'http://127.0.0.1:%d%s'", self.status_port, path))
  local body, code = out:match("^(.*)\n(%d+)%s*$")
  return body, tonumber(code)
end

-- What each worker serves, from the workers' reports in the status:
-- { [pid] = { generation = n, serials = { [id] = serial } } }, once every
-- running worker has reported.
function Nginx:status_per_worker(seconds)
  local seen
  proc.wait_until("every worker to report in the status", seconds or 10, function()
    local running, want = {}, 0
    for _, pid in ipairs(self:worker_pids()) do running[pid], want = true, want + 1 end
    local status = self:status_table()
    if not status or type(status.workers) ~= "table" then return false end
    seen = {}
    local count = 0
    for _, worker in ipairs(status.workers) do
      if running[worker.pid] and not worker.stale then
        seen[worker.pid] = { generation = worker.generation, serials = worker.serials or {} }
        count = count + 1
      end
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
