-- spec.support.kong_host: runs the certsync Kong handler inside a plain nginx
-- the way Kong drives a plugin, for what certsync relies on (Kong itself
-- cannot be installed here):
--   * the handler module is required in the master (Kong.init), so its
--     top-level code sees the master's environment;
--   * init_worker runs in every worker; Kong 3.x then calls
--     configure(configs) at the end of init_worker and again, in every
--     worker, after each reconfiguration (nil once the plugin is gone);
--     Kong 2.8 never calls configure;
--   * kong.db.plugins:each() yields the declarative configuration's plugin
--     rows, unset fields as ngx.null and defaults filled in, as Kong's DAO does;
--   * the certificate phase runs after Kong has set its own certificate (here
--     the server block's ssl_certificate), and only for a configured global
--     plugin;
--   * the Status API calls the plugin's status_api.lua route handlers, which
--     answer through kong.response.exit;
--   * with `prometheus`, Kong's prometheus plugin is in `plugins`: its
--     exporter module (spec.support.kong_prometheus) is loaded and initialised
--     in the master, its init_worker runs in every worker (after certsync's,
--     the less kind order), and /metrics is its collect().
-- The declarative configuration is a Lua file returning
-- { plugins = { { name = "certsync", enabled = true, config = { ... } } } };
-- every worker re-reads it every 100 ms, as a pushed /config would reach it,
-- and Kong 3.x calls configure after any change, certsync's or not.
local config_fields = require "certsync.config_fields"

local _M = {}

local PLUGIN = "certsync"
local handler, kong_line, config_path
local config_text -- what this worker last read
local rows = {}   -- plugin rows of that text, Kong-shaped

local LEVELS = { err = ngx.ERR, warn = ngx.WARN, notice = ngx.NOTICE, info = ngx.INFO, debug = ngx.DEBUG }

local function deep_copy(v)
  if type(v) ~= "table" then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = deep_copy(x) end
  return c
end

-- A row as Kong's DAO returns it: defaults filled, unset fields null.
local function kong_row(plugin)
  local config = deep_copy(plugin.config or {})
  for _, entry in ipairs(config_fields.fields) do
    local name, def = entry[1], entry[2]
    if config[name] == nil then
      if def.default ~= nil then config[name] = deep_copy(def.default) else config[name] = ngx.null end
    end
  end
  return { name = plugin.name, enabled = plugin.enabled ~= false, config = config,
           route = ngx.null, service = ngx.null, consumer = ngx.null }
end

local function read_rows()
  local f = io.open(config_path, "rb")
  local text = f and f:read("*a") or ""
  if f then f:close() end
  if text == config_text then return false end
  config_text = text
  local chunk = loadstring(text)
  local declarative = chunk and chunk() or {}
  rows = {}
  for _, plugin in ipairs(declarative.plugins or {}) do rows[#rows + 1] = kong_row(plugin) end
  return true
end

local function certsync_configs()
  local configs = {}
  for _, row in ipairs(rows) do
    if row.name == PLUGIN and row.enabled then configs[#configs + 1] = row.config end
  end
  return #configs > 0 and configs or nil
end

-- Every look the handler takes at its configuration is logged, so a spec can
-- wait for one: "kong_host: configuration read".
local function each()
  ngx.log(ngx.NOTICE, "kong_host: configuration read (plugins:each)")
  local i = 0
  return function()
    i = i + 1
    if rows[i] then return rows[i] end
  end
end

local exporter -- Kong's prometheus exporter, when that plugin is loaded

-- init_by_lua (the master): line is "2.8" or "3.x"; with_prometheus: Kong's
-- prometheus plugin is in `plugins`.
function _M.init(line, path, with_prometheus)
  kong_line, config_path = line, path
  if with_prometheus then
    exporter = require "spec.support.kong_prometheus"
    package.loaded["kong.plugins.prometheus.exporter"] = exporter
    exporter.init()
  end
  local log = {}
  for name, level in pairs(LEVELS) do log[name] = function(...) ngx.log(level, ...) end end
  _G.kong = {
    version_num = line == "2.8" and 2008005 or 3009001,
    log = log,
    db = { plugins = { each = function() return each() end } },
    response = {
      exit = function(status, body, headers)
        ngx.status = status
        for name, value in pairs(headers or {}) do ngx.header[name] = value end
        -- Kong encodes a table body as JSON.
        if type(body) == "table" then
          ngx.header["Content-Type"] = "application/json; charset=utf-8"
          body = require("cjson.safe").encode(body)
        end
        ngx.print(body)
        return ngx.exit(status)
      end,
    },
  }
  handler = require "kong.plugins.certsync.handler"
end

local function configure()
  ngx.log(ngx.NOTICE, "kong_host: configuration read (configure)")
  local ok, err = pcall(handler.configure, handler, certsync_configs())
  if not ok then ngx.log(ngx.ERR, "configure failed: ", err) end
end

local function follow(premature)
  if premature then return end
  if read_rows() and kong_line ~= "2.8" then configure() end
  ngx.timer.at(0.1, follow)
end

function _M.init_worker()
  read_rows()
  handler:init_worker()
  if exporter then exporter.init_worker() end
  if kong_line ~= "2.8" then configure() end
  ngx.timer.at(0.1, follow)
end

-- The Status API: `path` answered by the plugin's status_api.lua.
function _M.status_api(path)
  local routes = require "kong.plugins.certsync.status_api"
  return routes[path].GET()
end

-- Kong's /metrics (the prometheus plugin's collect()).
function _M.metrics()
  exporter.collect()
end

function _M.certificate()
  local configs = certsync_configs()
  if configs then handler:certificate(configs[1]) end
end

return _M
