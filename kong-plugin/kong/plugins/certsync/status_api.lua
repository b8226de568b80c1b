-- certsync's routes on Kong's Status API (status_listen), and through api.lua
-- on the Admin API. Kong mounts a plugin's status_api.lua for every plugin in
-- `plugins` (kong/status/init.lua) and calls each handler as
-- handler(self, {}, helpers) in its admin_api phase, where
-- kong.response.exit is allowed.
--   GET /certsync/status[?sni=NAME][&secret=ns/name]  what the node serves, per Secret and per worker
--   GET /certsync/ready     200 "ready", or 503 with a one-line reason (a readinessProbe)
--   GET /certsync/metrics   certsync's metrics alone, named as on Kong's /metrics (kong_certsync_*)
-- Never key material.
local core = require "certsync.core"

local JSON = { ["Content-Type"] = "application/json" }

return {
  ["/certsync/status"] = {
    GET = function()
      local filters, err = core.status_filters(ngx.req.get_uri_args())
      if not filters then return kong.response.exit(400, { message = err }) end
      return kong.response.exit(200, core.status_json(filters), JSON)
    end,
  },
  ["/certsync/ready"] = {
    GET = function()
      local ok, reason = core.ready()
      return kong.response.exit(ok and 200 or 503, ok and "ready\n" or ("not ready: " .. reason .. "\n"),
                                { ["Content-Type"] = "text/plain" })
    end,
  },
  ["/certsync/metrics"] = {
    GET = function()
      local text, err = core.metrics({ prefix = "kong_" })
      if not text then return kong.response.exit(503, { message = err }) end
      return kong.response.exit(200, text, { ["Content-Type"] = "text/plain; version=0.0.4" })
    end,
  },
}
