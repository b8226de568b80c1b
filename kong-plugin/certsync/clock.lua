-- certsync.clock: a monotonic clock in milliseconds, for measuring how long
-- certsync holds the event loop (ngx.now() is cached per loop iteration and
-- cannot time work done within one).
local ffi = require "ffi"

-- Declared under a name of its own (asm redirects it to libc's symbol):
-- another module of the host may have declared clock_gettime already, with
-- its own struct, and a second declaration of one name cannot coexist.
pcall(ffi.cdef, [[
  struct certsync_timespec { long tv_sec; long tv_nsec; };
  int certsync_clock_gettime(int clock_id, struct certsync_timespec *tp) __asm__("clock_gettime");
]])

local CLOCK_MONOTONIC = 1
local CLOCK_THREAD_CPUTIME_ID = 3
local ts = ffi.new("struct certsync_timespec")
local C = ffi.C
local tonumber = tonumber

local _M = {}

function _M.now_ms()
  C.certsync_clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

-- CPU time of the calling thread (the worker's event loop), in
-- milliseconds: what certsync's own work cost, without the time the
-- process waited for a core. A tick that took long on the wall clock but
-- little here was preempted, not busy.
function _M.cpu_ms()
  C.certsync_clock_gettime(CLOCK_THREAD_CPUTIME_ID, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

return _M
