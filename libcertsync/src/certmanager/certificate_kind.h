// CertificateKind: cert-manager's Certificates (cert-manager.io/v1) of one
// namespace, or of all, watched with the same Watcher as the Secrets and
// kept in a CertificateBook. Optional: without the CRD (404) or without
// list/watch on it (403) the watch switches off and serving goes on.
#pragma once

#include <vector>

#include "certmanager/certificate_book.h"
#include "kube/watched_kind.h"
#include "util/log_queue.h"

namespace certsync::certmanager {

class CertificateKind : public kube::WatchedKind {
 public:
  // namespace_name: "" for every namespace.
  CertificateKind(std::string namespace_name, size_t scope_index, CertificateBook& book, LogQueue& log)
      : namespace_name_(std::move(namespace_name)), scope_index_(scope_index), book_(book), log_(log) {}

  const char* resource() const override { return "certificates"; }
  const char* group() const override { return "cert-manager.io"; }
  std::string describe() const override;
  std::string collection_path() const override;
  std::string selector_query() const override { return ""; }
  std::string namespace_name() const override { return namespace_name_; }
  bool optional() const override { return true; }

  void list_page(std::shared_ptr<nlohmann::json> items) override;
  std::string list_completed() override;
  void list_abandoned() override { listed_.clear(); }
  void apply_event(const std::string& type, nlohmann::json& object, const std::string& resource_version) override;
  bool set_available(bool available, const std::string& reason) override {
    return book_.set_available(scope_index_, namespace_name_, available, reason);
  }

 private:
  std::optional<Certificate> decode(const nlohmann::json& object);

  const std::string namespace_name_;
  const size_t scope_index_;
  CertificateBook& book_;
  LogQueue& log_;
  std::vector<Certificate> listed_;  // the LIST in progress
};

}  // namespace certsync::certmanager
