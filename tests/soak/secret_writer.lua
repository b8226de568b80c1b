-- tests.soak.secret_writer: writes kubernetes.io/tls Secrets to the API test
-- server with one curl request each (a PUT, as cert-manager's update; a POST
-- the first time), and returns the resourceVersion the server gave the
-- write, which the status's refusal names. curl rather than kubectl: a soak
-- writes a thousand times, and kubectl costs a Go start-up each.
local json = require "dkjson"
local proc = require "spec.support.proc"
local q = proc.shell_quote

local _M = {}
local Writer = {}
Writer.__index = Writer

function _M.new(api, dir)
  return setmetatable({ api = api, dir = dir, exists = {} }, Writer)
end

local function base64_file(path)
  return (proc.check("base64 -w0 " .. q(path)):gsub("%s+$", ""))
end

-- Creates or replaces namespace/name with the files given (need not match).
-- Returns the new resourceVersion.
function Writer:put(namespace, name, crt_file, key_file, labels)
  local id = namespace .. "/" .. name
  local body = json.encode({
    apiVersion = "v1", kind = "Secret", type = "kubernetes.io/tls",
    metadata = { name = name, namespace = namespace, labels = labels },
    data = { ["tls.crt"] = base64_file(crt_file), ["tls.key"] = base64_file(key_file) },
  })
  local path = self.dir .. "/write.json"
  proc.write_file(path, body)
  local base = string.format("%s/api/v1/namespaces/%s/secrets", self.api.url, namespace)
  local method, url = "POST", base
  if self.exists[id] then method, url = "PUT", base .. "/" .. name end
  local out = proc.check(string.format(
    "curl -sS --fail-with-body --cacert %s -H %s -H 'Content-Type: application/json' -X %s --data-binary @%s %s",
    q(self.api.ca_file), q("Authorization: Bearer " .. self.api.token), method, q(path), q(url)))
  os.remove(path)
  local reply = json.decode(out)
  local rv = reply and reply.metadata and reply.metadata.resourceVersion
  if not rv then error("the API server did not accept the write of " .. id .. ": " .. out:sub(1, 300)) end
  self.exists[id] = true
  return rv
end

return _M
