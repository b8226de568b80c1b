-- Processes and waiting, for the specs: run a command, start one in the
-- background, and wait on a condition with a deadline (never sleep-and-hope).
local _M = {}

function _M.shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Runs a shell command; returns its stdout and whether it exited 0.
function _M.run(cmd)
  local pipe = assert(io.popen(cmd .. " 2>&1; echo \"__rc=$?\""))
  local out = pipe:read("*a")
  pipe:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return out:gsub("__rc=%d+%s*$", ""), rc == 0, rc
end

-- Runs a command and fails the test when it does not exit 0.
function _M.check(cmd)
  local out, ok, rc = _M.run(cmd)
  if not ok then error("command failed (exit " .. tostring(rc) .. "): " .. cmd .. "\n" .. out, 2) end
  return out
end

-- Starts a command in the background with its output in `log_file`; returns its pid.
function _M.spawn(cmd, log_file)
  local out = _M.check("(" .. cmd .. ") >" .. _M.shell_quote(log_file) .. " 2>&1 & echo $!")
  return assert(tonumber(out:match("(%d+)")), "no pid from: " .. out)
end

function _M.alive(pid)
  local _, ok = _M.run("kill -0 " .. pid)
  return ok
end

function _M.kill(pid, signal)
  _M.run("kill -" .. (signal or "TERM") .. " " .. pid)
end

-- The specs run under LuaJIT: the clock and the poll interval come from libc.
local ffi = require "ffi"
ffi.cdef [[
  struct certsync_spec_timespec { long tv_sec; long tv_nsec; };
  int clock_gettime(int clock_id, struct certsync_spec_timespec *tp);
  int poll(void *fds, unsigned long nfds, int timeout);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("struct certsync_spec_timespec")

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end
_M.now = now

-- The interval between two looks at a condition, not a wait for an outcome.
local function poll_interval()
  ffi.C.poll(nil, 0, 20)
end

-- Calls fn until it returns a truthy value or `seconds` pass; returns that
-- value, or raises an error naming what was awaited (and fn's last answer).
function _M.wait_until(what, seconds, fn)
  local deadline = now() + seconds
  local last
  repeat
    local value, detail = fn()
    if value then return value end
    last = detail
    poll_interval()
  until now() > deadline
  error("timed out after " .. seconds .. " s waiting for " .. what ..
        (last and (": " .. tostring(last)) or ""), 2)
end

function _M.read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("*a")
  f:close()
  return s
end

function _M.write_file(path, content)
  local f = assert(io.open(path, "wb"))
  f:write(content)
  f:close()
end

function _M.tmpdir()
  return (_M.check("mktemp -d /tmp/certsync-spec.XXXXXX"):gsub("%s+$", ""))
end

return _M
