-- bench/non_tls_filter.lua: what the Secrets certsync does not serve cost a
-- node, now that the API server filters them by type (secret_types).
--
--   CERTSYNC_ROOT=$PWD CERTSYNC_BUILD_DIR=$PWD/build luajit bench/non_tls_filter.lua [--quick]
--
-- Three stacks (API test server + nginx with certsync, 2 workers), one after
-- the other in one run, each measured once every worker serves the same TLS
-- Secrets (full: 10,000; --quick: 1,000):
--   absent      only the TLS Secrets exist;
--   present     beside them, non-TLS Secrets of ~100 KB each (full: 5,000;
--               --quick: 500; Opaque and helm.sh/release.v1, as Helm writes
--               them), with the default secret_types (kubernetes.io/tls);
--   unfiltered  the same Secrets with secret_types = "*": what every node
--               received before the filter.
-- Bytes are the response bodies the library received from the API server
-- (the status's watcher.scopes[].bytes_received, summed); RSS is each nginx
-- worker's VmRSS. Writes bench/results/non_tls_filter.json and prints a table.
local ROOT = os.getenv("CERTSYNC_ROOT") or "."
package.path = ROOT .. "/?.lua;" .. package.path
local ffi = require "ffi"
local json = require "dkjson"
local proc = require "spec.support.proc"
local stack_support = require "spec.support.stack"
local q = proc.shell_quote

local QUICK = false
for _, a in ipairs(arg) do
  if a == "--quick" then
    QUICK = true
  else
    error("usage: luajit bench/non_tls_filter.lua [--quick] (unknown argument " .. a .. ")")
  end
end
local TLS_COUNT = QUICK and 1000 or 10000
local OTHER_COUNT = QUICK and 500 or 5000
local OTHER_BYTES = 100 * 1024 -- each non-TLS Secret's data as stored (base64), about
local WORKERS = 2
local DICT_SIZE = QUICK and "64m" or "256m"
local SYNC_SECONDS = QUICK and 300 or 1800

local function pause(ms) ffi.C.poll(nil, 0, ms) end -- poll() is declared by spec.support.proc

local function tls_name(i) return string.format("tls-%05d", i) end

-- The request bodies, written once and posted to every stack's API server.
-- TLS: one self-signed P-256 certificate per Secret (one openssl run each, in
-- one shell); the server folds stringData into data, as for kubectl.
local function write_bodies(dir)
  io.stderr:write(string.format("bench: making %d certificates ...\n", TLS_COUNT))
  proc.check(string.format([[cd %s && for i in $(seq 1 %d); do n=$(printf 'tls-%%05d' $i); ]] ..
    [[openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $n.key -out $n.crt -days 30 ]] ..
    [[-subj /CN=$n.bench.test -addext subjectAltName=DNS:$n.bench.test 2>/dev/null || exit 1; done]],
    q(dir), TLS_COUNT))
  local tls, other = {}, {}
  for i = 1, TLS_COUNT do
    local name = tls_name(i)
    local body = json.encode({ apiVersion = "v1", kind = "Secret", type = "kubernetes.io/tls",
      metadata = { name = name },
      stringData = { ["tls.crt"] = proc.read_file(dir .. "/" .. name .. ".crt"),
                     ["tls.key"] = proc.read_file(dir .. "/" .. name .. ".key") } })
    tls[i] = dir .. "/" .. name .. ".json"
    proc.write_file(tls[i], body)
  end
  -- base64 makes 4 bytes of 3: this much raw text is stored as ~OTHER_BYTES.
  local payload = string.rep("certsync-bench-payload/", math.ceil(OTHER_BYTES * 3 / 4 / 23)):sub(1, OTHER_BYTES * 3 / 4)
  for i = 1, OTHER_COUNT do
    local name = string.format("release-%05d", i)
    local body = json.encode({ apiVersion = "v1", kind = "Secret",
      type = i % 2 == 0 and "Opaque" or "helm.sh/release.v1",
      metadata = { name = name }, stringData = { release = payload } })
    other[i] = dir .. "/" .. name .. ".json"
    proc.write_file(other[i], body)
  end
  return tls, other
end

-- POSTs every body over one keep-alive connection: one curl, one transfer per
-- body (`next`), through a config file (private, removed after: it holds the
-- test server's token).
local function post_all(api, bodies, dir)
  local config = dir .. "/post.curlrc"
  local lines = {}
  for _, body in ipairs(bodies) do
    lines[#lines + 1] = table.concat({
      "url = " .. string.format("%q", api.url .. "/api/v1/namespaces/default/secrets"),
      "cacert = " .. string.format("%q", api.ca_file),
      "header = \"Content-Type: application/json\"",
      "header = " .. string.format("%q", "Authorization: Bearer " .. api.token),
      "data-binary = " .. string.format("%q", "@" .. body),
      "output = \"/dev/null\"",
      "write-out = \"%{http_code}\\n\"",
    }, "\n")
  end
  local f = assert(io.open(config, "wb"))
  proc.check("chmod 600 " .. q(config))
  f:write(table.concat(lines, "\nnext\n"), "\n")
  f:close()
  local out, ok = proc.run("curl -sS -K " .. q(config))
  os.remove(config)
  assert(ok, "curl failed: " .. tostring(out))
  local created = 0
  for code in out:gmatch("%d+") do
    assert(code == "201", "a POST answered " .. code)
    created = created + 1
  end
  assert(created == #bodies, string.format("%d of %d POSTs answered", created, #bodies))
end

local function vm_rss_kb(pid)
  local text = proc.read_file("/proc/" .. pid .. "/status") or ""
  return tonumber(text:match("VmRSS:%s*(%d+)")) or 0
end

-- Waits until the first LIST is published and every worker serves it, then
-- measures. While the publication is under way the status is fetched for one
-- Secret only (the whole one is megabytes); the whole one then confirms that
-- every TLS Secret is served (a publication may come in slices).
local function measure(stack, started)
  local probe = "?secret=default/" .. tls_name(1)
  local status
  proc.wait_until("every worker to serve the first list", SYNC_SECONDS, function()
    local view = stack.nginx:status_table(probe)
    local published = view and view.node and view.node.published_generation or 0
    local ready = published >= 1 and view.watcher.synced and #view.workers == WORKERS
    for _, worker in ipairs(ready and view.workers or {}) do
      if worker.behind or worker.generation ~= published then ready = false end
    end
    if ready then
      status = stack.nginx:status_table()
      local serving = 0
      for _, secret in ipairs(status and status.secrets or {}) do
        if secret.state == "serving" then serving = serving + 1 end
      end
      if serving == TLS_COUNT then return true end
    end
    pause(200)
    return false, "published generation " .. tostring(published)
  end)
  local seconds = proc.now() - started
  -- Both runs build the whole status once before this: RSS compares alike.
  local rss = {}
  for _, pid in ipairs(stack.nginx:worker_pids()) do rss[pid] = vm_rss_kb(pid) end
  local serving = TLS_COUNT
  local bytes, scopes = 0, {}
  for _, scope in ipairs(status.watcher.scopes) do
    bytes = bytes + scope.bytes_received
    scopes[#scopes + 1] = scope.scope
  end
  local owner, total, max = 0, 0, 0
  for pid, kb in pairs(rss) do
    total, max = total + kb, math.max(max, kb)
    if pid == status.node.owner_pid then owner = kb end
  end
  return { bytes_received = bytes, scopes = scopes, rss_kb_owner = owner, rss_kb_max = max,
           rss_kb_total = total, seconds_to_serve = seconds, secrets_serving = serving }
end

local function run(label, with_other, settings, tls, other, dir)
  io.stderr:write("bench: ", label, " ...\n")
  local started
  local stack = stack_support.start({
    workers = WORKERS,
    settings = settings,
    -- Called once the API server runs, before nginx starts: the Secrets are
    -- there for the first LIST.
    nginx = function(s)
      post_all(s.api, tls, dir)
      if with_other then post_all(s.api, other, dir) end
      started = proc.now()
      return { shared_dict_size = DICT_SIZE }
    end,
  })
  local ok, result = pcall(measure, stack, started)
  stack:stop()
  if not ok then error(label .. ": " .. tostring(result), 0) end
  return result
end

local dir = proc.tmpdir()
local ok, err = pcall(function()
  local tls, other = write_bodies(dir)
  local runs = {
    absent = run("absent", false, {}, tls, other, dir),
    present = run("present", true, {}, tls, other, dir),
    unfiltered = run("unfiltered", true, { secret_types = "*" }, tls, other, dir),
  }
  local absent = runs.absent
  local results = {
    mode = QUICK and "quick" or "full",
    tls_secrets = TLS_COUNT,
    non_tls_secrets = OTHER_COUNT,
    non_tls_bytes_each = OTHER_BYTES,
    workers = WORKERS,
    runs = runs,
    bytes_listed_ratio_non_tls = runs.present.bytes_received / absent.bytes_received,
    bytes_listed_ratio_unfiltered = runs.unfiltered.bytes_received / absent.bytes_received,
    rss_owner_ratio_non_tls = runs.present.rss_kb_owner / absent.rss_kb_owner,
    rss_owner_ratio_unfiltered = runs.unfiltered.rss_kb_owner / absent.rss_kb_owner,
  }
  proc.check("mkdir -p " .. q(ROOT .. "/bench/results"))
  proc.write_file(ROOT .. "/bench/results/non_tls_filter.json", json.encode(results, { indent = true }) .. "\n")

  print(string.format("%d TLS Secrets; non-TLS: %d x ~%d KB; %d workers (%s)", TLS_COUNT, OTHER_COUNT,
    math.floor(OTHER_BYTES / 1024), WORKERS, results.mode))
  print(string.format("%-11s %-18s %14s %10s %14s %14s %10s", "run", "non-TLS Secrets", "bytes received",
    "ratio", "owner RSS KB", "max RSS KB", "serve s"))
  for _, row in ipairs({ { "absent", "absent" }, { "present", "present, filtered" },
                         { "unfiltered", "present, type *" } }) do
    local r = runs[row[1]]
    print(string.format("%-11s %-18s %14d %10.3f %14d %14d %10.1f", row[1], row[2], r.bytes_received,
      r.bytes_received / absent.bytes_received, r.rss_kb_owner, r.rss_kb_max, r.seconds_to_serve))
  end
  print(string.format("bytes_listed_ratio_non_tls = %.3f (unfiltered: %.1f)", results.bytes_listed_ratio_non_tls,
    results.bytes_listed_ratio_unfiltered))
end)
proc.run("rm -rf " .. q(dir))
if not ok then error(err, 0) end
