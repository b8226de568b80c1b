-- The certsync demo, narrated: the e2e scenario on a real nginx, with a
-- Kubernetes API test server and the real kubectl. Run it with scripts/demo.sh.
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local tls_client = require "spec.support.tls_client"

local SNI = "app.example.test"

local function say(fmt, ...) io.write(string.format(fmt, ...), "\n") io.flush() end

local stack
local ok, err = pcall(function()
  say("1. Starting a Kubernetes API test server (HTTPS, bearer token) and nginx (2 workers)")
  say("   with certsync in init_worker_by_lua and ssl_certificate_by_lua ...")
  stack = stack_support.start({ workers = 2 })
  local api, server = stack.api, stack.nginx
  say("   API server at %s", api.url)
  local a = stack:cert("a", { SNI })
  local b = stack:cert("b", { SNI })
  local stray = stack:cert("stray", { SNI })
  local master, workers = server.master_pid, table.concat(server:worker_pids(), ",")
  say("2. nginx master %d, workers %s, TLS on 127.0.0.1:%d", master, workers, server.port)

  say("3. kubectl apply: Secret default/app-tls with certificate A (serial %s)", a.serial)
  api:apply_tls_secret("app-tls", a.crt, a.key)
  proc.wait_until("A to be served", 15, function() return tls_client.served_serial(server.port, SNI) == a.serial end)
  -- One handshake proves one worker; the next may reach the other before its
  -- timer has run, and print the host's own certificate.
  server:wait_every_worker_serves({ ["default/app-tls"] = a.serial }, 15)
  say("   served for %s: serial %s", SNI, tls_client.served_serial(server.port, SNI))

  say("4. Renewal, as cert-manager does it: new key and certificate B (serial %s) in one write", b.serial)
  local started = proc.now()
  api:apply_tls_secret("app-tls", b.crt, b.key)
  local written = proc.now()
  proc.wait_until("B to be served", 15, function() return tls_client.served_serial(server.port, SNI) == b.serial end)
  local served = proc.now()
  server:wait_every_worker_serves({ ["default/app-tls"] = b.serial }, 15)
  local everywhere = proc.now()
  say("   served for %s: serial %s", SNI, tls_client.served_serial(server.port, SNI))
  say("   %.2f s from the API server's write to the first handshake serving B (%.2f s including kubectl),",
      served - written, served - started)
  say("   %.2f s until every worker serves it; no reload, no restart", everywhere - written)

  say("5. A broken renewal: certificate and key that do not belong together")
  api:apply_tls_secret("app-tls", stray.crt, a.key)
  -- Read as JSON, not matched as text: the status's key order is not fixed.
  local refusal = proc.wait_until("the refusal to show", 15, function()
    local status = server:status_table("?secret=default/app-tls")
    local secret = status and status.secrets and status.secrets[1]
    return secret and secret.refusal and secret.refusal.code == "key_mismatch" and secret.refusal
  end)
  say("   refused (%s): %s", refusal.code, refusal.message)
  say("   still served for %s: serial %s", SNI, tls_client.served_serial(server.port, SNI))
  say("6. nginx master %d and workers %s: %s", master, workers,
      (server.master_pid == master and table.concat(server:worker_pids(), ",") == workers)
        and "unchanged" or "CHANGED")
end)
if stack then stack:stop() end
if not ok then
  io.stderr:write("demo failed: ", tostring(err), "\n")
  os.exit(1)
end
