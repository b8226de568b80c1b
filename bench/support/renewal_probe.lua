-- The C renewal probe (bench/tools/renewal_probe): built here with cc, so
-- that the normal CMake build neither waits for it nor depends on it, and
-- run once per renewal.
local json = require "dkjson"
local proc = require "spec.support.proc"
local kube = require "spec.support.kube"
local q = proc.shell_quote

local _M = {}

-- The location the bench adds to the TLS server: on the probe's own TLS
-- connection, it names the worker that did the handshake. A sized body, so
-- that the keep-alive connection ends when the probe closes it (see
-- tls_probe.c).
_M.WORKER_ID_PATH = "/certsync-bench/worker-id"
_M.EXTRA_SERVER = "    location = " .. _M.WORKER_ID_PATH .. [[ { content_by_lua_block {
      local id = ngx.worker.id() .. "\n"
      ngx.header["Content-Length"] = #id
      ngx.print(id)
    } }]]

-- Compiles the probe into the build directory; returns its path.
function _M.build()
  local src = kube.root .. "/bench/tools/renewal_probe"
  local out_dir = kube.build_dir .. "/bench"
  local binary = out_dir .. "/renewal-probe"
  proc.check("mkdir -p " .. q(out_dir))
  proc.check(string.format("cc -O2 -Wall -pthread -o %s %s/*.c -lssl -lcrypto", q(binary), q(src)))
  return binary
end

-- Runs the probe against `stack`'s nginx. opts: { serial, workers, pin (default
-- true), parallel, interval_us, timeout_ms, body_file (PUT it first; without
-- it, a baseline), api_path }.
-- Returns the probe's JSON report as a table and its exit code.
function _M.run(binary, stack, opts)
  local args = {
    q(binary),
    "--target", q("127.0.0.1:" .. stack.nginx.port),
    "--sni", q(opts.sni or "app.example.test"),
    "--serial", q(opts.serial),
    "--workers", tostring(opts.workers),
    "--pin", opts.pin == false and "0" or "1",
    "--parallel", tostring(opts.parallel or 4),
    "--interval-us", tostring(opts.interval_us or 0),
    "--timeout-ms", tostring(opts.timeout_ms or 10000),
    "--id-path", q(_M.WORKER_ID_PATH),
  }
  if opts.body_file then
    for _, a in ipairs({ "--api-url", q(stack.api.url), "--api-path", q(opts.api_path),
                         "--ca-file", q(stack.api.ca_file), "--token-file", q(stack.api.token_file),
                         "--body-file", q(opts.body_file) }) do
      args[#args + 1] = a
    end
  end
  local out, _, rc = proc.run(table.concat(args, " "))
  local report = json.decode((out:match("(%b{})%s*$")) or "")
  if not report then error("renewal-probe printed no report (exit " .. tostring(rc) .. "): " .. out) end
  return report, rc
end

return _M
