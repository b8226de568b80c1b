#include "kube/secret_kind.h"

#include <chrono>

#include "kube/secret.h"
#include "kube/secret_validation.h"
#include "tls/validate.h"
#include "util/parallel.h"

namespace certsync::kube {

namespace {

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

SecretKind::SecretKind(Scope scope, size_t scope_index, WatchOptions options, store::Store& store, LogQueue& log)
    : scope_(std::move(scope)), scope_index_(scope_index), options_(options), store_(store), log_(log) {}

SecretKind::~SecretKind() { wait_for_page(); }

void SecretKind::wait_for_page() {
  if (validating_.valid()) validating_.get();
}

void SecretKind::list_page(std::shared_ptr<nlohmann::json> items) {
  wait_for_page();
  auto& examined = examined_pages_.emplace_back(items->size());
  validating_ = std::async(std::launch::async, [this, items, &examined] {
    // A relist's thread runs at background priority
    // (Watcher::relist_at_background_priority): a page's validation inherits it.
    util::parallel_for(items->size(), util::validation_threads(),
                       [&](size_t i) { examined[i] = examine((*items)[i], /*quiet=*/true); });
  });
}

void SecretKind::list_abandoned() {
  wait_for_page();
  examined_pages_.clear();
}

std::string SecretKind::list_completed() {
  wait_for_page();
  std::vector<store::SecretUpdate> updates;
  size_t accepted = 0, refused = 0, unchanged = 0;
  for (auto& page : examined_pages_) {
    for (auto& update : page) {
      if (!update) continue;
      accepted += update->accepted ? 1 : 0;
      refused += update->refused ? 1 : 0;
      unchanged += update->unchanged ? 1 : 0;
      updates.push_back(std::move(*update));
    }
  }
  examined_pages_.clear();
  const Scope& scope = scope_;
  store_.replace_all(
      scope_index_, [&scope](const std::string& id, const std::string& type) { return scope.contains(id, type); },
      std::move(updates));
  return std::to_string(accepted) + " accepted, " + std::to_string(refused) + " refused, " +
         std::to_string(unchanged) + " unchanged";
}

void SecretKind::apply_event(const std::string& type, nlohmann::json& object, const std::string& resource_version) {
  if (type == "DELETED") {
    auto decoded = decode_secret(object);
    cleanse_secret_data(object);
    if (auto* secret = std::get_if<Secret>(&decoded)) {
      log_.push(LogLevel::kNotice, secret->id() + ": deleted (or no longer selected)");
      store_.remove(secret->id(), resource_version, secret->type);
    }
    return;
  }
  if (auto update = examine(object)) {
    std::vector<store::SecretUpdate> updates;
    updates.push_back(std::move(*update));
    store_.apply(std::move(updates));
  }
}

std::optional<store::SecretUpdate> SecretKind::examine(nlohmann::json& object, bool quiet) {
  auto decoded = decode_secret(object);
  cleanse_secret_data(object);
  if (auto* error = std::get_if<std::string>(&decoded)) {
    log_.push(LogLevel::kWarn, "ignoring a Secret that cannot be decoded: " + *error);
    return std::nullopt;
  }
  Secret& secret = std::get<Secret>(decoded);
  store::SecretUpdate update;
  update.id = secret.id();
  update.uid = secret.uid;
  update.type = secret.type;
  update.observed_at_ms = unix_now_ms();
  update.resource_version = secret.resource_version;
  update.data_digest = secret.data_digest;
  if (!secret.has_tls_keys) return update;  // not (or no longer) a TLS Secret
  if (store_.seen(update.id, update.data_digest)) {
    update.unchanged = true;  // metadata-only change: no validation, no generation
    return update;
  }
  ++validations_;
  const tls::ValidationOptions validation = validation_options_for(secret, options_);
  auto result = tls::validate_bundle(secret.tls_crt, secret.tls_key.view(), validation);
  if (auto* refusal = std::get_if<tls::Refusal>(&result)) {
    log_.push(LogLevel::kWarn, update.id + ": resourceVersion " + update.resource_version + " refused (" +
                                   refusal->code + "): " + refusal->message +
                                   "; the last good certificate, if any, keeps serving");
    update.refused = std::move(*refusal);
  } else {
    auto& bundle = std::get<tls::ValidBundle>(result);
    if (!quiet) {
      std::string names;
      for (const auto& sni : bundle.snis) names += (names.empty() ? "" : ", ") + sni;
      // INFO: the plugin logs the change at NOTICE once it is published, with its latency.
      log_.push(LogLevel::kInfo, update.id + ": accepted serial " + bundle.serial_hex + " for " + names +
                                       " (resourceVersion " + update.resource_version + ")");
    }
    // Said even for a LIST's Secrets: it is about what clients get.
    const std::string chain = tls::describe_chain(bundle);
    if (!chain.empty()) {
      log_.push(bundle.chain_incomplete ? LogLevel::kWarn : LogLevel::kNotice,
                update.id + ": serial " + bundle.serial_hex + ": " + chain);
    }
    update.accepted = std::move(bundle);
  }
  return update;
}

void SecretKind::add_status(nlohmann::json& status) const {
  status["secret_type"] = scope_.secret_type.empty() ? "*" : scope_.secret_type;
  status["validations"] = validations_.load();
}

}  // namespace certsync::kube
