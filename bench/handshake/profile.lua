-- Where a certsync nginx's worker CPU goes during a load, from perf samples
-- (software clock, call chains unwound with DWARF: the Debian builds have no
-- frame pointers). Shares come from one recording of one process set, so
-- they hold on a noisy machine where CPU per handshake between two runs
-- does not. Each sample is charged to the first of these found in its chain:
--   set_priv_key, set_cert, clear_certs, server_name   (ngx.ssl's FFI entry points)
--   hook   the rest of ssl_certificate_by_lua: fake connection and request,
--          the coroutine, the Lua code itself (lookup, FFI glue)
--   lua (unattributed)   Lua frames whose caller perf could not unwind
--   certsync library     libcertsync.so (the watcher thread)
--   everything else      the handshake and connection nginx does anyway
local proc = require "spec.support.proc"
local q = proc.shell_quote

local _M = {}

local ENTRY_POINTS = {
  { "ngx_http_lua_ffi_set_priv_key", "set_priv_key" },
  { "ngx_http_lua_ffi_set_cert", "set_cert" },
  { "ngx_http_lua_ffi_ssl_clear_certs", "clear_certs" },
  { "ngx_http_lua_ffi_ssl_server_name", "server_name" },
}
_M.CLASSES = { "set_priv_key", "set_cert", "clear_certs", "server_name", "hook", "lua (unattributed)",
               "certsync library", "everything else" }

function _M.available()
  local out = proc.run("perf record -e cpu-clock -o /dev/null -- true 2>&1")
  return out:find("Captured", 1, true) ~= nil
end

local function classify(frames)
  for _, entry in ipairs(ENTRY_POINTS) do
    for _, f in ipairs(frames) do if f.sym == entry[1] then return entry[2] end end
  end
  local lua = false
  for _, f in ipairs(frames) do
    if f.sym == "ngx_http_lua_ssl_cert_handler" then return "hook" end
    if f.dso:find("libcertsync", 1, true) then return "certsync library" end
    if f.dso:find("luajit", 1, true) or f.dso:find("^perf%-") or f.dso:find("^%[JIT%]") then lua = true end
  end
  return lua and "lua (unattributed)" or "everything else"
end

-- Records `pids` while run() drives the load; returns { [class] = share } and the sample count.
function _M.record(dir, pids, run)
  local data = dir .. "/perf.data"
  local pid = proc.spawn(string.format("exec perf record -q -e cpu-clock -F 2000 --call-graph dwarf,16384 -p %s -o %s",
    table.concat(pids, ","), q(data)), dir .. "/perf.log")
  proc.wait_until("perf to start recording", 10, function()
    return (proc.read_file(dir .. "/perf.data") or ""):len() > 0
  end)
  local ok, err = pcall(run)
  proc.kill(pid, "INT")
  proc.wait_until("perf to write its data", 60, function() return not proc.alive(pid) end)
  if not ok then error(err, 0) end
  local counts, total = {}, 0
  local pipe = assert(io.popen("perf script -i " .. q(data) .. " -F ip,sym,dso 2>/dev/null"))
  local frames = {}
  local function flush()
    if #frames > 0 then
      local class = classify(frames)
      counts[class] = (counts[class] or 0) + 1
      total = total + 1
      frames = {}
    end
  end
  for line in pipe:lines() do
    if line:match("^%s*$") then
      flush()
    else
      local sym, dso = line:match("^%s*%x+%s+(%S+).-%((.-)%)%s*$")
      if sym then frames[#frames + 1] = { sym = sym:gsub("%+0x%x+$", ""), dso = dso:match("([^/]*)$") } end
    end
  end
  flush()
  pipe:close()
  os.remove(data)
  local shares = {}
  for _, class in ipairs(_M.CLASSES) do shares[class] = (counts[class] or 0) / math.max(total, 1) end
  return shares, total
end

return _M
