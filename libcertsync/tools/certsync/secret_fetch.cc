#include "secret_fetch.h"

#include <openssl/crypto.h>

#include "bounded_get.h"
#include "exit_codes.h"
#include "kube/api_status.h"
#include "kube/credentials.h"
#include "kube/http_stream.h"

namespace certsync::cli {

namespace {

// A Secret is at most 1 MiB of data, base64 (4/3) plus metadata: 8 MiB is
// far above any real one and still bounds what a broken server can send.
constexpr size_t kMaxBody = 8u << 20;
constexpr long kConnectTimeoutMs = 10000;
constexpr long kTotalTimeoutMs = 30000;

std::string what(const std::string& namespace_name, const std::string& name) {
  return "get secret \"" + name + "\" in namespace \"" + namespace_name + "\"";
}

}  // namespace

kube::Secret fetch_secret(const kube::ConnectionConfig& connection, const std::string& namespace_name,
                          const std::string& name) {
  kube::HttpRequest request;
  request.connection = &connection;
  request.path_and_query = "/api/v1/namespaces/" + namespace_name + "/secrets/" + name;
  request.connect_timeout_ms = kConnectTimeoutMs;
  request.total_timeout_ms = kTotalTimeoutMs;
  std::string token_error;
  auto token = kube::current_token(connection, &token_error);
  if (!token) throw Failure(kConfig, token_error);
  request.bearer_token = std::move(*token);

  // The body may hold the key: whatever happens next, it is wiped on the way out.
  std::string body;
  struct Wipe {
    std::string& text;
    ~Wipe() { OPENSSL_cleanse(text.data(), text.size()); }
  } wipe{body};
  kube::HttpStream http;
  const auto [response, too_large] = bounded_get(http, request, kMaxBody, body);

  const std::string where = what(namespace_name, name) + " at " + connection.server;
  if (too_large) throw Failure(kUnreachable, where + ": the response exceeds 8 MiB");
  if (!response.transport_error.empty())
    throw Failure(kUnreachable, "cannot reach the API server: " + where + ": " + response.transport_error);
  if (response.status != 200) {
    const kube::ApiStatus status = kube::parse_api_status(response.status, body, response.headers);
    std::string message = where + ": " + status.describe();
    if (status.code == 404) throw Failure(kNotFound, message);
    if (status.code == 401)
      message += " (the API server refused the credentials: an expired token or client certificate?)";
    if (status.code == 403)
      message += " (RBAC: the identity needs \"get\" on \"secrets\" in namespace \"" + namespace_name +
                 "\", e.g. a Role with resourceNames [\"" + name + "\"])";
    throw Failure(kUnreachable, message);
  }
  auto json = nlohmann::json::parse(body, nullptr, false);
  auto decoded = kube::decode_secret(json);
  if (!json.is_discarded()) kube::cleanse_secret_data(json);
  if (auto* error = std::get_if<std::string>(&decoded))
    throw Failure(kUnreachable, where + ": the answer is not a usable Secret: " + *error);
  return std::move(std::get<kube::Secret>(decoded));
}

}  // namespace certsync::cli
