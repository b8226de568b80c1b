-- The Secrets the handshake benchmark loads into the API test server: the
-- probe's certificates, and filler names up to a total count, exact and
-- wildcard alternating. Filler certificates come from bench/tools/make_secrets
-- (no key is committed); all Secrets are POSTed by one curl over one
-- keep-alive connection.
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

-- Writes the manifests of filler Secrets holding names 1..count, `per_secret`
-- names to a certificate, into dir; returns their paths.
function _M.make_fillers(make_secrets, dir, count, per_secret)
  local lines, paths, group = {}, {}, nil
  for i = 1, count do
    if not group or #group == per_secret then
      group = {}
      lines[#lines + 1] = group
    end
    group[#group + 1] = filler_name(i)
  end
  for i, names in ipairs(lines) do
    local secret = "fill-" .. i
    lines[i] = secret .. " " .. table.concat(names, ",")
    paths[i] = dir .. "/" .. secret .. ".json"
  end
  local list = dir .. "/fillers.txt"
  proc.write_file(list, table.concat(lines, "\n") .. "\n")
  proc.check(q(make_secrets) .. " " .. q(dir) .. " < " .. q(list))
  return paths
end

-- Writes the manifest of a Secret from certificate and key files; returns its path.
function _M.manifest_file(dir, name, cert)
  local path = dir .. "/" .. name .. ".json"
  proc.write_file(path, string.format('{"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/tls",' ..
    '"metadata":{"name":%q,"namespace":"default"},"data":{"tls.crt":%q,"tls.key":%q}}',
    name, base64_file(cert.crt), base64_file(cert.key)))
  return path
end

-- POSTs every manifest file with one curl; fails unless each answered 201.
-- The files hold private keys: they are removed once sent.
function _M.post_all(api, dir, paths)
  local config = {}
  for i, path in ipairs(paths) do
    config[#config + 1] = table.concat({
      i > 1 and "next" or "",
      "url = " .. string.format("%q", api.url .. "/api/v1/namespaces/default/secrets"),
      "cacert = " .. string.format("%q", api.ca_file),
      "header = \"Authorization: Bearer " .. api.token .. "\"",
      "header = \"Content-Type: application/json\"",
      -- No "Expect: 100-continue" round trip before each body.
      "header = \"Expect:\"",
      "data-binary = " .. string.format("%q", "@" .. path),
      "output = \"/dev/null\"",
      "write-out = \"%{http_code}\\n\"",
    }, "\n")
  end
  local config_path = dir .. "/post-secrets.curl"
  -- A few transfers at once: 10,000 POSTs one after another take minutes.
  proc.write_file(config_path, "parallel\nparallel-max = 8\nno-progress-meter\n" .. table.concat(config, "\n") .. "\n")
  local out, ok = proc.run("curl -sS --config " .. q(config_path))
  os.remove(config_path) -- it names the token
  for _, path in ipairs(paths) do os.remove(path) end
  if not ok then error("curl failed posting Secrets: " .. out:sub(1, 500)) end
  local created = 0
  for code in out:gmatch("%f[^\n%z](%d%d%d)%f[\n%z]") do
    if code ~= "201" then error("a Secret POST answered " .. code .. ": " .. out:sub(1, 300)) end
    created = created + 1
  end
  if created ~= #paths then error("created " .. created .. " of " .. #paths .. " Secrets") end
end

return _M
