-- certsync.metrics_registry: a Prometheus registry kept in a shared dict,
-- for where Kong's prometheus plugin is not there to hold certsync's metrics
-- (plain nginx; Kong without that plugin enabled). Its metric objects answer
-- the same calls as those of Kong's registry (kong/plugins/prometheus/
-- prometheus.lua): gauge:set(value, label_values), counter:inc(value,
-- label_values), histogram:observe(value, label_values), metric:del(label_values),
-- so certsync.metrics feeds either without knowing which.
--
-- Every worker writes to the one dict, so any worker renders the node's
-- metrics. Keys: "m:<family>\t<labels>" for gauges and counters,
-- "m:<family>\t<labels>\t<bucket index>|sum|count" for histograms; buckets are
-- kept per bucket and summed when rendered.
local concat = table.concat
local format = string.format
local sort = table.sort

local _M = {}

local KEY_PREFIX = "m:"

local function escape_label_value(value)
  -- A tab would end the dict key's label part: it becomes a space.
  return (tostring(value):gsub("[\\\"\n\t]", { ["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n", ["\t"] = " " }))
end

local function label_text(names, values)
  if #names == 0 then return "" end
  local parts = {}
  for i, name in ipairs(names) do
    parts[i] = name .. '="' .. escape_label_value(values and values[i] or "") .. '"'
  end
  return concat(parts, ",")
end

local function number_text(value)
  if value ~= value then return "NaN" end
  if value == math.huge then return "+Inf" end
  if value == -math.huge then return "-Inf" end
  if value == math.floor(value) and math.abs(value) < 2 ^ 53 then return format("%d", value) end
  return format("%.15g", value)
end

local Metric = {}
Metric.__index = Metric

function Metric:key(label_values, suffix)
  if self.label_names[1] and (not label_values or #label_values ~= #self.label_names) then
    return nil, self.name .. ": expected " .. #self.label_names .. " label values"
  end
  local key = KEY_PREFIX .. self.name .. "\t" .. label_text(self.label_names, label_values)
  return suffix and (key .. "\t" .. suffix) or key
end

function Metric:set(value, label_values)
  local key, err = self:key(label_values)
  if not key then return nil, err end
  return self.dict:safe_set(key, value)
end

-- incr with an initial value would make room by evicting other keys (the
-- dict also holds the certificates): a missing key is added safely instead.
local function add_to(dict, key, value)
  local total = dict:incr(key, value)
  if total then return total end
  local ok, err = dict:safe_add(key, value)
  if ok then return value end
  if err == "exists" then return dict:incr(key, value) end -- another worker added it first
  return nil, err
end

function Metric:inc(value, label_values)
  local key, err = self:key(label_values)
  if not key then return nil, err end
  return add_to(self.dict, key, value or 1)
end

function Metric:observe(value, label_values)
  local base, err = self:key(label_values)
  if not base then return nil, err end
  local index = #self.buckets + 1  -- +Inf
  for i, bound in ipairs(self.buckets) do
    if value <= bound then index = i break end
  end
  add_to(self.dict, base .. "\t" .. index, 1)
  add_to(self.dict, base .. "\tsum", value)
  return add_to(self.dict, base .. "\tcount", 1)
end

function Metric:del(label_values)
  local key = self:key(label_values)
  if not key then return end
  if self.kind ~= "histogram" then
    self.dict:delete(key)
    return
  end
  for i = 1, #self.buckets + 1 do self.dict:delete(key .. "\t" .. i) end
  self.dict:delete(key .. "\tsum")
  self.dict:delete(key .. "\tcount")
end

local Registry = {}
Registry.__index = Registry

-- dict: the shared dict; prefix: put before every family name when rendered
-- (Kong's registry puts "kong_"; certsync's Kong endpoint does the same).
function _M.new(dict, prefix)
  return setmetatable({ dict = dict, prefix = prefix or "", families = {} }, Registry)
end

function Registry:register(kind, name, help, label_names, buckets)
  local metric = setmetatable({ dict = self.dict, kind = kind, name = name, help = help,
                                label_names = label_names or {}, buckets = buckets }, Metric)
  self.families[#self.families + 1] = metric
  return metric
end

function Registry:gauge(name, help, label_names) return self:register("gauge", name, help, label_names) end
function Registry:counter(name, help, label_names) return self:register("counter", name, help, label_names) end
function Registry:histogram(name, help, label_names, buckets)
  return self:register("histogram", name, help, label_names, buckets)
end

-- The text exposition format (version 0.0.4): every registered family with
-- HELP and TYPE, also when it has no series yet.
function Registry:render(prefix)
  prefix = prefix or self.prefix
  local series = {}  -- family name -> { labels -> value or { buckets, sum, count } }
  for _, key in ipairs(self.dict:get_keys(0)) do
    if key:sub(1, #KEY_PREFIX) == KEY_PREFIX then
      local name, labels, part = key:sub(#KEY_PREFIX + 1):match("^([^\t]*)\t([^\t]*)\t?(.*)$")
      if name then
        series[name] = series[name] or {}
        local value = self.dict:get(key)
        if value then
          if part == "" then
            series[name][labels] = value
          else
            local h = series[name][labels] or { buckets = {}, sum = 0, count = 0 }
            series[name][labels] = h
            local index = tonumber(part)
            if index then h.buckets[index] = value else h[part] = value end
          end
        end
      end
    end
  end
  local out = {}
  for _, family in ipairs(self.families) do
    local full = prefix .. family.name
    out[#out + 1] = "# HELP " .. full .. " " .. family.help
    out[#out + 1] = "# TYPE " .. full .. " " .. family.kind
    local label_sets = {}
    for labels in pairs(series[family.name] or {}) do label_sets[#label_sets + 1] = labels end
    sort(label_sets)
    for _, labels in ipairs(label_sets) do
      local value = series[family.name][labels]
      if family.kind == "histogram" then
        local sep = labels == "" and "" or ","
        local cumulative = 0
        for i = 1, #family.buckets + 1 do
          cumulative = cumulative + (value.buckets[i] or 0)
          local le = family.buckets[i] and number_text(family.buckets[i]) or "+Inf"
          out[#out + 1] = format('%s_bucket{%s%sle="%s"} %s', full, labels, sep, le, number_text(cumulative))
        end
        local braces = labels == "" and "" or "{" .. labels .. "}"
        out[#out + 1] = full .. "_sum" .. braces .. " " .. number_text(value.sum)
        out[#out + 1] = full .. "_count" .. braces .. " " .. number_text(value.count)
      elseif type(value) == "number" then
        out[#out + 1] = full .. (labels == "" and "" or "{" .. labels .. "}") .. " " .. number_text(value)
      end
    end
  end
  out[#out + 1] = ""
  return concat(out, "\n")
end

return _M
