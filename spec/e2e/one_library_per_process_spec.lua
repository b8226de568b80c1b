-- A Kong worker has two Lua VMs, http and stream, and both run init_worker:
-- they load the same libcertsync.so, and starting it in both must not open
-- two watches. tests/lua_vms/two-lua-vms is such a process: two LuaJIT VMs,
-- each loading the library through certsync.ffi.
local proc = require "spec.support.proc"
local kube = require "spec.support.kube"
local certs = require "spec.support.certs"
local q = proc.shell_quote

local HARNESS = kube.build_dir .. "/tests/lua_vms/two-lua-vms"

-- The harness, driven through a FIFO; send() waits for its answer.
local function start_harness(dir, api)
  local fifo, out = dir .. "/commands", dir .. "/answers"
  proc.check("mkfifo " .. q(fifo))
  local env = {
    CERTSYNC_VM_LUA_PATH = kube.root .. "/?.lua;" .. kube.root .. "/kong-plugin/?.lua;" .. kube.build_dir .. "/lua/?.lua",
    CERTSYNC_LIB = os.getenv("CERTSYNC_LIB") or (kube.build_dir .. "/libcertsync/libcertsync.so"),
    CERTSYNC_VM_SERVER = api.url, CERTSYNC_VM_CA = api.ca_file, CERTSYNC_VM_TOKEN = api.token_file,
    -- make e2e-asan: the sanitizer runtime, into this process as into nginx.
    LD_PRELOAD = os.getenv("CERTSYNC_LIB_PRELOAD"),
  }
  local assignments = {}
  for k, v in pairs(env) do assignments[#assignments + 1] = k .. "=" .. q(v) end
  local pid = proc.spawn("env " .. table.concat(assignments, " ") .. " " .. q(HARNESS) .. " " ..
    q(kube.root .. "/spec/support/lua_vm_handle.lua") .. " < " .. q(fifo), out)
  local writer = assert(io.open(fifo, "w"))
  local answered = 0
  local harness = { pid = pid }
  function harness.send(command)
    writer:write(command, "\n")
    writer:flush()
    answered = answered + 1
    local answer
    proc.wait_until("an answer to " .. command, 10, function()
      local lines = {}
      for l in (proc.read_file(out) or ""):gmatch("[^\n]+") do lines[#lines + 1] = l end
      answer = lines[answered]
      return answer ~= nil
    end)
    return answer
  end
  function harness.close()
    pcall(writer.write, writer, "quit\n")
    pcall(writer.close, writer)
    proc.wait_until("the harness to exit", 10, function() return not proc.alive(pid) end)
  end
  return harness
end

describe("two LuaJIT VMs in one process", function()
  local dir, api, harness

  setup(function()
    dir = proc.tmpdir()
    api = kube.start(dir .. "/api")
    harness = start_harness(dir, api)
  end)

  teardown(function()
    if harness then harness.close() end
    if api then api:stop() end
    proc.run("rm -rf " .. q(dir))
  end)

  it("load one library and open one watch between them, which lasts until the last handle stops", function()
    assert.equal("ok", harness.send("1 start"))
    proc.wait_until("the first VM's watch", 10, function() return api:watch_counters().open_watches == 1 end)
    assert.equal("ok", harness.send("2 start"))
    assert.equal("ok", harness.send("2 remember"))
    -- A change both VMs see proves the second handle is live...
    local a = certs.make(dir, "a", { "app.example.test" })
    api:apply_tls_secret("app-tls", a.crt, a.key)
    proc.wait_until("the second VM to see the Secret", 10, function() return harness.send("2 advanced") == "ok" end)
    -- ...on the first VM's watch: still one stream, never a second.
    assert.same({ watch = 1, open_watches = 1 }, api:watch_counters())

    -- The first VM stops (its worker's stream side exits): the second keeps
    -- following changes on the same watch.
    assert.equal("ok", harness.send("1 stop"))
    assert.equal("ok", harness.send("2 remember"))
    local b = certs.make(dir, "b", { "app.example.test" })
    api:apply_tls_secret("app-tls", b.crt, b.key)
    proc.wait_until("the second VM to see the renewal", 10, function() return harness.send("2 advanced") == "ok" end)
    assert.same({ watch = 1, open_watches = 1 }, api:watch_counters())

    assert.equal("ok", harness.send("2 stop"))
    proc.wait_until("the watch to close with the last handle", 10, function()
      return api:watch_counters().open_watches == 0
    end)
  end)
end)
