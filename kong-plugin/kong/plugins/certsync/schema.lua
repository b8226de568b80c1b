-- Configuration of the certsync plugin. Global only: it serves certificates
-- for a whole node in the certificate phase, where Kong runs global plugins
-- only. The fields live in certsync.config_fields, which also feeds the
-- generated docs/configuration.md.
local typedefs = require "kong.db.schema.typedefs"
local config_fields = require "certsync.config_fields"

local PLUGIN_NAME = "certsync"

-- Kong's metaschema learned the `description` attribute in 3.4
-- (Kong/kong#10765). Older metaschemas (2.8, 3.0–3.3) refuse any attribute
-- they do not know, so the plugin would not load: descriptions are attached
-- only where Kong accepts them, and always reach the generated reference.
local function kong_accepts_descriptions()
  local ok, meta = pcall(require, "kong.meta")
  if not ok or type(meta) ~= "table" or type(meta._VERSION_TABLE) ~= "table" then return false end
  local major, minor = tonumber(meta._VERSION_TABLE.major), tonumber(meta._VERSION_TABLE.minor)
  if not major or not minor then return false end
  return major > 3 or (major == 3 and minor >= 4)
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

local function build_config_record(describe)
  local fields = {}
  for i, entry in ipairs(config_fields.fields) do
    local def = copy(entry[2])
    if describe then def.description = entry[3] end
    fields[i] = { [entry[1]] = def }
  end
  return { type = "record", fields = fields }
end

local schema = {
  name = PLUGIN_NAME,
  fields = {
    { consumer = typedefs.no_consumer },
    { route = typedefs.no_route },
    { service = typedefs.no_service },
    { protocols = typedefs.protocols_http },
    { config = build_config_record(kong_accepts_descriptions()) },
  },
  entity_checks = {
    { custom_entity_check = { field_sources = { "config" }, fn = config_fields.check_connection } },
  },
}

return schema
