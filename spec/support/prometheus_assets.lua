-- Which metric names the alert rules and the Grafana dashboard query, and
-- which names a Prometheus text exposition offers. The specs compare the two,
-- so that a query naming a metric the exporter does not emit fails a test
-- instead of drawing an empty panel or an alert that can never fire.
local _M = {}

-- The prefix Kong's Prometheus plugin gives its registry
-- (`prometheus.init("prometheus_metrics", "kong_")`): every family certsync
-- registers there as certsync_* is exposed as kong_certsync_*, on Kong's
-- /metrics and on certsync's /certsync/metrics alike. The rules, the dashboard
-- and the fixture use those names.
_M.KONG_PREFIX = "kong_"

-- The exporter's families and their types, as certsync registers them.
local FAMILIES = {
  certsync_certificate_expiry_timestamp_seconds = "gauge",
  certsync_certificate_info = "gauge",
  certsync_certificate_chain_incomplete = "gauge",
  certsync_secret_refused = "gauge",
  certsync_secret_refusals_total = "counter",
  certsync_refusals_total = "counter",
  certsync_secrets_served = "gauge",
  certsync_watch_up = "gauge",
  certsync_watch_relists_total = "counter",
  certsync_api_errors_total = "counter",
  certsync_last_sync_timestamp_seconds = "gauge",
  certsync_generation_published = "gauge",
  certsync_worker_generation_served = "gauge",
  certsync_secret_stale_workers = "gauge",
  certsync_event_to_served_seconds = "histogram",
  certsync_ready = "gauge",
  certsync_secrets_unpublished = "gauge",
  certsync_uncovered_handshakes_total = "counter",
  certsync_cert_manager_watching = "gauge",
  certsync_certificate_ready = "gauge",
  certsync_certificate_renewal_overdue = "gauge",
  certsync_certificate_not_served_seconds = "gauge",
  certsync_certificate_secret_missing = "gauge",
  certsync_certificate_not_after_timestamp_seconds = "gauge",
  certsync_certificate_renewal_timestamp_seconds = "gauge",
}

-- The exporter's families and their types, { name = type }, as exposed under
-- `prefix`: by default Kong's "kong_" (kong_certsync_*), the contract the
-- fixture spec/fixtures/metrics/sample.prom and the real exporter are held
-- to; "" gives the names plain nginx's certsync.metrics() emits without a
-- prefix. A fresh table on every call.
function _M.certsync_families(prefix)
  if prefix == nil then prefix = _M.KONG_PREFIX end
  assert(type(prefix) == "string", "prefix must be a string")
  local families = {}
  for name, kind in pairs(FAMILIES) do families[prefix .. name] = kind end
  return families
end

local function set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

-- PromQL's lexer matches keywords without regard to case; none of these is
-- ever a metric name.
local KEYWORDS = set { "and", "or", "unless", "bool", "offset", "atan2", "inf", "nan",
  "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
  "bottomk", "topk", "quantile", "limitk", "limit_ratio" }
-- Keywords that may be followed by a parenthesised list of label names.
local LABEL_LISTS = set { "by", "without", "on", "ignoring", "group_left", "group_right" }

local IDENT_START, IDENT_CHARS = "[%a_:]", "^[%w_:]*"

-- Index just past the string literal that starts at i (", ' with backslash
-- escapes, or a raw ` string); an unterminated one runs to the end.
local function skip_string(s, i)
  local quote = s:sub(i, i)
  local j = i + 1
  while j <= #s do
    local c = s:sub(j, j)
    if c == "\\" and quote ~= "`" then
      j = j + 2
    elseif c == quote then
      return j + 1
    else
      j = j + 1
    end
  end
  return j
end

-- Index just past the bracket that closes the one opening at i, stepping
-- over string literals (a regex matcher may hold any bracket).
local function skip_balanced(s, i)
  local open = s:sub(i, i)
  local close = ({ ["("] = ")", ["{"] = "}", ["["] = "]" })[open]
  local depth, j = 0, i
  while j <= #s do
    local c = s:sub(j, j)
    if c == '"' or c == "'" or c == "`" then
      j = skip_string(s, j)
    else
      if c == open then depth = depth + 1 elseif c == close then depth = depth - 1 end
      j = j + 1
      if depth == 0 then return j end
    end
  end
  return j
end

local function unquote(literal)
  local body = literal:sub(2, -2)
  if literal:sub(1, 1) == "`" then return body end
  return (body:gsub("\\(.)", "%1"))
end

-- Metric names inside a {...} selector: an exact `__name__="x"` matcher, or a
-- bare quoted name (Prometheus 3's `{"name", label="v"}`). Regex name
-- matchers name no single metric and are left out.
local function names_in_braces(body, add)
  local i = 1
  while i <= #body do
    local c = body:sub(i, i)
    local token, quoted
    if c == '"' or c == "'" or c == "`" then
      local j = skip_string(body, i)
      token, quoted, i = unquote(body:sub(i, j - 1)), true, j
    elseif c:match(IDENT_START) then
      local ident = body:match(IDENT_CHARS, i + 1)
      token, i = c .. ident, i + 1 + #ident
    else
      i = i + 1
    end
    if token then
      local op, after = body:match("^%s*(!?[=~])()", i) -- =, !=, =~, !~
      if op == "=" and body:sub(after, after) == "~" then op, after = "=~", after + 1 end
      if op then
        local value_start = body:match("^%s*()", after)
        local q = body:sub(value_start, value_start)
        local j = (q == '"' or q == "'" or q == "`") and skip_string(body, value_start) or value_start
        if token == "__name__" and op == "=" and j > value_start then
          add(unquote(body:sub(value_start, j - 1)))
        end
        i = j
      elseif quoted then
        add(token) -- a quoted name standing alone
      end
    end
  end
end

-- The identifiers a PromQL expression uses as metric names, in order of
-- first use. Skipped: functions and aggregations (a word followed by "("),
-- keywords, label names in {...} and in by/without/on/ignoring/group_left/
-- group_right lists, string literals, numbers and durations, [...] ranges
-- and subqueries, # comments, and Grafana variables ($x, ${x}, $__rate_interval).
function _M.metric_names_in_expr(expr)
  local names, seen = {}, {}
  local function add(name)
    if not seen[name] then seen[name] = true; names[#names + 1] = name end
  end
  local s, i = expr, 1
  while i <= #s do
    local c = s:sub(i, i)
    if c:match("%s") then
      i = i + 1
    elseif c == "#" then
      i = (s:find("\n", i, true) or #s) + 1
    elseif c == '"' or c == "'" or c == "`" then
      i = skip_string(s, i)
    elseif c == "{" then
      local j = skip_balanced(s, i)
      names_in_braces(s:sub(i + 1, j - 2), add)
      i = j
    elseif c == "[" then
      i = skip_balanced(s, i)
    elseif c == "$" then
      if s:sub(i + 1, i + 1) == "{" then
        i = skip_balanced(s, i + 1)
      else
        i = i + 1 + #s:match(IDENT_CHARS, i + 1)
      end
    elseif c:match("%d") or (c == "." and s:sub(i + 1, i + 1):match("%d")) then
      -- numbers, hex, 1e3, durations such as 1h30m
      i = i + #s:match("^[%w_.]*", i)
    elseif c:match(IDENT_START) then
      local word = c .. s:match(IDENT_CHARS, i + 1)
      i = i + #word
      local next_at = s:match("^%s*()", i)
      local next_c = s:sub(next_at, next_at)
      local lower = word:lower()
      if LABEL_LISTS[lower] then
        if next_c == "(" then i = skip_balanced(s, next_at) end
      elseif not KEYWORDS[lower] and next_c ~= "(" then
        add(word)
      end
    else
      i = i + 1
    end
  end
  return names
end

-- The arguments of a call whose "(" is at index open, split at top-level commas.
local function call_args(s, open)
  local close = skip_balanced(s, open)
  local inner, args, start, i = s:sub(open + 1, close - 2), {}, 1, 1
  while i <= #inner do
    local c = inner:sub(i, i)
    if c == "(" or c == "{" or c == "[" then
      i = skip_balanced(inner, i)
    elseif c == '"' or c == "'" or c == "`" then
      i = skip_string(inner, i)
    else
      if c == "," then args[#args + 1] = inner:sub(start, i - 1); start = i + 1 end
      i = i + 1
    end
  end
  args[#args + 1] = inner:sub(start)
  for k, a in ipairs(args) do args[k] = a:match("^%s*(.-)%s*$") end
  return args
end

-- The PromQL inside a Grafana Prometheus variable query, or nil when it has
-- none: label_values(label) and metrics(regex) name no metric,
-- label_values(selector, label) queries the selector, label_names(selector)
-- and query_result(expr) their argument. Anything else is taken as PromQL.
function _M.variable_query_expr(query)
  local fn, open = query:match("^%s*([%a_]+)%s*()%(")
  if fn == "label_values" then
    local args = call_args(query, open)
    return #args >= 2 and args[1] or nil
  elseif fn == "label_names" or fn == "query_result" then
    local arg = call_args(query, open)[1]
    return arg ~= "" and arg or nil
  elseif fn == "metrics" then
    return nil
  end
  return query:match("%S") and query or nil
end

local function read(path)
  return (assert(require("spec.support.proc").read_file(path), "cannot read " .. path))
end

-- Every expr of every panel target (rows' nested panels included) and the
-- PromQL of every query template variable. Returns the list of expressions
-- and, alongside, where each one is, for messages.
function _M.dashboard_exprs(path)
  local json = require "dkjson"
  local dashboard, _, err = json.decode(read(path))
  assert(type(dashboard) == "table", "dashboard " .. path .. " does not parse: " .. tostring(err))
  local exprs, where = {}, {}
  local function walk(panels)
    for _, panel in ipairs(panels or {}) do
      for _, target in ipairs(panel.targets or {}) do
        if type(target.expr) == "string" and target.expr:match("%S") then
          exprs[#exprs + 1] = target.expr
          where[#where + 1] = ("panel %q target %s"):format(tostring(panel.title), tostring(target.refId))
        end
      end
      walk(panel.panels)
    end
  end
  walk(dashboard.panels)
  for _, var in ipairs((dashboard.templating or {}).list or {}) do
    if var.type == "query" then
      -- Grafana 10 stores the query as { query = "...", qryType = ..., refId = ... }.
      local query = type(var.query) == "table" and var.query.query or var.query
      local expr = type(query) == "string" and _M.variable_query_expr(query)
      if expr then
        exprs[#exprs + 1] = expr
        where[#where + 1] = ("variable %q"):format(tostring(var.name))
      end
    end
  end
  return exprs, where
end

local ESCAPES = setmetatable({ n = "\n", t = "\t" }, { __index = function(_, c) return c end })

local function unquote_yaml(scalar)
  local q, text = scalar:sub(1, 1), nil
  if q == "'" then
    text = (scalar:match("^'(.*)'$") or scalar:sub(2)):gsub("''", "'")
  elseif q == '"' then
    text = (scalar:match('^"(.*)"$') or scalar:sub(2)):gsub("\\(.)", ESCAPES)
  else
    text = scalar:gsub("%s+#.*$", "") -- a plain scalar ends at a comment
  end
  return text
end

-- Every `expr:` of a rules file (plain, or nested in a PrometheusRule), in
-- block style: a plain or quoted scalar on the key's line, possibly continued
-- on more-indented lines, or a |/> block scalar. For PromQL, folding newlines
-- into spaces or keeping them makes no difference.
function _M.rule_exprs(path)
  local lines = {}
  for line in (read(path):gsub("\r\n", "\n") .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = line end
  local exprs, i = {}, 1
  while i <= #lines do
    local key_col, rest = lines[i]:match("^[%s%-]*()expr:%s*(.-)%s*$")
    i = i + 1
    if key_col then
      local parts = { (rest:match("^[|>][-+0-9]*%s*$") or rest:match("^[|>][-+0-9]*%s+#")) and "" or rest }
      -- Continuation: blank lines and lines indented deeper than the key.
      while i <= #lines do
        local indent = lines[i]:match("^( *)%S")
        if indent and #indent < key_col then break end
        parts[#parts + 1] = lines[i]
        i = i + 1
      end
      local text = table.concat(parts, "\n"):match("^%s*(.-)%s*$")
      exprs[#exprs + 1] = unquote_yaml(text)
    end
  end
  return exprs
end

-- The sample names of a family, by `# TYPE` (others: the family's own name).
local FAMILY_SUFFIXES = {
  histogram = { "_bucket", "_sum", "_count" },
  gaugehistogram = { "_bucket", "_gsum", "_gcount" },
  summary = { "", "_sum", "_count" },
}

-- The metric names a Prometheus text exposition (0.0.4 or OpenMetrics)
-- offers, as a set: every sample's name, and the names each `# TYPE` family
-- has samples under (so a declared family with no series yet still counts;
-- a histogram's bare family name is not queryable and is not included).
function _M.exposed_names(text)
  local names = {}
  for line in (text:gsub("\r", "") .. "\n"):gmatch("(.-)\n") do
    local family, kind = line:match("^#%s*TYPE%s+([%a_:][%w_:]*)%s+(%a+)")
    if family then
      local suffixes = FAMILY_SUFFIXES[kind]
      if kind == "counter" and not family:match("_total$") then
        -- OpenMetrics names the family without _total; 0.0.4 need not use it.
        suffixes = { "", "_total" }
      end
      for _, suffix in ipairs(suffixes or { "" }) do names[family .. suffix] = true end
    elseif not line:match("^%s*#") then
      local name = line:match("^%s*([%a_:][%w_:]*)")
      if name then names[name] = true end
    end
  end
  return names
end

-- The names the expressions (a list, or one string) use that the exposition
-- does not offer, sorted; `extra_known` lists names known from elsewhere
-- (e.g. Prometheus's own `up` or `ALERTS`).
function _M.unknown_names(exprs, exposition_text, extra_known)
  if type(exprs) == "string" then exprs = { exprs } end
  local known = _M.exposed_names(exposition_text)
  for _, name in ipairs(extra_known or {}) do known[name] = true end
  local unknown, seen = {}, {}
  for _, expr in ipairs(exprs) do
    for _, name in ipairs(_M.metric_names_in_expr(expr)) do
      if not known[name] and not seen[name] then
        seen[name] = true
        unknown[#unknown + 1] = name
      end
    end
  end
  table.sort(unknown)
  return unknown
end

return _M
