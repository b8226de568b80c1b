-- Kong's rules for a plugin schema, for the two Kong lines certsync must load in,
-- and the part of Kong's configuration validator that certsync's schema uses.
--
-- Kong cannot be installed here, so the rules are written out from Kong's source;
-- each section names the Kong file it comes from. Where Kong's rules changed
-- inside a line (3.4 to today), the line accepts only what every release of it
-- accepts, so a schema that passes here loads in all of them.
--
--   rules.NULL                             stands in for ngx.null (a userdata, like Kong's)
--   rules.lines["2.8"], rules.lines["3.4+"] what each line accepts; .meta is a kong.meta for it
--   rules.typedefs(line)                   kong.db.schema.typedefs, shaped as that line has them
--   rules.check_plugin_schema(schema, line) reasons Kong would refuse to load the schema ({} if none)
--   rules.validate_field(def, value)       true, or nil and Kong's error for one value
--   rules.validate_config(schema, config)  true, or nil, messages, error table, as Kong reports them
--
-- Parts of Kong's validator certsync does not use (map and foreign values, uuid,
-- timestamp, is_regex, match_all/none/any, entity checks other than
-- custom_entity_check, shorthands) raise an error instead of passing silently:
-- a schema that starts using them must extend this file first.

local _M = {}

local NULL = newproxy(true)
getmetatable(NULL).__tostring = function() return "null" end
_M.NULL = NULL

local function not_encoded(what)
  error("kong_schema_rules: " .. what .. " is not encoded here; extend spec/support/kong_schema_rules.lua", 3)
end

local function deep_copy(v)
  if type(v) ~= "table" then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = deep_copy(x) end
  return c
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  return keys
end

-- kong/db/schema/init.lua, is_sequence: every key a positive integer, no holes.
local function is_sequence(t)
  if type(t) ~= "table" then return false end
  local count, max = 0, 0
  for k in pairs(t) do
    if type(k) ~= "number" or k < 1 or k ~= math.floor(k) then return false end
    count = count + 1
    if k > max then max = k end
  end
  return count == max
end

---------------------------------------------------------------------------
-- The validator: kong/db/schema/init.lua (Schema:validate_field, the
-- validators table and their order, process_auto_fields/handle_missing_field,
-- validate_fields, run_entity_check). The messages are Kong's.
---------------------------------------------------------------------------

local validate_field

local function length_rule(message, holds)
  return function(value, n)
    if holds(#value, n) then return true end
    return nil, message:format(n)
  end
end

-- Kong runs a field's validators in this order and stops at the first failure.
local VALIDATORS = {
  { "eq", function(value, wanted)
      if value == wanted then return true end
      return nil, "value must be " .. (wanted == NULL and "null" or tostring(wanted))
    end },
  { "ne", function(value, unwanted)
      if value ~= unwanted then return true end
      return nil, "value must not be " .. (unwanted == NULL and "null" or tostring(value))
    end },
  { "one_of", function(value, options)
      for _, option in ipairs(options) do
        if value == option then return true end
      end
      local shown = {}
      for i, option in ipairs(options) do shown[i] = tostring(option) end
      return nil, "expected one of: " .. table.concat(shown, ", ")
    end },
  { "gt", function(value, limit)
      if value > limit then return true end
      return nil, "value must be greater than " .. tostring(limit)
    end },
  { "between", function(value, limits)
      if value < limits[1] or value > limits[2] then
        return nil, ("value should be between %d and %d"):format(limits[1], limits[2])
      end
      return true
    end },
  { "len_eq", length_rule("length must be %d", function(len, n) return len == n end) },
  { "len_min", length_rule("length must be at least %d", function(len, n) return len >= n end) },
  { "len_max", length_rule("length must be at most %d", function(len, n) return len <= n end) },
  { "starts_with", function(value, prefix)
      if value:sub(1, #prefix) == prefix then return true end
      return nil, "should start with: " .. prefix
    end },
  { "not_match", function(value, pattern)
      if value:match(pattern) then return nil, "invalid value: " .. value end
      return true
    end },
  { "match", function(value, pattern)
      if value:match(pattern) then return true end
      return nil, "invalid value: " .. value
    end },
  { "contains", function(array, wanted)
      for _, item in ipairs(array) do
        if item == wanted then return true end
      end
      return nil, "expected to contain: " .. tostring(wanted)
    end },
  { "custom_validator", function(value, fn) return fn(value) end },
}
local VALIDATORS_NOT_ENCODED = { "timestamp", "uuid", "is_regex", "match_none", "match_all", "match_any" }

-- Kong marks the elements of an array or set as required: a null element is refused.
local function as_element(def)
  return setmetatable({ required = true }, { __index = def })
end

-- A missing field takes its default; else null when optional; a required record
-- is expanded so that its own defaults appear (handle_missing_field).
local fill_defaults

local function missing_value(def)
  if def.default ~= nil then return deep_copy(def.default) end
  if def.required ~= true then return NULL end
  if def.abstract then return nil end
  if def.type == "record" then return fill_defaults(def, {}) end
  return nil
end

-- process_auto_fields in the "insert" context, as the DAO runs it before validating.
fill_defaults = function(record, value)
  local out = deep_copy(value)
  for _, item in ipairs(record.fields) do
    local name, def = next(item)
    local v = out[name]
    if def.type == "record" and not def.abstract and v ~= NULL and (v ~= nil or def.required == true) then
      if v == nil then v = missing_value(def) end
      if type(v) == "table" then v = fill_defaults(def, v) end
      out[name] = v
    elseif v == nil then
      out[name] = missing_value(def)
    end
  end
  return out
end

local function get_path(t, name)
  for part in name:gmatch("[^.]+") do
    if type(t) ~= "table" then return nil end
    t = t[part]
  end
  return t
end

local function set_path(t, name, value)
  local head, rest = name:match("^([^.]+)%.(.+)$")
  if not head then t[name] = value return end
  t[head] = t[head] or {}
  set_path(t[head], rest, value)
end

local function add_entity_error(errors, message)
  errors["@entity"] = errors["@entity"] or {}
  table.insert(errors["@entity"], message)
end

-- run_entity_check for custom_entity_check: the function sees only its
-- field_sources; it does not run when one of them already failed validation
-- (run_with_invalid_fields = false) nor when all of them are absent; one absent
-- among present ones is reported as "field required for entity check".
local function run_entity_checks(checks, input, errors)
  for _, check in ipairs(checks or {}) do
    local name, arg = next(check)
    if name ~= "custom_entity_check" then not_encoded("the " .. tostring(name) .. " entity check") end
    local view, missing, all_absent, invalid = {}, {}, true, false
    for _, fname in ipairs(arg.field_sources) do
      local v = get_path(input, fname)
      if v == nil then missing[#missing + 1] = fname else all_absent = false end
      if errors[fname] then invalid = true end
      set_path(view, fname, v)
    end
    if not invalid and not all_absent then
      if #missing > 0 then
        for _, fname in ipairs(missing) do set_path(errors, fname, "field required for entity check") end
      else
        local ok, err = arg.fn(view)
        if not ok then add_entity_error(errors, err or "failed entity check: custom_entity_check") end
      end
    end
  end
end

-- Schema:validate with full_check: every given key must be a declared field
-- ("unknown field"), each value valid, each required field present and not null,
-- then the record's entity checks.
local function validate_record(record, input)
  local errors, by_name = {}, {}
  for _, item in ipairs(record.fields) do
    local name, def = next(item)
    by_name[name] = def
  end
  for k, v in pairs(input) do
    local def = by_name[tostring(k)]
    if not def then
      errors[k] = "unknown field"
    else
      local ok, err = validate_field(def, v)
      if not ok then errors[k] = err end
    end
  end
  for name, def in pairs(by_name) do
    if def.required and (input[name] == nil or input[name] == NULL) then
      errors[name] = "required field missing"
    end
  end
  run_entity_checks(record.entity_checks, input, errors)
  if next(errors) then return nil, errors end
  return true
end

validate_field = function(def, value)
  if value == NULL then
    if def.ne == NULL then return nil, "value must not be null" end
    if def.eq ~= nil and def.eq ~= NULL then return nil, "value must be " .. tostring(def.eq) end
    if def.required then return nil, "required field missing" end
    return true
  end

  local t = def.type
  if t == "array" or t == "set" then
    if not is_sequence(value) then return nil, t == "array" and "expected an array" or "expected a set" end
    -- Kong 2.8 reports the first bad element's message at the field; later 3.x
    -- releases report it under the element's index. Both sit under this field's name.
    for _, element in ipairs(value) do
      local ok, err = validate_field(as_element(def.elements), element)
      if not ok then return nil, err end
    end
  elseif t == "record" then
    if type(value) ~= "table" then return nil, "expected a record" end
    local ok, errs = validate_record(def, fill_defaults(def, value))
    if not ok then return nil, errs end
  elseif t == "integer" then
    if type(value) ~= "number" or value ~= math.floor(value) or value == math.huge or value == -math.huge then
      return nil, "expected an integer"
    end
  elseif t == "number" or t == "string" or t == "boolean" or t == "function" then
    if type(value) ~= t then return nil, "expected a " .. t end
  elseif t == "map" or t == "foreign" then
    not_encoded("validating a value of type " .. t)
  elseif t ~= "any" then
    return nil, "invalid type: " .. tostring(t)
  end

  for _, name in ipairs(VALIDATORS_NOT_ENCODED) do
    if def[name] ~= nil then not_encoded("the " .. name .. " validator") end
  end
  for _, validator in ipairs(VALIDATORS) do
    local name, run = validator[1], validator[2]
    local arg = def[name]
    -- Strings are refused empty unless the field says otherwise.
    if name == "len_min" and arg == nil and t == "string" then arg = 1 end
    if arg ~= nil then
      local ok, err = run(value, arg)
      if not ok then
        return nil, err or ("failed validating: " .. tostring(value))
      end
    end
  end
  return true
end

_M.validate_field = validate_field

-- Kong's error table as the messages it shows (kong/db/errors.lua, schema
-- violation): entity-check messages as they are, field errors as "path: message".
local function flatten(errors, prefix, out)
  for _, message in ipairs(errors["@entity"] or {}) do out[#out + 1] = message end
  for _, k in ipairs(sorted_keys(errors)) do
    local err = errors[k]
    if k ~= "@entity" then
      local path = prefix .. tostring(k)
      if type(err) == "table" then
        flatten(err, path .. ".", out)
      else
        out[#out + 1] = path .. ": " .. err
      end
    end
  end
  return out
end

local function field_named(fields, wanted)
  for _, item in ipairs(fields or {}) do
    local name, def = next(item)
    if name == wanted then return def end
  end
end

-- A plugin's configuration as the DAO takes it: defaults filled over the plugin
-- entity, `config` validated as the subschema's record, then the subschema's
-- entity checks over the filled entity. The plugin entity's own fields (id,
-- name, protocols, enabled, ...) are outside this check.
function _M.validate_config(schema, config)
  assert(type(config) == "table", "validate_config takes a config table")
  local config_def = assert(field_named(schema.fields, "config"), "the schema has no config field")
  local entity = { config = fill_defaults(config_def, config) }
  local errors = {}
  local ok, err = validate_field(config_def, entity.config)
  if not ok then errors.config = err end
  run_entity_checks(schema.entity_checks, entity, errors)
  if next(errors) == nil then return true end
  return nil, flatten(errors, "", {}), errors
end

---------------------------------------------------------------------------
-- The metaschema: kong/db/schema/metaschema.lua. A plugin schema is validated
-- as a record of MetaSubSchema (unknown keys refused, each attribute's value
-- checked as a field of its own), then MetaSubSchema's check walks the fields
-- (a type on each, the attributes each type requires, the attributes each type
-- may carry).
---------------------------------------------------------------------------

local STRING, BOOLEAN, INTEGER, ANY = { type = "string" }, { type = "boolean" }, { type = "integer" }, { type = "any" }
local STRINGS = { type = "array", elements = { type = "string" } }

local MATCH_LIST = { type = "array", elements = { type = "record", fields = {
  { pattern = { type = "string", required = true } },
  { err = STRING },
} } }
local MATCH_ANY = { type = "record", fields = {
  { patterns = { type = "array", elements = STRING, required = true } },
  { err = STRING },
} }

-- Attributes that name a validator. `between` holds integers in 2.8 and 3.4;
-- later 3.x releases also take fractions, so integers are what both lines accept.
local function validator_attributes()
  return {
    between = { type = "array", elements = INTEGER, len_eq = 2 },
    eq = ANY, ne = ANY, gt = { type = "number" },
    len_eq = INTEGER, len_min = INTEGER, len_max = INTEGER,
    match = STRING, not_match = STRING,
    match_all = MATCH_LIST, match_none = MATCH_LIST, match_any = MATCH_ANY,
    starts_with = STRING,
    one_of = { type = "array", elements = ANY }, not_one_of = { type = "array", elements = ANY },
    contains = ANY,
    is_regex = BOOLEAN, timestamp = BOOLEAN, uuid = BOOLEAN,
    custom_validator = { type = "function" },
    mutually_exclusive_subsets = { type = "array", elements = STRINGS },
  }
end

-- Schema.valid_types (kong/db/schema/init.lua); 3.x later adds "json".
local VALID_TYPES = { "array", "set", "string", "number", "boolean", "integer", "foreign", "map", "record", "function" }

-- Markers for attributes checked by walking rather than as a value:
local SELF = "the field itself"         -- `default` must pass the field's own rules
local FIELD = "a field definition"      -- elements, keys, values
local FIELDS = "a fields array"         -- fields
local CHECKS = "an entity_checks array" -- entity_checks

local function with(base, extra)
  local t = {}
  for k, v in pairs(base) do t[k] = v end
  for k, v in pairs(extra) do t[k] = v end
  return t
end

local COMMON_ATTRIBUTES = with(validator_attributes(), {
  type = { type = "string", one_of = VALID_TYPES, required = true },
  required = BOOLEAN,
  reference = STRING,
  auto = BOOLEAN,
  unique = BOOLEAN,
  on_delete = { type = "string", one_of = { "restrict", "cascade", "null" } },
  default = SELF,
  abstract = BOOLEAN,
  generate_admin_api = BOOLEAN,
  immutable = BOOLEAN,
  err = STRING,
  elements = FIELD, keys = FIELD, values = FIELD,
  fields = FIELDS,
  entity_checks = CHECKS,
})

-- attribute_types: attributes only some types may carry.
local COMMON_ATTRIBUTE_TYPES = {
  between = { integer = true, number = true },
  len_eq = { array = true, set = true, string = true, map = true },
  match = { string = true },
  one_of = { string = true, number = true, integer = true },
  contains = { array = true, set = true },
  is_regex = { string = true },
  timestamp = { number = true, integer = true },
  uuid = { string = true },
  unique = { string = true, number = true, integer = true, foreign = true },
  abstract = { string = true, number = true, integer = true, record = true, array = true, set = true, map = true },
}

-- required_attributes: what each aggregate type must declare.
local REQUIRED_ATTRIBUTES = {
  array = { "elements" }, set = { "elements" }, map = { "keys", "values" }, record = { "fields" },
}

-- The entity checkers (Schema.entity_checkers) and the shape of their argument.
-- Only custom_entity_check is encoded in full; the others' argument is a list of
-- field names or a record this file does not walk.
local CUSTOM_ENTITY_CHECK = { type = "record", fields = {
  { field_sources = STRINGS },
  { fn = { type = "function" } },
} }
local COMMON_CHECKERS = {
  at_least_one_of = STRINGS, only_one_of = STRINGS, distinct = STRINGS, mutually_required = STRINGS,
  conditional = false, conditional_at_least_one_of = false, mutually_exclusive_sets = false,
  custom_entity_check = CUSTOM_ENTITY_CHECK,
}

-- The plugins entity a plugin schema specialises (kong/db/schema/entities/plugins.lua):
-- a subschema field must be one of these and keep its type.
local PLUGIN_ENTITY_2_8 = {
  id = { type = "string" }, name = { type = "string" }, created_at = { type = "integer" },
  route = { type = "foreign" }, service = { type = "foreign" }, consumer = { type = "foreign" },
  config = { type = "record", abstract = true },
  protocols = { type = "set", elements = { type = "string" } },
  enabled = { type = "boolean" },
  tags = { type = "set", elements = { type = "string" } },
}

-- Entities a foreign field may reference: Kong's core entities present on both lines.
local CORE_ENTITIES = {
  workspaces = true, consumers = true, certificates = true, services = true, routes = true,
  snis = true, upstreams = true, targets = true, plugins = true, tags = true, ca_certificates = true,
}

local function version_table(major, minor, patch)
  return setmetatable({ major = major, minor = minor, patch = patch }, {
    __tostring = function(v) return ("%d.%d.%d"):format(v.major, v.minor, v.patch) end,
  })
end

-- kong/meta.lua's shape: _VERSION and _VERSION_TABLE.
local function meta(major, minor, patch)
  local version = version_table(major, minor, patch)
  return { _NAME = "kong", _VERSION = tostring(version), _VERSION_TABLE = version }
end
_M.meta = meta

local lines = {}

-- Kong 2.8: field attributes without `description` (an unknown attribute is an
-- "unknown field"); `legacy` still accepted; MetaSubSchema keys name, fields,
-- entity_checks, shorthands, check. unique_across_ws and encrypted, which some
-- 2.x metaschemas also list, are left out: this side is at most stricter.
lines["2.8"] = {
  title = "Kong 2.8",
  meta = meta(2, 8, 5),
  accepts_descriptions = false,
  attributes = with(COMMON_ATTRIBUTES, { legacy = BOOLEAN }),
  attribute_types = with(COMMON_ATTRIBUTE_TYPES, { legacy = { string = true } }),
  subschema_keys = { name = true, fields = true, entity_checks = true, shorthands = true, check = true },
  checkers = COMMON_CHECKERS,
  plugin_entity = PLUGIN_ENTITY_2_8,
}

-- Kong 3.4 and later (Kong/kong#10765 added `description`, merged 2023-05-31):
-- `description` is a string of 10 to 500 characters (the bounds of current
-- releases); `legacy` is gone; unique_across_ws (which then needs unique = true),
-- encrypted and referenceable are attributes; mutually_exclusive is a checker;
-- shorthand_fields replaced shorthands. Attributes added after 3.4 (examples,
-- json_schema, deprecation) and custom_entity_check's run_with_* flags, which
-- this file cannot date, are not accepted here; certsync uses none of them.
lines["3.4+"] = {
  title = "Kong 3.4+ (DB-less)",
  meta = meta(3, 9, 1),
  accepts_descriptions = true,
  attributes = with(COMMON_ATTRIBUTES, {
    description = { type = "string", len_min = 10, len_max = 500 },
    unique_across_ws = BOOLEAN, encrypted = BOOLEAN, referenceable = BOOLEAN,
  }),
  attribute_types = with(COMMON_ATTRIBUTE_TYPES, {
    unique_across_ws = { string = true, number = true, integer = true, foreign = true },
  }),
  subschema_keys = { name = true, fields = true, entity_checks = true, shorthand_fields = true, check = true },
  checkers = with(COMMON_CHECKERS, { mutually_exclusive = STRINGS }),
  plugin_entity = with(PLUGIN_ENTITY_2_8, { instance_name = { type = "string" }, updated_at = { type = "integer" } }),
}
_M.lines = lines

---------------------------------------------------------------------------
-- kong/db/schema/typedefs.lua: the typedefs certsync's schema uses, as
-- Schema.define tables (callable to derive a variant). Later 3.x typedefs carry
-- a description, so the 3.4+ ones do here too (in this file's own words).
---------------------------------------------------------------------------

local DEFINE_MT = {
  __call = function(t, overrides)
    local derived = deep_copy(overrides or {})
    for k, v in pairs(t) do
      if derived[k] == nil then derived[k] = deep_copy(v) end
    end
    return derived
  end,
}

-- The protocols whose subsystem is http (kong/constants.lua), sorted.
local HTTP_PROTOCOLS = { "grpc", "grpcs", "http", "https" }

function _M.typedefs(line)
  local function define(t, description)
    if line.accepts_descriptions then t.description = description end
    return setmetatable(t, DEFINE_MT)
  end
  return {
    no_consumer = define({ type = "foreign", reference = "consumers", eq = NULL },
      "No consumer: the plugin cannot be scoped to a consumer."),
    no_route = define({ type = "foreign", reference = "routes", eq = NULL },
      "No route: the plugin cannot be scoped to a route."),
    no_service = define({ type = "foreign", reference = "services", eq = NULL },
      "No service: the plugin cannot be scoped to a service."),
    protocols_http = define({ type = "set", required = true, default = deep_copy(HTTP_PROTOCOLS),
      elements = { type = "string", one_of = deep_copy(HTTP_PROTOCOLS) } },
      "The HTTP-subsystem protocols the plugin runs for."),
  }
end

---------------------------------------------------------------------------
-- Walking a plugin schema (MetaSubSchema validation and its check function).
---------------------------------------------------------------------------

local check_field_definition

local function report(problems, path, err)
  if type(err) == "table" then
    for _, message in ipairs(flatten(err, path .. ".", {})) do problems[#problems + 1] = message end
  else
    problems[#problems + 1] = path .. ": " .. tostring(err)
  end
end

-- fields_array: a sequence of one-key tables { name = definition }.
local function check_fields(fields, path, line, problems)
  local at = path == "" and "fields" or path .. ".fields"
  if type(fields) ~= "table" then return report(problems, at, "'fields' must be a table") end
  if not is_sequence(fields) then return report(problems, at, "expected an array") end
  for i, item in ipairs(fields) do
    if type(item) ~= "table" then return report(problems, at, "each entry in fields must be a sub-table") end
    local name = next(item)
    if name == nil then return report(problems, at, "field entry table is empty") end
    local count = 0
    for _ in pairs(item) do count = count + 1 end
    local where = path == "" and tostring(name) or path .. "." .. tostring(name)
    if count ~= 1 then
      report(problems, at .. "[" .. i .. "]", "length must be 1")
    elseif type(name) ~= "string" then
      report(problems, at .. "[" .. i .. "]", "expected a string")
    elseif type(item[name]) ~= "table" then
      report(problems, where, "'" .. name .. "' must be a table")
    else
      check_field_definition(item[name], where, line, problems)
    end
  end
end

-- entity_checks_schema: each entry a record naming exactly one checker.
local function check_entity_checks(checks, path, line, problems)
  if not is_sequence(checks) then return report(problems, path, "expected an array") end
  for i, check in ipairs(checks) do
    local at = path .. "[" .. i .. "]"
    if type(check) ~= "table" then
      report(problems, at, "expected a record")
    else
      local named = {}
      for name, arg in pairs(check) do
        local shape = line.checkers[name]
        if shape == nil then
          report(problems, at .. "." .. tostring(name), "unknown field")
        elseif shape == false then
          not_encoded("the argument of the " .. name .. " entity check")
        else
          named[#named + 1] = name
          local ok, err = validate_field(shape, arg)
          if not ok then report(problems, at .. "." .. name, err) end
        end
      end
      if #named ~= 1 then
        local names = sorted_keys(line.checkers)
        for j, name in ipairs(names) do names[j] = "'" .. name .. "'" end
        report(problems, at, "only one of these fields must be non-empty: " .. table.concat(names, ", "))
      end
    end
  end
end

check_field_definition = function(def, path, line, problems)
  for attr, value in pairs(def) do
    local spec = line.attributes[attr]
    local at = path .. "." .. tostring(attr)
    if spec == nil then
      report(problems, at, "unknown field")
    elseif spec == SELF then
      -- A validator that cannot run on the default (match on a number, say)
      -- raises inside Kong's validator: 2.8 fails the load with that error,
      -- later releases report the default as unvalidatable. Refused either way.
      local ran, ok, err = pcall(validate_field, def, value)
      if not ran then
        if tostring(ok):find("kong_schema_rules:", 1, true) then error(ok, 0) end
        report(problems, at, "the default cannot be validated against the field's own rules")
      elseif not ok then
        report(problems, at, err)
      end
    elseif spec == FIELD then
      if type(value) ~= "table" then
        report(problems, path, "'" .. attr .. "' must be a table")
      else
        check_field_definition(value, at, line, problems)
      end
    elseif spec == FIELDS then
      check_fields(value, path, line, problems)
    elseif spec == CHECKS then
      check_entity_checks(value, at, line, problems)
    else
      local ok, err = validate_field(spec, value)
      if not ok then report(problems, at, err) end
    end
  end

  if def.type == nil then return report(problems, path, "missing type declaration") end
  local needed = REQUIRED_ATTRIBUTES[def.type]
  if needed and not (def.type == "record" and def.abstract) then
    for _, attr in ipairs(needed) do
      if def[attr] == nil then report(problems, path, ("field of type '%s' must declare '%s'"):format(def.type, attr)) end
    end
  end
  for _, attr in ipairs(sorted_keys(def)) do
    local allowed = line.attribute_types[attr]
    if allowed and not allowed[def.type] then
      report(problems, path, ("field of type '%s' cannot have attribute '%s'"):format(def.type, attr))
    end
  end
  -- 3.x field entity check: unique_across_ws needs unique = true.
  if def.unique_across_ws == true and def.unique ~= true then
    report(problems, path .. ".unique", "required field missing")
  end
end

-- Loading the subschema into the plugins entity (Schema.new_subschema and
-- resolve_field in kong/db/schema/init.lua; Entity.new_subschema): each field
-- must be a field of the plugins entity with the same type (arrays and sets:
-- the same element type); the abstract `config` must be given as a record with
-- fields; a foreign field must reference an entity Kong knows.
local function check_specialisation(schema, line, problems)
  local has_config = false
  for _, item in ipairs(schema.fields) do
    local name, def = next(item)
    local parent = line.plugin_entity[name]
    if type(def) == "table" then
      if not parent then
        report(problems, name, "unknown field: the plugins entity has no such field")
      elseif def.type ~= parent.type
          or ((def.type == "array" or def.type == "set")
              and (type(def.elements) ~= "table" or def.elements.type ~= parent.elements.type)) then
        report(problems, name, "error in schema definition: cannot change type in a specialized field")
      end
      if name == "config" then
        has_config = true
        if def.type ~= "record" or def.abstract or type(def.fields) ~= "table" then
          report(problems, name, "error in schema definition: abstract field was not specialized")
        end
      end
      if def.type == "foreign" and not CORE_ENTITIES[def.reference] then
        report(problems, name, "schema refers to an invalid foreign entity: " .. tostring(def.reference))
      end
    end
  end
  if not has_config then
    report(problems, "config", "error in schema definition: abstract field was not specialized")
  end
end

-- Every reason the line would refuse to load `schema` as a plugin schema.
function _M.check_plugin_schema(schema, line)
  local problems = {}
  if type(schema) ~= "table" then
    report(problems, "schema", "expected a table")
    return problems
  end
  for _, key in ipairs(sorted_keys(schema)) do
    if not line.subschema_keys[key] then report(problems, tostring(key), "unknown field") end
  end
  if schema.shorthands ~= nil or schema.shorthand_fields ~= nil then not_encoded("shorthands") end
  if schema.name == nil or schema.name == NULL then
    report(problems, "name", "required field missing")
  else
    local ok, err = validate_field(STRING, schema.name)
    if not ok then report(problems, "name", err) end
  end
  if schema.check ~= nil and type(schema.check) ~= "function" then
    report(problems, "check", "expected a function")
  end
  check_fields(schema.fields, "", line, problems)
  if schema.entity_checks ~= nil then
    check_entity_checks(schema.entity_checks, "entity_checks", line, problems)
  end
  if is_sequence(schema.fields) then check_specialisation(schema, line, problems) end
  return problems
end

return _M
