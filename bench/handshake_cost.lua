-- bench/handshake_cost.lua: what certsync's certificate phase costs per full
-- TLS handshake, against nginx serving the same certificates statically.
--
--   CERTSYNC_ROOT=$PWD CERTSYNC_BUILD_DIR=$PWD/build luajit bench/handshake_cost.lua [--quick]
--       [--rounds N] [--seconds S] [--concurrency C] [--names N] [--names-per-secret M] [--parts]
--       [--profile]
--
-- Three nginx, same binary and lines but for the certificate, 4 workers each:
--   static  `ssl_certificate` of the probe's ECDSA and RSA certificates
--   1sni    certsync serving the same two (one name, RSA + ECDSA Secrets)
--   10k     certsync with 10,000 names loaded (exact and wildcard; the probe's among them)
-- For TLS 1.2 and 1.3, and a client offering only ECDSA or only RSA
-- signatures (so the server picks that certificate), bench/tools/handshake_load
-- does full handshakes on fresh connections and checks every served
-- certificate's fingerprint. Server CPU comes from the workers' schedstat
-- counters (every thread) read before and after each run. The configurations
-- run one after another inside each round, the order rotating per round; the
-- ratio of a round compares runs seconds apart, and the reports are medians.
-- A run with any failed handshake (one that waited over 5 s counts), a wrong
-- certificate, or a worker replaced during it is invalid: it is kept in the
-- JSON with why, counted in the "valid" column, and left out of the medians.
--
-- --parts adds four nginx over the static certificates whose certificate
-- phase does a growing prefix of certsync's (bench/handshake/phase_parts.lua):
--   hook    an empty ssl_certificate_by_lua_block
--   name    ngx.ssl.server_name()
--   lookup  server_name and a table lookup
--   swap    the same, then clear_certs, set_cert + set_priv_key (ECDSA, RSA)
-- so that differences between neighbours price each step.
--
-- --profile records the 1sni and 10k workers with perf during a TLS 1.3 ECDSA
-- load after the rounds and prints where their CPU went
-- (bench/handshake/profile.lua).
--
-- Writes bench/results/handshake_cost.json.
local root = os.getenv("CERTSYNC_ROOT") or "."
package.path = root .. "/?.lua;" .. package.path
local json = require "dkjson"
local proc = require "spec.support.proc"
local certs = require "spec.support.certs"
local kube = require "spec.support.kube"
local cpu = require "bench.handshake.cpu"
local load = require "bench.handshake.load"
local secrets = require "bench.handshake.secrets"
local profile = require "bench.handshake.profile"
local site = require "bench.handshake.site"
local q = proc.shell_quote

local build_dir = kube.build_dir
local PROBE = "app.bench.test"
local UNCOVERED = "nobody.bench.test"
local WORKERS = 4

local function parse_args(argv)
  -- Full runs load 10,000 Secrets of one name each; --quick packs the
  -- same 10,000 names 100 to a Secret, so that the initial sync is short.
  local o = { rounds = 5, seconds = 3, concurrency = 4, names = 10000, per_secret = 1 }
  local i = 1
  while argv[i] do
    local a = argv[i]
    if a == "--quick" then o.quick = true; o.rounds, o.seconds, o.per_secret = 3, 1.5, 100
    elseif a == "--rounds" then i = i + 1; o.rounds = tonumber(argv[i])
    elseif a == "--seconds" then i = i + 1; o.seconds = tonumber(argv[i])
    elseif a == "--concurrency" then i = i + 1; o.concurrency = tonumber(argv[i])
    elseif a == "--names" then i = i + 1; o.names = tonumber(argv[i])
    elseif a == "--names-per-secret" then i = i + 1; o.per_secret = tonumber(argv[i])
    elseif a == "--parts" then o.parts = true
    elseif a == "--profile" then o.profile = true
    else error("unknown argument " .. a) end
    i = i + 1
  end
  return o
end

local opts = parse_args(arg)

-- The compiler and OpenSSL's headers are what this needs beyond the project's deps.
if not proc.run("command -v cc && test -e /usr/include/openssl/ssl.h"):match("cc") then
  proc.check("bash " .. q(root .. "/bench/install-deps.sh"))
end
local client = load.build(root, build_dir, "handshake_load")
local make_secrets = load.build(root, build_dir, "make_secrets")

local dir = proc.tmpdir()
proc.check("chmod 755 " .. q(dir))
local running = {}
local function stop_all()
  for i = #running, 1, -1 do pcall(running[i].stop, running[i]) end
  if os.getenv("CERTSYNC_KEEP_LOGS") ~= "1" then proc.run("rm -rf " .. q(dir)) end
end

local function median(list)
  local s = {}
  for i, v in ipairs(list) do s[i] = v end
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  if n % 2 == 1 then return s[(n + 1) / 2] end
  return (s[n / 2] + s[n / 2 + 1]) / 2
end

-- Waits until every worker of a certsync nginx serves `count` bundles,
-- the probe's two among them with the expected serials.
local function wait_served(nginx, count, probe_serials, seconds)
  proc.wait_until("every worker to serve " .. count .. " Secrets", seconds, function()
    local status = json.decode(nginx:status_body())
    if type(status) ~= "table" or type(status.workers) ~= "table" then return false, "no status yet" end
    local ready = 0
    for _, w in ipairs(status.workers) do
      -- A worker reports its serials (id -> serial), or, where certsync
      -- keeps reports small, how many bundles it serves and which failed.
      local n, probes_ok = 0, true
      if type(w.serials) == "table" and next(w.serials) then
        for _ in pairs(w.serials) do n = n + 1 end
        for id, serial in pairs(probe_serials) do
          if w.serials[id] ~= serial then probes_ok = false end
        end
      else
        n = tonumber(w.bundles) or 0
        probes_ok = not w.behind and not (type(w.failed) == "table" and next(w.failed))
      end
      if not w.stale and n == count and probes_ok then ready = ready + 1 end
    end
    return ready == WORKERS, ready .. " of " .. WORKERS .. " workers ready"
  end)
end

local results = {}
local profiles -- config name -> { case, samples, shares = { [class] = fraction } }
local idle -- config name -> { CPU ms per second while idle, one per round }
local ffi = require "ffi" -- poll(), declared by spec.support.proc
local ok, err = pcall(function()
  -- The probe's certificates (one name, both key types) and the host's own.
  local probe = {
    ec = certs.make(dir, "probe-ec", { PROBE }),
    rsa = certs.make(dir, "probe-rsa", { PROBE }, { key = "rsa" }),
  }
  local fallback = certs.make(dir, "fallback", { "fallback.bench.test" })
  local expect = { ecdsa = load.fingerprint(probe.ec.crt), rsa = load.fingerprint(probe.rsa.crt) }
  local probe_secrets = { { name = "probe-ec", cert = probe.ec }, { name = "probe-rsa", cert = probe.rsa } }
  local probe_serials = { ["default/probe-ec"] = probe.ec.serial, ["default/probe-rsa"] = probe.rsa.serial }

  -- One API server per certsync nginx: each watches its own "default" namespace.
  local function api_with(fillers)
    local api = kube.start(dir .. "/api" .. (#running + 1))
    running[#running + 1] = api
    local paths = {}
    for _, s in ipairs(probe_secrets) do paths[#paths + 1] = secrets.manifest_file(api.dir, s.name, s.cert) end
    if fillers > 0 then
      for _, path in ipairs(secrets.make_fillers(make_secrets, api.dir, fillers, opts.per_secret)) do
        paths[#paths + 1] = path
      end
    end
    secrets.post_all(api, api.dir, paths)
    return api, #paths
  end
  local small_api = api_with(0)
  local large_api, large_count = api_with(opts.names - 1) -- the probe's name is one of the names

  local lua_path = root .. "/kong-plugin/?.lua;" .. build_dir .. "/lua/?.lua;" .. root .. "/?.lua"
  local lib_path = os.getenv("CERTSYNC_LIB") or (build_dir .. "/libcertsync/libcertsync.so")
  local function start(name, mode, api, hook, init_lua)
    local s = site.start(dir .. "/nginx-" .. name, {
      mode = mode, workers = WORKERS, certs = probe, fallback = fallback, lua_path = lua_path, lib_path = lib_path,
      settings = api and { server = api.url, ca_file = api.ca_file, token_file = api.token_file, namespace = "default" },
      hook = hook, init_lua = init_lua,
    })
    s.name = name
    running[#running + 1] = s
    return s
  end
  local configs = { start("static", "static"), start("1sni", "certsync", small_api), start("10k", "certsync", large_api) }
  if opts.parts then
    local load_probe = string.format("require('bench.handshake.phase_parts').load({ name = %q, " ..
      "ec = { crt = %q, key = %q }, rsa = { crt = %q, key = %q } })",
      PROBE, probe.ec.crt, probe.ec.key, probe.rsa.crt, probe.rsa.key)
    for _, part in ipairs({ "hook", "name", "lookup", "swap" }) do
      local hook = part == "hook" and "local _ = 0" or ("require('bench.handshake.phase_parts')." .. part .. "()")
      configs[#configs + 1] = start(part, "static", nil, hook, load_probe)
    end
  end
  local t0 = proc.now()
  wait_served(configs[2], 2, probe_serials, 60)
  wait_served(configs[3], large_count, probe_serials, 600)
  io.stderr:write(string.format("set-up: %d Secrets (%d names) loaded in every worker after %.1f s\n",
    large_count, opts.names, proc.now() - t0))

  local cases = {}
  for _, tls in ipairs({ "1.3", "1.2" }) do
    for _, sig in ipairs({ "ecdsa", "rsa" }) do cases[#cases + 1] = { tls = tls, sig = sig } end
  end

  -- Correctness first: each configuration serves the probe's certificate of
  -- the kind asked for, and certsync leaves the host's own for a name no
  -- Secret covers. The short runs also warm every worker up.
  local fallback_fp = load.fingerprint(fallback.crt)
  for _, c in ipairs(cases) do
    for _, s in ipairs(configs) do
      local r = load.run(client, { port = s.port, sni = PROBE, tls = c.tls, sig = c.sig, seconds = 0.3,
                                   concurrency = opts.concurrency, expect = expect[c.sig] })
      if r.ok == 0 or r.failed + r.wrong_cert > 0 then
        error(string.format("%s TLS %s %s: %s", s.name, c.tls, c.sig, json.encode(r)))
      end
    end
  end
  for _, s in ipairs({ configs[2], configs[3] }) do
    local r = load.run(client, { port = s.port, sni = UNCOVERED, tls = "1.3", sig = "ecdsa", seconds = 0.2,
                                 concurrency = 1, expect = fallback_fp })
    if r.ok == 0 or r.failed + r.wrong_cert > 0 then
      error(s.name .. ": the host's own certificate is not served for an uncovered name: " .. json.encode(r))
    end
  end

  for _, c in ipairs(cases) do
    local key = "TLS" .. c.tls .. " " .. c.sig
    results[key] = { tls = c.tls, sig = c.sig, runs = {} }
    for _, s in ipairs(configs) do results[key].runs[s.name] = {} end
  end
  -- What each nginx burns with no handshakes at all (certsync's timers and
  -- watcher thread): one window per round, every nginx at once.
  idle = {}
  for _, s in ipairs(configs) do idle[s.name] = {} end
  local function measure_idle(seconds)
    local before, start = {}, proc.now()
    for _, s in ipairs(configs) do before[s.name] = cpu.total_ns(s:worker_pids()) end
    ffi.C.poll(nil, 0, seconds * 1000) -- a measurement window, not a wait for an outcome
    local elapsed = proc.now() - start
    for _, s in ipairs(configs) do
      table.insert(idle[s.name], (cpu.total_ns(s:worker_pids()) - before[s.name]) / 1e6 / elapsed)
    end
  end
  for round = 1, opts.rounds do
    measure_idle(1)
    for _, c in ipairs(cases) do
      for k = 0, #configs - 1 do
        local s = configs[(round + k - 1) % #configs + 1]
        local pids = s:worker_pids()
        local before = cpu.total_ns(pids)
        local r = load.run(client, { port = s.port, sni = PROBE, tls = c.tls, sig = c.sig, seconds = opts.seconds,
                                     concurrency = opts.concurrency, expect = expect[c.sig] })
        local after = cpu.total_ns(pids)
        -- An invalid run is kept (with why) and left out of every median.
        local invalid
        if table.concat(s:worker_pids(), ",") ~= table.concat(pids, ",") then
          invalid = "the workers changed during the run (a worker died?): see " .. s.dir .. "/logs/error.log"
        elseif r.failed + r.wrong_cert > 0 or r.ok == 0 then
          invalid = string.format("%d failed, %d wrong certificate, %d ok; first error: %s",
            r.failed, r.wrong_cert, r.ok, r.first_error)
        end
        if invalid then
          io.stderr:write(string.format("invalid run (%s TLS %s %s, round %d): %s\n", s.name, c.tls, c.sig, round, invalid))
        end
        table.insert(results["TLS" .. c.tls .. " " .. c.sig].runs[s.name], {
          handshakes = r.ok, failed = r.failed, wrong_cert = r.wrong_cert, seconds = r.seconds, rate = r.ok / r.seconds,
          cpu_us = r.ok > 0 and (after - before) / 1e3 / r.ok or nil, invalid = invalid,
        })
      end
    end
    io.stderr:write(string.format("round %d of %d done\n", round, opts.rounds))
  end

  if opts.profile then
    if not profile.available() then error("--profile: perf cannot record here (bench/install-deps.sh installs it)") end
    profiles = {}
    for _, s in ipairs({ configs[2], configs[3] }) do
      local result
      local shares, samples = profile.record(s.dir, s:worker_pids(), function()
        result = load.run(client, { port = s.port, sni = PROBE, tls = "1.3", sig = "ecdsa", seconds = 4,
                                    concurrency = opts.concurrency, expect = expect.ecdsa })
      end)
      -- The shares stand even when handshakes failed: they show what the workers did instead.
      profiles[s.name] = { case = "TLS1.3 ecdsa", samples = samples, shares = shares, handshakes = result.ok,
                           failed = result.failed + result.wrong_cert }
    end
  end
end)
stop_all()
if not ok then error(err, 0) end

-- Per case: medians of rate and CPU, and the median over rounds of each
-- round's ratio of handshakes per server CPU second (static CPU / config CPU).
local order = { "TLS1.3 ecdsa", "TLS1.3 rsa", "TLS1.2 ecdsa", "TLS1.2 rsa" }
local report = { cases = {}, rounds = opts.rounds, seconds_per_run = opts.seconds, concurrency = opts.concurrency,
                 workers = WORKERS, names_10k = opts.names, names_per_secret = opts.per_secret,
                 date = os.date("!%Y-%m-%dT%H:%M:%SZ") }
local worst = { ["1sni"] = math.huge, ["10k"] = math.huge }
local worst_10k_vs_1sni = math.huge
print(string.format("full handshakes, %d workers, %d rounds x %.1f s per run, %d connections in flight",
  WORKERS, opts.rounds, opts.seconds, opts.concurrency))
local idle_ms = {}
for name, list in pairs(idle) do idle_ms[name] = median(list) end
report.idle_cpu_ms_per_s = idle_ms
print(string.format("%-13s %-7s %12s %10s %10s %12s %8s", "case", "config", "handshakes/s", "CPU us/hs",
  "ratio", "ratio-idle", "valid"))
for _, key in ipairs(order) do
  local case = results[key]
  local out = { tls = case.tls, key = case.sig, configs = {} }
  for _, name in ipairs(opts.parts and { "static", "1sni", "10k", "hook", "name", "lookup", "swap" }
                        or { "static", "1sni", "10k" }) do
    local runs = case.runs[name]
    local rates, cpus, ratios, net_ratios = {}, {}, {}, {}
    -- Undefined when idle is half of the run or more: then the idle CPU is
    -- not a steady background (e.g. a re-sync running) and the net says nothing.
    local function net(config, r)
      local background = idle_ms[config] * 1e3 * r.seconds / r.handshakes
      return background < r.cpu_us / 2 and r.cpu_us - background or nil
    end
    local invalid = 0
    for i, r in ipairs(runs) do
      local base = case.runs.static[i]
      if r.invalid then
        invalid = invalid + 1
      else
        rates[#rates + 1], cpus[#cpus + 1] = r.rate, r.cpu_us
        -- A round's ratio needs both of its runs.
        if not base.invalid then
          ratios[#ratios + 1] = base.cpu_us / r.cpu_us
          local a, b = net("static", base), net(name, r)
          if a and b then net_ratios[#net_ratios + 1] = a / b end
        end
      end
    end
    local row = { handshakes_per_s = median(rates), cpu_us_per_handshake = median(cpus), ratio_to_static = median(ratios),
                  ratio_to_static_net_of_idle = median(net_ratios), invalid_runs = invalid, runs = runs }
    out.configs[name] = row
    local function f(fmt, v) return v and string.format(fmt, v) or "n/a" end
    print(string.format("%-13s %-7s %12s %10s %10s %12s %8s", key, name, f("%.0f", row.handshakes_per_s),
      f("%.1f", row.cpu_us_per_handshake), f("%.3f", row.ratio_to_static), f("%.3f", row.ratio_to_static_net_of_idle),
      (#runs - invalid) .. "/" .. #runs))
  end
  local r10k = {}
  for i, r in ipairs(case.runs["10k"]) do
    local one = case.runs["1sni"][i]
    if not r.invalid and not one.invalid then r10k[#r10k + 1] = one.cpu_us / r.cpu_us end
  end
  out.ratio_10k_to_1sni = median(r10k)
  -- A case without one valid round counts as the worst: 0.
  worst["1sni"] = math.min(worst["1sni"], out.configs["1sni"].ratio_to_static or 0)
  worst["10k"] = math.min(worst["10k"], out.configs["10k"].ratio_to_static or 0)
  worst_10k_vs_1sni = math.min(worst_10k_vs_1sni, out.ratio_10k_to_1sni or 0)
  report.cases[#report.cases + 1] = out
end
local function median_over_cases(config)
  local list = {}
  for _, case in ipairs(report.cases) do list[#list + 1] = case.configs[config].ratio_to_static or 0 end
  return median(list)
end
report.handshake_ratio_1sni_median = median_over_cases("1sni")
report.handshake_ratio_10k_median = median_over_cases("10k")
report.handshake_ratio_1sni = worst["1sni"]
report.handshake_ratio_10k = worst["10k"]
report.ratio_10k_to_1sni = worst_10k_vs_1sni
local idle_line = {}
for _, name in ipairs({ "static", "1sni", "10k", "hook", "name", "lookup", "swap" }) do
  if idle_ms[name] then idle_line[#idle_line + 1] = string.format("%s %.1f", name, idle_ms[name]) end
end
print("idle CPU, ms per second (all workers): " .. table.concat(idle_line, ", "))
if profiles then
  report.profile = profiles
  for _, name in ipairs({ "1sni", "10k" }) do
    local p = profiles[name]
    print(string.format("profile of %s workers, %s, %d samples (%d handshakes, %d failed): share of worker CPU",
      name, p.case, p.samples, p.handshakes, p.failed))
    for _, class in ipairs(profile.CLASSES) do print(string.format("  %-20s %6.2f %%", class, p.shares[class] * 100)) end
  end
end
report.ratios_are = "worst case over TLS version x key type of the per-case median over rounds"
report.targets = { handshake_ratio_1sni = 0.97, ratio_10k_to_1sni = 0.99 }
print(string.format("handshake_ratio_1sni (worst case) %.3f  target >= 0.97  %s", worst["1sni"],
  worst["1sni"] >= 0.97 and "met" or "NOT met"))
print(string.format("handshake_ratio_10k  (worst case) %.3f; 10k/1sni %.3f  target >= 0.99  %s", worst["10k"],
  worst_10k_vs_1sni, worst_10k_vs_1sni >= 0.99 and "met" or "NOT met"))
report.machine = require("bench.support.common").machine()
proc.check("mkdir -p " .. q(root .. "/bench/results"))
proc.write_file(root .. "/bench/results/handshake_cost.json", json.encode(report, { indent = true }) .. "\n")
