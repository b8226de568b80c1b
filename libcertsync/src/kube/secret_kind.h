// SecretKind: the Secrets of one scope, decoded and validated into the
// store. Validation is the cost of a large first list, so each LIST page is
// validated on helper threads (spread over the cores) while the watcher
// fetches the next one; one page in flight bounds what is held.
#pragma once

#include <atomic>
#include <deque>
#include <future>
#include <optional>
#include <vector>

#include "kube/scope.h"
#include "kube/watch_options.h"
#include "kube/watched_kind.h"
#include "store/store.h"
#include "util/log_queue.h"

namespace certsync::kube {

class SecretKind : public WatchedKind {
 public:
  SecretKind(Scope scope, size_t scope_index, WatchOptions options, store::Store& store, LogQueue& log);
  ~SecretKind() override;

  const char* resource() const override { return "secrets"; }
  std::string describe() const override { return scope_.describe(); }
  std::string collection_path() const override { return scope_.collection_path(); }
  std::string selector_query() const override { return scope_.selector_query(); }
  std::string namespace_name() const override { return scope_.namespace_name; }
  // For the RBAC hint of a 403: the named Secret, when the scope is one.
  const std::string& secret_name() const { return scope_.secret_name; }

  void list_page(std::shared_ptr<nlohmann::json> items) override;
  std::string list_completed() override;
  void list_abandoned() override;
  void apply_event(const std::string& type, nlohmann::json& object, const std::string& resource_version) override;
  void add_status(nlohmann::json& status) const override;

 private:
  // Decodes and validates one Secret version. nullopt: the object is
  // unusable (logged) and must not change what is served. `quiet`: a LIST's
  // acceptances are summed up in one line, not one each.
  std::optional<store::SecretUpdate> examine(nlohmann::json& object, bool quiet = false);
  void wait_for_page();

  const Scope scope_;
  const size_t scope_index_;
  const WatchOptions options_;
  store::Store& store_;
  LogQueue& log_;
  // The LIST in progress: its pages' outcomes, and the page being validated
  // (which reads its items and writes the last of examined_pages_).
  std::deque<std::vector<std::optional<store::SecretUpdate>>> examined_pages_;
  std::future<void> validating_;
  std::atomic<uint64_t> validations_{0};  // Secret versions validated (metadata-only updates are not)
};

}  // namespace certsync::kube
