// SecretStatus: what the store knows of one Secret, as a snapshot that a
// status delta keeps, and its JSON rendered from it on demand.
//
// A Secret's status JSON is about 0.9 KB and a node may hold 50,000 Secrets,
// while callers read the text of what changed only, once: so the store keeps
// the facts (most of them shared with what it serves) and each text is
// rendered when read, not kept for every Secret. A snapshot is immutable
// once taken: it shares its parts with the store, which replaces them
// rather than changing them, so a caller renders it later without the
// store's lock.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tls/validate.h"
#include "util/secret_bytes.h"

namespace certsync::store {

// What status and the store read of a served bundle, once its names and
// PEM texts are held by its Change: the leaf's facts alone, without the
// validator's other findings, for every served Secret.
struct ServedFacts {
  explicit ServedFacts(tls::ValidBundle&& bundle);

  std::string serial_hex;
  std::string fingerprint_sha256;
  std::string subject;
  std::string issuer;
  std::string key_type;
  std::string chain_missing_issuer;
  int64_t not_before = 0;
  int64_t not_after = 0;
  int chain_length = 0;
  int chain_completed = 0;
  bool expired = false;
  bool temporary = false;
  bool chain_incomplete = false;
};

// One entry of a change set. Built once when a bundle starts being served
// and shared, immutable, by every change set that names it and by the store
// itself: a full set of 50,000 Secrets costs the caller's event loop pointer
// copies, not 50,000 PEM copies, and a node holds each certificate once.
// key_pem is cleansed when the last holder lets go.
struct Change {
  Change() = default;
  Change(const Change&) = delete;  // serial and key_type point into bundle
  Change& operator=(const Change&) = delete;

  std::string id;
  bool removed = false;
  // Space-separated. The served bundle's names live here alone: its
  // bundle->snis is left empty (see served_snis).
  std::string snis;
  // The served bundle's facts. Empty when removed. Its PEM texts are held
  // below, packed (packed_pem.h).
  std::optional<ServedFacts> bundle;
  std::string cert;  // the chain's PEM, packed when cert_packed, else the text itself
  SecretBytes key;   // the key's PEM, likewise (key_packed)
  bool cert_packed = false;
  bool key_packed = false;
  std::string_view serial;  // bundle->serial_hex
  int64_t not_before = 0;
  int64_t not_after = 0;
  std::string_view key_type;  // bundle->key_type: "RSA-2048", "EC-P-256", ...
  int64_t observed_at_ms = 0;  // when the watcher received this version (Unix ms); 0 when unknown

  // The PEM texts, unpacked: a copy each time.
  std::string cert_pem() const;
  SecretBytes key_pem() const;
};

using SharedChange = std::shared_ptr<const Change>;

// A change that serves `bundle` for `id` from now on.
SharedChange serving_change(const std::string& id, tls::ValidBundle bundle, int64_t observed_at_ms);
// The names `change` serves, as validation gave them.
std::vector<std::string> served_snis(const Change& change);
// Whether `bundle` is what `change` already serves.
bool serves_same(const Change& change, const tls::ValidBundle& bundle);

// A newer bundle waiting for its notBefore (rare: kept apart from the entry).
struct DeferredBundle {
  tls::ValidBundle bundle;  // valid from bundle.deferred_until
  int64_t observed_at_ms = 0;
};

// What refusals a Secret had (rare: kept apart from the entry).
struct RefusalRecord {
  std::optional<tls::Refusal> last;  // the latest version's, while it is the latest
  std::string resource_version;      // the version `last` refused
  int64_t since = 0;  // Unix seconds of the first refusal in the current run of them
  std::map<std::string, uint64_t> counts;  // reason code -> versions refused, ever
};

struct SecretStatus {
  std::shared_ptr<const std::string> type;  // from the last version seen; shared by all Secrets of a type
  std::string uid;
  std::string resource_version;
  bool deleted = false;
  SharedChange served;  // null: nothing served
  uint64_t served_generation = 0;
  int64_t served_since = 0;  // Unix seconds the served bundle became served
  std::shared_ptr<const DeferredBundle> deferred;
  std::shared_ptr<const RefusalRecord> refusals;

  bool refused() const { return refusals && refusals->last; }
};

// One object of Store::status()'s "secrets"; `now` (Unix seconds) decides
// whether the served leaf counts as expired.
nlohmann::json status_json(const std::string& id, const SecretStatus& status, int64_t now);

}  // namespace certsync::store
