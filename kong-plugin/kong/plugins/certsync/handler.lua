-- The Kong plugin: a thin adapter from Kong's phases to certsync.core.
local core = require "certsync.core"

local CertsyncHandler = {
  -- certsync only acts in the certificate phase, where Kong runs global
  -- plugins in descending priority after setting its own certificate. A low
  -- priority makes certsync the last word for the names its Secrets cover
  -- (acme, for one, runs at 1705), and delays nothing else.
  PRIORITY = 10,
  VERSION = "0.1.0",
}

-- Plugin configuration (schema.lua) -> library settings (certsync.h).
local function settings_from(conf)
  return {
    server = conf.api_server,
    ca_file = conf.ca_file,
    token_file = conf.token_file,
    namespace = conf.namespace,
    deletion_policy = conf.deletion_policy,
    lib_path = conf.library_path,
  }
end

function CertsyncHandler:init_worker()
  -- Kong also runs init_worker in the stream subsystem, which has its own
  -- shared dicts and no certificate phase for this plugin yet.
  if ngx.config.subsystem ~= "http" then return end
  -- Configuration arrives through configure(); the timer waits for it.
  core.init_worker(nil)
end

-- Kong 3.x: called in every worker with all configurations of this plugin,
-- or nil once it is removed. The plugin is global-only, so there is one.
function CertsyncHandler:configure(configs)
  local conf = configs and configs[1]
  core.configure(conf and settings_from(conf) or nil)
end

function CertsyncHandler:certificate()
  core.certificate()
end

return CertsyncHandler
