package = "kong-plugin-certsync"
version = "0.1.0-1"
source = {
  url = "git+https://example.invalid/certsync.git",
  tag = "v0.1.0",
}
description = {
  summary = "Kong serves renewed Kubernetes TLS Secrets in memory, without reload",
  detailed = [[
    certsync watches TLS Secrets through the Kubernetes API (libcertsync, C++),
    validates every PEM bundle, and swaps the certificate Kong serves in the
    certificate phase: no Admin API, no reload, no restart.
  ]],
  license = "Apache-2.0",
}
dependencies = {
  "lua >= 5.1",
}
build = {
  -- libcertsync is C++ built with CMake (needs g++, cmake, libcurl, libssl,
  -- nlohmann-json and yaml-cpp development packages). Tests are not built.
  type = "command",
  build_command = [[cmake -S . -B build-rock -DCMAKE_BUILD_TYPE=Release -DCERTSYNC_BUILD_TESTS=OFF && cmake --build build-rock -j 2]],
  install_command = "true",
  install = {
    -- The certsync CLI (self-contained: it does not load libcertsync.so), into the tree's bin/.
    bin = {
      ["certsync"] = "build-rock/libcertsync/tools/certsync/certsync",
    },
    -- Into the tree's C module directory: the FFI loader walks package.cpath for it.
    lib = {
      ["libcertsync"] = "build-rock/libcertsync/libcertsync.so",
    },
    lua = {
      ["certsync.cdef"] = "build-rock/lua/certsync/cdef.lua",
      ["certsync.certificates"] = "kong-plugin/certsync/certificates.lua",
      ["certsync.clock"] = "kong-plugin/certsync/clock.lua",
      ["certsync.config_fields"] = "kong-plugin/certsync/config_fields.lua",
      ["certsync.core"] = "kong-plugin/certsync/core.lua",
      ["certsync.ffi"] = "kong-plugin/certsync/ffi.lua",
      ["certsync.gc_pace"] = "kong-plugin/certsync/gc_pace.lua",
      ["certsync.hold_history"] = "kong-plugin/certsync/hold_history.lua",
      ["certsync.json"] = "kong-plugin/certsync/json.lua",
      ["certsync.kong_config"] = "kong-plugin/certsync/kong_config.lua",
      ["certsync.log_limiter"] = "kong-plugin/certsync/log_limiter.lua",
      ["certsync.metrics"] = "kong-plugin/certsync/metrics.lua",
      ["certsync.metrics_registry"] = "kong-plugin/certsync/metrics_registry.lua",
      ["certsync.propagation"] = "kong-plugin/certsync/propagation.lua",
      ["certsync.publisher"] = "kong-plugin/certsync/publisher.lua",
      ["certsync.readiness"] = "kong-plugin/certsync/readiness.lua",
      ["certsync.sni_index"] = "kong-plugin/certsync/sni_index.lua",
      ["certsync.status"] = "kong-plugin/certsync/status.lua",
      ["certsync.status_feed"] = "kong-plugin/certsync/status_feed.lua",
      ["certsync.top_names"] = "kong-plugin/certsync/top_names.lua",
      ["certsync.uncovered"] = "kong-plugin/certsync/uncovered.lua",
      ["certsync.unpublished"] = "kong-plugin/certsync/unpublished.lua",
      ["certsync.worker_report"] = "kong-plugin/certsync/worker_report.lua",
      ["kong.plugins.certsync.api"] = "kong-plugin/kong/plugins/certsync/api.lua",
      ["kong.plugins.certsync.handler"] = "kong-plugin/kong/plugins/certsync/handler.lua",
      ["kong.plugins.certsync.schema"] = "kong-plugin/kong/plugins/certsync/schema.lua",
      ["kong.plugins.certsync.status_api"] = "kong-plugin/kong/plugins/certsync/status_api.lua",
    },
  },
}
