-- docs/configuration.md is generated from certsync.config_fields by
-- scripts/config-reference.lua. These specs fail when the two drift apart (a
-- field added, changed or removed without regenerating) and when a rule the
-- reference states in prose is no longer what the schema enforces.
local config_fields = require "certsync.config_fields"

local ROOT = os.getenv("CERTSYNC_ROOT") or "."
local SCRIPT = ROOT .. "/scripts/config-reference.lua"
local DOC = ROOT .. "/docs/configuration.md"

local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- Runs the generator with LuaJIT; returns its exit code, stdout and stderr.
local function generate(script, ...)
  local out, err = os.tmpname(), os.tmpname()
  local args = {}
  for i, a in ipairs({ ... }) do args[i] = shell_quote(a) end
  local status, _, code = os.execute(string.format("luajit %s %s >%s 2>%s", shell_quote(script),
    table.concat(args, " "), shell_quote(out), shell_quote(err)))
  if type(status) == "number" then code = status >= 256 and math.floor(status / 256) or status end
  local stdout, stderr = read(out), read(err)
  os.remove(out)
  os.remove(err)
  return code, stdout, stderr
end

-- A copy of the generator beside a config_fields module of the test's making.
local function tree_with_fields(fields_module_source)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. shell_quote(dir .. "/scripts") .. " " .. shell_quote(dir .. "/kong-plugin/certsync")))
  write(dir .. "/scripts/config-reference.lua", read(SCRIPT))
  write(dir .. "/kong-plugin/certsync/config_fields.lua", fields_module_source)
  return dir
end

local function remove_tree(dir)
  os.execute("rm -rf " .. shell_quote(dir))
end

local REAL_FIELDS = ROOT .. "/kong-plugin/certsync/config_fields.lua"

describe("the configuration reference", function()
  it("is exactly what scripts/config-reference.lua generates from config_fields", function()
    local code, generated = generate(SCRIPT)
    assert.equal(0, code)
    local _, _, diff = generate(SCRIPT, "--check")
    assert(generated == read(DOC), "docs/configuration.md is stale; regenerate it with " ..
      "`luajit scripts/config-reference.lua > docs/configuration.md`:\n" .. diff)
  end)

  it("has a section and an overview row for every field of config_fields", function()
    local doc = read(DOC)
    for _, entry in ipairs(config_fields.fields) do
      local name = entry[1]
      assert.truthy(doc:find("\n### `" .. name .. "`\n", 1, true), "no section for " .. name)
      assert.truthy(doc:find("\n| [`" .. name .. "`](#" .. name .. ") |", 1, true), "no overview row for " .. name)
    end
  end)

  it("documents no field that config_fields lacks", function()
    local known = {}
    for _, entry in ipairs(config_fields.fields) do known[entry[1]] = true end
    for name in read(DOC):gmatch("\n### `([%w_]+)`\n") do
      assert.truthy(known[name], name .. " is documented but is not a field")
    end
  end)

  it("--check passes on the committed reference", function()
    local code, _, stderr = generate(SCRIPT, "--check")
    assert.equal(0, code, stderr)
  end)

  it("--check fails with a diff when a field is added to config_fields without regenerating", function()
    local dir = tree_with_fields(string.format([[
local real = dofile(%q)
table.insert(real.fields, { "added_later", { type = "integer", default = 7, between = { 1, 9 } },
  "A field added without regenerating the reference." })
return real
]], REAL_FIELDS))
    local code, _, stderr = generate(dir .. "/scripts/config-reference.lua", "--check", DOC)
    remove_tree(dir)
    assert.equal(1, code)
    assert.matches("is not what scripts/config%-reference%.lua generates", stderr)
    assert.truthy(stderr:find("+### `added_later`", 1, true), stderr)
    assert.truthy(stderr:find("+- Allowed: from `1` to `9`", 1, true), stderr)
    assert.truthy(stderr:find("Regenerate it: luajit scripts/config-reference.lua > docs/configuration.md", 1, true))
  end)

  it("refuses to render an attribute it cannot describe, rather than leave it out", function()
    local dir = tree_with_fields([[
return { mode_fields = { in_cluster = {}, kubeconfig = {}, explicit = {} },
  fields = { { "odd", { type = "string", not_rendered = true }, "A field with an unknown attribute." } } }
]])
    local code, stdout, stderr = generate(dir .. "/scripts/config-reference.lua")
    remove_tree(dir)
    assert.equal(2, code)
    assert.equal("", stdout)
    assert.matches("not_rendered", stderr)
  end)

  it("refuses a custom validator it has no sentence for", function()
    local dir = tree_with_fields([[
return { mode_fields = { in_cluster = {}, kubeconfig = {}, explicit = {} },
  fields = { { "odd", { type = "string", custom_validator = function() return true end }, "Checked somehow." } } }
]])
    local code, _, stderr = generate(dir .. "/scripts/config-reference.lua")
    remove_tree(dir)
    assert.equal(2, code)
    assert.matches("custom_validator", stderr)
  end)
end)

-- The prose of the reference, held to what config_fields enforces.
describe("the rules the reference states", function()
  local check = config_fields.check_connection
  local function refused(config)
    local ok, err = check({ config = config })
    return not ok and err or nil
  end

  local validators = {}
  for _, entry in ipairs(config_fields.fields) do
    local def = entry[2]
    validators[entry[1]] = def.custom_validator or (def.elements and def.elements.custom_validator)
  end

  it("1: a kubeconfig or explicit field is refused under another connection", function()
    assert.matches("kubeconfig", refused({ connection = "in_cluster", kubeconfig = "/k" }))
    assert.matches("context", refused({ connection = "in_cluster", context = "prod" }))
    assert.matches("api_server", refused({ connection = "kubeconfig", kubeconfig = "/k", api_server = "https://a" }))
    assert.matches("token_file", refused({ connection = "in_cluster", token_file = "/t" }))
  end)

  it("1: service_account_dir, which has a default, is accepted outside in_cluster", function()
    assert.is_true(check({ config = { connection = "kubeconfig", kubeconfig = "/k",
      service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount" } }))
  end)

  it("2: connection = kubeconfig needs kubeconfig", function()
    assert.matches("kubeconfig is required", refused({ connection = "kubeconfig" }))
  end)

  it("3: connection = explicit needs api_server, a whole client pair, and a CA for https", function()
    assert.matches("api_server is required", refused({ connection = "explicit" }))
    assert.matches("go together", refused({ connection = "explicit", api_server = "http://a",
      client_cert_file = "/c" }))
    assert.matches("ca_file is required", refused({ connection = "explicit", api_server = "https://a" }))
    assert.is_true(check({ config = { connection = "explicit", api_server = "https://a",
      insecure_skip_tls_verify = true } }))
    assert.is_true(check({ config = { connection = "explicit", api_server = "https://a", ca_file = "/ca" } }))
  end)

  it("4: insecure_skip_tls_verify = true is refused unless connection = explicit", function()
    assert.matches("insecure_skip_tls_verify", refused({ connection = "in_cluster", insecure_skip_tls_verify = true }))
    assert.is_true(check({ config = { connection = "in_cluster", insecure_skip_tls_verify = false } }))
  end)

  it("5: \"*\" in namespaces stands alone", function()
    assert.matches("stand alone", refused({ connection = "in_cluster", namespaces = { "*", "web" } }))
    assert.is_true(check({ config = { connection = "in_cluster", namespaces = { "*" } } }))
  end)

  it("6: \"*\" in secret_types stands alone", function()
    assert.matches("stand alone", refused({ connection = "in_cluster", secret_types = { "*", "Opaque" } }))
    assert.is_true(check({ config = { connection = "in_cluster", secret_types = { "*" } } }))
  end)

  it("describes the Secret type check: printable, no spaces or selector syntax, at most 253, or \"*\"", function()
    local valid = validators.secret_types
    for _, ok in ipairs({ "kubernetes.io/tls", "Opaque", "helm.sh/release.v1", "*", string.rep("a", 253) }) do
      assert.is_true(valid(ok), ok)
    end
    for _, bad in ipairs({ "", "a b", "a,b", "type=x", "a!", "a\\b", "a\tb", "\200", string.rep("a", 254) }) do
      assert.is_nil((valid(bad)), bad)
    end
  end)

  it("describes the namespace check: an RFC 1123 label of at most 63 characters, or \"*\"", function()
    local valid = validators.namespaces
    for _, ok in ipairs({ "web", "a", "team-1", "*", string.rep("a", 63) }) do
      assert.is_true(valid(ok), ok)
    end
    for _, bad in ipairs({ "Web", "-web", "web-", "a_b", "a.b", string.rep("a", 64) }) do
      assert.is_nil((valid(bad)), bad)
    end
  end)

  it("describes the Secret name check: name or namespace/name, at most 253 characters", function()
    local valid = validators.secret_names
    for _, ok in ipairs({ "app-tls", "web/app.tls", "a", string.rep("a", 253) }) do
      assert.is_true(valid(ok), ok)
    end
    for _, bad in ipairs({ "App", "web/App", "Web/app", "app.", "-app", "web/", string.rep("a", 254) }) do
      assert.is_nil((valid(bad)), bad)
    end
  end)

  it("describes the label selector check: no control characters", function()
    assert.is_true(validators.label_selector("certsync.io/serve=true"))
    assert.is_nil((validators.label_selector("app=web\nx")))
  end)
end)

-- docs/kong.md and the files in deploy/ show the plugin's configuration and
-- the image recipe; they must not drift from config_fields, the Dockerfile and
-- the kong.conf line the plugin itself asks for.
describe("the Kong operator documentation", function()
  local KONG_DOC = ROOT .. "/docs/kong.md"

  -- The keys directly under each block-style `config:` mapping of a YAML text.
  local function config_keys(yaml)
    local keys, block = {}, nil
    for line in (yaml .. "\n"):gmatch("(.-)\n") do
      if line:match("%S") and not line:match("^%s*#") then
        local lead = #line:match("^(%s*)")
        if block and lead <= block.parent then block = nil end
        if block then
          block.child = block.child or lead
          local key = lead == block.child and line:match("^%s*([%w_]+):")
          if key then keys[#keys + 1] = key end
        end
        if line:match("^%s*config:%s*$") then block = { parent = lead } end
      end
    end
    return keys
  end

  local function yaml_blocks(markdown)
    local blocks = {}
    for block in markdown:gmatch("\n```yaml\n(.-)\n```") do blocks[#blocks + 1] = block end
    return blocks
  end

  it("uses only configuration fields that exist, in its examples and in deploy/", function()
    local known = {}
    for _, entry in ipairs(config_fields.fields) do known[entry[1]] = true end
    local sources = yaml_blocks(read(KONG_DOC))
    sources[#sources + 1] = read(ROOT .. "/deploy/kong.yml")
    sources[#sources + 1] = read(ROOT .. "/deploy/kong-cluster-plugin.yaml")
    local seen = 0
    for _, yaml in ipairs(sources) do
      for _, key in ipairs(config_keys(yaml)) do
        assert.truthy(known[key], "config." .. key .. " is not a field of config_fields")
        seen = seen + 1
      end
    end
    assert.truthy(seen >= 6, "expected the examples' config keys, found " .. seen)
  end)

  it("shows deploy/Dockerfile as it is", function()
    local dockerfile = read(ROOT .. "/deploy/Dockerfile")
    assert.truthy(read(KONG_DOC):find("```dockerfile\n" .. dockerfile .. "```", 1, true),
      "the Dockerfile in docs/kong.md differs from deploy/Dockerfile")
  end)

  it("gives the shared dict line the plugin's own error message asks for", function()
    local line = require("certsync.kong_config").fixes.shared_dict:match("`(nginx_http_lua_shared_dict = [^`]+)`")
    assert.is_string(line)
    assert.truthy(read(KONG_DOC):find("\n" .. line .. "\n", 1, true), line)
  end)
end)
