-- The Kong handler, driven in a real nginx the way Kong 2.8 and Kong 3.x
-- drive a plugin (spec.support.kong_host): configuration found without a
-- configure phase (2.8) or given by it (3.x), reconfigured without a gap in
-- what is served, removed, and missing prerequisites reported with their fix.
local proc = require "spec.support.proc"
local kube = require "spec.support.kube"
local stack_support = require "spec.support.stack"
local tls_client = require "spec.support.tls_client"
local handshake_load = require "spec.support.handshake_load"

local SNI = "app.example.test"
local TREE = os.getenv("CERTSYNC_INSTALLED_TREE")

-- A Lua literal for a plugin configuration (strings, numbers, booleans, arrays).
local function literal(v)
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) ~= "table" then return tostring(v) end
  local parts = {}
  if #v > 0 or next(v) == nil then
    for _, x in ipairs(v) do parts[#parts + 1] = literal(x) end
  else
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do parts[#parts + 1] = k .. " = " .. literal(v[k]) end
  end
  return "{ " .. table.concat(parts, ", ") .. " }"
end

-- extra_plugin: another plugin's entry, for a change that is not certsync's.
local function write_declarative(path, config, extra_plugin)
  local entries = {}
  if config then entries[#entries + 1] = "{ name = \"certsync\", enabled = true, config = " .. literal(config) .. " }" end
  if extra_plugin then entries[#entries + 1] = "{ name = " .. string.format("%q", extra_plugin) .. " }" end
  local plugins = "{ " .. table.concat(entries, ", ") .. " }"
  local tmp = path .. ".tmp"
  proc.write_file(tmp, "return { plugins = " .. plugins .. " }\n")
  assert(os.rename(tmp, path)) -- whole or not at all, as a worker may read it any time
end

-- Starts the API test server and an nginx hosting the Kong handler; the
-- declarative file is stack.declarative.
-- opts: { line = "2.8" | "3.x", config = function(api) -> plugin config or nil,
--         shared_dict, env, lua_cpath, prometheus (Kong's prometheus plugin is loaded) }
local function start(opts)
  return stack_support.start({ workers = 2, nginx = function(stack)
    stack.declarative = stack.dir .. "/kong.lua"
    write_declarative(stack.declarative, opts.config and opts.config(stack.api))
    local host = "require('spec.support.kong_host')"
    return {
      lua_path = kube.root .. "/?.lua;" .. (TREE and (TREE .. "/share/lua/5.1/?.lua")
        or (kube.root .. "/kong-plugin/?.lua;" .. kube.build_dir .. "/lua/?.lua")),
      lua_cpath = opts.lua_cpath or (TREE and (TREE .. "/lib/lua/5.1/?.so")),
      shared_dict = opts.shared_dict,
      env = opts.env,
      init_lua = string.format("%s.init(%q, %q, %s)", host, opts.line, stack.declarative, tostring(opts.prometheus)),
      extra_http = opts.prometheus and "  lua_shared_dict prometheus_metrics 5m;" or nil,
      kong_metrics_lua = opts.prometheus and (host .. ".metrics()") or nil,
      http_lua = "  init_worker_by_lua_block { " .. host .. ".init_worker() }",
      certificate_lua = host .. ".certificate()",
      status_lua = host .. ".status_api('/certsync/status')",
      ready_lua = host .. ".status_api('/certsync/ready')",
      metrics_lua = host .. ".status_api('/certsync/metrics')",
    }
  end })
end

-- The plugin configuration for the stack's API server (connection = explicit).
local function explicit(api, extra)
  local config = { connection = "explicit", api_server = api.url, ca_file = api.ca_file,
                   token_file = api.token_file, namespaces = { "default" } }
  if not TREE then
    config.library_path = os.getenv("CERTSYNC_LIB") or (kube.build_dir .. "/libcertsync/libcertsync.so")
  end
  for k, v in pairs(extra or {}) do config[k] = v end
  return config
end

local function serves(server, sni, serial)
  return function() return tls_client.served_serial(server.port, sni) == serial end
end

local function log_lines(server, needle)
  local found = {}
  for line in server:error_log():gmatch("[^\n]+") do
    if line:find(needle, 1, true) then found[#found + 1] = line end
  end
  return found
end

for _, line in ipairs({ "2.8", "3.x" }) do
  describe("the Kong handler, driven as Kong " .. line .. " drives it,", function()
    local stack, api, server, a

    setup(function()
      stack = start({ line = line, config = function(kube_api) return explicit(kube_api) end })
      api, server = stack.api, stack.nginx
    end)

    teardown(function() if stack then stack:stop() end end)

    it("finds its configuration and serves a Secret of the configured namespace", function()
      a = stack:cert("a", { SNI })
      api:apply_tls_secret("app-tls", a.crt, a.key)
      proc.wait_until("A to be served", 15, serves(server, SNI, a.serial))
      -- (read through the plugin's status_api.lua, as Kong's Status API serves it)
      server:wait_every_worker_serves({ ["default/app-tls"] = a.serial })
      assert.equal("application/json", proc.run(string.format(
        "curl -s -o /dev/null -w '%%{content_type}' http://127.0.0.1:%d/certsync/status", server.status_port)))
      assert.equal(stack.fallback.serial, tls_client.served_serial(server.port, "other.example.test"))
      assert.equal(1, api:watch_counters().open_watches)
      -- Readiness and certsync's own metrics, also through status_api.lua.
      proc.wait_until("ready", 10, function() return select(2, server:get("/certsync/ready")) == 200 end)
      local body = proc.wait_until("the expiry of A in /certsync/metrics", 10, function()
        local text = server:get("/certsync/metrics")
        return text:find('kong_certsync_certificate_expiry_timestamp_seconds{secret="default/app-tls"}', 1, true) and text
      end)
      assert.truthy(body:find("# TYPE kong_certsync_ready gauge", 1, true))
    end)

    it("keeps its watch through a configuration change that is not its own", function()
      local before = api:watch_counters()
      local reads = #log_lines(server, "kong_host: configuration read")
      write_declarative(stack.declarative, explicit(api), "request-termination")
      -- Both workers look at their configuration again (Kong 3.x: configure;
      -- 2.8: the next lookup), and nothing restarts.
      proc.wait_until("both workers to read their configuration again", 10, function()
        return #log_lines(server, "kong_host: configuration read") >= reads + 2
      end)
      assert.same(before, api:watch_counters())
      assert.same({ watch = 1, open_watches = 1 }, before)
    end)

    it("reconfigured with a second namespace, watches both without a gap in what it serves", function()
      local load = handshake_load.start(stack.dir, server.port, SNI)
      proc.wait_until("handshakes to flow", 10, function() return load:results().ok >= 3 end)
      write_declarative(stack.declarative, explicit(api, { namespaces = { "default", "team-b" } }))
      local b = stack:cert("b", { "b.example.test" })
      api:apply_tls_secret("b-tls", b.crt, b.key, "team-b")
      proc.wait_until("B, from the new namespace, to be served", 15, serves(server, "b.example.test", b.serial))
      proc.wait_until("one watch per namespace", 10, function() return api:watch_counters().open_watches == 2 end)
      local before = load:results().ok
      proc.wait_until("handshakes after the restart", 10, function() return load:results().ok >= before + 3 end)
      local results = load:stop()
      assert.same({}, results.failures)
      assert.same({ [a.serial] = results.ok }, results.serials)
    end)

    it("reconfigured with a label selector, serves the Secrets it selects and no other", function()
      write_declarative(stack.declarative,
        explicit(api, { namespaces = { "team-b" }, label_selector = "certsync.io/serve=true" }))
      local unlabelled = stack:cert("d", { "d.example.test" })
      api:apply_tls_secret("d-tls", unlabelled.crt, unlabelled.key, "team-b")
      local labelled = stack:cert("c", { "c.example.test" })
      api:apply_tls_secret("c-tls", labelled.crt, labelled.key, "team-b", { labels = { ["certsync.io/serve"] = "true" } })
      -- Before the new watcher lists, the old one (no selector) takes both:
      -- wait for the state only the selector explains.
      proc.wait_until("C served and D left to Kong", 15, function()
        return tls_client.served_serial(server.port, "c.example.test") == labelled.serial
          and tls_client.served_serial(server.port, "d.example.test") == stack.fallback.serial
      end)
      -- The API server notices the old watcher's two streams close on its own time.
      proc.wait_until("one watch, for team-b", 10, function() return api:watch_counters().open_watches == 1 end)
    end)

    it("removed, stops watching and leaves every name to Kong; added back, watches again", function()
      write_declarative(stack.declarative, nil)
      proc.wait_until("the watch to close", 15, function() return api:watch_counters().open_watches == 0 end)
      proc.wait_until("Kong's certificate for C's name", 10, serves(server, "c.example.test", stack.fallback.serial))
      write_declarative(stack.declarative, explicit(api))
      proc.wait_until("A served again", 15, serves(server, SNI, a.serial))
      assert.equal(1, api:watch_counters().open_watches)
      assert.same({}, log_lines(server, "exited on signal"))
    end)
  end)
end

-- Kong's prometheus plugin in `plugins`: certsync's series join Kong's
-- /metrics through exporter.get_prometheus(), registered in init_worker.
for _, line in ipairs({ "2.8", "3.x" }) do
  describe("with Kong's prometheus plugin loaded, as Kong " .. line .. ",", function()
    local stack, api, server

    setup(function()
      stack = start({ line = line, prometheus = true, config = function(kube_api) return explicit(kube_api) end })
      api, server = stack.api, stack.nginx
    end)

    teardown(function() if stack then stack:stop() end end)

    local function kong_metrics()
      local body, code = server:get("/metrics")
      assert.equal(200, code, body)
      return body
    end

    it("puts certsync's series on Kong's /metrics, with no call Kong's registry refuses", function()
      local a = stack:cert("a", { SNI })
      local b = stack:cert("b", { SNI })
      api:apply_tls_secret("app-tls", a.crt, a.key)
      server:wait_every_worker_serves({ ["default/app-tls"] = a.serial })
      api:apply_tls_secret("app-tls", b.crt, b.key)
      server:wait_every_worker_serves({ ["default/app-tls"] = b.serial })
      local not_after = proc.wait_until("the watcher's view of B", 10, function()
        local s = server:status_table("?secret=default/app-tls")
        local served = s and s.secrets[1] and s.secrets[1].served
        return served and served.serial == b.serial and served.not_after
      end)
      local body = proc.wait_until("B's expiry on Kong's /metrics", 10, function()
        local text = kong_metrics()
        return text:find('kong_certsync_certificate_expiry_timestamp_seconds{secret="default/app-tls"} ' ..
          not_after, 1, true) and text:find('serial="' .. b.serial .. '"', 1, true) and text
      end)
      assert.truthy(body:find('kong_certsync_watch_up{scope="namespace default, type kubernetes.io/tls"} 1', 1, true), body)
      assert.truthy(body:find('kong_certsync_worker_generation_served{worker="0"}', 1, true), body)
      assert.truthy(body:find('kong_certsync_worker_generation_served{worker="1"}', 1, true), body)
      -- Created at 0 from the first tick, after Kong's prometheus has initialised in any order.
      assert.truthy(body:find('kong_certsync_uncovered_handshakes_total{sni="named"}', 1, true), body)
      assert.is_nil(body:find('serial="' .. a.serial .. '"', 1, true)) -- A's info series went with A
      -- Each worker observed B's latency (counters reach the dict as Kong's do).
      local count = tonumber(body:match("kong_certsync_event_to_served_seconds_count (%d+)"))
      assert.is_true(count and count >= 2, body)
      assert.is_nil(body:find("kong_nginx_metric_errors_total", 1, true), body)
      assert.same({}, log_lines(server, "kong_prometheus:"))
    end)
  end)
end

describe("a missing prerequisite", function()
  -- Waits for `count` log lines with `needle`, each naming `fix`.
  local function check_reported(stack, needle, fix, count)
    proc.wait_until(count .. " error line(s) in the log", 15, function()
      return #log_lines(stack.nginx, needle) >= count
    end)
    local lines = log_lines(stack.nginx, needle)
    assert.equal(count, #lines)
    for _, line in ipairs(lines) do assert.truthy(line:find(fix, 1, true), line) end
    -- Kong's own certificate keeps serving.
    assert.equal(stack.fallback.serial, tls_client.served_serial(stack.nginx.port, SNI))
    return lines
  end

  it("no shared dict: every worker names the kong.conf line, and Kong's certificate serves", function()
    local stack = start({ line = "3.x", shared_dict = false, config = function(api) return explicit(api) end })
    local ok, err = pcall(function()
      check_reported(stack, "no shared dict", "`nginx_http_lua_shared_dict = certsync 16m`", 2) -- one per worker
    end)
    stack:stop()
    assert(ok, err)
  end)

  it("library not found: one error naming lua_package_cpath and config.library_path", function()
    local stack = start({ line = "3.x", lua_cpath = "/nonexistent/certsync/?.so",
      config = function(api) local c = explicit(api); c.library_path = nil; return c end })
    local ok, err = pcall(function()
      local lines = check_reported(stack, "cannot start the watcher", "lua_package_cpath", 1) -- the owner's
      assert.truthy(lines[1]:find("libcertsync.so not found along package.cpath", 1, true), lines[1])
      assert.truthy(lines[1]:find("config.library_path", 1, true), lines[1])
      -- The status counts the retries; the log does not repeat the same reason.
      proc.wait_until("a second attempt to start", 15, function()
        return tonumber(stack.nginx:status():match('"failed_starts":(%d+)') or 0) >= 2
      end)
      assert.equal(1, #log_lines(stack.nginx, "cannot start the watcher"))
    end)
    stack:stop()
    assert(ok, err)
  end)

  it("unreadable service account files: one error naming the file and the fix", function()
    local stack = start({ line = "3.x", env = { KUBERNETES_SERVICE_HOST = "127.0.0.1", KUBERNETES_SERVICE_PORT = "6443" },
      config = function(api)
        local c = explicit(api)
        for _, k in ipairs({ "api_server", "ca_file", "token_file" }) do c[k] = nil end
        c.connection, c.service_account_dir = "in_cluster", "/nonexistent/serviceaccount"
        return c
      end })
    local ok, err = pcall(function()
      local lines = check_reported(stack, "cannot start the watcher", "automountServiceAccountToken", 1)
      assert.truthy(lines[1]:find("/nonexistent/serviceaccount/", 1, true), lines[1])
    end)
    stack:stop()
    assert(ok, err)
  end)
end)
