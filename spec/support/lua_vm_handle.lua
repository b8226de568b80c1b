-- Loaded by tests/lua_vms/two-lua-vms into each of its two LuaJIT VMs: one
-- certsync handle per VM, made through certsync.ffi as certsync.core makes
-- it. Settings come from the environment the spec gives the program.
package.path = os.getenv("CERTSYNC_VM_LUA_PATH") .. ";" .. package.path
local certsync_ffi = require "certsync.ffi"

local watcher
local remembered = 0

local function env(name) return assert(os.getenv(name), name .. " is not set") end

function start()
  assert(certsync_ffi.load(env("CERTSYNC_LIB")))
  local w, err = certsync_ffi.new({ server = env("CERTSYNC_VM_SERVER"), ca_file = env("CERTSYNC_VM_CA"),
                                     token_file = env("CERTSYNC_VM_TOKEN"), namespace = "default" })
  assert(w, err)
  assert(w:start())
  watcher = w
end

-- Remembers the generation this VM's handle sees now.
function remember()
  remembered = watcher:generation()
end

-- Fails unless this VM's handle has seen a change since remember().
function advanced()
  assert(watcher:generation() > remembered, "no change seen yet")
end

function stop()
  watcher:destroy()
  watcher = nil
end
