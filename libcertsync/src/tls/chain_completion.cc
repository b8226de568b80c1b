#include "tls/chain_completion.h"

#include <string>

#include "tls/validate.h"

namespace certsync::tls {

bool issued_by(X509* subject, X509* issuer) {
  return X509_check_issued(issuer, subject) == X509_V_OK && X509_verify(subject, X509_get0_pubkey(issuer)) == 1;
}

// RFC 5280's self-issued: subject and issuer are the same name. (Not
// X509_check_issued(cert, cert): it also wants keyCertSign, which a
// self-signed leaf does not have.)
bool self_issued(X509* cert) { return X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) == 0; }

namespace {

bool taken(X509* cert, const std::vector<ossl::X509Ptr>& chain, const std::vector<ossl::X509Ptr>& appended) {
  for (const auto* list : {&chain, &appended}) {
    for (const ossl::X509Ptr& member : *list) {
      if (X509_cmp(member.get(), cert) == 0) return true;
    }
  }
  return false;
}

// An issuer of `subject` among `candidates` that is not in the chain yet.
X509* issuer_in(X509* subject, const std::vector<ossl::X509Ptr>& candidates, const std::vector<ossl::X509Ptr>& chain,
                const std::vector<ossl::X509Ptr>& appended) {
  for (const ossl::X509Ptr& candidate : candidates) {
    if (issued_by(subject, candidate.get()) && !taken(candidate.get(), chain, appended)) return candidate.get();
  }
  return nullptr;
}

}  // namespace

ChainGap find_chain_gap(const std::vector<ossl::X509Ptr>& chain, const std::vector<ossl::X509Ptr>& ca) {
  ChainGap gap;
  if (chain.empty()) return gap;
  gap.top = chain.back().get();
  if (self_issued(gap.top)) return gap;  // the chain reaches a root (or the leaf is self-signed)

  bool root_found = false;
  X509* current = gap.top;
  // A certificate is never taken twice (cross-signed loops), so the walk
  // ends within ca.size() steps.
  for (size_t step = 0; step < ca.size(); ++step) {
    X509* issuer = issuer_in(current, ca, chain, gap.from_ca);
    if (issuer == nullptr) break;
    if (self_issued(issuer)) {
      root_found = true;
      break;
    }
    X509_up_ref(issuer);
    gap.from_ca.emplace_back(issuer);
    current = issuer;
  }
  // Above an intermediate whose issuer nobody names, a root the clients
  // trust is presumed; above a lone leaf it cannot be.
  gap.incomplete = !gap.from_ca.empty() || (chain.size() == 1 && !root_found);
  return gap;
}

std::string describe_chain(const ValidBundle& bundle) {
  auto intermediates = [](int n) { return std::to_string(n) + (n == 1 ? " intermediate" : " intermediates"); };
  if (bundle.chain_completed > 0) {
    return "tls.crt lacked its issuer; " + intermediates(bundle.chain_completed) +
           " from ca.crt appended (complete_chain)";
  }
  if (!bundle.chain_incomplete) return "";
  std::string text = "chain incomplete: tls.crt does not carry " + bundle.chain_missing_issuer +
                     "; clients that do not have it cached fail to verify; ";
  if (bundle.chain_completable > 0) {
    text += "ca.crt holds " + intermediates(bundle.chain_completable) +
            " that complete it (complete_chain = true appends " + (bundle.chain_completable == 1 ? "it" : "them") +
            ")";
  } else {
    text += "add the issuer to tls.crt after the leaf (ca.crt does not hold it)";
  }
  return text;
}

}  // namespace certsync::tls
