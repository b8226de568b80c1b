-- The Kong plugin: a thin adapter from Kong's phases to certsync.core.
local core = require "certsync.core"
local kong_config = require "certsync.kong_config"

-- Kong requires this module in the master, before it forks: the workers
-- inherit the library mapped (see certsync.ffi.preload).
require("certsync.ffi").preload()

local PLUGIN_NAME = "certsync"
-- Kong 2.8 has no configure phase: its configuration is read from the DAO
-- this often (DB-less: the declarative config; a /config push is picked up
-- within this delay).
local DISCOVERY_INTERVAL = 3

local CertsyncHandler = {
  -- certsync only acts in the certificate phase, where Kong runs global
  -- plugins in descending priority after setting its own certificate. A low
  -- priority makes certsync the last word for the names its Secrets cover
  -- (acme, for one, runs at 1705), and delays nothing else.
  PRIORITY = 10,
  VERSION = "0.1.0",
}

local configure_called = false -- Kong 3.x tells us; 2.8 never does
local lookup_error             -- the last failed lookup's reason, logged once

local function apply(conf)
  core.configure(conf and kong_config.settings_from(conf) or nil)
end

-- Kong 2.8: follow the plugin's configuration in the DAO until (if ever) Kong
-- calls configure(), which makes this unnecessary.
local function discover(premature)
  if premature or configure_called then return end
  local ok, conf_or_err, err = pcall(kong_config.find_global, kong.db.plugins, PLUGIN_NAME)
  if not ok or err then
    local reason = tostring(ok and err or conf_or_err)
    if reason ~= lookup_error then
      kong.log.err("[certsync] cannot read the plugin's configuration (retrying every ",
                   DISCOVERY_INTERVAL, " s): ", reason)
      lookup_error = reason
    end
  else
    lookup_error = nil
    apply(conf_or_err)
  end
  local scheduled, timer_err = ngx.timer.at(DISCOVERY_INTERVAL, discover)
  if not scheduled and timer_err ~= "process exiting" then
    kong.log.err("[certsync] cannot schedule the configuration lookup: ", timer_err)
  end
end

-- Kong's prometheus plugin, when it is in `plugins`, owns a registry that
-- other plugins may add metrics to (exporter.get_prometheus(), Kong 2.8 and
-- 3.x; nil when its shared dict is missing). Its /metrics then shows
-- certsync's series too, named kong_certsync_* (the registry's prefix); Kong
-- 3.x shows them only while a prometheus plugin is enabled.
local function kong_prometheus()
  local ok, exporter = pcall(require, "kong.plugins.prometheus.exporter")
  if not ok or type(exporter) ~= "table" or type(exporter.get_prometheus) ~= "function" then return nil end
  local got, prometheus = pcall(exporter.get_prometheus)
  return got and prometheus or nil
end

-- What certsync.core needs to know of Kong.
local function host()
  local registries = {}
  local prometheus = kong_prometheus()
  if prometheus then registries[1] = prometheus end
  return {
    shared_dict = kong_config.fixes.shared_dict,
    explain = kong_config.fixes.explain,
    metrics_registries = registries,
    -- /certsync/metrics uses the names Kong's /metrics gives the same series.
    metrics_prefix = "kong_",
  }
end

function CertsyncHandler:init_worker()
  -- Kong also runs init_worker in the stream subsystem, which has its own
  -- shared dicts and no certificate phase for this plugin yet.
  if ngx.config.subsystem ~= "http" then return end
  if not core.init_worker(nil, host()) then return end
  -- Kong 3.x calls configure() at the end of init_worker, before this timer
  -- runs; the timer then sees it and stops.
  local ok, err = ngx.timer.at(0, discover)
  if not ok then kong.log.err("[certsync] cannot start the configuration lookup: ", err) end
end

-- Kong 3.x: called in every worker with all configurations of this plugin,
-- or nil once it is removed. The plugin is global-only, so there is one.
function CertsyncHandler:configure(configs)
  if ngx.config.subsystem ~= "http" then return end
  configure_called = true
  apply(configs and configs[1])
end

function CertsyncHandler:certificate()
  core.certificate()
end

return CertsyncHandler
