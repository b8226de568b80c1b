-- certsync's plugin schema checked against the rules Kong applies to a plugin
-- schema when it loads it, and to a plugin's configuration when it accepts it,
-- on both Kong lines the plugin must load in: 2.8, and 3.4+ (DB-less).
-- Kong cannot be installed here; spec/support/kong_schema_rules.lua writes its
-- rules out from Kong's source. schema.lua is loaded once per line, with a
-- kong.meta and typedefs shaped as that line has them.
local rules = require "spec.support.kong_schema_rules"

local NULL = rules.NULL
local SCHEMA_MODULES = { "kong.plugins.certsync.schema", "certsync.config_fields",
                         "kong.db.schema.typedefs", "kong.meta" }

local function forget_schema_modules()
  for _, name in ipairs(SCHEMA_MODULES) do package.loaded[name] = nil end
end

-- schema.lua as Kong `meta` would load it (no kong.meta at all when meta is nil).
local function load_schema(meta, line)
  forget_schema_modules()
  package.loaded["kong.meta"] = meta
  package.loaded["kong.db.schema.typedefs"] = rules.typedefs(line)
  local schema = require "kong.plugins.certsync.schema"
  forget_schema_modules()
  return schema
end

local function copy(v)
  if type(v) ~= "table" then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = copy(x) end
  return c
end

local function field(fields, wanted)
  for _, item in ipairs(fields) do
    local name, def = next(item)
    if name == wanted then return def end
  end
end

local function config_fields(schema)
  return field(schema.fields, "config").fields
end

-- A copy of `schema` with one configuration field changed by `edit`.
local function with_config_field(schema, name, edit)
  local changed = copy(schema)
  edit(field(config_fields(changed), name))
  return changed
end

-- Whether one of `problems` contains `text` (and starts with `prefix`, if given).
local function mentions(problems, text, prefix)
  for _, problem in ipairs(problems) do
    if problem:find(text, 1, true) and (prefix == nil or problem:sub(1, #prefix) == prefix) then
      return true
    end
  end
  return false
end

local function has_description(def)
  if type(def) ~= "table" then return false end
  if def.description ~= nil then return true end
  for _, v in pairs(def) do
    if type(v) == "table" and has_description(v) then return true end
  end
  return false
end

-- Configurations a user could plausibly write, each refused by Kong. `by` says
-- who refuses it: a field's own rules ("field": the message is
-- "config.<field>: ...") or the schema's entity check ("check": the message
-- names the field).
local REFUSED = {
  { "a deletion policy spelled as in a PV's reclaim policy", { deletion_policy = "delete" },
    field = "deletion_policy", by = "field", says = "expected one of: keep, remove" },
  { "a connection mode written with a hyphen", { connection = "in-cluster" },
    field = "connection", by = "field", says = "expected one of: in_cluster, kubeconfig, explicit" },
  { "a connection line left empty (null)", { connection = NULL },
    field = "connection", by = "field", says = "required field missing" },
  { "one namespace given as a string instead of a list", { namespaces = "default" },
    field = "namespaces", by = "field", says = "expected an array" },
  { "a namespace with a capital letter", { namespaces = { "Default" } },
    field = "namespaces", by = "field", says = "\"Default\" is not a namespace name" },
  { "\"*\" listed next to another namespace", { namespaces = { "*", "kube-system" } },
    field = "namespaces", by = "check", says = "must stand alone" },
  { "a Secret name cut after its namespace", { secret_names = { "default/" } },
    field = "secret_names", by = "field", says = "is not a Secret name" },
  { "Secret types given as one comma-separated string", { secret_types = { "kubernetes.io/tls,Opaque" } },
    field = "secret_types", by = "field", says = "\"kubernetes.io/tls,Opaque\" is not a Secret type" },
  { "no Secret type at all", { secret_types = {} },
    field = "secret_types", by = "field", says = "length must be at least 1" },
  { "an empty Secret type", { secret_types = { "" } },
    field = "secret_types", by = "field", says = "length must be at least 1" },
  { "\"*\" listed next to a Secret type", { secret_types = { "*", "Opaque" } },
    field = "secret_types", by = "check", says = "must stand alone" },
  { "an empty label selector meant as \"all\"", { label_selector = "" },
    field = "label_selector", by = "field", says = "length must be at least 1" },
  { "a sync interval below the floor", { sync_interval_ms = 10 },
    field = "sync_interval_ms", by = "field", says = "value should be between 50 and 10000" },
  { "a sync interval written in seconds", { sync_interval_ms = 0.5 },
    field = "sync_interval_ms", by = "field", says = "expected an integer" },
  { "a sync interval quoted as a string", { sync_interval_ms = "200" },
    field = "sync_interval_ms", by = "field", says = "expected an integer" },
  { "an event size limit written in KiB", { max_event_bytes = 512 },
    field = "max_event_bytes", by = "field", says = "value should be between 1048576 and 67108864" },
  { "an idle timeout shorter than the bookmark interval", { idle_timeout_seconds = 30 },
    field = "idle_timeout_seconds", by = "field", says = "value should be between 75 and 3600" },
  { "a negative clock skew", { clock_skew_seconds = -60 },
    field = "clock_skew_seconds", by = "field", says = "value should be between 0 and 86400" },
  { "a boolean quoted as a string", { verify_chain = "true" },
    field = "verify_chain", by = "field", says = "expected a boolean" },
  { "a relative service account directory",
    { service_account_dir = "var/run/secrets/kubernetes.io/serviceaccount" },
    field = "service_account_dir", by = "field", says = "should start with: /" },
  { "\"namespace\" in the singular", { namespace = "default" },
    field = "namespace", by = "field", says = "unknown field" },
  { "a kubeconfig path starting with ~", { connection = "kubeconfig", kubeconfig = "~/.kube/config" },
    field = "kubeconfig", by = "field", says = "should start with: /" },
  { "connection = kubeconfig without the file", { connection = "kubeconfig", context = "prod" },
    field = "kubeconfig", by = "check", says = "kubeconfig is required with connection = kubeconfig" },
  { "connection = explicit without the API server", { connection = "explicit", ca_file = "/etc/kong/ca.crt" },
    field = "api_server", by = "check", says = "api_server is required with connection = explicit" },
  { "an API server given without a scheme", { connection = "explicit", api_server = "10.96.0.1:443" },
    field = "api_server", by = "field", says = "invalid value: 10.96.0.1:443" },
  { "an https API server with no CA to verify it",
    { connection = "explicit", api_server = "https://10.96.0.1:443", token_file = "/etc/kong/token" },
    field = "ca_file", by = "check", says = "ca_file is required to verify https://10.96.0.1:443" },
  { "a client certificate without its key",
    { connection = "explicit", api_server = "https://10.96.0.1:443", ca_file = "/etc/kong/ca.crt",
      client_cert_file = "/etc/kong/client.crt" },
    field = "client_key_file", by = "check", says = "go together" },
  { "an API server left over after switching to in_cluster", { api_server = "https://10.96.0.1:443" },
    field = "api_server", by = "check", says = "api_server is only used with connection = explicit" },
  { "a kubeconfig context with connection = in_cluster", { context = "prod" },
    field = "context", by = "check", says = "context is only used with connection = kubeconfig" },
  { "insecure_skip_tls_verify with connection = in_cluster", { insecure_skip_tls_verify = true },
    field = "insecure_skip_tls_verify", by = "check", says = "only used with connection = explicit" },
  { "a token file with connection = kubeconfig",
    { connection = "kubeconfig", kubeconfig = "/etc/kong/kubeconfig", token_file = "/etc/kong/token" },
    field = "token_file", by = "check", says = "token_file is only used with connection = explicit" },
}

local ACCEPTED = {
  { "an in_cluster configuration watching all namespaces by label",
    { namespaces = { "*" }, label_selector = "certsync.io/serve=true", deletion_policy = "remove" } },
  { "a configuration serving cert-manager's Opaque Secrets too",
    { secret_types = { "kubernetes.io/tls", "Opaque" } } },
  { "a configuration watching every Secret type", { secret_types = { "*" } } },
  { "a kubeconfig configuration with a context",
    { connection = "kubeconfig", kubeconfig = "/etc/kong/kubeconfig", context = "prod", namespaces = { "ingress" } } },
  { "an explicit configuration with a CA, a token and named Secrets",
    { connection = "explicit", api_server = "https://10.96.0.1:443", ca_file = "/etc/kong/k8s-ca.crt",
      token_file = "/var/run/secrets/tokens/kong", secret_names = { "ingress/www-tls", "api-tls" } } },
  { "an explicit configuration with mutual TLS",
    { connection = "explicit", api_server = "https://k8s.internal:6443", ca_file = "/etc/kong/k8s-ca.crt",
      client_cert_file = "/etc/kong/client.crt", client_key_file = "/etc/kong/client.key" } },
}

describe("the certsync schema under Kong's rules", function()
  local saved_ngx

  setup(function()
    saved_ngx = rawget(_G, "ngx")
    _G.ngx = { null = NULL }
  end)

  teardown(function()
    _G.ngx = saved_ngx
    forget_schema_modules()
  end)

  for _, line_name in ipairs({ "2.8", "3.4+" }) do
    local line = rules.lines[line_name]

    describe("on " .. line.title, function()
      local schema

      setup(function()
        schema = load_schema(line.meta, line)
      end)

      it("passes every check Kong runs when it loads a plugin schema", function()
        assert.same({}, rules.check_plugin_schema(schema, line))
      end)

      if line.accepts_descriptions then
        it("describes every configuration field", function()
          for _, item in ipairs(config_fields(schema)) do
            local name, def = next(item)
            assert.is_string(def.description, name)
          end
        end)
      else
        it("carries no description anywhere, as this metaschema refuses the attribute", function()
          assert.is_false(has_description(schema))
        end)
      end

      it("is named certsync and gives its configuration as a record", function()
        assert.equal("certsync", schema.name)
        assert.equal("record", field(schema.fields, "config").type)
      end)

      it("is global only: consumer, route and service are held at null", function()
        for _, name in ipairs({ "consumer", "route", "service" }) do
          local def = field(schema.fields, name)
          assert.equal("foreign", def.type, name)
          assert.equal(NULL, def.eq, name)
        end
      end)

      it("checks the connection over a field the plugin entity has", function()
        for _, check in ipairs(schema.entity_checks) do
          for _, source in ipairs(check.custom_entity_check.field_sources) do
            assert.truthy(line.plugin_entity[source:match("^[^.]+")], source)
          end
        end
      end)

      it("accepts the defaults alone as an in_cluster configuration", function()
        assert.is_true(rules.validate_config(schema, {}))
        assert.is_true(rules.validate_config(schema, { connection = "in_cluster" }))
      end)

      it("gives each field a default that passes the field's own rules", function()
        for _, item in ipairs(config_fields(schema)) do
          local name, def = next(item)
          if def.default ~= nil then
            local ok, err = rules.validate_field(def, def.default)
            assert(ok, name .. ": " .. tostring(err))
          end
        end
      end)

      for _, case in ipairs(ACCEPTED) do
        it("accepts " .. case[1], function()
          local ok, messages = rules.validate_config(schema, case[2])
          assert(ok, table.concat(messages or {}, "; "))
        end)
      end

      for _, case in ipairs(REFUSED) do
        it("refuses " .. case[1] .. ", naming " .. case.field, function()
          local ok, messages, errors = rules.validate_config(schema, case[2])
          assert.is_nil(ok)
          local shown = table.concat(messages, "; ")
          if case.by == "field" then
            assert(mentions(messages, case.says, "config." .. case.field .. ": "), shown)
          else
            assert.is_nil(errors.config, shown)
            local named = false
            for _, message in ipairs(errors["@entity"] or {}) do
              if message:find(case.field, 1, true) and message:find(case.says, 1, true) then named = true end
            end
            assert(named, shown)
          end
        end)
      end
    end)
  end

  describe("the rules themselves", function()
    local old, new

    setup(function()
      old = load_schema(rules.lines["2.8"].meta, rules.lines["2.8"])
      new = load_schema(rules.lines["3.4+"].meta, rules.lines["3.4+"])
    end)

    it("refuse the schema built for 3.4+ on Kong 2.8, for its descriptions", function()
      local problems = rules.check_plugin_schema(new, rules.lines["2.8"])
      assert(mentions(problems, "config.connection.description: unknown field"), table.concat(problems, "; "))
    end)

    it("refuse one description on Kong 2.8", function()
      local changed = with_config_field(old, "deletion_policy", function(def)
        def.description = "What to do when a Secret is deleted."
      end)
      assert.same({ "config.deletion_policy.description: unknown field" },
                  rules.check_plugin_schema(changed, rules.lines["2.8"]))
    end)

    it("refuse a description shorter than ten characters on 3.4+", function()
      local changed = with_config_field(new, "context", function(def) def.description = "Context." end)
      assert.same({ "config.context.description: length must be at least 10" },
                  rules.check_plugin_schema(changed, rules.lines["3.4+"]))
    end)

    it("refuse fractional between limits on both lines", function()
      for _, pair in ipairs({ { old, rules.lines["2.8"] }, { new, rules.lines["3.4+"] } }) do
        local changed = with_config_field(pair[1], "sync_interval_ms", function(def) def.between = { 0.05, 5 } end)
        assert(mentions(rules.check_plugin_schema(changed, pair[2]), "config.sync_interval_ms.between: expected an integer"))
      end
    end)

    it("refuse an attribute Kong does not know", function()
      local changed = with_config_field(old, "sync_interval_ms", function(def) def.minimum = 50 end)
      assert.same({ "config.sync_interval_ms.minimum: unknown field" },
                  rules.check_plugin_schema(changed, rules.lines["2.8"]))
    end)

    it("refuse a default that breaks its own field's rules", function()
      local changed = with_config_field(old, "deletion_policy", function(def) def.default = "delete" end)
      assert.same({ "config.deletion_policy.default: expected one of: keep, remove" },
                  rules.check_plugin_schema(changed, rules.lines["2.8"]))
    end)

    it("refuse a match pattern on an integer field", function()
      local changed = with_config_field(new, "list_page_size", function(def) def.match = "^%d+$" end)
      assert(mentions(rules.check_plugin_schema(changed, rules.lines["3.4+"]),
                      "config.list_page_size: field of type 'integer' cannot have attribute 'match'"))
    end)

    it("refuse an array that does not declare its elements", function()
      local changed = with_config_field(old, "namespaces", function(def) def.elements = nil end)
      assert.same({ "config.namespaces: field of type 'array' must declare 'elements'" },
                  rules.check_plugin_schema(changed, rules.lines["2.8"]))
    end)

    it("refuse a top-level field the plugins entity does not have", function()
      local changed = copy(old)
      table.insert(changed.fields, { run_on = { type = "string", required = true, default = "first",
                                                one_of = { "first" } } })
      assert.same({ "run_on: unknown field: the plugins entity has no such field" },
                  rules.check_plugin_schema(changed, rules.lines["2.8"]))
    end)

    it("refuse an entity check Kong has no checker for", function()
      local changed = copy(new)
      changed.entity_checks[1] = { custom_check = changed.entity_checks[1].custom_entity_check }
      assert(mentions(rules.check_plugin_schema(changed, rules.lines["3.4+"]), "entity_checks[1].custom_check: unknown field"))
    end)

    it("do not run the entity check over a configuration whose fields already failed", function()
      local ok, messages, errors = rules.validate_config(old, { connection = "explicit", sync_interval_ms = 1 })
      assert.is_nil(ok)
      assert.same({ "config.sync_interval_ms: value should be between 50 and 10000" }, messages)
      assert.is_nil(errors["@entity"])
    end)
  end)

  describe("the version gate in schema.lua", function()
    it("leaves descriptions out for Kong 3.3, whose metaschema still refuses them", function()
      assert.is_false(has_description(load_schema(rules.meta(3, 3, 2), rules.lines["2.8"])))
    end)

    it("adds descriptions from Kong 3.4.0 on", function()
      local schema = load_schema(rules.meta(3, 4, 0), rules.lines["3.4+"])
      assert.is_string(field(config_fields(schema), "connection").description)
    end)

    it("leaves descriptions out when kong.meta cannot be loaded", function()
      assert.is_false(has_description(load_schema(nil, rules.lines["2.8"])))
    end)
  end)
end)
