// The bad-input corpus: bad or tricky tls.crt / tls.key inputs, each with the
// exact outcome validate_bundle() must give. Built at run time with OpenSSL
// (tls_test_certs), so no private key is ever stored in the repository.
//
// Used by the table-driven unit test, by the certsync-corpus CLI (which writes
// the cases as files for the e2e specs) and by the fuzzer's seed generator.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tls/validate.h"

namespace certsync::testing {

// expected_code of a case that must be accepted.
inline constexpr std::string_view kAccepted = "accepted";

struct CorpusCase {
  std::string name;           // unique; lowercase letters, digits and '_': usable as a file name
  std::string cert_pem;       // tls.crt
  std::string key_pem;        // tls.key
  std::string expected_code;  // a reason code (tls/reasons.h) or kAccepted
  // For accepted cases: exactly the flags the bundle must carry (see
  // bundle_flags()), in that order. Empty: none of them.
  std::vector<std::string> expected_flags;

  // Inputs beyond tls.crt and tls.key; all off for most cases.
  std::string ca_pem;                     // ca.crt
  std::vector<std::string> sni_override;  // ValidationOptions::sni_override
  bool cn_fallback = false;
  bool verify_chain = false;
  bool reorder_chain = false;
  bool temporary_annotation = false;  // ValidationOptions::temporary_certificate_annotation

  // True if the case needs more than validate_bundle(cert, key) with default options.
  bool uses_options() const;
  // The options of this case. The result views ca_pem: keep the case alive while using it.
  tls::ValidationOptions options() const;
};

// The flags of an accepted bundle, in a fixed order: "expired",
// "not_yet_valid", "temporary", "chain_reordered".
std::vector<std::string> bundle_flags(const tls::ValidBundle& bundle);

// Every case, in a fixed order. Generates keys on first use (a second or two).
std::vector<CorpusCase> build_bad_corpus();

}  // namespace certsync::testing
