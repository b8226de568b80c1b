-- The benchmark's C tools (bench/tools/*.c) and the load generator's runs.
-- The tools are built here, with the system's OpenSSL, into the build
-- directory, so that the project's normal build and tests neither compile
-- nor wait for them.
local json = require "dkjson"
local proc = require "spec.support.proc"
local q = proc.shell_quote

local _M = {}

local function mtime(path)
  local out, ok = proc.run("stat -c %Y " .. q(path))
  return ok and tonumber(out) or nil
end

-- Builds bench/tools/<tool>.c when the binary is missing or older than its
-- source; returns the binary's path.
function _M.build(root, build_dir, tool)
  local source = root .. "/bench/tools/" .. tool .. ".c"
  local binary = build_dir .. "/bench/" .. tool
  local built = mtime(binary)
  if not built or built < mtime(source) then
    proc.check("mkdir -p " .. q(build_dir .. "/bench"))
    proc.check(string.format("cc -O2 -Wall -Wextra -o %s %s -lssl -lcrypto -lpthread", q(binary), q(source)))
  end
  return binary
end

-- Runs one load; returns { ok, failed, wrong_cert, seconds, served, first_error }.
-- opts: { port, sni, tls = "1.2"|"1.3", sig = "ecdsa"|"rsa", seconds, concurrency, expect }
function _M.run(binary, opts)
  local out = proc.check(string.format("%s --port %d --sni %s --tls %s --sig %s --seconds %s --concurrency %d%s",
    q(binary), opts.port, q(opts.sni), opts.tls, opts.sig, tostring(opts.seconds), opts.concurrency,
    opts.expect and (" --expect " .. opts.expect) or ""))
  local result = json.decode(out:match("{.*}") or "")
  if not result then error("the load generator printed no result: " .. out) end
  return result
end

-- The SHA-256 fingerprint of a PEM certificate file, lowercase hex, as the client prints it.
function _M.fingerprint(crt)
  local out = proc.check("openssl x509 -noout -fingerprint -sha256 -in " .. q(crt))
  return (out:match("=([%x:]+)"):gsub(":", ""):lower())
end

return _M
