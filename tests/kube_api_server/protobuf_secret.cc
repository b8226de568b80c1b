#include "protobuf_secret.h"

#include "base64.h"
#include "protobuf_reader.h"

namespace kube_test {
namespace {

constexpr std::string_view kMagic("k8s\0", 4);

// One map<string, X> entry: {1 key, 2 value}.
bool read_map_entry(std::string_view entry, std::string &key,
                    std::string &value) {
  ProtobufReader r(entry);
  while (r.next()) {
    if (r.field() == 1 && r.wire_type() == ProtobufReader::kLengthDelimited) {
      if (!r.read_string(key)) return false;
    } else if (r.field() == 2 &&
               r.wire_type() == ProtobufReader::kLengthDelimited) {
      if (!r.read_string(value)) return false;
    } else if (!r.skip()) {
      return false;
    }
  }
  return r.ok();
}

std::optional<std::string> read_object_meta(std::string_view bytes,
                                            Json &meta) {
  ProtobufReader r(bytes);
  while (r.next()) {
    const uint32_t f = r.field();
    const bool ld = r.wire_type() == ProtobufReader::kLengthDelimited;
    const char *string_field = nullptr;
    switch (f) {
      case 1: string_field = "name"; break;
      case 2: string_field = "generateName"; break;
      case 3: string_field = "namespace"; break;
      case 5: string_field = "uid"; break;
      case 6: string_field = "resourceVersion"; break;
      default: break;
    }
    if (string_field != nullptr && ld) {
      std::string v;
      if (!r.read_string(v)) return "truncated ObjectMeta field";
      if (!v.empty()) meta[string_field] = v;
    } else if ((f == 11 || f == 12) && ld) {
      std::string_view entry;
      if (!r.read_bytes(entry)) return "truncated ObjectMeta map";
      std::string key, value;
      if (!read_map_entry(entry, key, value)) return "malformed map entry";
      meta[f == 11 ? "labels" : "annotations"][key] = value;
    } else if (!r.skip()) {
      return "malformed ObjectMeta";
    }
  }
  if (!r.ok()) return "malformed ObjectMeta";
  return std::nullopt;
}

std::optional<std::string> read_secret(std::string_view bytes, Json &out) {
  Json metadata = Json::object();
  Json data = Json::object();
  Json string_data = Json::object();
  ProtobufReader r(bytes);
  while (r.next()) {
    const uint32_t f = r.field();
    const bool ld = r.wire_type() == ProtobufReader::kLengthDelimited;
    if (f == 1 && ld) {
      std::string_view m;
      if (!r.read_bytes(m)) return "truncated Secret.metadata";
      if (auto err = read_object_meta(m, metadata)) return err;
    } else if ((f == 2 || f == 4) && ld) {
      std::string_view entry;
      if (!r.read_bytes(entry)) return "truncated Secret map";
      std::string key, value;
      if (!read_map_entry(entry, key, value)) return "malformed map entry";
      if (f == 2) {
        data[key] = base64_encode(value);
      } else {
        string_data[key] = value;
      }
    } else if (f == 3 && ld) {
      std::string type;
      if (!r.read_string(type)) return "truncated Secret.type";
      out["type"] = type;
    } else if (f == 5 && r.wire_type() == ProtobufReader::kVarint) {
      uint64_t v = 0;
      if (!r.read_varint(v)) return "truncated Secret.immutable";
      out["immutable"] = v != 0;
    } else if (!r.skip()) {
      return "malformed Secret";
    }
  }
  if (!r.ok()) return "malformed Secret";
  out["metadata"] = metadata;
  if (!data.empty()) out["data"] = data;
  if (!string_data.empty()) out["stringData"] = string_data;
  return std::nullopt;
}

}  // namespace

std::optional<std::string> decode_protobuf_secret(std::string_view body,
                                                  Json &out) {
  if (body.size() < kMagic.size() || body.substr(0, kMagic.size()) != kMagic) {
    return "missing the k8s\\0 protobuf prefix";
  }
  ProtobufReader r(body.substr(kMagic.size()));
  std::string api_version, kind, content_encoding, content_type;
  std::string_view raw;
  bool have_raw = false;
  while (r.next()) {
    const bool ld = r.wire_type() == ProtobufReader::kLengthDelimited;
    if (r.field() == 1 && ld) {
      std::string_view type_meta;
      if (!r.read_bytes(type_meta)) break;
      ProtobufReader t(type_meta);
      while (t.next()) {
        if (t.field() == 1 && t.wire_type() == ProtobufReader::kLengthDelimited) {
          if (!t.read_string(api_version)) break;
        } else if (t.field() == 2 &&
                   t.wire_type() == ProtobufReader::kLengthDelimited) {
          if (!t.read_string(kind)) break;
        } else if (!t.skip()) {
          break;
        }
      }
      if (!t.ok()) return "malformed runtime.Unknown.typeMeta";
    } else if (r.field() == 2 && ld) {
      if (!r.read_bytes(raw)) break;
      have_raw = true;
    } else if (r.field() == 3 && ld) {
      if (!r.read_string(content_encoding)) break;
    } else if (r.field() == 4 && ld) {
      if (!r.read_string(content_type)) break;
    } else if (!r.skip()) {
      break;
    }
  }
  if (!r.ok()) return "malformed runtime.Unknown envelope";
  if (!have_raw) return "runtime.Unknown without raw bytes";
  if (!content_encoding.empty()) {
    return "unsupported contentEncoding \"" + content_encoding + "\"";
  }
  if (!kind.empty() && kind != "Secret") {
    return "only Secret is served here, got kind \"" + kind + "\"";
  }
  if (!api_version.empty() && api_version != "v1") {
    return "unexpected apiVersion \"" + api_version + "\"";
  }
  out = Json::object();
  out["kind"] = "Secret";
  out["apiVersion"] = "v1";
  return read_secret(raw, out);
}

}  // namespace kube_test
