-- The FFI binding against the real libcertsync.so (no nginx needed).
local certsync_ffi = require "certsync.ffi"
local proc = require "spec.support.proc"

local build = os.getenv("CERTSYNC_BUILD_DIR") or "build"
local lib_path = os.getenv("CERTSYNC_LIB") or (build .. "/libcertsync/libcertsync.so")

describe("the FFI binding", function()
  setup(function() assert(certsync_ffi.load(lib_path)) end)

  it("refuses an unknown setting, naming it", function()
    local w, err = certsync_ffi.new({ server = "https://127.0.0.1:1", bogus = "1" })
    assert.is_nil(w)
    assert.matches('unknown configuration key "bogus"', err, 1, true)
  end)

  it("refuses a CA file that cannot be read, naming the file", function()
    local w, err = certsync_ffi.new({ server = "https://127.0.0.1:1", namespace = "default",
                                      ca_file = "/nonexistent/ca.crt" })
    assert.is_nil(w)
    assert.matches("ca_file /nonexistent/ca.crt cannot be read", err, 1, true)
  end)

  it("starts, reports status without secrets, and stops within a second against a dead server", function()
    local w = assert(certsync_ffi.new({ server = "https://127.0.0.1:1", namespace = "default",
                                        insecure_skip_tls_verify = "true" }))
    assert(w:start())
    assert(w:start()) -- a second start is a no-op
    assert.equal(0, w:generation())
    local status = w:status_json()
    assert.matches('"synced":false', status, 1, true)
    local started = proc.now()
    w:destroy()
    assert.is_true(proc.now() - started < 1)
  end)

  it("preloads quietly, and gives way to an explicit path until an instance is made", function()
    -- A module of its own: this file's other tests made instances already.
    package.loaded["certsync.ffi"] = nil
    local fresh = require "certsync.ffi"
    package.loaded["certsync.ffi"] = certsync_ffi
    fresh.preload("/nonexistent/libcertsync.so") -- no error: the worker will say why
    assert.is_nil(fresh.library_path())
    local copy = proc.tmpdir() .. "/libcertsync.so"
    proc.check("cp " .. proc.shell_quote(lib_path) .. " " .. proc.shell_quote(copy))
    fresh.preload(copy)
    assert.equal(copy, fresh.library_path())
    assert(fresh.load(lib_path)) -- the configured path wins over the preloaded one
    assert.equal(lib_path, fresh.library_path())
    local w = assert(fresh.new({ server = "https://127.0.0.1:1", namespace = "default",
                                 insecure_skip_tls_verify = "true" }))
    assert(fresh.load(copy)) -- an instance lives in the loaded one: it stays
    assert.equal(lib_path, fresh.library_path())
    w:destroy()
    proc.run("rm -rf " .. proc.shell_quote(copy:match("^(.*)/")))
  end)

  it("finds the library along package.cpath", function()
    local saved = package.cpath
    package.cpath = lib_path:gsub("libcertsync%.so$", "?.so") .. ";" .. saved
    local ok = certsync_ffi.load()
    package.cpath = saved
    assert.is_true(ok)
  end)
end)
