-- tests.soak.driver: the soak. A real nginx with 4 workers and certsync
-- serving 24 Secrets (exact and wildcard names, RSA and ECDSA) from the API
-- test server, under constant load of fresh handshakes from curl clients,
-- while the driver rotates certificates (a new key each time) with broken
-- writes mixed in, reloads nginx, SIGKILLs workers (the watcher's owner
-- first) and changes the plugin's scope. Returns the report (tests.soak.report
-- writes it); the spec and `make soak` assert on it.
local ffi = require "ffi"
local proc = require "spec.support.proc"
local tls_client = require "spec.support.tls_client"
local host_support = require "tests.soak.host"
local pki = require "tests.soak.pki"
local handshakes = require "tests.soak.handshakes"
local secret_writer = require "tests.soak.secret_writer"
local memory = require "tests.soak.memory"
local verdict = require "tests.soak.verdict"
local log_sweep = require "tests.soak.log_sweep"

local _M = {}

-- short: what the test command runs (<= 3 min on 2 cores); long: `make soak`.
_M.MODES = {
  short = { rotations = 50, broken_every = 4, reloads = 1, kills = 1, scope_changes = 1, clients = 3 },
  long = { rotations = 1000, broken_every = 4, reloads = 5, kills = 5, scope_changes = 5, clients = 3 },
}

-- RSS bounds across the run (after warm-up to the end). The master holds no
-- certificate, but a reload makes it run its configuration and init_by_lua
-- again (a new Lua VM, the library preloaded), which takes ~7 MB the first
-- time, once: from its first reload to the end it must not grow by more than
-- master_after_reload_growth_kb, nor by more than master_growth_kb in all.
-- A worker holds the 24 bundles parsed, its Lua heap and OpenSSL's caches,
-- whose sizes do not depend on how many rotations went by: the largest
-- worker's peak stays within worker_growth_kb of the largest at the start.
_M.RSS_BOUNDS = { master_growth_kb = 16 * 1024, master_after_reload_growth_kb = 4 * 1024,
                  worker_growth_kb = 24 * 1024 }

local CLOCK_REALTIME = 0
local ts = ffi.new("struct certsync_spec_timespec")
-- Wall-clock seconds: the clients stamp their handshakes with bash's EPOCHREALTIME.
local function wall()
  ffi.C.clock_gettime(CLOCK_REALTIME, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local NAMESPACE, EXTRA_NAMESPACE = "default", "soak-b"
local EXACT, WILDCARD = 16, 8

-- The Secrets and the names clients ask for: eNN.soak.test (exact) and
-- *.wNN.soak.test (asked as a.wNN... and b.wNN...); key types alternate.
local function plan_secrets()
  local secrets = {}
  for i = 1, EXACT + WILDCARD do
    local exact = i <= EXACT
    local label = string.format(exact and "e%02d" or "w%02d", i)
    local pattern = exact and (label .. ".soak.test") or ("*." .. label .. ".soak.test")
    secrets[i] = {
      name = "soak-" .. label, id = NAMESPACE .. "/soak-" .. label,
      names = { pattern }, key_type = (i % 2 == 0) and "rsa" or "ec",
      client_snis = exact and { pattern } or { "a." .. label .. ".soak.test", "b." .. label .. ".soak.test" },
      versions = {}, rotations = 0,
    }
  end
  return secrets
end

-- Indices (1..total) at which `count` events fall, spread evenly.
local function spread(count, total)
  local at = {}
  for k = 1, count do at[math.floor(k * total / (count + 1)) + 1] = true end
  return at
end

local function log(self, fmt, ...)
  local line = string.format("%.3f " .. fmt, wall(), ...)
  self.log_file:write(line, "\n")
  self.log_file:flush()
  if self.verbose then io.stderr:write(line, "\n") end
end

-- Every worker serves the latest good serial of every Secret.
local function current_serials(self)
  local serials = {}
  for _, s in ipairs(self.secrets) do serials[s.id] = s.versions[#s.versions].serial end
  return serials
end

local function status_secret(self, id)
  local status = self.nginx:status_table()
  for _, entry in ipairs(status and status.secrets or {}) do
    if entry.id == id then return entry end
  end
end

local function owner_pid(self)
  local status = self.nginx:status_table()
  return status and status.node and tonumber(status.node.owner_pid)
end

local function remember_key(self, path)
  self.key_files[#self.key_files + 1] = path
end

-- A good version of secret s: new key, written, then awaited on every worker.
local function rotate(self, s)
  s.rotations = s.rotations + 1
  local cert = pki.good(self.certs_dir, string.format("%s-v%d", s.name, s.rotations), s.names, s.key_type)
  remember_key(self, cert.key)
  local version = { serial = cert.serial, written_at = wall(), key = cert.key }
  s.versions[#s.versions + 1] = version
  self.writer:put(NAMESPACE, s.name, cert.crt, cert.key)
  self.nginx:wait_every_worker_serves({ [s.id] = cert.serial }, 30)
  version.converged_at = wall()
  return version.converged_at - version.written_at
end

-- A broken write over secret s: refused with its code, the last good one kept.
local function break_write(self, s, kind)
  s.rotations = s.rotations + 1
  local previous = s.versions[#s.versions]
  local bad = pki.broken(self.certs_dir, string.format("%s-bad%d", s.name, s.rotations), kind, s.names, s.key_type, previous)
  remember_key(self, bad.key)
  for _, k in ipairs(bad.extra_keys or {}) do remember_key(self, k) end
  if bad.serial then self.refused[bad.serial] = kind end
  local rv = self.writer:put(NAMESPACE, s.name, bad.crt, bad.key)
  local entry = proc.wait_until("the refusal of the " .. kind .. " write to " .. s.id, 15, function()
    local e = status_secret(self, s.id)
    return e and e.refusal and e.refusal.resource_version == rv and e
  end)
  local code = entry.refusal.code
  if bad.code and code ~= bad.code then
    error(string.format("the %s write to %s was refused as %s, not %s", kind, s.id, code, bad.code))
  end
  if not entry.served or entry.served.serial ~= previous.serial then
    error(string.format("after the %s write, %s serves %s, not the last good %s", kind, s.id,
      tostring(entry.served and entry.served.serial), previous.serial))
  end
  -- Every worker still serves the last good one.
  for pid, w in pairs(self.nginx:status_per_worker()) do
    if w.serials[s.id] ~= previous.serial then
      error(string.format("worker %d serves %s for %s after the %s write", pid, tostring(w.serials[s.id]), s.id, kind))
    end
  end
  self.refusal_codes[kind] = self.refusal_codes[kind] or {}
  self.refusal_codes[kind][code] = (self.refusal_codes[kind][code] or 0) + 1
end

local function wait_workers_settled(self, what)
  proc.wait_until(what .. ": 4 workers running", 20, function() return #self.nginx:worker_pids() == 4 end)
  self.nginx:wait_every_worker_serves(current_serials(self), 30)
end

local function reload(self)
  local old = self.nginx:worker_pids()
  local started = wall()
  local _, ok = self.nginx:signal("reload")
  assert(ok, "nginx -s reload failed")
  proc.wait_until("the old workers to exit after the reload", 30, function()
    for _, pid in ipairs(old) do if proc.alive(pid) then return false end end
    return true
  end)
  wait_workers_settled(self, "after the reload")
  self.master_after_reload_kb = self.master_after_reload_kb or memory.rss_kb(self.nginx.master_pid)
  return wall() - started
end

-- The k-th kill: odd ones take the watcher's owner, even ones another worker.
local function kill_worker(self, k)
  local owner = proc.wait_until("a watcher owner in the status", 20, function() return owner_pid(self) end)
  local victim = owner
  if k % 2 == 0 then
    for _, pid in ipairs(self.nginx:worker_pids()) do if pid ~= owner then victim = pid break end end
  end
  local started = wall()
  self.kills[#self.kills + 1] = started
  self.killed_pids[victim] = true
  proc.kill(victim, "KILL")
  proc.wait_until("the killed worker to go", 10, function() return not proc.alive(victim) end)
  if victim == owner then
    proc.wait_until("another worker to own the watch", 30, function()
      local now_owner = owner_pid(self)
      return now_owner and now_owner ~= owner and proc.alive(now_owner)
    end)
  end
  wait_workers_settled(self, "after the SIGKILL")
  return { pid = victim, owner = victim == owner, seconds = wall() - started }
end

-- Toggles the scope between "default" and "default,soak-b"; the extra
-- Secret's name is served exactly while soak-b is in scope, every other
-- name throughout (the clients check that).
local function change_scope(self)
  local widen = #self.host.namespaces == 1
  local started = wall()
  self.host:set_scope(widen and { NAMESPACE, EXTRA_NAMESPACE } or { NAMESPACE })
  local want = widen and self.extra.serial or self.fallback_serial
  proc.wait_until("the extra Secret's name " .. (widen and "served" or "left to the host"), 30, function()
    return tls_client.served_serial(self.nginx.port, self.extra_sni) == want
  end)
  if self.host.kind == "nginx" then
    proc.wait_until("the reload's old workers to exit", 30, function()
      local status = self.nginx:status_table()
      return status and #self.nginx:worker_pids() == 4
    end)
  end
  wait_workers_settled(self, "after the scope change")
  return { widened = widen, seconds = wall() - started }
end

local function secret_of_sni_function(secrets)
  local by_name = {}
  for _, s in ipairs(secrets) do
    for _, sni in ipairs(s.client_snis) do by_name[sni] = s.id end
  end
  return function(sni) return by_name[sni] end
end

-- opts: { mode = "short" | "long", host = "kong-3.x" | "kong-2.8" | "nginx", verbose }
function _M.run(opts)
  local mode = _M.MODES[opts.mode or "short"]
  assert(mode, "no soak mode " .. tostring(opts.mode))
  local self = { secrets = plan_secrets(), refused = {}, kills = {}, killed_pids = {}, key_files = {},
                 refusal_codes = {}, verbose = opts.verbose, events = {} }
  local run_started = wall()
  self.host = host_support.start(opts.host or "kong-3.x", 4, { NAMESPACE })
  self.nginx, self.api = self.host.nginx, self.host.api
  local dir = self.host.stack.dir
  self.dir = dir
  self.certs_dir = dir .. "/certs"
  proc.check("mkdir -p " .. proc.shell_quote(self.certs_dir))
  self.log_file = assert(io.open(dir .. "/driver.log", "w"))
  self.writer = secret_writer.new(self.api, dir)
  self.fallback_serial = self.host.stack.fallback.serial
  remember_key(self, self.host.stack.fallback.key)
  local ok, result = pcall(function()
    log(self, "soak %s on %s in %s", opts.mode or "short", self.host.kind, dir)
    -- Every Secret's first version, and the extra namespace's Secret (out of scope for now).
    for _, s in ipairs(self.secrets) do
      s.rotations = 1
      local cert = pki.good(self.certs_dir, s.name .. "-v1", s.names, s.key_type)
      remember_key(self, cert.key)
      s.versions[1] = { serial = cert.serial, written_at = wall(), key = cert.key }
      self.writer:put(NAMESPACE, s.name, cert.crt, cert.key)
    end
    self.extra_sni = "extra.soak-b.test"
    self.extra = pki.good(self.certs_dir, "extra", { self.extra_sni }, "ec")
    remember_key(self, self.extra.key)
    self.writer:put(EXTRA_NAMESPACE, "extra", self.extra.crt, self.extra.key)
    self.nginx:wait_every_worker_serves(current_serials(self), 60)
    for _, s in ipairs(self.secrets) do s.versions[1].converged_at = wall() end
    log(self, "every worker serves %d Secrets", #self.secrets)

    local snis = {}
    for _, s in ipairs(self.secrets) do
      for _, sni in ipairs(s.client_snis) do snis[#snis + 1] = sni end
    end
    self.snis = snis
    self.load = handshakes.start(dir, self.nginx.port, snis, mode.clients)
    proc.wait_until("handshakes to flow", 30, function() return self.load:count() >= 2 * #snis end)
    local rss_before = memory.sample(self.nginx)
    local rss_peak = { master_kb = rss_before.master.rss_kb, worker_max_kb = rss_before.worker_max_kb }
    log(self, "load running; master RSS %d kB, worker max %d kB", rss_before.master.rss_kb, rss_before.worker_max_kb)

    local reload_at = spread(mode.reloads, mode.rotations)
    local kill_at = spread(mode.kills, mode.rotations)
    -- Scope changes fall between the others.
    local scope_at = {}
    for k = 1, mode.scope_changes do scope_at[math.floor((k - 0.5) * mode.rotations / mode.scope_changes) + 1] = true end
    local convergence, reloads, kills, scopes, broken = {}, {}, {}, {}, 0
    for i = 1, mode.rotations do
      local s = self.secrets[(i - 1) % #self.secrets + 1]
      if i % mode.broken_every == 0 then
        local kind = pki.BROKEN_KINDS[(broken % #pki.BROKEN_KINDS) + 1]
        broken = broken + 1
        break_write(self, s, kind)
        log(self, "broken write %d (%s) to %s refused", broken, kind, s.id)
      end
      convergence[#convergence + 1] = rotate(self, s)
      log(self, "rotation %d of %s: every worker in %.0f ms", i, s.id, convergence[#convergence] * 1000)
      if reload_at[i] then
        reloads[#reloads + 1] = reload(self)
        log(self, "reload %d: settled in %.2f s", #reloads, reloads[#reloads])
      end
      if kill_at[i] then
        kills[#kills + 1] = kill_worker(self, #kills + 1)
        log(self, "SIGKILL %d: worker %d (owner: %s), settled in %.2f s", #kills, kills[#kills].pid,
          tostring(kills[#kills].owner), kills[#kills].seconds)
      end
      if scope_at[i] then
        scopes[#scopes + 1] = change_scope(self)
        log(self, "scope change %d (%s): settled in %.2f s", #scopes,
          scopes[#scopes].widened and "widened" or "narrowed", scopes[#scopes].seconds)
      end
      if i % 10 == 0 then
        local sample = memory.sample(self.nginx)
        rss_peak.master_kb = math.max(rss_peak.master_kb, sample.master.rss_kb or 0)
        rss_peak.worker_max_kb = math.max(rss_peak.worker_max_kb, sample.worker_max_kb)
      end
    end
    -- Leave the scope as it started, so the end is comparable with the start.
    if #self.host.namespaces > 1 then scopes[#scopes + 1] = change_scope(self) end
    -- A last stretch of handshakes on the final state.
    local seen = self.load:count()
    proc.wait_until("handshakes after the last rotation", 30, function() return self.load:count() >= seen + #snis end)
    local rss_after = memory.sample(self.nginx)
    -- The last reading counts towards the peaks too.
    rss_peak.master_kb = math.max(rss_peak.master_kb, rss_after.master.rss_kb or 0)
    rss_peak.worker_max_kb = math.max(rss_peak.worker_max_kb, rss_after.worker_max_kb)
    local records = self.load:stop()
    self.load = nil
    local versions = {}
    for _, s in ipairs(self.secrets) do versions[s.id] = s.versions end
    local judged = verdict.judge(records, {
      secret_of_sni = secret_of_sni_function(self.secrets), versions = versions, refused = self.refused,
      fallback_serial = self.fallback_serial, kills = self.kills,
    })
    local crash = verdict.crash_lines(self.nginx:error_log(), self.killed_pids)
    local keys = {}
    for _, path in ipairs(self.key_files) do keys[#keys + 1] = proc.read_file(path) end
    self.log_file:flush()
    local files = { ["nginx error.log"] = self.nginx.dir .. "/logs/error.log",
                    ["API server log"] = self.api.dir .. "/server.log",
                    ["driver log"] = dir .. "/driver.log" }
    for c = 1, mode.clients do files["client " .. c .. " log"] = dir .. "/clients/" .. c .. ".log" end
    local status_text = self.nginx:status()
    proc.write_file(dir .. "/final-status.json", status_text)
    files["final status"] = dir .. "/final-status.json"
    local leaks, swept_bytes = log_sweep.sweep(files, keys, { self.api.token })
    return {
      mode = opts.mode or "short", host = self.host.kind, scope_change_method = self.host:scope_change_method(),
      started_at = os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(run_started)), seconds = wall() - run_started,
      workers = 4, secrets = #self.secrets, snis = #snis, clients = mode.clients,
      rotations = mode.rotations, broken_writes = broken, refusal_codes = self.refusal_codes,
      reloads = reloads, kills = kills, scope_changes = scopes,
      convergence = convergence, handshakes = judged, crash_lines = crash,
      rss = { before = rss_before, after = rss_after, peak = rss_peak, bounds = _M.RSS_BOUNDS,
              master_after_first_reload_kb = self.master_after_reload_kb },
      sweep = { leaks = leaks, keys = #keys, bytes = swept_bytes },
      dir = dir,
    }
  end)
  if self.load then pcall(self.load.stop, self.load) end
  if self.log_file then self.log_file:close() end
  if not ok then
    -- Stopped but kept: the logs are what explains the failure.
    pcall(self.nginx.stop, self.nginx)
    self.api:stop()
    io.stderr:write("soak failed; its files are kept in ", dir, "\n")
    error(result, 0)
  end
  self.host:stop()
  return result
end

return _M
