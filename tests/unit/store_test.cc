// Store: generations, last good bundles, deletion policies, full and delta change sets.
#include <catch2/catch.hpp>

#include <functional>
#include <map>

#include "store/store.h"

using certsync::store::DeletionPolicy;
using certsync::store::SecretUpdate;
using certsync::store::Store;

namespace {

SecretUpdate accepted(const std::string& id, const std::string& serial, const std::string& rv = "1") {
  certsync::tls::ValidBundle bundle;
  bundle.cert_pem = "CERT " + serial;
  bundle.key_pem = certsync::SecretBytes("KEY " + serial);
  bundle.snis = {id + ".example.test"};
  bundle.serial_hex = serial;
  bundle.not_after = 4'000'000'000;  // 2096: not expired unless a test says so
  SecretUpdate update;
  update.id = id;
  update.resource_version = rv;
  update.data_digest = "digest-" + serial;
  update.accepted = std::move(bundle);
  return update;
}

SecretUpdate refused(const std::string& id, const std::string& code) {
  SecretUpdate update;
  update.id = id;
  update.resource_version = "9";
  update.data_digest = "digest-refused";
  update.refused = certsync::tls::Refusal{code, "because"};
  return update;
}

// The status JSON of the i-th Secret of a delta, as the plugin gets it.
std::string rendered(const certsync::store::StatusDelta& delta, size_t i) {
  return certsync::store::status_json(delta.secrets[i].first, delta.secrets[i].second, delta.now).dump();
}

template <typename... U>
std::vector<SecretUpdate> updates(U... u) {
  std::vector<SecretUpdate> out;
  (out.push_back(std::move(u)), ...);
  return out;
}

}  // namespace

TEST_CASE("the generation is 0 until the first list, which counts even when empty", "[store]") {
  Store store(DeletionPolicy::kKeep);
  REQUIRE(store.generation() == 0);
  REQUIRE_FALSE(store.synced());
  store.replace_all({});
  REQUIRE(store.generation() == 1);
  REQUIRE(store.synced());
  auto set = store.changes_since(0);
  REQUIRE(set.full);
  REQUIRE(set.changes.empty());
}

TEST_CASE("every accepted change raises the generation by one; a delta names only it", "[store]") {
  Store store(DeletionPolicy::kKeep);
  store.replace_all(updates(accepted("ns/a", "A1"), accepted("ns/b", "B1")));
  REQUIRE(store.generation() == 1);
  store.apply(updates(accepted("ns/a", "A2")));
  REQUIRE(store.generation() == 2);
  auto delta = store.changes_since(1);
  REQUIRE_FALSE(delta.full);
  REQUIRE(delta.changes.size() == 1);
  REQUIRE(delta.changes[0]->id == "ns/a");
  REQUIRE(delta.changes[0]->serial == "A2");
  REQUIRE(delta.changes[0]->key_pem().view() == "KEY A2");
  REQUIRE(store.changes_since(0).changes.size() == 2);
}

TEST_CASE("the same bundle again is not a new generation", "[store]") {
  Store store(DeletionPolicy::kKeep);
  store.replace_all(updates(accepted("ns/a", "A1")));
  store.apply(updates(accepted("ns/a", "A1", "2")));
  REQUIRE(store.generation() == 1);
}

TEST_CASE("a refused update keeps the last good bundle and is reported", "[store]") {
  Store store(DeletionPolicy::kKeep);
  store.replace_all(updates(accepted("ns/a", "A1")));
  store.apply(updates(refused("ns/a", "key_mismatch")));
  REQUIRE(store.generation() == 1);
  auto full = store.changes_since(0);
  REQUIRE(full.changes.size() == 1);
  REQUIRE(full.changes[0]->serial == "A1");
  auto status = store.status();
  REQUIRE(status["secrets"][0]["state"] == "refused");
  REQUIRE(status["secrets"][0]["refusals"]["key_mismatch"] == 1);
  REQUIRE(status["secrets"][0]["refusal"]["code"] == "key_mismatch");
  REQUIRE(status["secrets"][0]["served"]["serial"] == "A1");
}

TEST_CASE("a refused Secret with nothing good before is not served", "[store]") {
  Store store(DeletionPolicy::kKeep);
  store.replace_all(updates(refused("ns/a", "no_usable_name")));
  REQUIRE(store.changes_since(0).changes.empty());
  REQUIRE(store.status()["secrets"][0]["state"] == "refused");
}

TEST_CASE("under the keep policy a deleted Secret keeps serving, marked deleted", "[store]") {
  Store store(DeletionPolicy::kKeep);
  store.replace_all(updates(accepted("ns/a", "A1")));
  store.remove("ns/a", "5");
  REQUIRE(store.generation() == 1);
  REQUIRE(store.changes_since(0).changes.size() == 1);
  REQUIRE(store.status()["secrets"][0]["deleted"] == true);
}

TEST_CASE("under the remove policy a deletion is a change that says removed", "[store]") {
  Store store(DeletionPolicy::kRemove);
  store.replace_all(updates(accepted("ns/a", "A1"), accepted("ns/b", "B1")));
  store.remove("ns/a", "5");
  REQUIRE(store.generation() == 2);
  auto delta = store.changes_since(1);
  REQUIRE(delta.changes.size() == 1);
  REQUIRE(delta.changes[0]->id == "ns/a");
  REQUIRE(delta.changes[0]->removed);
  REQUIRE(store.changes_since(0).changes.size() == 1);
}

TEST_CASE("a relist of one type's scope drops its own vanished Secrets and keeps the other type's", "[store]") {
  // Two scopes of one namespace, as secret_types=kubernetes.io/tls,Opaque gives.
  Store store(DeletionPolicy::kRemove, /*scope_count=*/2);
  auto of_type = [](SecretUpdate update, const std::string& type) {
    update.type = type;
    return update;
  };
  auto type_scope = [](const std::string& type) {
    return [type](const std::string&, const std::string& stored) { return stored == type; };
  };
  store.replace_all(0, type_scope("kubernetes.io/tls"),
                    updates(of_type(accepted("ns/tls", "T1"), "kubernetes.io/tls"),
                            of_type(accepted("ns/tls-gone", "G1"), "kubernetes.io/tls")));
  store.replace_all(1, type_scope("Opaque"), updates(of_type(accepted("ns/opaque", "O1"), "Opaque")));
  const uint64_t synced = store.generation();
  // The TLS scope lists again: ns/tls-gone vanished; ns/opaque is not its business.
  store.replace_all(0, type_scope("kubernetes.io/tls"),
                    updates(of_type(accepted("ns/tls", "T1"), "kubernetes.io/tls")));
  auto delta = store.changes_since(synced);
  REQUIRE(delta.changes.size() == 1);
  REQUIRE(delta.changes[0]->id == "ns/tls-gone");
  REQUIRE(delta.changes[0]->removed);
  std::map<std::string, std::string> types;
  const auto status = store.status();  // kept alive while the loop walks it
  for (const auto& secret : status["secrets"])
    if (!secret["deleted"].get<bool>()) types[secret["id"].get<std::string>()] = secret["type"].get<std::string>();
  REQUIRE(types == std::map<std::string, std::string>{{"ns/opaque", "Opaque"}, {"ns/tls", "kubernetes.io/tls"}});
}

TEST_CASE("a deletion seen by one type's watch leaves the Secret re-created with another type alone", "[store]") {
  Store store(DeletionPolicy::kRemove);
  SecretUpdate recreated = accepted("ns/app", "A2");
  recreated.type = "Opaque";
  store.replace_all(updates(std::move(recreated)));
  // The kubernetes.io/tls watch reports the old Secret's deletion after the Opaque watch delivered the new one.
  store.remove("ns/app", "7", "kubernetes.io/tls");
  REQUIRE(store.changes_since(0).changes.size() == 1);
  store.remove("ns/app", "8", "Opaque");
  REQUIRE(store.changes_since(0).changes.empty());
}

TEST_CASE("a relist is one generation and drops what vanished (remove policy)", "[store]") {
  Store store(DeletionPolicy::kRemove);
  store.replace_all(updates(accepted("ns/a", "A1"), accepted("ns/b", "B1")));
  store.replace_all(updates(accepted("ns/b", "B2"), accepted("ns/c", "C1")));
  REQUIRE(store.generation() == 2);
  auto delta = store.changes_since(1);
  std::map<std::string, bool> seen;
  for (const auto& change : delta.changes) seen[change->id] = change->removed;
  REQUIRE(seen == std::map<std::string, bool>{{"ns/a", true}, {"ns/b", false}, {"ns/c", false}});
}

TEST_CASE("a metadata-only update is recognised by its data digest", "[store]") {
  Store store(DeletionPolicy::kKeep);
  store.replace_all(updates(accepted("ns/a", "A1")));
  REQUIRE(store.seen("ns/a", "digest-A1"));
  REQUIRE_FALSE(store.seen("ns/a", "digest-other"));
  REQUIRE_FALSE(store.seen("ns/b", "digest-A1"));
}

TEST_CASE("a delta older than the pruned tombstones answers with a full set", "[store]") {
  Store store(DeletionPolicy::kRemove, /*scope_count=*/1, /*max_tombstones=*/1);
  store.replace_all(updates(accepted("ns/a", "A1"), accepted("ns/b", "B1"), accepted("ns/c", "C1")));
  store.remove("ns/a", "");  // generation 2
  store.remove("ns/b", "");  // generation 3: prunes a's tombstone
  REQUIRE(store.changes_since(1).full);
  REQUIRE_FALSE(store.changes_since(2).full);
  REQUIRE(store.changes_since(2).changes.size() == 1);
}

TEST_CASE("with several scopes the generation stays 0 until each has listed once", "[store]") {
  Store store(DeletionPolicy::kKeep, /*scope_count=*/2);
  auto in_a = [](const std::string& id, const std::string&) { return id.rfind("a/", 0) == 0; };
  auto in_b = [](const std::string& id, const std::string&) { return id.rfind("b/", 0) == 0; };
  store.replace_all(0, in_a, updates(accepted("a/x", "X1")));
  REQUIRE(store.generation() == 0);
  REQUIRE_FALSE(store.synced());
  store.replace_all(1, in_b, updates(accepted("b/y", "Y1")));
  REQUIRE(store.synced());
  REQUIRE(store.generation() > 0);
  REQUIRE(store.changes_since(0).changes.size() == 2);
}

TEST_CASE("a relist of one scope leaves the Secrets of the other scopes alone", "[store]") {
  Store store(DeletionPolicy::kRemove, /*scope_count=*/2);
  auto in_a = [](const std::string& id, const std::string&) { return id.rfind("a/", 0) == 0; };
  auto in_b = [](const std::string& id, const std::string&) { return id.rfind("b/", 0) == 0; };
  store.replace_all(0, in_a, updates(accepted("a/x", "X1")));
  store.replace_all(1, in_b, updates(accepted("b/y", "Y1")));
  store.replace_all(0, in_a, {});  // a/x vanished from scope a
  auto all = store.changes_since(0);
  REQUIRE(all.changes.size() == 1);
  REQUIRE(all.changes[0]->id == "b/y");
}

namespace {
SecretUpdate with(SecretUpdate update, const std::function<void(certsync::tls::ValidBundle&)>& change) {
  change(*update.accepted);
  return update;
}
}  // namespace

TEST_CASE("a certificate not valid yet is served from its notBefore, not before", "[store]") {
  Store store(DeletionPolicy::kKeep);
  int64_t now = 1000000;
  store.set_clock([&] { return now; });
  store.replace_all(updates(with(accepted("ns/a", "A1"), [](auto& b) { b.not_after = 2000000; })));
  store.apply(updates(with(accepted("ns/a", "A2"), [&](auto& b) {
    b.not_yet_valid = true;
    b.deferred_until = now + 60;
  })));
  REQUIRE(store.generation() == 1);
  REQUIRE(store.changes_since(0).changes[0]->serial == "A1");
  REQUIRE(store.status()["secrets"][0]["deferred"]["serial"] == "A2");
  now += 60;
  REQUIRE(store.generation() == 2);
  REQUIRE(store.changes_since(1).changes[0]->serial == "A2");
  REQUIRE_FALSE(store.status()["secrets"][0].contains("deferred"));
}

TEST_CASE("cert-manager's temporary certificate does not replace a valid real one", "[store]") {
  Store store(DeletionPolicy::kKeep);
  const int64_t now = 1000000;
  store.set_clock([&] { return now; });
  store.replace_all(updates(with(accepted("ns/a", "REAL"), [&](auto& b) { b.not_after = now + 3600; })));
  store.apply(updates(with(accepted("ns/a", "TEMP"), [](auto& b) { b.temporary = true; })));
  REQUIRE(store.generation() == 1);
  REQUIRE(store.status()["secrets"][0]["refusal"]["code"] == "temporary_certificate_not_served");
  // Once the real one has expired, a temporary one is better than nothing.
  Store expired(DeletionPolicy::kKeep);
  expired.set_clock([&] { return now; });
  expired.replace_all(updates(with(accepted("ns/a", "REAL"), [&](auto& b) { b.not_after = now - 1; })));
  expired.apply(updates(with(accepted("ns/a", "TEMP"), [](auto& b) { b.temporary = true; })));
  REQUIRE(expired.changes_since(0).changes[0]->serial == "TEMP");
}

TEST_CASE("an expired certificate does not replace a valid one; over an expired one it does", "[store]") {
  Store store(DeletionPolicy::kKeep);
  const int64_t now = 1000000;
  store.set_clock([&] { return now; });
  store.replace_all(updates(with(accepted("ns/a", "GOOD"), [&](auto& b) { b.not_after = now + 3600; })));
  store.apply(updates(with(accepted("ns/a", "OLD"), [&](auto& b) {
    b.not_after = now - 60;
    b.expired = true;
  })));
  REQUIRE(store.generation() == 1);
  REQUIRE(store.changes_since(0).changes[0]->serial == "GOOD");
  REQUIRE(store.status()["secrets"][0]["refusal"]["code"] == "expired_certificate_not_served");
  // A valid renewal after the refusal serves and clears it.
  store.apply(updates(with(accepted("ns/a", "NEW"), [&](auto& b) { b.not_after = now + 7200; })));
  REQUIRE(store.changes_since(1).changes[0]->serial == "NEW");
  REQUIRE_FALSE(store.status()["secrets"][0].contains("refusal"));
  // When what serves has expired too, the newer expired one is no worse.
  Store lapsed(DeletionPolicy::kKeep);
  lapsed.set_clock([&] { return now; });
  lapsed.replace_all(updates(with(accepted("ns/a", "E1"), [&](auto& b) { b.not_after = now - 120; })));
  lapsed.apply(updates(with(accepted("ns/a", "E2"), [&](auto& b) {
    b.not_after = now - 60;
    b.expired = true;
  })));
  REQUIRE(lapsed.changes_since(0).changes[0]->serial == "E2");
}

TEST_CASE("status names one state per Secret: kept_after_delete, refused, expired, deferred, serving", "[store]") {
  Store store(DeletionPolicy::kKeep);
  int64_t now = 1'000'000;
  store.set_clock([&] { return now; });
  auto valid_until = [](SecretUpdate u, int64_t not_after) {
    u.accepted->not_after = not_after;
    return u;
  };
  auto deferred = accepted("ns/deferred", "D2");
  deferred.accepted->not_yet_valid = true;
  deferred.accepted->deferred_until = now + 600;
  store.replace_all(updates(valid_until(accepted("ns/serving", "S1"), now + 100),
                            valid_until(accepted("ns/expired", "E1"), now - 1),
                            valid_until(accepted("ns/deferred", "D1"), now + 100),
                            valid_until(accepted("ns/refused", "R1"), now + 100),
                            valid_until(accepted("ns/deleted", "X1"), now + 100)));
  store.apply(updates(std::move(deferred), refused("ns/refused", "key_mismatch")));
  store.remove("ns/deleted", "10");
  std::map<std::string, nlohmann::json> by_id;
  const auto status = store.status();
  for (const auto& secret : status["secrets"]) by_id[secret["id"].get<std::string>()] = secret;
  REQUIRE(by_id["ns/serving"]["state"] == "serving");
  REQUIRE(by_id["ns/expired"]["state"] == "expired");
  REQUIRE(by_id["ns/deferred"]["state"] == "deferred");
  REQUIRE(by_id["ns/deferred"]["deferred"]["serve_from"] == now + 600);
  REQUIRE(by_id["ns/refused"]["state"] == "refused");
  REQUIRE(by_id["ns/deleted"]["state"] == "kept_after_delete");
  REQUIRE(by_id["ns/serving"]["namespace"] == "ns");
  REQUIRE(by_id["ns/serving"]["name"] == "serving");
}

TEST_CASE("status says since when a bundle serves and since when a Secret is refused", "[store]") {
  Store store(DeletionPolicy::kKeep);
  int64_t now = 5'000;
  store.set_clock([&] { return now; });
  store.replace_all(updates(accepted("ns/a", "A1")));
  now = 5'100;
  store.apply(updates(refused("ns/a", "key_mismatch")));
  now = 5'200;
  store.apply(updates(refused("ns/a", "chain_order")));
  auto secret = store.status()["secrets"][0];
  REQUIRE(secret["served"]["since"] == 5'000);
  REQUIRE(secret["refusal"]["since"] == 5'100);  // the first refusal of the run, not the latest
  REQUIRE(secret["refusal"]["code"] == "chain_order");
  REQUIRE(secret["refusals"]["key_mismatch"] == 1);
  REQUIRE(secret["refusals"]["chain_order"] == 1);
  now = 5'300;
  store.apply(updates(accepted("ns/a", "A2", "11")));
  secret = store.status()["secrets"][0];
  REQUIRE(secret["state"] == "serving");
  REQUIRE(secret["served"]["since"] == 5'300);
  REQUIRE_FALSE(secret.contains("refusal"));
  REQUIRE(secret["refusals"]["key_mismatch"] == 1);  // counts stay: they feed a counter metric
}

TEST_CASE("a change carries when its version reached the watcher", "[store]") {
  Store store(DeletionPolicy::kKeep);
  auto update = accepted("ns/a", "A1");
  update.observed_at_ms = 1'234'567;
  update.uid = "uid-1";
  store.replace_all(updates(std::move(update)));
  REQUIRE(store.changes_since(0).changes[0]->observed_at_ms == 1'234'567);
  REQUIRE(store.status()["secrets"][0]["uid"] == "uid-1");
}

TEST_CASE("a status delta names only the Secrets whose status changed since, and the ones forgotten", "[store]") {
  Store store(DeletionPolicy::kRemove);
  store.replace_all(updates(accepted("ns/a", "A1"), accepted("ns/b", "B1"), accepted("ns/c", "C1")));
  auto first = store.status_since(0);
  REQUIRE(first.full);
  REQUIRE(first.secrets.size() == 3);

  store.apply(updates(accepted("ns/b", "B2", "2")));
  store.apply(updates(refused("ns/c", "key_mismatch")));
  store.remove("ns/a", "5");
  auto delta = store.status_since(first.version);
  REQUIRE_FALSE(delta.full);
  std::vector<std::string> ids;
  for (const auto& [id, text] : delta.secrets) ids.push_back(id);
  REQUIRE(ids == std::vector<std::string>{"ns/b", "ns/c"});  // in the order they changed
  REQUIRE(rendered(delta, 0).find("B2") != std::string::npos);
  REQUIRE(rendered(delta, 1).find("key_mismatch") != std::string::npos);
  REQUIRE(delta.removed == std::vector<std::string>{"ns/a"});

  // b changes again: it is named once, at its latest status.
  store.apply(updates(accepted("ns/b", "B3", "3")));
  auto again = store.status_since(first.version);
  REQUIRE(again.secrets.size() == 2);
  REQUIRE(again.secrets[1].first == "ns/b");
  REQUIRE(rendered(again, 1).find("B3") != std::string::npos);
  REQUIRE(store.status_since(again.version).secrets.empty());
}

TEST_CASE("a delta after a relist too large for the served log still names every change since", "[store]") {
  Store store(DeletionPolicy::kRemove);
  store.replace_all(updates(accepted("ns/a", "A1"), accepted("ns/b", "B1")));
  store.apply(updates(accepted("ns/b", "B2", "2")));  // generation 2, in the log
  const uint64_t before_relist = store.generation();
  std::vector<SecretUpdate> relist;
  for (int i = 0; i < 5000; ++i) relist.push_back(accepted("ns/s" + std::to_string(i), "S" + std::to_string(i)));
  relist.push_back(accepted("ns/a", "A1"));
  relist.push_back(accepted("ns/b", "B2", "2"));
  store.replace_all(std::move(relist));  // 5,000 new at one generation: more than the log keeps
  store.apply(updates(accepted("ns/s7", "S7b", "3")));
  store.apply(updates(accepted("ns/a", "A2", "4")));

  auto since_relist = store.changes_since(before_relist);
  REQUIRE_FALSE(since_relist.full);
  REQUIRE(since_relist.changes.size() == 5001);  // the 5,000 new, and ns/a renewed (ns/s7 is among the 5,000)

  auto after = store.changes_since(before_relist + 1);  // the renewals after the relist, from the log
  REQUIRE_FALSE(after.full);
  REQUIRE(after.changes.size() == 2);
  REQUIRE(after.changes[0]->id == "ns/a");  // in id order
  REQUIRE(after.changes[1]->id == "ns/s7");
  REQUIRE(store.changes_since(store.generation()).changes.empty());
}
