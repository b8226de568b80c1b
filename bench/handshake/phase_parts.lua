-- The certificate phase taken apart, for `handshake_cost.lua --parts`: each
-- function does a prefix of what certsync.core.certificate() does, with the
-- probe's certificates parsed once per worker, as certsync parses them.
-- Each runs over nginx's static probe certificates, so that whatever it
-- leaves unset the handshake still completes with the same certificate.
local ssl = require "ngx.ssl"

local server_name = ssl.server_name
local clear_certs = ssl.clear_certs
local set_cert = ssl.set_cert
local set_priv_key = ssl.set_priv_key

local _M = {}

local pairs_by_name = {}

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

-- files: { name = NAME, ec = { crt, key }, rsa = { crt, key } } (paths).
function _M.load(files)
  local function parsed(p)
    return { cert = assert(ssl.parse_pem_cert(read(p.crt))), key = assert(ssl.parse_pem_priv_key(read(p.key))) }
  end
  pairs_by_name[files.name] = { first = parsed(files.ec), second = parsed(files.rsa) }
end

function _M.name()
  return server_name()
end

function _M.lookup()
  return pairs_by_name[server_name()]
end

-- Both pairs set again, as certsync serves a name with an ECDSA and an RSA Secret.
function _M.swap()
  local entry = pairs_by_name[server_name()]
  if not entry then return end
  assert(clear_certs())
  assert(set_cert(entry.first.cert))
  assert(set_priv_key(entry.first.key))
  assert(set_cert(entry.second.cert))
  assert(set_priv_key(entry.second.key))
end

return _M
