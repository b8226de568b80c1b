-- The project's Kubernetes API test server, driven with the real kubectl.
local json = require "dkjson"
local proc = require "spec.support.proc"
local q = proc.shell_quote

local _M = {}
local Server = {}
Server.__index = Server

_M.root = os.getenv("CERTSYNC_ROOT") or "."
_M.build_dir = os.getenv("CERTSYNC_BUILD_DIR") or (_M.root .. "/build")

-- Starts the server in a fresh directory and waits until it listens.
-- opts.args: extra command-line arguments, e.g. { "--bookmark-interval-ms", "5000" };
-- opts.restartable: keep the state in DIR/state.json, for go_down() and come_back().
function _M.start(dir, opts)
  local binary = _M.build_dir .. "/tests/kube_api_server/kube-api-test-server"
  proc.check("mkdir -p " .. q(dir))
  local self = setmetatable({ dir = dir }, Server)
  local extra = {}
  for i, a in ipairs((opts and opts.args) or {}) do extra[i] = q(a) end
  if opts and opts.restartable then extra[#extra + 1] = "--state " .. q(dir .. "/state.json") end
  self.pid = proc.spawn(q(binary) .. " --dir " .. q(dir) .. " --port 0" ..
    (#extra > 0 and " " .. table.concat(extra, " ") or ""), dir .. "/server.log")
  proc.wait_until("the API test server to listen", 15, function()
    if not proc.alive(self.pid) then error("the API test server exited: " .. (proc.read_file(dir .. "/server.log") or "")) end
    return proc.read_file(dir .. "/server")
  end)
  self.url = proc.read_file(dir .. "/server"):gsub("%s+$", "")
  self.ca_file = dir .. "/ca.crt"
  self.token_file = dir .. "/token"
  self.token = proc.read_file(self.token_file):gsub("%s+$", "")
  return self
end

function Server:stop()
  proc.kill(self.pid, "TERM")
end

-- An outage: the process ends (with --state DIR/state.json: the Secrets, the
-- resourceVersions, the history and the TLS identity are saved), and the
-- port refuses connections until come_back().
function Server:go_down()
  proc.kill(self.pid, "TERM")
  proc.wait_until("the API test server to exit", 15, function() return not proc.alive(self.pid) end)
end

-- Back on the same port with the same token, from the saved state. opts:
-- { forget_history = true } (older resourceVersions get 410), { faults = JSON }
-- (queued before the port opens).
function Server:come_back(opts)
  opts = opts or {}
  local binary = _M.build_dir .. "/tests/kube_api_server/kube-api-test-server"
  local port = self.url:match(":(%d+)$")
  local args = { "--dir", self.dir, "--port", port, "--token", self.token, "--state", self.dir .. "/state.json" }
  if opts.forget_history then args[#args + 1] = "--forget-history" end
  if opts.faults then args[#args + 1] = "--faults"; args[#args + 1] = opts.faults end
  for i, a in ipairs(args) do args[i] = q(a) end
  self.comebacks = (self.comebacks or 0) + 1
  local log = self.dir .. "/server.log." .. self.comebacks
  self.pid = proc.spawn(q(binary) .. " " .. table.concat(args, " "), log)
  proc.wait_until("the API test server to listen again", 15, function()
    if not proc.alive(self.pid) then error("the API test server exited: " .. (proc.read_file(log) or "")) end
    return proc.read_file(self.dir .. "/server")
  end)
end

function Server:kubectl(args, namespace)
  return proc.run(string.format(
    "kubectl --kubeconfig=/dev/null --server %s --certificate-authority %s --token %s -n %s %s",
    q(self.url), q(self.ca_file), q(self.token), q(namespace or "default"), args))
end

local function base64_file(path)
  return (proc.check("base64 -w0 " .. q(path)):gsub("%s+$", ""))
end

-- kubectl apply of a JSON manifest, through a file of the server's
-- directory named after `label`; errors when kubectl fails (callers tail-call it,
-- so level 2 names their caller).
function Server:apply_manifest(label, manifest, namespace)
  local path = self.dir .. "/" .. label .. ".json"
  proc.write_file(path, manifest)
  local out, ok = self:kubectl("apply -f " .. q(path), namespace)
  os.remove(path)
  if not ok then error("kubectl apply failed: " .. out, 2) end
  return out
end

-- Creates or updates a kubernetes.io/tls Secret in one write (as cert-manager
-- does), from a certificate file and a key file that need not match: the
-- manifest is built here, because `kubectl create secret tls` refuses a
-- mismatched pair on the client side.
-- extra: { ca_file = PATH, annotations = { k = v }, labels = { k = v } }.
function Server:apply_tls_secret(name, crt_file, key_file, namespace, extra)
  extra = extra or {}
  local annotations = {}
  for k, v in pairs(extra.annotations or {}) do annotations[#annotations + 1] = string.format("%q:%q", k, v) end
  local labels = {}
  for k, v in pairs(extra.labels or {}) do labels[#labels + 1] = string.format("%q:%q", k, v) end
  local ca = extra.ca_file and string.format(',"ca.crt":%q', base64_file(extra.ca_file)) or ""
  local manifest = string.format(
    '{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/tls",' ..
    '"metadata":{"name":%q,"namespace":%q,"annotations":{%s},"labels":{%s}},"data":{"tls.crt":%q,"tls.key":%q%s}}',
    name, namespace or "default", table.concat(annotations, ","), table.concat(labels, ","),
    base64_file(crt_file), base64_file(key_file), ca)
  return self:apply_manifest("manifest-" .. name, manifest, namespace)
end

-- Creates or updates a cert-manager Certificate that writes Secret
-- `secret_name` (kubectl apply, as an operator does).
function Server:apply_certificate(name, secret_name, namespace, dns_names)
  local manifest = json.encode({
    apiVersion = "cert-manager.io/v1", kind = "Certificate",
    metadata = { name = name, namespace = namespace or "default" },
    spec = { secretName = secret_name, dnsNames = dns_names or { "app.example.test" },
             issuerRef = { name = "test-ca", kind = "ClusterIssuer" } },
  })
  return self:apply_manifest("certificate-" .. name, manifest, namespace)
end

-- Writes a Certificate's status as cert-manager's controllers do, through
-- the status subresource (kubectl patch --subresource=status).
-- status: the status object, e.g. { conditions = {...}, notAfter = "...", renewalTime = "...", revision = 2 }.
function Server:set_certificate_status(name, status, namespace)
  local patch = json.encode({ status = status })
  local out, ok = self:kubectl("patch certificate " .. q(name) .. " --subresource=status --type=merge -p " ..
                                 q(patch), namespace)
  if not ok then error("kubectl patch --subresource=status failed: " .. out, 2) end
  return out
end

-- Installs or removes cert-manager's CRD, or takes list/watch on it away:
-- mode "served", "absent" or "forbidden".
function Server:set_cert_manager(mode)
  return proc.check(string.format("curl -sS -X POST --cacert %s -d %s %s/testing/cert-manager",
    q(self.ca_file), q(json.encode({ mode = mode })), q(self.url)))
end

function Server:counters()
  return proc.check(string.format("curl -sS --cacert %s -H %s %s/testing/counters",
    q(self.ca_file), q("Authorization: Bearer " .. self.token), q(self.url)))
end

-- { watch = WATCH requests served so far, open_watches = streams open now }
function Server:watch_counters()
  local text = self:counters()
  return { watch = tonumber(text:match('"watch":%s*(%d+)')),
           open_watches = tonumber(text:match('"open_watches":%s*(%d+)')) }
end

return _M
