// ApiStatus: what an API server said when it did not answer with data: the
// HTTP status, the Kubernetes Status body (reason, message, causes) and a
// Retry-After header. Built from a failed response or an ERROR watch event.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace certsync::kube {

struct ApiStatus {
  long code = 0;                 // HTTP status, or the Status object's code
  std::string reason;            // e.g. Expired, Forbidden, TooManyRequests
  std::string message;
  bool resource_version_too_large = false;  // a cause with reason ResourceVersionTooLarge
  std::optional<std::chrono::milliseconds> retry_after;

  // "HTTP 403 Forbidden: secrets is forbidden: …" (no body text when there was none).
  std::string describe() const;
};

ApiStatus parse_api_status(long http_status, const std::string& body,
                           const std::map<std::string, std::string>& headers);
// From the object of an ERROR watch event (a Status).
ApiStatus parse_status_object(const nlohmann::json& status);

}  // namespace certsync::kube
