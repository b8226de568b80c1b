#include "certmanager/certificate.h"

#include <cstdio>
#include <ctime>

namespace certsync::certmanager {

namespace {

std::string text(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int64_t integer(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return 0;
  auto it = object.find(key);
  return it != object.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

int64_t time_of(const nlohmann::json& object, const char* key) {
  return parse_rfc3339(text(object, key)).value_or(0);
}

const nlohmann::json& member(const nlohmann::json& object, const char* key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it != object.end() ? *it : kNull;
}

nlohmann::json condition_json(const Condition& c) {
  return {{"status", c.status},
          {"reason", c.reason},
          {"message", c.message},
          {"last_transition_time", c.last_transition_time}};
}

}  // namespace

std::optional<int64_t> parse_rfc3339(const std::string& text) {
  int year, month, day, hour, minute, second, consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute, &second,
                  &consumed) != 6 ||
      consumed != 19)
    return std::nullopt;
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  }
  int64_t offset = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos + 6 == text.size() && (text[pos] == '+' || text[pos] == '-') && text[pos + 3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset = (text[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  std::tm broken_down{};
  broken_down.tm_year = year - 1900;
  broken_down.tm_mon = month - 1;
  broken_down.tm_mday = day;
  broken_down.tm_hour = hour;
  broken_down.tm_min = minute;
  broken_down.tm_sec = second;
  return static_cast<int64_t>(timegm(&broken_down)) - offset;
}

std::variant<Certificate, std::string> decode_certificate(const nlohmann::json& object) {
  const nlohmann::json& metadata = member(object, "metadata");
  Certificate c;
  c.namespace_name = text(metadata, "namespace");
  c.name = text(metadata, "name");
  if (c.name.empty() || c.namespace_name.empty()) return std::string("a Certificate without metadata.name/namespace");
  c.uid = text(metadata, "uid");
  c.resource_version = text(metadata, "resourceVersion");
  c.generation = integer(metadata, "generation");
  const nlohmann::json& spec = member(object, "spec");
  c.secret_name = text(spec, "secretName");
  if (c.secret_name.empty()) return "Certificate " + c.id() + ": spec.secretName is missing";
  const nlohmann::json& issuer = member(spec, "issuerRef");
  const std::string issuer_kind = text(issuer, "kind");
  c.issuer = (issuer_kind.empty() ? std::string("Issuer") : issuer_kind) + "/" + text(issuer, "name");
  const nlohmann::json& status = member(object, "status");
  for (const auto& condition : member(status, "conditions")) {
    const std::string type = text(condition, "type");
    if (type != "Ready" && type != "Issuing") continue;
    Condition parsed{text(condition, "status"), text(condition, "reason"), text(condition, "message"),
                     time_of(condition, "lastTransitionTime")};
    (type == "Ready" ? c.ready : c.issuing) = std::move(parsed);
  }
  c.not_before = time_of(status, "notBefore");
  c.not_after = time_of(status, "notAfter");
  c.renewal_time = time_of(status, "renewalTime");
  c.last_failure_time = time_of(status, "lastFailureTime");
  c.revision = integer(status, "revision");
  c.failed_issuance_attempts = integer(status, "failedIssuanceAttempts");
  return c;
}

nlohmann::json to_json(const Certificate& c) {
  nlohmann::json out = {{"id", c.id()},
                        {"namespace", c.namespace_name},
                        {"name", c.name},
                        {"uid", c.uid},
                        {"resource_version", c.resource_version},
                        {"generation", c.generation},
                        {"secret", c.secret_id()},
                        {"issuer", c.issuer},
                        {"not_before", c.not_before},
                        {"not_after", c.not_after},
                        {"renewal_time", c.renewal_time},
                        {"last_failure_time", c.last_failure_time},
                        {"revision", c.revision},
                        {"failed_issuance_attempts", c.failed_issuance_attempts}};
  if (c.ready) out["ready"] = condition_json(*c.ready);
  if (c.issuing) out["issuing"] = condition_json(*c.issuing);
  return out;
}

}  // namespace certsync::certmanager
