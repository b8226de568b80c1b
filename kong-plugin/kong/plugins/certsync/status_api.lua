-- GET /certsync/status on Kong's Status API (status_listen) and, through
-- api.lua, on the Admin API: what the answering worker serves, the watcher's
-- owner, and the watcher's view of every Secret (certsync.core.status_json;
-- never key material).
local core = require "certsync.core"

return {
  ["/certsync/status"] = {
    GET = function()
      return kong.response.exit(200, core.status_json(), { ["Content-Type"] = "application/json" })
    end,
  },
}
