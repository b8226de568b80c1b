-- The whole stack a spec or the demo runs: the API test server and a real
-- nginx with certsync watching its "default" namespace, in a fresh directory.
local proc = require "spec.support.proc"
local certs = require "spec.support.certs"
local kube = require "spec.support.kube"
local nginx = require "spec.support.nginx"

local _M = {}
local Stack = {}
Stack.__index = Stack

-- opts: { workers = 2, settings = { extra library settings },
--         nginx = { extra options for spec.support.nginx.start }, or a
--                 function(stack) returning them, called once the API server runs,
--         api_args = { extra command-line arguments of the API test server },
--         api_restartable = true: the API server can go_down() and come_back() (spec.support.kube) }
function _M.start(opts)
  opts = opts or {}
  local self = setmetatable({ dir = proc.tmpdir() }, Stack)
  proc.check("chmod 755 " .. proc.shell_quote(self.dir))
  self.api = kube.start(self.dir .. "/api", { args = opts.api_args, restartable = opts.api_restartable })
  -- The host's own certificate: what nginx (or Kong) serves when certsync has nothing.
  local fallback = certs.make(self.dir, "fallback", { "fallback.example.test" })
  self.fallback = fallback
  local settings = { server = self.api.url, ca_file = self.api.ca_file, token_file = self.api.token_file,
                     namespace = "default" }
  for k, v in pairs(opts.settings or {}) do settings[k] = v end
  -- CERTSYNC_INSTALLED_TREE: run what `luarocks make --tree DIR` installed
  -- instead of the source tree; the library is then found along package.cpath.
  local tree = os.getenv("CERTSYNC_INSTALLED_TREE")
  local nginx_opts = {
    workers = opts.workers or 2,
    lua_path = tree and (tree .. "/share/lua/5.1/?.lua")
      or (kube.root .. "/kong-plugin/?.lua;" .. kube.build_dir .. "/lua/?.lua"),
    lua_cpath = tree and (tree .. "/lib/lua/5.1/?.so"),
    lib_path = not tree and (os.getenv("CERTSYNC_LIB") or (kube.build_dir .. "/libcertsync/libcertsync.so")) or nil,
    fallback_crt = fallback.crt,
    fallback_key = fallback.key,
    settings = settings,
  }
  local extra = opts.nginx
  if type(extra) == "function" then extra = extra(self) end
  for k, v in pairs(extra or {}) do nginx_opts[k] = v end
  self.nginx = nginx.start(self.dir .. "/nginx", nginx_opts)
  return self
end

-- A certificate (and key) for `names`, made in the stack's directory.
function Stack:cert(label, names, cert_opts)
  return certs.make(self.dir, label, names, cert_opts)
end

function Stack:stop()
  if self.nginx then pcall(self.nginx.stop, self.nginx) end
  if self.api then self.api:stop() end
  if os.getenv("CERTSYNC_KEEP_LOGS") ~= "1" then proc.run("rm -rf " .. proc.shell_quote(self.dir)) end
end

return _M
