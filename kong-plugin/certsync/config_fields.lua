-- certsync.config_fields: the plugin's configuration fields, their checks and
-- one-line descriptions, for Kong's schema.lua, the generated configuration
-- reference (scripts/config-reference.lua) and the handler's translation into
-- library settings. Field definitions use Kong's schema attributes.

-- A Kubernetes namespace name: an RFC 1123 label.
local NAMESPACE = "^[a-z0-9][-a-z0-9]*$"
-- A Secret name (RFC 1123 subdomain), optionally "namespace/name".
local SECRET_NAME = "^[a-z0-9][-a-z0-9.]*$"

local function rfc1123_label(value)
  return #value <= 63 and value:match(NAMESPACE) ~= nil and value:sub(-1) ~= "-"
end

local function validate_namespace(value)
  if value == "*" or rfc1123_label(value) then return true end
  return nil, "\"" .. value .. "\" is not a namespace name (\"*\" alone means all namespaces)"
end

local function validate_secret_name(value)
  local namespace, name = value:match("^([^/]*)/(.*)$")
  if not namespace then name = value end
  if namespace and not rfc1123_label(namespace) then
    return nil, "\"" .. value .. "\": \"" .. namespace .. "\" is not a namespace name"
  end
  if #name > 253 or not name:match(SECRET_NAME) or name:match("[-.]$") then
    return nil, "\"" .. value .. "\" is not a Secret name (namespace/name or name)"
  end
  return true
end

local function validate_selector(value)
  -- A syntax check only; the API server has the last word and a refused
  -- selector is reported in the status.
  if value:find("[%c]") then return nil, "must not contain control characters" end
  return true
end

-- A Secret type goes into the API server's field selector, where ",", "=",
-- "!" and "\\" are syntax; real types are printable words
-- (kubernetes.io/tls, Opaque, helm.sh/release.v1). "*": every type.
local function validate_secret_type(value)
  if value == "*" then return true end
  if #value == 0 or #value > 253 or value:find("[%s%c,=!\\\127-\255]") then
    return nil, "\"" .. value .. "\" is not a Secret type (printable, no spaces, no ',', '=', '!' or '\\', " ..
      "at most 253 characters; \"*\" alone means every type)"
  end
  return true
end

local ABSOLUTE_PATH = { type = "string", starts_with = "/" }

local function with(base, extra)
  local t = {}
  for k, v in pairs(base) do t[k] = v end
  for k, v in pairs(extra) do t[k] = v end
  return t
end

-- { name, definition, one-line description }, in the order the reference lists them.
local CONFIG_FIELDS = {
  -- Where the Kubernetes API is.
  { "connection", { type = "string", required = true, default = "in_cluster",
      one_of = { "in_cluster", "kubeconfig", "explicit" } },
    "How to reach the Kubernetes API: the pod's service account, a kubeconfig file, or the explicit fields below." },
  { "service_account_dir", with(ABSOLUTE_PATH, { required = true,
      default = "/var/run/secrets/kubernetes.io/serviceaccount" }),
    "in_cluster: directory holding the service account's token, ca.crt and namespace." },
  { "kubeconfig", with(ABSOLUTE_PATH, {}),
    "kubeconfig: path of the kubeconfig file (required with connection = kubeconfig)." },
  { "context", { type = "string" },
    "kubeconfig: context to use; unset uses the file's current-context." },
  { "api_server", { type = "string", match = "^https?://[^%s]+$" },
    "explicit: URL of the API server, e.g. https://10.96.0.1:443 (required with connection = explicit)." },
  { "ca_file", with(ABSOLUTE_PATH, {}),
    "explicit: PEM file of the CA that signs the API server's certificate (required for https)." },
  { "token_file", with(ABSOLUTE_PATH, {}),
    "explicit: file holding a bearer token; read again for every request, as projected tokens rotate." },
  { "client_cert_file", with(ABSOLUTE_PATH, {}),
    "explicit: PEM client certificate for mutual TLS (with client_key_file)." },
  { "client_key_file", with(ABSOLUTE_PATH, {}),
    "explicit: PEM private key of client_cert_file." },
  { "tls_server_name", { type = "string" },
    "explicit: name to verify in the API server's certificate instead of the URL's host." },
  { "insecure_skip_tls_verify", { type = "boolean", required = true, default = false },
    "explicit: do not verify the API server's certificate (testing only; the token is sent anyway)." },

  -- Which Secrets.
  { "namespaces", { type = "array", required = true, default = {},
      elements = { type = "string", custom_validator = validate_namespace } },
    "Namespaces whose Secrets are watched; empty means the service account's (or kubeconfig context's) namespace, [\"*\"] all." },
  { "label_selector", { type = "string", len_max = 1024, custom_validator = validate_selector },
    "Kubernetes label selector the watched Secrets must match, e.g. certsync.io/serve=true; unset watches all." },
  { "secret_names", { type = "array", required = true, default = {},
      elements = { type = "string", custom_validator = validate_secret_name } },
    "Watch only these Secrets (name, or namespace/name), one watch each, as RBAC resourceNames requires; empty watches all." },
  { "secret_types", { type = "array", required = true, default = { "kubernetes.io/tls" }, len_min = 1,
      elements = { type = "string", custom_validator = validate_secret_type } },
    "Secret types watched, filtered by the API server so others never reach Kong; one watch per type. Add \"Opaque\" when cert-manager writes into Opaque Secrets; [\"*\"] watches every type." },
  { "cert_manager", { type = "string", required = true, default = "auto", one_of = { "auto", "off" } },
    "auto: also watch the cert-manager Certificates of the watched namespaces (one more watch each) and show each beside its Secret in the status and metrics, where the CRD exists and RBAC allows list and watch (else one log line; serving is never affected); off: never ask." },

  -- What is served.
  { "server_names_annotation", { type = "string", required = true, default = "honour",
      one_of = { "honour", "ignore" } },
    "Whether a Secret's certsync.io/server-names annotation may narrow the names its certificate is served for." },
  { "deletion_policy", { type = "string", required = true, default = "keep", one_of = { "keep", "remove" } },
    "When a Secret is deleted: keep serving its last good certificate, or stop serving it." },
  { "cn_fallback", { type = "boolean", required = true, default = false },
    "Serve a certificate that has no DNS SAN for its subject CN (clients ignore CN; off by default)." },
  { "verify_chain", { type = "boolean", required = true, default = false },
    "Refuse a certificate whose chain does not verify to the Secret's ca.crt (when it has one)." },
  { "reorder_chain", { type = "boolean", required = true, default = false },
    "Re-sort a tls.crt whose intermediates are out of order instead of refusing it." },
  { "complete_chain", { type = "boolean", required = true, default = false },
    "Append to a tls.crt that lacks its leaf's issuer the intermediates the Secret's ca.crt holds (never a root); without it such a chain is served as it is and flagged chain_incomplete." },
  { "clock_skew_seconds", { type = "integer", required = true, default = 300, between = { 0, 86400 } },
    "A certificate whose notBefore is at most this far ahead is served now; later ones wait for notBefore." },

  -- How it runs.
  { "sync_interval_ms", { type = "integer", required = true, default = 200, between = { 50, 10000 } },
    "How often each worker looks for accepted changes when nothing woke it (the owner wakes every worker the moment it publishes; this is the safety net)." },
  { "max_event_bytes", { type = "integer", required = true, default = 4194304, between = { 1048576, 67108864 } },
    "Largest watch event accepted (a Secret is at most 1 MiB); a larger one is refused and the watch restarted." },
  { "list_page_size", { type = "integer", required = true, default = 500, between = { 1, 5000 } },
    "Secrets per LIST page when (re)listing." },
  { "idle_timeout_seconds", { type = "integer", required = true, default = 180, between = { 75, 3600 } },
    "A watch silent for this long is dead and reopened (the API server sends a bookmark every minute)." },
  { "ready_watch_down_seconds", { type = "integer", required = true, default = 300, between = { 0, 86400 } },
    "GET /certsync/ready answers 503 once a watch has been down this long (0: never for that reason; serving goes on either way)." },
  { "uncovered_names_max", { type = "integer", required = true, default = 100, between = { 0, 1000 } },
    "Server names no watched Secret covers kept per worker with their handshake counts for the status (the most frequent; the others are counted together); 0 keeps counts only." },
  { "library_path", with(ABSOLUTE_PATH, {}),
    "Path of libcertsync.so; unset finds it along lua_package_cpath, where the rock installs it." },
}

-- Settings of the other connection modes are refused rather than ignored, so
-- that a half-edited configuration cannot silently watch the wrong cluster.
local MODE_FIELDS = {
  in_cluster = { "service_account_dir" },
  kubeconfig = { "kubeconfig", "context" },
  explicit = { "api_server", "ca_file", "token_file", "client_cert_file", "client_key_file", "tls_server_name" },
}

local function check_connection(entity)
  local config = entity.config
  if type(config) ~= "table" then return true end
  local mode = config.connection
  local null = ngx and ngx.null
  local function set(name)
    local value = config[name]
    return value ~= nil and value ~= null
  end
  -- in_cluster's only field has a default, so it is always set: not checked.
  for _, other in ipairs({ "kubeconfig", "explicit" }) do
    if other ~= mode then
      for _, name in ipairs(MODE_FIELDS[other]) do
        if set(name) then
          return nil, name .. " is only used with connection = " .. other .. " (connection is " .. tostring(mode) .. ")"
        end
      end
    end
  end
  if mode == "kubeconfig" and not set("kubeconfig") then
    return nil, "kubeconfig is required with connection = kubeconfig"
  end
  if mode == "explicit" then
    if not set("api_server") then return nil, "api_server is required with connection = explicit" end
    if set("client_cert_file") ~= set("client_key_file") then
      return nil, "client_cert_file and client_key_file go together: set both or neither"
    end
    if config.api_server:match("^https://") and not set("ca_file") and config.insecure_skip_tls_verify ~= true then
      return nil, "ca_file is required to verify " .. config.api_server .. " (or insecure_skip_tls_verify = true)"
    end
  elseif config.insecure_skip_tls_verify == true then
    return nil, "insecure_skip_tls_verify is only used with connection = explicit"
  end
  local namespaces = config.namespaces
  if type(namespaces) == "table" and #namespaces > 1 then
    for _, ns in ipairs(namespaces) do
      if ns == "*" then return nil, "namespaces: \"*\" means all namespaces and must stand alone" end
    end
  end
  local types = config.secret_types
  if type(types) == "table" and #types > 1 then
    for _, t in ipairs(types) do
      if t == "*" then return nil, "secret_types: \"*\" means every type and must stand alone" end
    end
  end
  return true
end

return {
  fields = CONFIG_FIELDS,        -- { name, definition, description }
  check_connection = check_connection,
  mode_fields = MODE_FIELDS,
}
