#include "kube/api_status.h"

#include <cstdlib>

namespace certsync::kube {

namespace {

// Retry-After in seconds (the API server never sends the HTTP-date form);
// bounded so a confused server cannot park the watcher for hours.
std::optional<std::chrono::milliseconds> parse_retry_after(const std::map<std::string, std::string>& headers) {
  auto it = headers.find("retry-after");
  if (it == headers.end() || it->second.empty()) return std::nullopt;
  char* end = nullptr;
  const long seconds = std::strtol(it->second.c_str(), &end, 10);
  if (*end != '\0' || seconds < 0) return std::nullopt;
  return std::chrono::milliseconds(std::min(seconds, 300L) * 1000);
}

}  // namespace

ApiStatus parse_status_object(const nlohmann::json& status) {
  ApiStatus out;
  if (!status.is_object()) return out;
  if (status.contains("code") && status["code"].is_number_integer()) out.code = status["code"].get<long>();
  out.reason = status.value("reason", "");
  out.message = status.value("message", "");
  auto details = status.find("details");
  if (details != status.end() && details->is_object()) {
    auto causes = details->find("causes");
    if (causes != details->end() && causes->is_array()) {
      for (const auto& cause : *causes) {
        if (cause.is_object() && cause.value("reason", "") == "ResourceVersionTooLarge")
          out.resource_version_too_large = true;
      }
    }
  }
  return out;
}

ApiStatus parse_api_status(long http_status, const std::string& body,
                           const std::map<std::string, std::string>& headers) {
  ApiStatus out;
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.value("kind", "") == "Status") out = parse_status_object(json);
  out.code = http_status;
  out.retry_after = parse_retry_after(headers);
  return out;
}

std::string ApiStatus::describe() const {
  std::string text = "HTTP " + std::to_string(code);
  if (!reason.empty()) text += " " + reason;
  if (!message.empty()) text += ": " + message;
  return text;
}

}  // namespace certsync::kube
