-- certsync.kong_config: what the Kong handler needs beyond Kong's phases —
-- the translation of the plugin's configuration into library settings, the
-- lookup of that configuration on Kong 2.8 (which has no configure phase),
-- and the kong.conf lines that fix a missing prerequisite.
local config_fields = require "certsync.config_fields"

local _M = {}

local null = ngx and ngx.null -- a distinct value Kong gives unset fields

local function is_set(value)
  return value ~= nil and value ~= null
end

-- Plugin field -> library setting, where the names differ.
local RENAMED = { api_server = "server" }
-- Fields that are not library settings.
local HOST_ONLY = { connection = true, sync_interval_ms = true, library_path = true, ready_watch_down_seconds = true,
                    uncovered_names_max = true }

-- Returns the settings table certsync.core.configure() takes.
function _M.settings_from(conf)
  -- Only the fields of the chosen connection mode reach the library, which
  -- refuses a mix of sources (the schema refuses it too).
  local other_mode = {}
  for mode, names in pairs(config_fields.mode_fields) do
    if mode ~= conf.connection then
      for _, name in ipairs(names) do other_mode[name] = true end
    end
  end
  local settings = {}
  for _, entry in ipairs(config_fields.fields) do
    local name = entry[1]
    local value = conf[name]
    if not HOST_ONLY[name] and not other_mode[name] and is_set(value) then
      if type(value) == "table" then
        if #value > 0 then settings[RENAMED[name] or name] = table.concat(value, ",") end
      else
        settings[RENAMED[name] or name] = tostring(value)
      end
    end
  end
  if conf.connection == "in_cluster" then settings.in_cluster = "true" end
  if conf.connection ~= "explicit" then settings.insecure_skip_tls_verify = nil end
  settings.lib_path = is_set(conf.library_path) and conf.library_path or nil
  settings.poll_interval = (tonumber(conf.sync_interval_ms) or 200) / 1000
  settings.ready_watch_down_seconds = tonumber(conf.ready_watch_down_seconds)
  settings.uncovered_names_max = tonumber(conf.uncovered_names_max)
  return settings
end

-- Kong 2.8: the enabled global configuration of this plugin, read from the
-- DAO (DB-less: the loaded declarative config). Returns conf (nil when there
-- is none) or nil, err.
function _M.find_global(plugins_dao, name)
  local found
  for row, err in plugins_dao:each() do
    if err then return nil, "cannot list plugins: " .. tostring(err) end
    if row.name == name and row.enabled ~= false and not is_set(row.route) and not is_set(row.service)
       and not is_set(row.consumer) then
      found = row.config
    end
  end
  return found
end

-- The kong.conf lines that fix what is missing.
_M.fixes = {
  shared_dict = "add `nginx_http_lua_shared_dict = certsync 16m` to kong.conf (KONG_NGINX_HTTP_LUA_SHARED_DICT)",
  explain = function(err)
    if err:find("not found along package.cpath", 1, true) then
      return "install the rock (luarocks install kong-plugin-certsync) so libcertsync.so lands in a" ..
        " `lua_package_cpath` directory, add that directory to kong.conf (`lua_package_cpath =" ..
        " /usr/local/lib/lua/5.1/?.so;;`), or set config.library_path"
    elseif err:find("service account", 1, true) then
      return "mount the service account into the Kong pod (automountServiceAccountToken: true)," ..
        " make it readable by the user Kong runs as, or set config.service_account_dir"
    elseif err:find("KUBERNETES_SERVICE_", 1, true) then
      -- One line: kong.conf keeps only the last of a repeated key.
      return "run Kong in a Kubernetes pod, add `nginx_main_env = KUBERNETES_SERVICE_HOST;" ..
        " env KUBERNETES_SERVICE_PORT` to kong.conf if something clears the environment," ..
        " or use connection = kubeconfig or explicit"
    end
    return nil
  end,
}

return _M
