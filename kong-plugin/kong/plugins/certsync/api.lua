-- The Admin API serves the same read-only status as the Status API.
return require "kong.plugins.certsync.status_api"
