-- spec.support.kong_prometheus: stands in for Kong's bundled prometheus
-- plugin (kong/plugins/prometheus/exporter.lua and its prometheus.lua), with
-- the parts of its contract certsync relies on, as read in Kong 2.8 and 3.x:
--   * exporter.init() runs when the handler module is loaded (Kong's init,
--     in the master) and makes a registry in the shared dict
--     "prometheus_metrics" (which Kong's conf_loader declares when the
--     plugin is in `plugins`), with the prefix "kong_" on every name;
--   * exporter.get_prometheus() returns that registry (nil without the dict);
--   * registry:gauge/counter(name, help, label_names) and
--     registry:histogram(name, help, label_names, buckets); metric:set(value,
--     label_values), :inc(value, label_values), :observe(value,
--     label_values), :del(label_values);
--   * what Kong refuses, it logs and counts in nginx_metric_errors_total and
--     does not store: a name or label name out of [a-zA-Z_:][a-zA-Z0-9_:]*,
--     a label named le, the same name registered twice in one worker, label
--     values that do not match the label names in number or are nil, a
--     counter or histogram used before init_worker;
--   * exporter.collect() writes every series of the dict (Kong 2.8; 3.x does
--     so while a prometheus plugin is enabled).
-- It is strict on purpose: a call Kong would reject fails certsync's spec.
local _M = {}

local DICT = "prometheus_metrics"
local PREFIX = "kong_"
local NAME = "^[a-zA-Z_:][a-zA-Z0-9_:]*$"
local LABEL = "^[a-zA-Z_][a-zA-Z0-9_]*$"

local registry

local Metric = {}
Metric.__index = Metric

local function record_error(message)
  ngx.log(ngx.ERR, "kong_prometheus: ", message)
  ngx.shared[DICT]:incr(PREFIX .. "nginx_metric_errors_total", 1, 0)
end

function Metric:series(label_values, extra)
  local names = self.label_names
  if names == nil then
    if label_values ~= nil and #label_values > 0 then return nil, "inconsistent labels count" end
    if not extra then return PREFIX .. self.name end
    return PREFIX .. self.name .. "{" .. extra .. "}"
  end
  if type(label_values) ~= "table" or #label_values ~= #names then return nil, "inconsistent labels count" end
  local parts = {}
  for i, name in ipairs(names) do
    if label_values[i] == nil then return nil, "inconsistent labels count" end
    parts[i] = name .. '="' .. tostring(label_values[i]):gsub('[\\"]', "\\%0"):gsub("\n", "\\n") .. '"'
  end
  if extra then parts[#parts + 1] = extra end
  return PREFIX .. self.name .. "{" .. table.concat(parts, ",") .. "}"
end

function Metric:write(label_values, fn)
  if self.kind ~= "gauge" and not registry.worker_initialized then
    return record_error(self.name .. ": counter not initialized (used before init_worker)")
  end
  local key, err = self:series(label_values)
  if not key then return record_error(self.name .. ": " .. err) end
  fn(ngx.shared[DICT], key)
end

function Metric:set(value, label_values)
  if self.kind ~= "gauge" then return record_error(self.name .. ": set on a " .. self.kind) end
  self:write(label_values, function(dict, key) dict:safe_set(key, value) end)
end

function Metric:inc(value, label_values)
  if self.kind == "histogram" then return record_error(self.name .. ": inc on a histogram") end
  if (value or 1) < 0 and self.kind == "counter" then return record_error(self.name .. ": negative inc") end
  self:write(label_values, function(dict, key) dict:incr(key, value or 1, 0) end)
end

function Metric:observe(value, label_values)
  if self.kind ~= "histogram" then return record_error(self.name .. ": observe on a " .. self.kind) end
  if type(value) ~= "number" then return record_error(self.name .. ": no value") end
  self:write(label_values, function(dict)
    for _, bound in ipairs(self.buckets) do
      if value <= bound then dict:incr(self:series(label_values, 'le="' .. bound .. '"'):gsub("{", "_bucket{", 1), 1, 0) end
    end
    dict:incr(self:series(label_values, 'le="+Inf"'):gsub("{", "_bucket{", 1), 1, 0)
    local plain = self:series(label_values)
    local brace = plain:find("{", 1, true)
    local sum = brace and (plain:sub(1, brace - 1) .. "_sum" .. plain:sub(brace)) or (plain .. "_sum")
    local count = brace and (plain:sub(1, brace - 1) .. "_count" .. plain:sub(brace)) or (plain .. "_count")
    dict:incr(sum, value, 0)
    dict:incr(count, 1, 0)
  end)
end

function Metric:del(label_values)
  local key, err = self:series(label_values)
  if not key then return record_error(self.name .. ": " .. err) end
  ngx.shared[DICT]:delete(key)
end

local Registry = {}
Registry.__index = Registry

function Registry:register(kind, name, help, label_names, buckets)
  if type(name) ~= "string" or not name:match(NAME) then return record_error("invalid metric name " .. tostring(name)) end
  for _, label in ipairs(label_names or {}) do
    if not label:match(LABEL) or label == "le" then return record_error(name .. ": invalid label name " .. label) end
  end
  if self.registered[name] then return record_error("Duplicate metric " .. name) end
  self.registered[name] = true
  self.help[#self.help + 1] = { name = name, help = help, kind = kind }
  return setmetatable({ kind = kind, name = name, label_names = label_names, buckets = buckets }, Metric)
end

function Registry:gauge(name, help, label_names) return self:register("gauge", name, help, label_names) end
function Registry:counter(name, help, label_names) return self:register("counter", name, help, label_names) end
function Registry:histogram(name, help, label_names, buckets)
  return self:register("histogram", name, help, label_names,
    buckets or { 0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 10 })
end

function Registry:init_worker()
  self.worker_initialized = true
end

-- exporter.lua --------------------------------------------------------------

function _M.init()
  if not ngx.shared[DICT] then
    ngx.log(ngx.ERR, "prometheus: ngx shared dict 'prometheus_metrics' not found")
    return
  end
  registry = setmetatable({ registered = {}, help = {} }, Registry)
end

function _M.init_worker()
  if registry then registry:init_worker() end
end

function _M.get_prometheus()
  if not registry then ngx.log(ngx.ERR, "prometheus: plugin is not initialized, please make sure ",
    "'prometheus_metrics' shared dict is present in nginx template") end
  return registry
end

-- GET /metrics: every series in the dict, one family at a time.
function _M.collect()
  ngx.header["Content-Type"] = "text/plain; charset=UTF-8"
  local dict = ngx.shared[DICT]
  local keys = dict:get_keys(0)
  table.sort(keys)
  local out = {}
  for _, key in ipairs(keys) do out[#out + 1] = key .. " " .. tostring(dict:get(key)) end
  ngx.print(table.concat(out, "\n"), "\n")
end

return _M
