-- tests.soak.report: a soak's figures, as JSON (every figure, for tooling)
-- and as a human table; and the list of what failed, empty when it passed.
local json = require "dkjson"
local proc = require "spec.support.proc"
local verdict = require "tests.soak.verdict"

local _M = {}

local function percentiles(values, scale)
  local out = { count = #values }
  for _, p in ipairs({ 50, 90, 99 }) do
    local x = verdict.percentile(values, p)
    out["p" .. p] = x and x * scale
  end
  out.max = verdict.percentile(values, 100)
  out.max = out.max and out.max * scale
  return out
end

-- The summary kept in the JSON and printed: raw per-handshake latencies and
-- per-rotation times are summarised, not stored.
function _M.summary(r)
  local h = r.handshakes
  local worker_before, worker_after = r.rss.before.worker_max_kb, r.rss.after.worker_max_kb
  local out = {
    mode = r.mode, host = r.host, scope_change_method = r.scope_change_method,
    started_at = r.started_at, seconds = r.seconds, workers = r.workers, secrets = r.secrets,
    snis = r.snis, clients = r.clients,
    counts = {
      rotations = r.rotations, broken_writes = r.broken_writes, refusal_codes = r.refusal_codes,
      reloads = #r.reloads, kills = #r.kills, owner_kills = 0, scope_changes = #r.scope_changes,
      handshakes = h.handshakes, completed = h.completed, failed = h.failed, cut_by_kill = h.cut_by_kill,
      violations = h.violations, violation_kinds = h.kinds, failures_by_curl_exit = h.failures_by_code,
      crash_lines = #r.crash_lines, leaks = #r.sweep.leaks,
    },
    handshake_ms = percentiles(h.latency, 1000),
    handshakes_per_second = h.handshakes / r.seconds,
    rotation_convergence_ms = percentiles(r.convergence, 1000),
    reload_settle_s = r.reloads, kills = r.kills, scope_changes = r.scope_changes,
    rss_kb = {
      master = { pid = r.rss.before.master.pid, before = r.rss.before.master.rss_kb, after = r.rss.after.master.rss_kb,
                 peak = r.rss.peak.master_kb, after_first_reload = r.rss.master_after_first_reload_kb },
      workers_before = r.rss.before.workers, workers_after = r.rss.after.workers,
      worker_max_before = worker_before, worker_max_after = worker_after, worker_max_peak = r.rss.peak.worker_max_kb,
      bounds = r.rss.bounds,
    },
    examples = h.examples, crash = r.crash_lines, leaks = r.sweep.leaks,
    sweep = { keys = r.sweep.keys, bytes = r.sweep.bytes },
  }
  for _, k in ipairs(r.kills) do
    if k.owner then out.counts.owner_kills = out.counts.owner_kills + 1 end
  end
  return out
end

-- What does not hold, one line each.
function _M.failures(s)
  local f = {}
  local c = s.counts
  if c.failed > 0 then f[#f + 1] = c.failed .. " failed handshakes" end
  if c.violations > 0 then f[#f + 1] = c.violations .. " handshakes given a certificate not valid for them" end
  if c.completed == 0 then f[#f + 1] = "no handshake completed" end
  if c.crash_lines > 0 then f[#f + 1] = c.crash_lines .. " crash lines in the error log" end
  if c.leaks > 0 then f[#f + 1] = "the secrets sweep found: " .. table.concat(s.leaks, "; ") end
  local m = s.rss_kb
  -- Under make e2e-asan the library's memory is ASan's (freed blocks wait in
  -- its quarantine, 256 MB by default): RSS is reported, not judged.
  if os.getenv("CERTSYNC_SANITIZED") == "1" then return f end
  if m.master.after - m.master.before > m.bounds.master_growth_kb then
    f[#f + 1] = string.format("master RSS grew %d kB (bound %d)", m.master.after - m.master.before, m.bounds.master_growth_kb)
  end
  local settled = m.master.after_first_reload
  if settled and m.master.after - settled > m.bounds.master_after_reload_growth_kb then
    f[#f + 1] = string.format("master RSS grew %d kB after its first reload (bound %d)", m.master.after - settled,
      m.bounds.master_after_reload_growth_kb)
  end
  if m.worker_max_peak - m.worker_max_before > m.bounds.worker_growth_kb then
    f[#f + 1] = string.format("worker RSS peaked %d kB above the start (bound %d)",
      m.worker_max_peak - m.worker_max_before, m.bounds.worker_growth_kb)
  end
  return f
end

local function fmt_ms(x) return x and string.format("%.1f", x) or "-" end

function _M.table(s)
  local c, m = s.counts, s.rss_kb
  local lines = {
    string.format("certsync soak (%s) on %s, %s, %.0f s", s.mode, s.host, s.started_at, s.seconds),
    string.format("  %d workers, %d Secrets (%d SNIs asked, exact and wildcard, RSA and ECDSA), %d curl clients",
      s.workers, s.secrets, s.snis, s.clients),
    string.format("  scope change: %s", s.scope_change_method),
    "",
    "  count                          value",
    string.format("  rotations (new key each)       %d", c.rotations),
    string.format("  broken writes refused          %d", c.broken_writes),
    string.format("  reloads (HUP)                  %d", c.reloads),
    string.format("  SIGKILLs (of the owner)        %d (%d)", c.kills, c.owner_kills),
    string.format("  scope changes                  %d", c.scope_changes),
    string.format("  handshakes                     %d (%.1f/s)", c.handshakes, s.handshakes_per_second),
    string.format("  completed                      %d", c.completed),
    string.format("  failed                         %d", c.failed),
    string.format("  in flight on a SIGKILLed worker %d", c.cut_by_kill),
    string.format("  invalid certificate served     %d", c.violations),
    string.format("  crash lines                    %d", c.crash_lines),
    string.format("  secrets found in logs          %d (%d keys over %d bytes)", c.leaks, s.sweep.keys, s.sweep.bytes),
    "",
    "  ms                             p50      p90      p99      max",
    string.format("  TLS handshake                  %-8s %-8s %-8s %s", fmt_ms(s.handshake_ms.p50), fmt_ms(s.handshake_ms.p90),
      fmt_ms(s.handshake_ms.p99), fmt_ms(s.handshake_ms.max)),
    string.format("  rotation -> every worker       %-8s %-8s %-8s %s", fmt_ms(s.rotation_convergence_ms.p50),
      fmt_ms(s.rotation_convergence_ms.p90), fmt_ms(s.rotation_convergence_ms.p99), fmt_ms(s.rotation_convergence_ms.max)),
    "",
    "  RSS kB                         before   after    peak",
    string.format("  master (pid %d)            %-8d %-8d %d  (after its first reload: %s)", m.master.pid,
      m.master.before, m.master.after, m.master.peak, tostring(m.master.after_first_reload or "-")),
    string.format("  largest worker                 %-8d %-8d %d", m.worker_max_before, m.worker_max_after, m.worker_max_peak),
  }
  local before, after = {}, {}
  for _, w in ipairs(m.workers_before) do before[#before + 1] = w.pid .. ":" .. w.rss_kb end
  for _, w in ipairs(m.workers_after) do after[#after + 1] = w.pid .. ":" .. w.rss_kb end
  lines[#lines + 1] = "  workers before (pid:kB)        " .. table.concat(before, " ")
  lines[#lines + 1] = "  workers after  (pid:kB)        " .. table.concat(after, " ")
  lines[#lines + 1] = string.format(
    "  bounds: master growth <= %d kB (<= %d kB after its first reload), largest worker's peak <= start + %d kB",
    m.bounds.master_growth_kb, m.bounds.master_after_reload_growth_kb, m.bounds.worker_growth_kb)
  local failures = _M.failures(s)
  lines[#lines + 1] = ""
  lines[#lines + 1] = #failures == 0 and "  PASS" or ("  FAIL: " .. table.concat(failures, "; "))
  for _, e in ipairs(s.examples) do lines[#lines + 1] = "    " .. e end
  for _, e in ipairs(s.crash) do lines[#lines + 1] = "    crash: " .. e end
  return table.concat(lines, "\n") .. "\n"
end

-- Writes PREFIX.json and PREFIX.txt; returns the summary and both paths.
function _M.write(report, prefix)
  local s = _M.summary(report)
  proc.check("mkdir -p " .. proc.shell_quote(prefix:match("^(.*)/[^/]*$") or "."))
  proc.write_file(prefix .. ".json", json.encode(s, { indent = true }) .. "\n")
  proc.write_file(prefix .. ".txt", _M.table(s))
  return s, prefix .. ".json", prefix .. ".txt"
end

return _M
