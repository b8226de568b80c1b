#include "output.h"

#include <algorithm>
#include <ctime>

#include "exit_codes.h"

namespace certsync::cli {

std::string rfc3339(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  if (gmtime_r(&t, &utc) == nullptr) return std::to_string(unix_seconds);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string relative_to_now(int64_t unix_seconds) {
  const int64_t delta = unix_seconds - static_cast<int64_t>(std::time(nullptr));
  const int64_t size = delta < 0 ? -delta : delta;
  std::string amount;
  if (size >= 2 * 86400) {
    amount = std::to_string(size / 86400) + " days";
  } else if (size >= 2 * 3600) {
    amount = std::to_string(size / 3600) + " hours";
  } else if (size >= 120) {
    amount = std::to_string(size / 60) + " minutes";
  } else {
    amount = std::to_string(size) + " seconds";
  }
  return delta < 0 ? amount + " ago" : "in " + amount;
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

const char* exit_code_name(int code) {
  switch (code) {
    case kOk: return "ok";
    case kRefused: return "refused";
    case kUsage: return "usage";
    case kMismatch: return "mismatch";
    case kUnreachable: return "unreachable";
    case kNotFound: return "not_found";
    case kConfig: return "config";
    default: return "internal";
  }
}

void Fields::print(std::FILE* out) const {
  size_t width = 0;
  for (const auto& row : rows_) width = std::max(width, row.first.size());
  for (const auto& [label, value] : rows_)
    std::fprintf(out, "%-*s  %s\n", static_cast<int>(width), label.c_str(), value.c_str());
  std::fflush(out);
}

void print_json(const nlohmann::json& document) {
  // error_handler replace: a name with invalid UTF-8 must not abort the dump.
  std::printf("%s\n", document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  std::fflush(stdout);
}

void print_json_line(const nlohmann::json& document) {
  std::printf("%s\n", document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  std::fflush(stdout);
}

int fail(const Context& context, int code, const std::string& message) {
  if (context.json) {
    print_json({{"error", message}, {"exit_code", code}, {"result", exit_code_name(code)}});
  } else {
    std::fprintf(stderr, "certsync: %s\n", message.c_str());
  }
  return code;
}

}  // namespace certsync::cli
