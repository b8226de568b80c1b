#include "status_fetch.h"

#include "exit_codes.h"
#include "kube/connection_config.h"
#include "kube/http_stream.h"

namespace certsync::cli {

namespace {

// The status of one name is a few KB; of a whole node at 50,000 Secrets,
// tens of MB. Bounded all the same, against a wrong URL streaming forever.
constexpr size_t kMaxBody = 256u << 20;
constexpr long kConnectTimeoutMs = 5000;
constexpr long kTotalTimeoutMs = 60000;

bool unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '*';
}

}  // namespace

std::string sni_query(const std::string& name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string query = "?sni=";
  for (unsigned char c : name) {
    if (unreserved(c)) {
      query += static_cast<char>(c);
    } else {
      query += '%';
      query += kHex[c >> 4];
      query += kHex[c & 15];
    }
  }
  return query;
}

nlohmann::json fetch_status(const std::string& base_url, const std::string& query) {
  std::string server = base_url;
  while (!server.empty() && server.back() == '/') server.pop_back();
  kube::ConnectionConfig connection;
  connection.server = server;
  kube::HttpRequest request;
  request.connection = &connection;
  request.path_and_query = "/certsync/status" + query;
  request.connect_timeout_ms = kConnectTimeoutMs;
  request.total_timeout_ms = kTotalTimeoutMs;

  std::string body;
  bool too_large = false;
  kube::HttpStream http;
  const kube::HttpResponse response = http.get(request, [&](long, std::string_view bytes) {
    if (body.size() + bytes.size() > kMaxBody) {
      too_large = true;
      return false;
    }
    body.append(bytes);
    return true;
  });
  const std::string where = "the status at " + server + "/certsync/status";
  if (too_large) throw Failure(kUnreachable, where + ": the answer exceeds 256 MiB");
  if (!response.transport_error.empty())
    throw Failure(kUnreachable, "cannot read " + where + ": " + response.transport_error);
  if (response.status != 200) {
    throw Failure(kUnreachable, where + " answered HTTP " + std::to_string(response.status) +
                                    " (is this Kong's Status API with the certsync plugin?)");
  }
  nlohmann::json status = nlohmann::json::parse(body, nullptr, false);
  if (!status.is_object() || !status.contains("node")) {
    throw Failure(kUnreachable, where + " is not certsync's status (no \"node\" in the answer)");
  }
  return status;
}

}  // namespace certsync::cli
