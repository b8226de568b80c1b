-- Generates docs/configuration.md, the reference of the certsync plugin's
-- configuration, from certsync.config_fields: the same table Kong's schema is
-- built from, so the reference cannot say something the schema does not.
--
--   luajit scripts/config-reference.lua > docs/configuration.md
--   luajit scripts/config-reference.lua --check [FILE]   exit 1, with a diff, if FILE
--                                                        (default docs/configuration.md) is stale
--
-- Runs under plain LuaJIT / Lua 5.1: nothing here needs Kong or ngx.
-- An attribute or custom validator it does not know how to describe is an
-- error, not a silent omission: a new kind of check must be documented here.

-- The repository root: the parent of this script's directory.
local script_dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local ROOT = script_dir:match("^(.*)/scripts$") or (script_dir == "scripts" and ".") or script_dir .. "/.."
package.path = ROOT .. "/kong-plugin/?.lua;" .. package.path

local config_fields = require "certsync.config_fields"

local concat, insert = table.concat, table.insert
local format = string.format

local DOC_PATH = "docs/configuration.md"
local MIB = 1024 * 1024

-- What a custom_validator accepts, by field name. The functions cannot be
-- read back, so their meaning is written here, next to the renderer, and
-- spec/unit/config_reference_spec.lua checks these sentences against them.
local VALIDATOR_TEXT = {
  namespaces = "a namespace name (an RFC 1123 label: lowercase letters, digits and `-`, " ..
    "starting and ending with a letter or digit, at most 63 characters), or `\"*\"` alone for all namespaces",
  label_selector = "no control characters (the API server judges the syntax; a selector it refuses " ..
    "shows in the status and the log)",
  secret_names = "`name` or `namespace/name`: a Secret name (lowercase letters, digits, `-` and `.`, " ..
    "starting and ending with a letter or digit, at most 253 characters), optionally preceded by a " ..
    "namespace name and `/`",
  secret_types = "a Secret type as the API server's field selector takes it (printable, no spaces, no " ..
    "`,`, `=`, `!` or `\\`, at most 253 characters), or `\"*\"` alone for every type (no type selector)",
}

-- Fields outside config_fields.mode_fields that still belong to one mode:
-- check_connection refuses insecure_skip_tls_verify = true elsewhere (rule 4
-- of the header; the spec holds check_connection to it).
local ALSO_MODE = { insecure_skip_tls_verify = "explicit" }

local KNOWN_ATTRIBUTES = {
  type = true, required = true, default = true, one_of = true, between = true, match = true,
  starts_with = true, len_min = true, len_max = true, elements = true, custom_validator = true,
  description = true,
}

local function fail(message)
  io.stderr:write("config-reference: ", message, "\n")
  os.exit(2)
end

local function quote(s)
  return '"' .. s:gsub('[\\"]', "\\%0") .. '"'
end

local function literal(value)
  if type(value) == "string" then return quote(value) end
  if type(value) == "number" and value == math.floor(value) then return format("%d", value) end
  return tostring(value)
end

local function code(text)
  return "`" .. text .. "`"
end

-- A number of bytes also in MiB, when it is a whole number of them.
local function sized(name, value)
  local text = code(literal(value))
  if type(value) == "number" and name:match("_bytes$") and value >= MIB and value % MIB == 0 then
    text = text .. format(" (%d MiB)", value / MIB)
  end
  return text
end

local function render_default(name, def)
  local value = def.default
  if value == nil then
    return def.required and "none: the field must be set" or "unset"
  end
  if type(value) == "table" then
    local items = {}
    for i, v in ipairs(value) do items[i] = literal(v) end
    return code("[" .. concat(items, ", ") .. "]")
  end
  return sized(name, value)
end

local function render_type(def)
  if def.type == "array" then
    return "array of " .. render_type(def.elements)
  end
  return def.type
end

-- The constraints of one definition, as phrases; `name` selects the validator text.
local function constraints(name, def, where)
  for key in pairs(def) do
    if not KNOWN_ATTRIBUTES[key] then
      fail(format("%s: attribute %q is not rendered; teach scripts/config-reference.lua about it", where, key))
    end
  end
  local out = {}
  if def.one_of then
    local values = {}
    for i, v in ipairs(def.one_of) do values[i] = code(literal(v)) end
    insert(out, "one of " .. concat(values, ", "))
  end
  if def.between then
    insert(out, format("from %s to %s", sized(name, def.between[1]), sized(name, def.between[2])))
  end
  if def.starts_with then
    insert(out, "starts with " .. code(def.starts_with) ..
      (def.starts_with == "/" and " (an absolute path)" or ""))
  end
  if def.match then insert(out, "matches the Lua pattern " .. code(def.match)) end
  -- Kong's len_min/len_max count characters of a string, elements of an array.
  local unit = def.type == "array" and "element" or "character"
  local function count(n) return format("%d %s%s", n, unit, n == 1 and "" or "s") end
  if def.len_min then insert(out, "at least " .. count(def.len_min)) end
  if def.len_max then insert(out, "at most " .. count(def.len_max)) end
  if def.custom_validator then
    local text = VALIDATOR_TEXT[name]
    if not text then
      fail(format("%s: custom_validator has no description in VALIDATOR_TEXT", where))
    end
    insert(out, text)
  end
  return out
end

local function render_allowed(name, def)
  local phrases = constraints(name, def, name)
  if def.type == "array" then
    local each = constraints(name, def.elements, name .. ".elements")
    if #each > 0 then insert(phrases, "each element: " .. concat(each, "; ")) end
    if #phrases == 0 then return "any list of " .. def.elements.type .. "s" end
  end
  if #phrases > 0 then return concat(phrases, "; ") end
  if def.type == "boolean" then return "`true` or `false`" end
  return "any " .. def.type
end

-- field name -> the connection mode it belongs to (in_cluster, kubeconfig, explicit)
local function modes_by_field()
  local by_field = {}
  for name, mode in pairs(ALSO_MODE) do by_field[name] = mode end
  for mode, names in pairs(config_fields.mode_fields) do
    for _, name in ipairs(names) do by_field[name] = mode end
  end
  return by_field
end

local function code_list(names)
  local out = {}
  for i, n in ipairs(names) do out[i] = code(n) end
  return concat(out, ", ")
end

local function header(lines)
  local modes = config_fields.mode_fields
  local function add(s) insert(lines, s or "") end
  add("# certsync configuration reference")
  add()
  add("<!-- Generated from kong-plugin/certsync/config_fields.lua by scripts/config-reference.lua.")
  add("     Do not edit: run `luajit scripts/config-reference.lua > " .. DOC_PATH .. "`. -->")
  add()
  add("The `config` of the certsync plugin, every field with its type, default and the values")
  add("Kong accepts. certsync is a global plugin: configure it once, as a top-level `plugins:`")
  add("entry of the declarative configuration or as a `KongClusterPlugin` labelled")
  add("`global: \"true\"` ([kong.md](kong.md) shows both). Kong checks the configuration when it")
  add("is loaded and refuses a bad value with a message that names the field; what is being")
  add("served is not disturbed.")
  add()
  add("Types are Kong schema types; an `array` is a YAML list. A field whose default is")
  add("\"unset\" may be left out.")
  add()
  add("## Connection modes")
  add()
  add("`connection` says where the Kubernetes API is and how certsync proves who it is:")
  add()
  add("- `in_cluster` (the default): the pod's service account. The token, `ca.crt` and")
  add("  namespace come from `service_account_dir`; the API server is")
  add("  `KUBERNETES_SERVICE_HOST`:`KUBERNETES_SERVICE_PORT`, as the nginx master saw them when")
  add("  Kong started. Its field: " .. code_list(modes.in_cluster) .. ".")
  add("- `kubeconfig`: a kubeconfig file, with its current context or the one named. Its")
  add("  fields: " .. code_list(modes.kubeconfig) .. ".")
  add("- `explicit`: the API server, its CA and the credentials, one field each. Its fields:")
  add("  " .. code_list(modes.explicit) .. ", and `insecure_skip_tls_verify`.")
  add()
  add("Kong refuses a configuration that breaks one of these rules, checked across fields:")
  add()
  add("1. A field of the `kubeconfig` or `explicit` mode is refused while `connection` names")
  add("   another mode, so that a half-edited configuration cannot watch the wrong cluster.")
  add("   (`service_account_dir` has a default and is ignored outside `in_cluster`.)")
  add("2. `connection = kubeconfig` needs `kubeconfig`.")
  add("3. `connection = explicit` needs `api_server`; `client_cert_file` and `client_key_file`")
  add("   go together; an `https://` server needs `ca_file` unless `insecure_skip_tls_verify`")
  add("   is `true`.")
  add("4. `insecure_skip_tls_verify = true` is refused unless `connection = explicit`.")
  add("5. In `namespaces`, `\"*\"` (all namespaces) stands alone.")
  add("6. In `secret_types`, `\"*\"` (every type) stands alone.")
  add()
  add("Two more are checked when the watcher starts, and a breach is reported in the log")
  add("and the status (the host's certificates keep serving meanwhile):")
  add()
  add("- With `connection = explicit`, `namespaces` must be given: only the service account")
  add("  and a kubeconfig context name a namespace to fall back to.")
  add("- An entry of `secret_names` without a namespace is accepted only when exactly one")
  add("  namespace is watched: the one given, or the connection's own.")
  add()
end

local function render()
  local lines = {}
  header(lines)
  local mode_of = modes_by_field()
  local fields = config_fields.fields

  insert(lines, "## Fields")
  insert(lines, "")
  insert(lines, "| field | type | default |")
  insert(lines, "|---|---|---|")
  for _, entry in ipairs(fields) do
    local name, def = entry[1], entry[2]
    insert(lines, format("| [%s](#%s) | %s | %s |", code(name), name, render_type(def),
      render_default(name, def)))
  end
  insert(lines, "")

  for _, entry in ipairs(fields) do
    local name, def, description = entry[1], entry[2], entry[3]
    if type(description) ~= "string" or description == "" then
      fail(name .. ": no description in config_fields")
    end
    insert(lines, "### " .. code(name))
    insert(lines, "")
    insert(lines, description)
    insert(lines, "")
    insert(lines, "- Type: " .. render_type(def))
    insert(lines, "- Default: " .. render_default(name, def))
    insert(lines, "- Allowed: " .. render_allowed(name, def))
    if mode_of[name] then
      insert(lines, "- Used with: " .. code("connection = " .. mode_of[name]))
    end
    insert(lines, "")
  end
  -- One newline at the end, none doubled.
  while lines[#lines] == "" do lines[#lines] = nil end
  return concat(lines, "\n") .. "\n"
end

local function split_lines(text)
  local out = {}
  for line in (text .. (text:sub(-1) == "\n" and "" or "\n")):gmatch("(.-)\n") do out[#out + 1] = line end
  return out
end

-- A line diff (longest common subsequence) printed as unified-style hunks.
local function diff(old_text, new_text, old_name, new_name)
  local a, b = split_lines(old_text), split_lines(new_text)
  local n, m = #a, #b
  local lcs = {}
  for i = n + 1, 1, -1 do
    lcs[i] = {}
    for j = m + 1, 1, -1 do
      if i > n or j > m then
        lcs[i][j] = 0
      elseif a[i] == b[j] then
        lcs[i][j] = lcs[i + 1][j + 1] + 1
      else
        lcs[i][j] = math.max(lcs[i + 1][j], lcs[i][j + 1])
      end
    end
  end
  local ops = {} -- { kind = " "|"-"|"+", text, old = line, new = line }
  local i, j = 1, 1
  while i <= n or j <= m do
    if i <= n and j <= m and a[i] == b[j] then
      ops[#ops + 1] = { kind = " ", text = a[i], old = i, new = j }
      i, j = i + 1, j + 1
    elseif i <= n and (j > m or lcs[i + 1][j] >= lcs[i][j + 1]) then
      ops[#ops + 1] = { kind = "-", text = a[i], old = i, new = j }
      i = i + 1
    else
      ops[#ops + 1] = { kind = "+", text = b[j], old = i, new = j }
      j = j + 1
    end
  end
  local CONTEXT = 2
  local out = { "--- " .. old_name, "+++ " .. new_name }
  local k = 1
  while k <= #ops do
    if ops[k].kind ~= " " then
      local first = math.max(1, k - CONTEXT)
      local last = k
      -- Extend the hunk while the next change is within reach of the context.
      while true do
        local next_change
        for q = last + 1, math.min(#ops, last + 2 * CONTEXT + 1) do
          if ops[q].kind ~= " " then next_change = q break end
        end
        if not next_change then break end
        last = next_change
      end
      last = math.min(#ops, last + CONTEXT)
      out[#out + 1] = format("@@ -%d +%d @@", ops[first].old, ops[first].new)
      for q = first, last do out[#out + 1] = ops[q].kind .. ops[q].text end
      k = last + 1
    else
      k = k + 1
    end
  end
  return concat(out, "\n") .. "\n"
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("*a")
  f:close()
  return text
end

local USAGE = "usage: luajit scripts/config-reference.lua [--check [FILE]]\n"

local function main(args)
  local mode = args[1]
  if mode == nil then
    io.write(render())
    return 0
  elseif mode == "--check" then
    local path = args[2] or (ROOT .. "/" .. DOC_PATH)
    local current = read_file(path)
    local expected = render()
    if current == expected then return 0 end
    if current == nil then
      io.stderr:write(path, " does not exist.\n")
    else
      io.stderr:write(path, " is not what scripts/config-reference.lua generates:\n",
        diff(current, expected, path, "generated"))
    end
    io.stderr:write("Regenerate it: luajit scripts/config-reference.lua > ", DOC_PATH, "\n")
    return 1
  elseif mode == "-h" or mode == "--help" then
    io.write(USAGE)
    return 0
  end
  io.stderr:write(USAGE)
  return 2
end

os.exit(main(arg or {}))
