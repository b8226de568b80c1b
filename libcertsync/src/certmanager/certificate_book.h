// CertificateBook: the cert-manager Certificates the watchers see, by id,
// and whether each watched scope can see them at all (the CRD may be
// absent, RBAC may not grant list/watch).
//
// The watcher threads write; the caller's event loop reads certificates_json()
// at most once per change: the JSON is rendered by the writer's next reader
// only when the version moved, and a reader that knows the version gets
// nothing. Joining a Certificate with its Secret and with what the workers
// serve happens where all three are known, in the plugin (certsync.certificates).
// Thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "certmanager/certificate.h"

namespace certsync::certmanager {

class CertificateBook {
 public:
  explicit CertificateBook(size_t scope_count) : scopes_(scope_count) {}

  // A complete LIST of scope `scope_index` (namespace `namespace_name`, ""
  // for all): its Certificates absent from it are gone.
  void replace_all(size_t scope_index, const std::string& namespace_name, std::vector<Certificate> certificates);
  void apply(Certificate certificate);
  void remove(const std::string& id);
  // Scope `scope_index` can (not) watch Certificates; `reason` says why not.
  // Returns whether this is news worth a log line: the first scope to lose
  // them for this reason's HTTP status, or a scope that got them back.
  // A scope that loses them forgets its Certificates.
  bool set_available(size_t scope_index, const std::string& namespace_name, bool available,
                     const std::string& reason);

  uint64_t version() const;
  // The Certificates as a JSON array (certificate.h's to_json, sorted by id),
  // when the version differs from `known`; null otherwise. `version` gets
  // the current version.
  std::shared_ptr<const std::string> certificates_json(uint64_t known, uint64_t* version);
  // The node-wide summary: {watching, reason?, certificates (count), version,
  // scopes_unavailable}.
  nlohmann::json summary() const;
  size_t size() const;

 private:
  struct ScopeState {
    bool listed = false;
    std::string unavailable;  // why not, "" while available
  };
  static bool in_namespace(const std::string& id, const std::string& namespace_name);
  void changed_locked() { ++version_; }

  mutable std::mutex mutex_;
  std::map<std::string, Certificate> certificates_;
  std::vector<ScopeState> scopes_;
  uint64_t version_ = 1;
  uint64_t rendered_version_ = 0;
  std::shared_ptr<const std::string> rendered_;
};

}  // namespace certsync::certmanager
