#include "secret_object.h"

#include <openssl/rand.h>

#include <cstdlib>
#include <ctime>
#include <map>

#include "base64.h"

namespace kube_test {
namespace {

const char *const kTopLevelFields[] = {"kind",     "apiVersion", "metadata",
                                       "data",     "stringData", "type",
                                       "immutable"};

// metadata fields in the order ObjectMeta declares them.
const char *const kMetadataOrder[] = {
    "name",          "generateName",     "namespace",
    "selfLink",      "uid",              "resourceVersion",
    "generation",    "creationTimestamp", "deletionTimestamp",
    "deletionGracePeriodSeconds",         "labels",
    "annotations",   "ownerReferences",  "finalizers",
    "managedFields"};

bool is_known_metadata_field(const std::string &key) {
  for (const char *k : kMetadataOrder) {
    if (key == k) return true;
  }
  return false;
}

Json sorted_map(const Json &m) {
  if (!m.is_object()) return m;
  std::map<std::string, Json> sorted;
  for (auto it = m.begin(); it != m.end(); ++it) sorted[it.key()] = it.value();
  Json out = Json::object();
  for (auto &kv : sorted) out[kv.first] = kv.second;
  return out;
}

std::string cannot_handle(const std::string &why) {
  return "Secret in version \"v1\" cannot be handled as a Secret: " + why;
}

void random_bytes(unsigned char *buf, int len) {
  if (RAND_bytes(buf, len) != 1) {
    // Test infrastructure: a weak fallback beats refusing to run.
    for (int i = 0; i < len; ++i) buf[i] = static_cast<unsigned char>(std::rand());
  }
}

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// DNS-1123 subdomain, the rule for Secret names: dot-separated labels of
// [a-z0-9-], each starting and ending with an alphanumeric, <= 253 chars.
bool is_dns_subdomain(const std::string &s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    size_t end = dot == std::string::npos ? s.size() : dot;
    if (end == start) return false;
    if (!is_lower_alnum(s[start]) || !is_lower_alnum(s[end - 1])) return false;
    for (size_t i = start; i < end; ++i) {
      if (!is_lower_alnum(s[i]) && s[i] != '-') return false;
    }
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

// Keys of Secret data: [-._a-zA-Z0-9]+, not "." or "..".
bool is_config_map_key(const std::string &s) {
  if (s.empty() || s.size() > 253 || s == "." || s == "..") return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::optional<ApiError> decode_secret(const Json &body,
                                      const std::string &url_namespace,
                                      bool strict, Json &out) {
  if (!body.is_object()) {
    return bad_request(cannot_handle("the body is not a JSON object"));
  }
  if (body.contains("kind") && body["kind"] != "Secret") {
    std::string kind = body["kind"].is_string() ? body["kind"].get<std::string>()
                                                : body["kind"].dump();
    return bad_request("the API version in the data (v1) does not match the "
                       "expected kind: got " + kind + ", expected Secret");
  }
  if (body.contains("apiVersion") && body["apiVersion"] != "v1") {
    return bad_request(cannot_handle("unexpected apiVersion " +
                                     body["apiVersion"].dump()));
  }
  if (strict) {
    for (auto it = body.begin(); it != body.end(); ++it) {
      bool known = false;
      for (const char *k : kTopLevelFields) known = known || it.key() == k;
      if (!known) {
        return bad_request("strict decoding error: unknown field \"" +
                           it.key() + "\"");
      }
    }
    if (body.contains("metadata") && body["metadata"].is_object()) {
      for (auto it = body["metadata"].begin(); it != body["metadata"].end();
           ++it) {
        if (!is_known_metadata_field(it.key())) {
          return bad_request("strict decoding error: unknown field \"metadata." +
                             it.key() + "\"");
        }
      }
    }
  }

  Json s = body;
  s["kind"] = "Secret";
  s["apiVersion"] = "v1";
  if (!s.contains("metadata") || s["metadata"].is_null()) {
    s["metadata"] = Json::object();
  }
  if (!s["metadata"].is_object()) {
    return bad_request(cannot_handle("metadata must be an object"));
  }
  Json &meta = s["metadata"];
  for (const char *str_field : {"name", "generateName", "namespace",
                                "resourceVersion", "uid"}) {
    if (meta.contains(str_field) && !meta[str_field].is_string() &&
        !meta[str_field].is_null()) {
      return bad_request(cannot_handle(std::string("metadata.") + str_field +
                                       " must be a string"));
    }
  }
  for (const char *map_field : {"labels", "annotations"}) {
    if (!meta.contains(map_field)) continue;
    if (meta[map_field].is_null()) {
      meta.erase(map_field);
      continue;
    }
    if (!meta[map_field].is_object()) {
      return bad_request(cannot_handle(std::string("metadata.") + map_field +
                                       " must be a map of strings"));
    }
    for (auto &v : meta[map_field]) {
      if (!v.is_string()) {
        return bad_request(cannot_handle(std::string("metadata.") + map_field +
                                         " values must be strings"));
      }
    }
    if (meta[map_field].empty()) meta.erase(map_field);
  }
  std::string ns;
  if (meta.contains("namespace") && meta["namespace"].is_string()) {
    ns = meta["namespace"].get<std::string>();
  }
  if (!ns.empty() && !url_namespace.empty() && ns != url_namespace) {
    return bad_request("the namespace of the provided object does not match "
                       "the namespace sent on the request");
  }
  if (!url_namespace.empty()) meta["namespace"] = url_namespace;

  Json data = Json::object();
  if (s.contains("data") && !s["data"].is_null()) {
    if (!s["data"].is_object()) {
      return bad_request(cannot_handle("data must be a map"));
    }
    for (auto it = s["data"].begin(); it != s["data"].end(); ++it) {
      if (it.value().is_null()) continue;  // Go decodes null []byte as empty.
      if (!it.value().is_string()) {
        return bad_request(cannot_handle("data[" + it.key() +
                                         "] must be a base64 string"));
      }
      auto decoded = base64_decode(it.value().get<std::string>());
      if (!decoded) {
        return bad_request(cannot_handle("illegal base64 data in data[" +
                                         it.key() + "]"));
      }
      // Re-encode so the stored form is canonical.
      data[it.key()] = base64_encode(*decoded);
    }
  }
  if (s.contains("stringData") && !s["stringData"].is_null()) {
    if (!s["stringData"].is_object()) {
      return bad_request(cannot_handle("stringData must be a map"));
    }
    for (auto it = s["stringData"].begin(); it != s["stringData"].end(); ++it) {
      if (!it.value().is_string()) {
        return bad_request(cannot_handle("stringData[" + it.key() +
                                         "] must be a string"));
      }
      data[it.key()] = base64_encode(it.value().get<std::string>());
    }
  }
  s.erase("stringData");
  if (data.empty()) {
    s.erase("data");
  } else {
    s["data"] = data;
  }
  if (!s.contains("type") || s["type"].is_null() ||
      (s["type"].is_string() && s["type"].get<std::string>().empty())) {
    s["type"] = "Opaque";
  }
  if (!s["type"].is_string()) {
    return bad_request(cannot_handle("type must be a string"));
  }
  if (s.contains("immutable") && s["immutable"].is_null()) s.erase("immutable");
  if (s.contains("immutable") && !s["immutable"].is_boolean()) {
    return bad_request(cannot_handle("immutable must be a boolean"));
  }
  out = canonical_secret(s);
  return std::nullopt;
}

std::optional<ApiError> validate_secret(const Json &secret, const Json *old) {
  const Json &meta = secret["metadata"];
  std::string name = meta.value("name", std::string());
  std::vector<StatusCause> causes;
  if (name.empty()) {
    causes.push_back({"FieldValueRequired",
                      "Required value: name or generateName is required",
                      "metadata.name"});
  } else if (!is_dns_subdomain(name)) {
    causes.push_back(
        {"FieldValueInvalid",
         "Invalid value: \"" + name +
             "\": a lowercase RFC 1123 subdomain must consist of lower case "
             "alphanumeric characters, '-' or '.', and must start and end "
             "with an alphanumeric character",
         "metadata.name"});
  }
  const Json empty = Json::object();
  const Json &data = secret.contains("data") ? secret["data"] : empty;
  size_t total = 0;
  for (auto it = data.begin(); it != data.end(); ++it) {
    if (!is_config_map_key(it.key())) {
      causes.push_back({"FieldValueInvalid",
                        "Invalid value: \"" + it.key() +
                            "\": a valid config key must consist of "
                            "alphanumeric characters, '-', '_' or '.'",
                        "data[" + it.key() + "]"});
    }
    total += it.value().get<std::string>().size() * 3 / 4;
  }
  const std::string type = secret.value("type", std::string("Opaque"));
  if (type == "kubernetes.io/tls") {
    for (const char *key : {"tls.crt", "tls.key"}) {
      if (!data.contains(key)) {
        causes.push_back({"FieldValueRequired", "Required value",
                          std::string("data[") + key + "]"});
      }
    }
  }
  if (total > 1024 * 1024) {
    causes.push_back({"FieldValueTooLong",
                      "Too long: must have at most 1048576 bytes", "data"});
  }
  if (old != nullptr) {
    const std::string old_type = old->value("type", std::string("Opaque"));
    if (old_type != type) {
      causes.push_back({"FieldValueInvalid",
                        "Invalid value: \"" + type + "\": field is immutable",
                        "type"});
    }
    if (old->value("immutable", false)) {
      const Json &old_data = old->contains("data") ? (*old)["data"] : empty;
      if (old_data != data) {
        causes.push_back({"FieldValueForbidden",
                          "Forbidden: field is immutable when `immutable` is set",
                          "data"});
      }
      if (!secret.value("immutable", false)) {
        causes.push_back({"FieldValueForbidden",
                          "Forbidden: field is immutable when `immutable` is set",
                          "immutable"});
      }
    }
  }
  if (causes.empty()) return std::nullopt;
  return invalid(name, causes);
}

Json canonical_secret(const Json &in) {
  Json out;
  out["kind"] = "Secret";
  out["apiVersion"] = "v1";
  Json meta = Json::object();
  const Json &m = in.contains("metadata") && in["metadata"].is_object()
                      ? in["metadata"]
                      : Json::object();
  for (const char *k : kMetadataOrder) {
    if (!m.contains(k) || m[k].is_null()) continue;
    if (std::string(k) == "labels" || std::string(k) == "annotations") {
      meta[k] = sorted_map(m[k]);
    } else {
      meta[k] = m[k];
    }
  }
  for (auto it = m.begin(); it != m.end(); ++it) {
    if (!meta.contains(it.key()) && !it.value().is_null()) {
      meta[it.key()] = it.value();
    }
  }
  out["metadata"] = meta;
  if (in.contains("immutable")) out["immutable"] = in["immutable"];
  if (in.contains("data") && !in["data"].empty()) {
    out["data"] = sorted_map(in["data"]);
  }
  if (in.contains("stringData")) out["stringData"] = in["stringData"];
  if (in.contains("type")) out["type"] = in["type"];
  return out;
}

bool same_content(const Json &a, const Json &b) {
  Json x = a;
  Json y = b;
  for (Json *j : {&x, &y}) {
    if ((*j).contains("metadata")) {
      (*j)["metadata"].erase("resourceVersion");
      (*j)["metadata"].erase("managedFields");
    }
  }
  return x == y;
}

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string new_uid() {
  unsigned char b[16];
  random_bytes(b, sizeof b);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += hex[b[i] >> 4];
    out += hex[b[i] & 15];
  }
  return out;
}

std::string random_name_suffix() {
  // The alphabet apimachinery's rand.String uses: no vowels, no confusables.
  static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  unsigned char b[5];
  random_bytes(b, sizeof b);
  std::string out;
  for (unsigned char c : b) out += alphabet[c % (sizeof alphabet - 1)];
  return out;
}

}  // namespace kube_test
