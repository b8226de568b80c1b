-- tests.soak.host: the gateway a soak runs against, with 4 workers:
--   "kong-3.x", "kong-2.8": the certsync Kong handler in spec.support.kong_host,
--     configured by a declarative file every worker follows as a pushed
--     DB-less POST /config reaches it (3.x: configure() in every worker; 2.8:
--     the handler's next look at kong.db.plugins);
--   "nginx": certsync.core wired into plain nginx as the README shows; its
--     settings live in nginx.conf, so a scope change is the conf edited and a
--     reload (HUP), the only way that host changes them.
-- set_scope(namespaces) changes which namespaces are watched.
local proc = require "spec.support.proc"
local kube = require "spec.support.kube"
local stack_support = require "spec.support.stack"

local _M = {}
local Host = {}
Host.__index = Host

local function lib_path()
  return os.getenv("CERTSYNC_LIB") or (kube.build_dir .. "/libcertsync/libcertsync.so")
end

local function lua_list(items)
  local parts = {}
  for i, v in ipairs(items) do parts[i] = string.format("%q", v) end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

-- The declarative file, replaced whole (a worker may read it any time).
local function write_declarative(path, api, namespaces)
  local config = string.format(
    "{ connection = %q, api_server = %q, ca_file = %q, token_file = %q, namespaces = %s, library_path = %q }",
    "explicit", api.url, api.ca_file, api.token_file, lua_list(namespaces), lib_path())
  local tmp = path .. ".tmp"
  proc.write_file(tmp, "return { plugins = { { name = \"certsync\", enabled = true, config = " .. config .. " } } }\n")
  assert(os.rename(tmp, path))
end

function _M.start(kind, workers, namespaces)
  local self = setmetatable({ kind = kind, namespaces = namespaces }, Host)
  if kind == "nginx" then
    self.stack = stack_support.start({ workers = workers, settings = { namespace = namespaces[1] } })
    assert(#namespaces == 1, "the nginx host starts with one namespace")
  else
    local line = kind:match("^kong%-(.+)$")
    assert(line == "2.8" or line == "3.x", "SOAK_HOST must be kong-3.x, kong-2.8 or nginx, not " .. tostring(kind))
    self.stack = stack_support.start({ workers = workers, nginx = function(stack)
      stack.declarative = stack.dir .. "/kong.lua"
      write_declarative(stack.declarative, stack.api, namespaces)
      local host = "require('spec.support.kong_host')"
      return {
        lua_path = kube.root .. "/?.lua;" .. kube.root .. "/kong-plugin/?.lua;" .. kube.build_dir .. "/lua/?.lua",
        init_lua = string.format("%s.init(%q, %q, false)", host, line, stack.declarative),
        http_lua = "  init_worker_by_lua_block { " .. host .. ".init_worker() }",
        certificate_lua = host .. ".certificate()",
        status_lua = host .. ".status_api('/certsync/status')",
        ready_lua = host .. ".status_api('/certsync/ready')",
        metrics_lua = host .. ".status_api('/certsync/metrics')",
      }
    end })
  end
  self.api, self.nginx = self.stack.api, self.stack.nginx
  return self
end

-- How the scope change reaches this host, for the report.
function Host:scope_change_method()
  if self.kind == "nginx" then return "nginx.conf settings edited + reload (HUP)" end
  return "declarative configuration replaced, as a DB-less POST /config (" .. self.kind .. ")"
end

function Host:set_scope(namespaces)
  if self.kind == "nginx" then
    local path = self.nginx.dir .. "/conf/nginx.conf"
    local conf = proc.read_file(path)
    local replaced, n = conf:gsub('namespaces? = "[^"]*",', string.format("namespaces = %q,", table.concat(namespaces, ",")), 1)
    assert(n == 1, "no namespace setting in nginx.conf")
    proc.write_file(path, replaced)
    self.nginx:signal("reload")
  else
    write_declarative(self.stack.declarative, self.api, namespaces)
  end
  self.namespaces = namespaces
end

function Host:stop()
  self.stack:stop()
end

return _M
