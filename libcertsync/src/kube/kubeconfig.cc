#include "kube/kubeconfig.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <filesystem>
#include <new>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "kube/config_files.h"
#include "util/base64.h"

namespace certsync::kube {

namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxKubeconfigBytes = 16 * 1024 * 1024;

// Thrown inside this file only; load_kubeconfig turns it into the error result.
struct LoadError {
  std::string message;
};

// Names from the file (of contexts, clusters, users, namespaces) are not
// secret; they are quoted, with control characters escaped, in messages.
std::string quote_name(const std::string& name) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (const char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

// " (line N)" for a node that knows where it came from.
std::string at_line(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return "";
  return " (line " + std::to_string(mark.line + 1) + ")";
}

// A member of a mapping, or nullopt when the node is no mapping or the member
// is absent or null (`key:` or `key: null`), which kubectl reads as unset.
std::optional<YAML::Node> member(const YAML::Node& map, const char* key) {
  if (!map.IsDefined() || !map.IsMap()) return std::nullopt;
  const YAML::Node value = map[key];
  if (!value.IsDefined() || value.IsNull()) return std::nullopt;
  return value;
}

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

// A namespace name: an RFC 1123 label.
bool is_dns_label(const std::string& name) {
  if (name.empty() || name.size() > 63) return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return name.front() != '-' && name.back() != '-';
}

// One entry of `contexts`, `clusters` or `users`: its name and its body
// (`context:`, `cluster:`, `user:`), a null node when the body is absent.
struct Named {
  std::string name;
  YAML::Node body;
};

const Named* find(const std::vector<Named>& entries, const std::string& name) {
  for (const Named& entry : entries) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

std::string names(const std::vector<Named>& entries) {
  if (entries.empty()) return "none";
  std::string out;
  for (const Named& entry : entries) {
    if (!out.empty()) out += ", ";
    out += entry.name;
  }
  return out;
}

class KubeconfigReader {
 public:
  explicit KubeconfigReader(const std::string& path) : path_(path) {
    std::error_code ec;
    const fs::path absolute = fs::absolute(fs::path(path), ec);
    base_dir_ = (ec ? fs::path(path) : absolute).parent_path();
  }

  ConnectionConfig load(const std::string& wanted_context) const {
    std::string text;
    // The file may hold tokens and keys: cleanse its bytes on every way out.
    struct Cleanse {
      std::string& text;
      ~Cleanse() { cleanse_string(text); }
    } cleanse{text};
    const int err = read_file_bounded(path_, kMaxKubeconfigBytes, text);
    if (err == EFBIG) fail("kubeconfig " + path_ + " is larger than 16 MiB");
    if (err != 0) fail("cannot read kubeconfig " + path_ + ": " + errno_text(err));

    const YAML::Node root = parse(text);
    if (!root.IsNull() && !root.IsMap()) fail("kubeconfig " + path_ + " is not a YAML mapping" + at_line(root));

    const std::vector<Named> contexts = named_list(root, "contexts", "context");
    const std::vector<Named> clusters = named_list(root, "clusters", "cluster");
    const std::vector<Named> users = named_list(root, "users", "user");

    std::string context_name = wanted_context;
    if (context_name.empty()) {
      context_name = string_field(root, "current-context", "");
      if (context_name.empty())
        fail("kubeconfig " + path_ + " has no current-context and no context was named (known: " +
             names(contexts) + ")");
    }
    const Named* context = find(contexts, context_name);
    if (context == nullptr)
      fail(std::string(wanted_context.empty() ? "current-context" : "context") + " " + quote_name(context_name) +
           " not found in " + path_ + " (known: " + names(contexts) + ")");

    const std::string context_desc = "context " + quote_name(context->name);
    const std::string cluster_name = string_field(context->body, "cluster", context_desc);
    const std::string user_name = string_field(context->body, "user", context_desc);
    const std::string namespace_name = string_field(context->body, "namespace", context_desc);

    if (cluster_name.empty()) fail(context_desc + in_file() + " names no cluster");
    const Named* cluster = find(clusters, cluster_name);
    if (cluster == nullptr)
      fail(context_desc + in_file() + " names cluster " + quote_name(cluster_name) +
           ", which is not defined (known clusters: " + names(clusters) + ")");
    // A context without a user connects anonymously (e.g. through kubectl proxy).
    const Named* user = nullptr;
    if (!user_name.empty()) {
      user = find(users, user_name);
      if (user == nullptr)
        fail(context_desc + in_file() + " names user " + quote_name(user_name) +
             ", which is not defined (known users: " + names(users) + ")");
    }
    if (!namespace_name.empty() && !is_dns_label(namespace_name))
      fail("namespace " + quote_name(namespace_name) + " of " + context_desc + in_file() +
           " is not a valid namespace name (lowercase letters, digits and '-', at most 63)");

    ConnectionConfig config;
    config.default_namespace = namespace_name;
    read_cluster(*cluster, config);
    if (user != nullptr) read_user(*user, config);
    return config;
  }

 private:
  [[noreturn]] static void fail(std::string message) { throw LoadError{std::move(message)}; }

  std::string in_file() const { return " in kubeconfig " + path_; }

  YAML::Node parse(const std::string& text) const {
    try {
      return YAML::Load(text);
    } catch (const YAML::ParserException& e) {
      std::string where;
      if (!e.mark.is_null())
        where = " at line " + std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1);
      // yaml-cpp's parser messages are fixed texts ("end of map not found"),
      // never the document's content. Its depth guard (DeepRecursion, a
      // ParserException whose type the shared library does not export) says
      // "bad file", which would mislead here.
      const std::string reason = e.msg == YAML::ErrorMsg::BAD_FILE ? "nested too deeply" : e.msg;
      fail("malformed YAML in kubeconfig " + path_ + where + ": " + reason);
    }
  }

  // The field's owner for messages: `cluster "x"`, or "" for top-level fields.
  std::string field_desc(const char* key, const std::string& owner) const {
    return std::string(key) + (owner.empty() ? "" : " of " + owner) + in_file();
  }

  std::string string_field(const YAML::Node& map, const char* key, const std::string& owner) const {
    const std::optional<YAML::Node> value = member(map, key);
    if (!value) return "";
    if (!value->IsScalar()) fail(field_desc(key, owner) + " must be a string" + at_line(*value));
    return value->Scalar();
  }

  bool bool_field(const YAML::Node& map, const char* key, const std::string& owner) const {
    const std::optional<YAML::Node> value = member(map, key);
    if (!value) return false;
    bool result = false;
    if (!value->IsScalar() || !YAML::convert<bool>::decode(*value, result))
      fail(field_desc(key, owner) + " must be true or false" + at_line(*value));
    return result;
  }

  // `contexts`, `clusters` or `users`: a list of {name, <body_key>: {...}}.
  std::vector<Named> named_list(const YAML::Node& root, const char* list_key, const char* body_key) const {
    std::vector<Named> out;
    const std::optional<YAML::Node> list = member(root, list_key);
    if (!list) return out;
    if (!list->IsSequence()) fail(std::string(list_key) + in_file() + " must be a list" + at_line(*list));
    std::set<std::string> seen;
    const std::string entry_desc = std::string("an entry of ") + list_key;
    for (YAML::const_iterator it = list->begin(); it != list->end(); ++it) {
      const YAML::Node item = *it;
      if (!item.IsMap()) fail(entry_desc + in_file() + " is not a mapping" + at_line(item));
      std::string name = string_field(item, "name", entry_desc);
      if (name.empty()) fail(entry_desc + in_file() + " has no name" + at_line(item));
      if (!seen.insert(name).second)
        fail("two " + std::string(list_key) + " are named " + quote_name(name) + in_file() + at_line(item));
      const std::optional<YAML::Node> body = member(item, body_key);
      if (body && !body->IsMap())
        fail(std::string(body_key) + " " + quote_name(name) + in_file() + ": field " + body_key +
             " must be a mapping" + at_line(*body));
      out.push_back(Named{std::move(name), body ? *body : YAML::Node()});
    }
    return out;
  }

  // A file the kubeconfig refers to, made absolute against the kubeconfig's
  // directory when relative, and readable now.
  std::string readable_path(const std::string& raw, const char* key, const std::string& owner) const {
    const fs::path given(raw);
    const std::string path = given.is_absolute() ? raw : (base_dir_ / given).lexically_normal().string();
    if (const int err = check_readable(path)) {
      std::string resolved;
      if (path != raw) resolved = " (" + quote_name(raw) + " relative to the kubeconfig's directory)";
      fail(std::string(key) + " " + path + resolved + " of " + owner + in_file() +
           " cannot be read: " + errno_text(err));
    }
    return path;
  }

  // A `*-data` field: standard base64, where line breaks are ignored as Go's
  // decoder ignores them. The caller owns (and cleanses) the result.
  std::string decode_data(const std::string& encoded, const char* key, const std::string& owner) const {
    std::string compact;
    compact.reserve(encoded.size());
    for (const char c : encoded) {
      if (c != '\n' && c != '\r') compact += c;
    }
    std::optional<std::string> decoded = base64_decode(compact);
    cleanse_string(compact);
    if (!decoded) fail(field_desc(key, owner) + " is not valid base64");
    return std::move(*decoded);
  }

  void read_cluster(const Named& cluster, ConnectionConfig& config) const {
    const std::string desc = "cluster " + quote_name(cluster.name);
    const YAML::Node& body = cluster.body;

    std::string server = string_field(body, "server", desc);
    if (server.empty()) fail(desc + in_file() + " has no server");
    const size_t scheme_end = starts_with(server, "https://") ? 8 : starts_with(server, "http://") ? 7 : 0;
    if (scheme_end == 0 || server.size() == scheme_end)
      fail("server of " + desc + in_file() + " is not an https:// URL");
    while (server.size() > scheme_end + 1 && server.back() == '/') server.pop_back();
    config.server = server;

    const std::string ca_file = string_field(body, "certificate-authority", desc);
    const std::string ca_data = string_field(body, "certificate-authority-data", desc);
    if (!ca_file.empty() && !ca_data.empty())
      fail(desc + in_file() + " sets both certificate-authority and certificate-authority-data; keep one");
    if (!ca_file.empty()) config.ca_file = readable_path(ca_file, "certificate-authority", desc);
    if (!ca_data.empty()) config.ca_pem = decode_data(ca_data, "certificate-authority-data", desc);

    config.insecure_skip_tls_verify = bool_field(body, "insecure-skip-tls-verify", desc);
    if (config.insecure_skip_tls_verify && (!ca_file.empty() || !ca_data.empty()))
      fail(desc + in_file() +
           " sets insecure-skip-tls-verify together with a certificate authority; keep one");
    config.tls_server_name = string_field(body, "tls-server-name", desc);
  }

  void read_user(const Named& user, ConnectionConfig& config) const {
    const std::string desc = "user " + quote_name(user.name);
    const YAML::Node& body = user.body;
    const char* supported = ", which certsync does not support; use a token, tokenFile or client certificate";
    if (member(body, "exec")) fail(desc + in_file() + " uses exec credentials" + supported);
    if (member(body, "auth-provider")) fail(desc + in_file() + " uses auth-provider credentials" + supported);
    if (member(body, "username") || member(body, "password"))
      fail(desc + in_file() + " uses basic authentication (username/password)" + supported);

    std::string token = string_field(body, "token", desc);
    config.token = SecretBytes(token);
    cleanse_string(token);
    const std::string token_file = string_field(body, "tokenFile", desc);
    if (!token_file.empty()) config.token_file = readable_path(token_file, "tokenFile", desc);

    const std::string cert_file = string_field(body, "client-certificate", desc);
    const std::string cert_data = string_field(body, "client-certificate-data", desc);
    const std::string key_file = string_field(body, "client-key", desc);
    std::string key_data = string_field(body, "client-key-data", desc);
    struct Cleanse {
      std::string& text;
      ~Cleanse() { cleanse_string(text); }
    } cleanse{key_data};

    if (!cert_file.empty() && !cert_data.empty())
      fail(desc + in_file() + " sets both client-certificate and client-certificate-data; keep one");
    if (!key_file.empty() && !key_data.empty())
      fail(desc + in_file() + " sets both client-key and client-key-data; keep one");
    const bool has_cert = !cert_file.empty() || !cert_data.empty();
    const bool has_key = !key_file.empty() || !key_data.empty();
    if (has_cert && !has_key)
      fail(desc + in_file() + " has a client certificate but no client-key or client-key-data");
    if (has_key && !has_cert)
      fail(desc + in_file() + " has a client key but no client-certificate or client-certificate-data");

    if (!cert_file.empty()) config.client_cert_file = readable_path(cert_file, "client-certificate", desc);
    if (!key_file.empty()) config.client_key_file = readable_path(key_file, "client-key", desc);
    if (!cert_data.empty()) config.client_cert_pem = decode_data(cert_data, "client-certificate-data", desc);
    if (!key_data.empty()) {
      std::string key = decode_data(key_data, "client-key-data", desc);
      config.client_key_pem = SecretBytes(key);
      cleanse_string(key);
    }
  }

  std::string path_;
  fs::path base_dir_;
};

}  // namespace

ConnectionResult load_kubeconfig(const std::string& path, const std::string& context_name) noexcept {
  // Nothing escapes: yaml-cpp and std::filesystem throw, and so may any allocation.
  try {
    try {
      if (path.empty()) return std::string("no kubeconfig path given");
      return KubeconfigReader(path).load(context_name);
    } catch (LoadError& e) {
      return std::move(e.message);
    } catch (const std::bad_alloc&) {
      return std::string("out of memory");  // short enough not to allocate
    } catch (const YAML::Exception& e) {
      // e.msg is yaml-cpp's own text, at most naming a key, never a value.
      std::string where;
      if (!e.mark.is_null()) where = " (line " + std::to_string(e.mark.line + 1) + ")";
      return "kubeconfig " + path + where + ": " + e.msg;
    } catch (const std::exception& e) {
      return "kubeconfig " + path + ": " + e.what();
    } catch (...) {
      return "kubeconfig " + path + ": unexpected error";
    }
  } catch (...) {
    return std::string("out of memory");
  }
}

}  // namespace certsync::kube
