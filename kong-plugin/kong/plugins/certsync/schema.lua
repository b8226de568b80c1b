-- Configuration of the certsync plugin. Global only: it serves certificates
-- for a whole node, in the certificate phase, where Kong runs global plugins only.
local typedefs = require "kong.db.schema.typedefs"

return {
  name = "certsync",
  fields = {
    { consumer = typedefs.no_consumer },
    { route = typedefs.no_route },
    { service = typedefs.no_service },
    { protocols = typedefs.protocols_http },
    { config = {
        type = "record",
        fields = {
          { api_server = { type = "string", required = true, match = "^https?://",
              description = "URL of the Kubernetes API server, e.g. https://10.0.0.1:443." } },
          { ca_file = { type = "string", required = true, default = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
              description = "PEM file of the CA that signs the API server's certificate." } },
          { token_file = { type = "string", required = true, default = "/var/run/secrets/kubernetes.io/serviceaccount/token",
              description = "File holding the bearer token; re-read on every request as it rotates." } },
          { namespace = { type = "string", required = true, match = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
              description = "Namespace whose TLS Secrets are watched." } },
          { deletion_policy = { type = "string", required = true, default = "keep", one_of = { "keep", "remove" },
              description = "What a deleted Secret does: keep serving its last good certificate, or stop." } },
          { library_path = { type = "string", required = false,
              description = "Path of libcertsync.so; found along package.cpath when unset." } },
        },
    } },
  },
}
