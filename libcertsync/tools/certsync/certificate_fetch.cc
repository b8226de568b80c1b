#include "certificate_fetch.h"

#include "bounded_get.h"
#include "kube/api_status.h"
#include "kube/credentials.h"
#include "kube/http_stream.h"
#include "kube/scope.h"

namespace certsync::cli {

namespace {

constexpr size_t kMaxBody = 32u << 20;  // a page of 500 Certificates is far below
constexpr long kConnectTimeoutMs = 10000;
constexpr long kTotalTimeoutMs = 30000;

}  // namespace

CertificateLookup find_certificates(const kube::ConnectionConfig& connection, const std::string& namespace_name,
                                    const std::string& secret_name) {
  CertificateLookup out;
  std::string continue_token;
  kube::HttpStream http;
  do {
    kube::HttpRequest request;
    request.connection = &connection;
    request.path_and_query = "/apis/cert-manager.io/v1/namespaces/" + kube::query_escape(namespace_name) +
                             "/certificates?limit=500" +
                             (continue_token.empty() ? "" : "&continue=" + kube::query_escape(continue_token));
    request.connect_timeout_ms = kConnectTimeoutMs;
    request.total_timeout_ms = kTotalTimeoutMs;
    std::string token_error;
    if (auto token = kube::current_token(connection, &token_error)) request.bearer_token = std::move(*token);
    std::string body;
    const auto [response, too_large] = bounded_get(http, request, kMaxBody, body);
    if (too_large) {
      out.note = "the list of Certificates exceeds 32 MiB";
      return out;
    }
    if (!response.transport_error.empty()) {
      out.note = "cannot list Certificates: " + response.transport_error;
      return out;
    }
    if (response.status != 200) {
      const kube::ApiStatus status = kube::parse_api_status(response.status, body, response.headers);
      out.absent = status.code == 404;
      out.note = status.code == 404 ? "cert-manager's Certificate CRD is not installed (HTTP 404)"
                 : status.code == 403
                     ? "RBAC does not allow list on certificates.cert-manager.io in namespace " + namespace_name +
                           " (HTTP 403)"
                     : "cannot list Certificates: " + status.describe();
      return out;
    }
    auto json = nlohmann::json::parse(body, nullptr, false);
    if (!json.is_object() || !json.contains("items") || !json["items"].is_array()) {
      out.note = "the list of Certificates is not a CertificateList";
      return out;
    }
    for (const auto& item : json["items"]) {
      auto decoded = certmanager::decode_certificate(item);
      if (auto* c = std::get_if<certmanager::Certificate>(&decoded)) {
        if (c->secret_name == secret_name) out.certificates.push_back(std::move(*c));
      }
    }
    continue_token = json.value("metadata", nlohmann::json::object()).value("continue", "");
  } while (!continue_token.empty());
  return out;
}

bool renewal_overdue(const certmanager::Certificate& c, int64_t now) {
  const bool ready = c.ready && c.ready->status == "True";
  return c.renewal_time > 0 && now >= c.renewal_time && (!ready || c.last_failure_time > 0);
}

}  // namespace certsync::cli
