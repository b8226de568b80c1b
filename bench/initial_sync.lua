-- bench/initial_sync.lua: a node starting with many Secrets already in the
-- API server: how long until every name is served, and what it costs in
-- memory, for a growing number of Secrets (the curve shows whether the cost
-- grows linearly).
--
--   CERTSYNC_ROOT=$PWD CERTSYNC_BUILD_DIR=$PWD/build \
--     luajit bench/initial_sync.lua [--quick] [--workers 4] [COUNT ...]
--
-- Default counts 1000 10000 50000 (--quick: 1000 10000). Each count runs
-- in a fresh API test server holding COUNT generated TLS Secrets (mixed
-- ECDSA P-256 / RSA-2048 leaves, each with its intermediate in tls.crt and
-- the root in ca.crt, each naming HOST and *.HOST), and a fresh nginx with
-- 4 workers and the shared dict sized by the rule docs/kong.md gives. A run
-- with no Secret at all is the memory baseline.
--
-- Time to serve: from starting nginx to /certsync/ready answering 200 (the
-- full list published and every worker serving it), then 40 names sampled
-- across the set (exact and wildcard) must each complete a handshake with
-- their own certificate. Memory, 5 s after ready: PSS (shared pages split
-- between the processes that map them, so the sum is the node's real cost)
-- and RSS of the master and each worker, summed; bytes per certificate is
-- (node PSS - baseline node PSS) / COUNT. Writes bench/results/initial_sync.json.
package.path = (os.getenv("CERTSYNC_ROOT") or ".") .. "/?.lua;" .. package.path
local json = require "dkjson"
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local bench = require "bench.support.common"
local q = proc.shell_quote

local args = bench.args(arg, { workers = 4 })
local COUNTS = #args.rest > 0 and args.rest or (args.quick and { 1000, 10000 } or { 1000, 10000, 50000 })
local SAMPLES = 40
local DEADLINE = 900

-- What docs/kong.md tells operators: see "Sizing the shared dict".
local function dict_size_for(count)
  return string.format("%dm", 16 + math.ceil(count * 6 / 1024))
end

local function generate(api, count)
  if count == 0 then return end
  local body = json.encode({ count = count, keys = "mixed", chain = 2, wildcard = true, prefix = "gen" })
  local out = proc.check(string.format("curl -sS --max-time 900 -X POST -H 'Content-Type: application/json' --cacert %s " ..
    "--data-binary %s %s/testing/generate", q(api.ca_file), q(body), q(api.url)))
  local answer = json.decode(out)
  assert(answer and answer.created == count, "generate answered " .. out)
end

-- Memory of every process of the node (master and workers), in bytes.
local function node_memory(nginx)
  local pids = { nginx.master_pid }
  for _, pid in ipairs(nginx:worker_pids()) do pids[#pids + 1] = pid end
  local total = { pss = 0, rss = 0, hwm = 0, workers = {} }
  for i, pid in ipairs(pids) do
    local status = proc.read_file("/proc/" .. pid .. "/status") or ""
    local rollup = proc.read_file("/proc/" .. pid .. "/smaps_rollup") or ""
    local m = {
      pid = pid,
      rss = (tonumber(status:match("VmRSS:%s+(%d+)")) or 0) * 1024,
      hwm = (tonumber(status:match("VmHWM:%s+(%d+)")) or 0) * 1024,
      pss = (tonumber(rollup:match("\nPss:%s+(%d+)")) or 0) * 1024,
      anon = (tonumber(rollup:match("\nAnonymous:%s+(%d+)")) or 0) * 1024,
    }
    -- CPU seconds the process used so far (utime + stime, every thread: in
    -- the owner the library's watcher and validation threads too).
    local stat = (proc.read_file("/proc/" .. pid .. "/stat") or ""):match("%) (.*)") or ""
    local fields = {}
    for f in stat:gmatch("%S+") do fields[#fields + 1] = f end
    m.cpu_seconds = ((tonumber(fields[12]) or 0) + (tonumber(fields[13]) or 0)) / 100
    total.pss, total.rss, total.hwm = total.pss + m.pss, total.rss + m.rss, total.hwm + m.hwm
    if i > 1 then total.workers[#total.workers + 1] = m else total.master = m end
  end
  return total
end

-- The subject CN served for each name, once its handshake completed (nil
-- when it did not), from one process (bench/tools/served_names.c).
local served_names = require("bench.handshake.load").build(bench.root, bench.build_dir, "served_names")
local function served_cns(port, snis)
  local quoted = {}
  for i, sni in ipairs(snis) do quoted[i] = q(sni) end
  local cns, i = {}, 0
  for line in proc.check(q(served_names) .. " " .. port .. " " .. table.concat(quoted, " ")):gmatch("[^\n]+") do
    i = i + 1
    cns[i] = line ~= "-" and line or nil
  end
  return cns
end

local wait_ready = require("bench.handshake.load").build(bench.root, bench.build_dir, "wait_ready")

local function sample_names(count)
  local names = {}
  for i = 1, SAMPLES do
    local n = math.floor((i - 1) * count / SAMPLES)
    local host = "gen-" .. n .. ".bench.test"
    names[#names + 1] = { sni = (i % 2 == 0) and ("www." .. host) or host, cn = host }
  end
  return names
end

local function run(count)
  local t0
  local stack = stack_support.start({
    workers = args.workers,
    nginx = function(stack)
      generate(stack.api, count)
      t0 = bench.wall_clock()
      return { shared_dict_size = dict_size_for(count), status_lua = "if ngx.var.arg_dict_usage then " ..
        "dofile(" .. string.format("%q", bench.root .. "/bench/support/dict_usage.lua") .. ")() " ..
        "else require('certsync.core').serve_status() end" }
    end,
  })
  local result = { count = count, dict = dict_size_for(count) }
  local ok, err = pcall(function()
    -- One process asking every 10 ms (not a curl forked per look, which
    -- took a share of the two cores the sync needs).
    proc.check(string.format("%s %d /certsync/ready %d", q(wait_ready), stack.nginx.status_port, DEADLINE))
    result.ready_seconds = bench.wall_clock() - t0
    if count > 0 then
      local names, snis = sample_names(count), {}
      for i, name in ipairs(names) do snis[i] = name.sni end
      local cns = served_cns(stack.nginx.port, snis)
      for i, name in ipairs(names) do
        assert(cns[i] == name.cn, name.sni .. " was served " .. tostring(cns[i]) .. ", not " .. name.cn)
      end
      result.served_seconds = bench.wall_clock() - t0
    end
    proc.run("sleep 5") -- let the first-sync garbage be collected before reading steady memory
    result.memory = node_memory(stack.nginx)
    local status = stack.nginx:status_table("?secret=none/none")
    result.shared_dict = status and status.node and status.node.shared_dict
    result.dict_usage = json.decode((stack.nginx:get("/certsync/status?dict_usage=1")))
    -- Which worker owns the watcher, and each worker's Lua heap (now and
    -- its peak) from its own record.
    local owner = status and status.node and status.node.owner_pid
    local heap = {}
    for _, w in ipairs(status and status.workers or {}) do
      if w.pid and type(w.longest) == "table" then heap[w.pid] = w.longest end
    end
    for _, m in ipairs(result.memory.workers) do
      m.owner = m.pid == owner
      m.lua_kb = heap[m.pid] and heap[m.pid].lua_kb
      m.lua_kb_peak = heap[m.pid] and heap[m.pid].lua_kb_peak
      m.longest = heap[m.pid]
    end
  end)
  local log = stack.nginx:error_log()
  result.no_memory_lines = select(2, log:gsub("no memory", ""))
  -- Where the time went, in the owner's own words: the LIST with its
  -- validation, then the publication into the shared dict.
  result.list_ms = tonumber(log:match("listed %d+ secrets[^\n]- in (%d+) ms"))
  result.publish_ms = tonumber(log:match("published a full sync of %d+ certificates[^\n]- in (%d+) ms"))
  stack:stop()
  if not ok then error(err) end
  return result
end

local results = { baseline = run(0), runs = {} }
for _, count in ipairs(COUNTS) do
  io.stderr:write("initial sync: ", count, " Secrets\n")
  results.runs[#results.runs + 1] = run(tonumber(count))
end

local base = results.baseline.memory
print(string.format("initial sync, %d workers (baseline node PSS %.1f MB with no Secret)", args.workers,
  base.pss / 2 ^ 20))
print(string.format("%8s %10s %10s %9s %10s %12s %12s %12s %10s", "Secrets", "ready s", "served s", "list ms",
  "publish ms", "node PSS MB", "B/cert PSS", "B/cert RSS", "dict"))
local summary = { curve = {} }
for _, r in ipairs(results.runs) do
  local per_pss = (r.memory.pss - base.pss) / r.count
  local per_rss = (r.memory.rss - base.rss) / r.count
  print(string.format("%8d %10.2f %10.2f %9s %10s %12.1f %12.0f %12.0f %10s", r.count, r.ready_seconds,
    r.served_seconds, tostring(r.list_ms or "?"), tostring(r.publish_ms or "?"), r.memory.pss / 2 ^ 20, per_pss,
    per_rss, r.dict))
  summary.curve[#summary.curve + 1] = { secrets = r.count, ready_seconds = r.ready_seconds,
    served_seconds = r.served_seconds, node_pss_bytes = r.memory.pss, node_rss_bytes = r.memory.rss,
    node_rss_peak_bytes = r.memory.hwm, bytes_per_cert_pss = per_pss, bytes_per_cert_rss = per_rss,
    shared_dict = r.dict, no_memory_lines = r.no_memory_lines, list_ms = r.list_ms, publish_ms = r.publish_ms }
  if r.count == 10000 then summary.sync_10k_seconds, summary.bytes_per_cert = r.served_seconds, per_pss end
  if r.count == 50000 then summary.sync_50k_seconds = r.served_seconds end
end
-- The owner against the other workers, and the dict by key prefix, per Secret.
for _, r in ipairs(results.runs) do
  print(string.format("%d Secrets: listed in %s ms, the full sync published in %s ms; each worker (RSS / PSS / " ..
    "anonymous MB, Lua heap now / peak MB, CPU s, longest tick ms)", r.count, tostring(r.list_ms),
    tostring(r.publish_ms)))
  for _, m in ipairs(r.memory.workers) do
    print(string.format("  %-6s pid %-7d %7.1f %7.1f %7.1f   %6.1f %6.1f  %6.2f  %6.1f", m.owner and "owner" or "worker",
      m.pid, m.rss / 2 ^ 20, m.pss / 2 ^ 20, m.anon / 2 ^ 20, (m.lua_kb or 0) / 1024, (m.lua_kb_peak or 0) / 1024,
      m.cpu_seconds, m.longest and m.longest.tick_ms or 0))
  end
  local usage = r.dict_usage
  if type(usage) == "table" and type(usage.groups) == "table" then
    local prefixes, total = {}, 0
    for prefix, g in pairs(usage.groups) do prefixes[#prefixes + 1] = prefix; total = total + g.slab_bytes end
    table.sort(prefixes, function(a, b) return usage.groups[a].slab_bytes > usage.groups[b].slab_bytes end)
    print(string.format("  shared dict: %.1f MB used of %.1f MB (%.0f B per Secret); by prefix, per Secret:",
      (usage.capacity - usage.free) / 2 ^ 20, usage.capacity / 2 ^ 20, (usage.capacity - usage.free) / r.count))
    for _, prefix in ipairs(prefixes) do
      local g = usage.groups[prefix]
      if g.slab_bytes / r.count >= 1 then
        print(string.format("    %-14s keys %6d  value %6.0f B  slab %6.0f B", prefix, g.keys, g.value_bytes / r.count,
          g.slab_bytes / r.count))
      end
    end
    print(string.format("    %-14s slab %6.0f B per Secret", "all", total / r.count))
  end
end
summary.workers = args.workers
bench.write_result("initial_sync", summary, results)
