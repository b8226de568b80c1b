-- The Secrets the handshake benchmark loads into the API test server: the
-- probe's certificates, and filler names up to a total count, exact and
-- wildcard alternating. Certificates come from the openssl command (no key
-- is committed); the Secrets are POSTed by one curl over one keep-alive
-- connection.
local proc = require "spec.support.proc"
local q = proc.shell_quote

local _M = {}

local function base64_file(path)
  return (proc.check("base64 -w0 " .. q(path)):gsub("%s+$", ""))
end

-- The name of filler i: "h<i>.fill.bench.test" or "*.w<i>.fill.bench.test".
local function filler_name(i)
  if i % 2 == 0 then return string.format("h%05d.fill.bench.test", i) end
  return string.format("*.w%05d.fill.bench.test", i)
end

-- Filler names 1..count packed `per_secret` to a certificate: returns a list
-- of name lists. Packing keeps the set-up short (one openssl run per
-- certificate); the index the certificate phase reads holds every name alike.
function _M.filler_groups(count, per_secret)
  local groups, group = {}, nil
  for i = 1, count do
    if not group or #group == per_secret then
      group = {}
      groups[#groups + 1] = group
    end
    group[#group + 1] = filler_name(i)
  end
  return groups
end

local function manifest(name, cert)
  return string.format('{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/tls",' ..
    '"metadata":{"name":%q,"namespace":"default"},"data":{"tls.crt":%q,"tls.key":%q}}',
    name, base64_file(cert.crt), base64_file(cert.key))
end

-- Creates each { name = secret name, cert = { crt, key } } in `secrets`
-- with one curl; fails unless every POST answered 201.
function _M.post_all(api, dir, secrets)
  local config, files = {}, {}
  for i, s in ipairs(secrets) do
    local path = string.format("%s/secret-%d.json", dir, i)
    proc.write_file(path, manifest(s.name, s.cert))
    files[#files + 1] = path
    config[#config + 1] = table.concat({
      i > 1 and "next" or "",
      "url = " .. string.format("%q", api.url .. "/api/v1/namespaces/default/secrets"),
      "cacert = " .. string.format("%q", api.ca_file),
      "header = \"Authorization: Bearer " .. api.token .. "\"",
      "header = \"Content-Type: application/json\"",
      "data-binary = " .. string.format("%q", "@" .. path),
      "output = \"/dev/null\"",
      "write-out = \"%{http_code}\\n\"",
    }, "\n")
  end
  local config_path = dir .. "/post-secrets.curl"
  proc.write_file(config_path, table.concat(config, "\n") .. "\n")
  local out = proc.check("curl -sS --config " .. q(config_path))
  -- The config names the token and the manifests hold keys: remove them at once.
  os.remove(config_path)
  for _, path in ipairs(files) do os.remove(path) end
  local created = 0
  for code in out:gmatch("%d%d%d") do
    if code ~= "201" then error("a Secret POST answered " .. code) end
    created = created + 1
  end
  if created ~= #secrets then error("created " .. created .. " of " .. #secrets .. " Secrets") end
end

return _M
