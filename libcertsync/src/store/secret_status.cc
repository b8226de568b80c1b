#include "store/secret_status.h"

#include "store/packed_pem.h"

namespace certsync::store {

namespace {

std::string join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out.push_back(' ');
    out += part;
  }
  return out;
}

template <typename Bundle>  // tls::ValidBundle or ServedFacts
nlohmann::json bundle_json(const Bundle& bundle, const std::vector<std::string>& snis) {
  return {{"serial", bundle.serial_hex},
          {"fingerprint_sha256", bundle.fingerprint_sha256},
          {"subject", bundle.subject},
          {"issuer", bundle.issuer},
          {"snis", snis},
          {"not_before", bundle.not_before},
          {"not_after", bundle.not_after},
          {"expired", bundle.expired},
          {"temporary", bundle.temporary},
          {"key_type", bundle.key_type},
          {"chain_length", bundle.chain_length},
          {"chain_incomplete", bundle.chain_incomplete},
          {"chain_missing_issuer", bundle.chain_missing_issuer},
          {"chain_completed", bundle.chain_completed}};
}

const char* state_of(const SecretStatus& status, int64_t now) {
  const ServedFacts* served = status.served ? &*status.served->bundle : nullptr;
  if (status.deleted && served) return "kept_after_delete";
  if (status.refused()) return "refused";
  if (served && served->not_after < now) return "expired";
  if (status.deferred) return "deferred";
  return "serving";
}

std::string namespace_of(const std::string& id) { return id.substr(0, id.find('/')); }
std::string name_of(const std::string& id) {
  const size_t slash = id.find('/');
  return slash == std::string::npos ? id : id.substr(slash + 1);
}

}  // namespace

ServedFacts::ServedFacts(tls::ValidBundle&& bundle)
    : serial_hex(std::move(bundle.serial_hex)),
      fingerprint_sha256(std::move(bundle.fingerprint_sha256)),
      subject(std::move(bundle.subject)),
      issuer(std::move(bundle.issuer)),
      key_type(std::move(bundle.key_type)),
      chain_missing_issuer(std::move(bundle.chain_missing_issuer)),
      not_before(bundle.not_before),
      not_after(bundle.not_after),
      chain_length(bundle.chain_length),
      chain_completed(bundle.chain_completed),
      expired(bundle.expired),
      temporary(bundle.temporary),
      chain_incomplete(bundle.chain_incomplete) {}

SharedChange serving_change(const std::string& id, tls::ValidBundle bundle, int64_t observed_at_ms) {
  auto shared = std::make_shared<Change>();
  Change& change = *shared;
  change.id = id;
  change.observed_at_ms = observed_at_ms;
  change.snis = join(bundle.snis);
  if (auto packed = pack_pem(bundle.cert_pem)) {
    change.cert = std::move(*packed);
    change.cert_packed = true;
  } else {
    change.cert = std::move(bundle.cert_pem);
    change.cert.shrink_to_fit();
  }
  if (auto packed = pack_pem(bundle.key_pem.view())) {
    change.key = SecretBytes::adopt(std::move(*packed));  // sized exactly: adopting copies nothing
    change.key_packed = true;
  } else {
    change.key = std::move(bundle.key_pem);
  }
  bundle.key_pem = SecretBytes();  // wiped
  // Held for as long as it serves: only what status reads, no spare capacity.
  change.bundle.emplace(std::move(bundle));
  for (std::string* text : {&change.bundle->serial_hex, &change.bundle->fingerprint_sha256, &change.bundle->subject,
                            &change.bundle->issuer, &change.bundle->key_type, &change.bundle->chain_missing_issuer})
    text->shrink_to_fit();
  change.serial = change.bundle->serial_hex;
  change.not_before = change.bundle->not_before;
  change.not_after = change.bundle->not_after;
  change.key_type = change.bundle->key_type;
  return shared;
}

std::vector<std::string> served_snis(const Change& change) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start < change.snis.size()) {
    size_t end = change.snis.find(' ', start);
    if (end == std::string::npos) end = change.snis.size();
    names.push_back(change.snis.substr(start, end - start));
    start = end + 1;
  }
  return names;
}

bool serves_same(const Change& change, const tls::ValidBundle& bundle) {
  return change.bundle && change.snis == join(bundle.snis) && change.cert_pem() == bundle.cert_pem &&
         change.key_pem() == bundle.key_pem;
}

std::string Change::cert_pem() const {
  if (!cert_packed) return cert;
  std::string text(unpacked_pem_size(cert), '\0');
  unpack_pem(cert, text.data());
  return text;
}

SecretBytes Change::key_pem() const {
  if (!key_packed) return key;
  // Sized once and adopted: no copy of the key is left behind.
  std::string text(unpacked_pem_size(key.view()), '\0');
  unpack_pem(key.view(), text.data());
  return SecretBytes::adopt(std::move(text));
}

nlohmann::json status_json(const std::string& id, const SecretStatus& status, int64_t now) {
  nlohmann::json item = {{"id", id},
                         {"namespace", namespace_of(id)},
                         {"name", name_of(id)},
                         {"type", status.type ? *status.type : std::string()},
                         {"uid", status.uid},
                         {"resource_version", status.resource_version},
                         {"deleted", status.deleted},
                         {"state", state_of(status, now)}};
  if (status.served) {
    item["served"] = bundle_json(*status.served->bundle, served_snis(*status.served));
    item["served"]["since"] = status.served_since;
    item["served"]["generation"] = status.served_generation;
  }
  if (status.deferred) {
    const tls::ValidBundle& deferred = status.deferred->bundle;
    item["deferred"] = bundle_json(deferred, deferred.snis);
    item["deferred"]["serve_from"] = deferred.deferred_until;
  }
  if (status.refused()) {
    const RefusalRecord& refusals = *status.refusals;
    item["refusal"] = {{"code", refusals.last->code},
                       {"message", refusals.last->message},
                       {"resource_version", refusals.resource_version},
                       {"since", refusals.since}};
  }
  item["refusals"] = nlohmann::json::object();
  if (status.refusals) {
    for (const auto& [code, count] : status.refusals->counts) item["refusals"][code] = count;
  }
  return item;
}

}  // namespace certsync::store
