#include "tls_bad_corpus.h"

#include <stdexcept>
#include <utility>

#include "tls/reasons.h"
#include "tls_test_certs.h"

namespace certsync::testing {
namespace reason = tls::reason;

bool CorpusCase::uses_options() const {
  return !ca_pem.empty() || !sni_override.empty() || cn_fallback || verify_chain || reorder_chain ||
         temporary_annotation;
}

tls::ValidationOptions CorpusCase::options() const {
  tls::ValidationOptions options;
  options.ca_pem = ca_pem;
  options.sni_override = sni_override;
  options.cn_fallback = cn_fallback;
  options.verify_chain = verify_chain;
  options.reorder_chain = reorder_chain;
  options.temporary_certificate_annotation = temporary_annotation;
  return options;
}

std::vector<std::string> bundle_flags(const tls::ValidBundle& bundle) {
  std::vector<std::string> flags;
  if (bundle.expired) flags.emplace_back("expired");
  if (bundle.not_yet_valid) flags.emplace_back("not_yet_valid");
  if (bundle.temporary) flags.emplace_back("temporary");
  if (bundle.chain_reordered) flags.emplace_back("chain_reordered");
  return flags;
}

namespace {

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

std::string replace_first(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  if (at == std::string::npos) throw std::logic_error("corpus: text to replace not found");
  return text.replace(at, from.size(), to);
}

// Replaces the 3rd line of the first PEM block (inside the base64 body).
std::string corrupt_body(const std::string& pem, const std::string& garbage) {
  const size_t first = pem.find('\n');
  const size_t second = pem.find('\n', first + 1);
  const size_t third = pem.find('\n', second + 1);
  std::string out = pem;
  out.replace(second + 1, third - second - 1, garbage);
  return out;
}

// Inserts text right after the BEGIN line of the first PEM block.
std::string after_begin_line(const std::string& pem, const std::string& text) {
  std::string out = pem;
  out.insert(out.find('\n') + 1, text);
  return out;
}

std::string block(const std::string& label, const std::string& body) {
  return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n";
}

CertSpec named(std::vector<std::string> names) {
  CertSpec spec;
  spec.common_name = names.empty() ? "certsync corpus" : names.front();
  spec.dns_names = std::move(names);
  return spec;
}

CertSpec ca_spec(const std::string& common_name) {
  CertSpec spec;
  spec.common_name = common_name;
  spec.ca = true;
  return spec;
}

// A root, an intermediate and a leaf for www.example.com, all EC P-256.
struct Chain {
  const TestKey& root_key = TestKey::shared(KeyKind::kEcP256, 200);
  const TestKey& intermediate_key = TestKey::shared(KeyKind::kEcP256, 201);
  const TestKey& leaf_key = TestKey::shared(KeyKind::kEcP256, 202);
  TestCert root = TestCert::issue(ca_spec("certsync corpus root"), root_key);
  TestCert intermediate =
      TestCert::issue(ca_spec("certsync corpus intermediate"), intermediate_key, &root, &root_key);
  TestCert leaf =
      TestCert::issue(named({"www.example.com"}), leaf_key, &intermediate, &intermediate_key);
};

class Builder {
 public:
  // A case run with default options.
  CorpusCase& add(std::string name, std::string cert, std::string key, std::string_view code,
                  std::vector<std::string> flags = {}) {
    CorpusCase entry;
    entry.name = std::move(name);
    entry.cert_pem = std::move(cert);
    entry.key_pem = std::move(key);
    entry.expected_code = std::string(code);
    entry.expected_flags = std::move(flags);
    cases_.push_back(std::move(entry));
    return cases_.back();
  }
  std::vector<CorpusCase> take() { return std::move(cases_); }

 private:
  std::vector<CorpusCase> cases_;
};

// A self-signed leaf on `key`, named www.example.com unless the spec says otherwise.
TestCert self_signed(const TestKey& key, CertSpec spec = named({"www.example.com"})) {
  return TestCert::issue(spec, key);
}

}  // namespace

std::vector<CorpusCase> build_bad_corpus() {
  const TestKey& ec = TestKey::shared(KeyKind::kEcP256, 0);
  const TestKey& ec_other = TestKey::shared(KeyKind::kEcP256, 1);
  const TestKey& rsa = TestKey::shared(KeyKind::kRsa2048, 0);
  static const TestKey rsa_2047 = TestKey::rsa(2047);

  const std::string ec_cert = self_signed(ec).pem();
  const std::string ec_key = ec.pkcs8_pem();
  const std::string rsa_cert = self_signed(rsa).pem();
  const std::string rsa_key = rsa.pkcs8_pem();
  const Chain chain;
  const std::string chain_pem = chain.leaf.pem() + chain.intermediate.pem();
  const std::string chain_key = chain.leaf_key.pkcs8_pem();
  const std::string accepted(kAccepted);

  Builder corpus;

  // --- Missing, too large -------------------------------------------------
  corpus.add("cert_empty", "", ec_key, reason::kCertMissing);
  corpus.add("cert_only_whitespace", " \r\n\t\n", ec_key, reason::kCertMissing);
  corpus.add("key_empty", ec_cert, "", reason::kKeyMissing);
  corpus.add("key_only_whitespace", ec_cert, "\n  \n", reason::kKeyMissing);
  corpus.add("cert_over_one_mib", ec_cert + std::string(1024 * 1024, '\n'), ec_key,
             reason::kTooLarge);

  // --- tls.crt framing and content ------------------------------------------
  corpus.add("cert_plain_text", "this is not a certificate\n", ec_key, reason::kCertParseError);
  corpus.add("cert_bad_base64", corrupt_body(ec_cert, "this is !not! base64"), ec_key,
             reason::kCertParseError);
  corpus.add("cert_without_end_line", ec_cert.substr(0, ec_cert.find("-----END")), ec_key,
             reason::kCertParseError);
  corpus.add("cert_end_label_mismatch",
             replace_all(ec_cert, "END CERTIFICATE", "END X509 CERTIFICATE"), ec_key,
             reason::kCertParseError);
  corpus.add("cert_bytes_after_der", replace_first(ec_cert, "-----END", "AAAA\n-----END"), ec_key,
             reason::kCertParseError);
  corpus.add("cert_base64_but_not_der", block("CERTIFICATE", "AAAAAAAAAAAAAAAA"), ec_key,
             reason::kCertParseError);
  corpus.add("cert_with_pem_headers", after_begin_line(ec_cert, "Comment: hello\n\n"), ec_key,
             reason::kCertParseError);
  corpus.add("cert_begin_inside_block", after_begin_line(ec_cert, "-----BEGIN CERTIFICATE-----\n"),
             ec_key, reason::kCertParseError);
  corpus.add("cert_end_without_begin", "-----END CERTIFICATE-----\n" + ec_cert, ec_key,
             reason::kCertParseError);
  corpus.add("cert_boundary_four_dashes",
             replace_first(ec_cert, "-----BEGIN CERTIFICATE-----", "-----BEGIN CERTIFICATE----"),
             ec_key, reason::kCertParseError);
  corpus.add("cert_followed_by_private_key", ec_cert + ec_key, ec_key,
             reason::kCertUnexpectedBlock);
  corpus.add("cert_is_a_csr", block("CERTIFICATE REQUEST", "MIIBAAAA"), ec_key,
             reason::kCertUnexpectedBlock);
  corpus.add("cert_is_a_public_key", ec.public_pem(), ec_key, reason::kCertUnexpectedBlock);

  // --- tls.key --------------------------------------------------------------
  corpus.add("key_bad_base64", ec_cert, corrupt_body(ec_key, "not*base64*at*all"),
             reason::kKeyParseError);
  corpus.add("key_plain_text", ec_cert, "not a key\n", reason::kKeyParseError);
  corpus.add("key_ec_labelled_pkcs1", ec_cert,
             replace_all(ec.traditional_pem(), "EC PRIVATE KEY", "RSA PRIVATE KEY"),
             reason::kKeyParseError);
  corpus.add("key_rsa_labelled_sec1", rsa_cert,
             replace_all(rsa.traditional_pem(), "RSA PRIVATE KEY", "EC PRIVATE KEY"),
             reason::kKeyParseError);
  corpus.add("key_truncated_pkcs8", ec_cert,
             block("PRIVATE KEY", "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg"),
             reason::kKeyParseError);
  corpus.add("key_with_pem_headers", ec_cert, after_begin_line(ec_key, "Comment: hello\n\n"),
             reason::kKeyParseError);
  corpus.add("key_is_the_certificate", ec_cert, ec_cert, reason::kKeyUnexpectedBlock);
  corpus.add("key_is_a_public_key", ec_cert, ec.public_pem(), reason::kKeyUnexpectedBlock);
  corpus.add("key_followed_by_certificate", ec_cert, ec_key + ec_cert, reason::kKeyUnexpectedBlock);
  corpus.add("key_two_different_keys", ec_cert, ec_key + ec_other.pkcs8_pem(),
             reason::kKeyMultiple);
  corpus.add("key_same_key_twice", ec_cert, ec_key + ec.traditional_pem(), reason::kKeyMultiple);
  corpus.add("key_encrypted_pkcs8", ec_cert, ec.encrypted_pkcs8_pem("corpus passphrase"),
             reason::kKeyEncrypted);
  corpus.add("key_encrypted_proc_type", rsa_cert,
             rsa.encrypted_traditional_pem("corpus passphrase"), reason::kKeyEncrypted);
  corpus.add("key_x25519", ec_cert, TestKey::shared(KeyKind::kX25519).pkcs8_pem(),
             reason::kKeyUnsupported);
  corpus.add("key_openssh", ec_cert, block("OPENSSH PRIVATE KEY", "b3BlbnNzaC1rZXktdjEAAAAA"),
             reason::kKeyUnsupported);
  corpus.add("key_dsa", ec_cert, block("DSA PRIVATE KEY", "MIIBuwIBAAKBgQ=="),
             reason::kKeyUnsupported);
  corpus.add("key_of_another_certificate", ec_cert, ec_other.pkcs8_pem(), reason::kKeyMismatch);
  corpus.add("key_of_another_type", ec_cert, rsa_key, reason::kKeyMismatch);
  corpus.add("key_private_half_corrupt", ec_cert, TestKey::ec_franken(ec, ec_other).pkcs8_pem(),
             reason::kKeyInvalid);

  // --- Chain order ----------------------------------------------------------
  corpus.add("chain_reversed", chain.intermediate.pem() + chain.leaf.pem(), chain_key,
             reason::kChainOrder);
  corpus.add("chain_root_before_intermediate",
             chain.leaf.pem() + chain.root.pem() + chain.intermediate.pem(), chain_key,
             reason::kChainOrder);
  {
    const TestKey& impostor_key = TestKey::shared(KeyKind::kEcP256, 203);
    TestCert impostor = TestCert::issue(ca_spec("certsync corpus intermediate"), impostor_key,
                                        &chain.root, &chain.root_key);
    corpus.add("chain_impostor_intermediate", chain.leaf.pem() + impostor.pem(), chain_key,
               reason::kChainOrder);
  }
  corpus.add("chain_unrelated_certificate_appended", chain_pem + ec_cert, chain_key,
             reason::kChainOrder);
  corpus.add("chain_leaf_twice", chain.leaf.pem() + chain.leaf.pem(), chain_key,
             reason::kChainOrder);

  // --- Names ----------------------------------------------------------------
  corpus.add("names_none", self_signed(ec, named({})).pem(), ec_key, reason::kNoUsableName);
  {
    CertSpec spec;
    spec.common_name = "www.example.com";
    corpus.add("names_cn_only_without_fallback", self_signed(ec, spec).pem(), ec_key,
               reason::kNoUsableName);
  }
  corpus.add("names_only_malformed_wildcards",
             self_signed(ec, named({"a*.example.com", "*.*.example.com", "foo.*.com"})).pem(),
             ec_key, reason::kNoUsableName);
  {
    CertSpec spec = named({});
    spec.ip_addresses = {"192.0.2.10", "2001:db8::10"};
    corpus.add("names_only_ip_addresses", self_signed(ec, spec).pem(), ec_key,
               reason::kNoUsableName);
  }

  // --- Leaf policy ----------------------------------------------------------
  {
    CertSpec spec = named({"www.example.com"});
    spec.extended_key_usage = "clientAuth";
    corpus.add("eku_client_auth_only", self_signed(ec, spec).pem(), ec_key,
               reason::kEkuNotServerAuth);
    spec.extended_key_usage = "codeSigning,emailProtection,1.3.6.1.4.1.99999.1";
    corpus.add("eku_code_signing_and_email", self_signed(ec, spec).pem(), ec_key,
               reason::kEkuNotServerAuth);
  }
  {
    const TestKey& rsa_1024 = TestKey::shared(KeyKind::kRsa1024);
    corpus.add("rsa_1024", self_signed(rsa_1024).pem(), rsa_1024.pkcs8_pem(),
               reason::kRsaKeyTooSmall);
    corpus.add("rsa_2047", self_signed(rsa_2047).pem(), rsa_2047.pkcs8_pem(),
               reason::kRsaKeyTooSmall);
  }
  {
    CertSpec spec = named({"www.example.com"});
    spec.digest = "SHA1";
    corpus.add("signature_sha1_rsa", self_signed(rsa, spec).pem(), rsa_key, reason::kWeakSignature);
    corpus.add("signature_sha1_ecdsa", self_signed(ec, spec).pem(), ec_key, reason::kWeakSignature);
    spec.digest = "MD5";
    corpus.add("signature_md5_rsa", self_signed(rsa, spec).pem(), rsa_key, reason::kWeakSignature);
  }

  // --- Options: SNI override, chain verification, re-sorting -----------------
  {
    const std::string wildcard_cert =
        self_signed(ec, named({"*.example.com", "www.example.org"})).pem();
    corpus.add("sni_override_uncovered_host", wildcard_cert, ec_key, reason::kSniOverrideNotCovered)
        .sni_override = {"api.example.com", "www.example.net"};
    corpus
        .add("sni_override_two_labels_below_wildcard", wildcard_cert, ec_key,
             reason::kSniOverrideNotCovered)
        .sni_override = {"a.b.example.com"};
    corpus
        .add("sni_override_apex_of_wildcard", wildcard_cert, ec_key, reason::kSniOverrideNotCovered)
        .sni_override = {"example.com"};
    corpus.add("sni_override_malformed_name", wildcard_cert, ec_key, reason::kSniOverrideInvalid)
        .sni_override = {"api.example.com", "bad name.example.com"};
    corpus.add("sni_override_under_wildcard", wildcard_cert, ec_key, accepted).sni_override = {
        "API.example.com.", "www.example.org"};
  }
  {
    const TestKey& other_root_key = TestKey::shared(KeyKind::kEcP256, 204);
    const std::string other_root =
        self_signed(other_root_key, ca_spec("certsync other root")).pem();
    CorpusCase& other =
        corpus.add("verify_chain_other_ca", chain_pem, chain_key, reason::kChainUntrusted);
    other.verify_chain = true;
    other.ca_pem = other_root;

    CorpusCase& missing = corpus.add("verify_chain_missing_intermediate", chain.leaf.pem(),
                                     chain_key, reason::kChainUntrusted);
    missing.verify_chain = true;
    missing.ca_pem = chain.root.pem();

    CertSpec old_spec = ca_spec("certsync corpus old intermediate");
    old_spec.not_before_offset = -20 * 86400;
    old_spec.not_after_offset = -86400;
    const TestKey& old_key = TestKey::shared(KeyKind::kEcP256, 205);
    TestCert old_intermediate = TestCert::issue(old_spec, old_key, &chain.root, &chain.root_key);
    TestCert leaf_of_old =
        TestCert::issue(named({"www.example.com"}), chain.leaf_key, &old_intermediate, &old_key);
    CorpusCase& expired =
        corpus.add("verify_chain_expired_intermediate", leaf_of_old.pem() + old_intermediate.pem(),
                   chain_key, reason::kChainUntrusted);
    expired.verify_chain = true;
    expired.ca_pem = chain.root.pem();

    CorpusCase& garbage =
        corpus.add("verify_chain_ca_not_pem", chain_pem, chain_key, reason::kCaParseError);
    garbage.verify_chain = true;
    garbage.ca_pem = "this is not a CA bundle\n";

    CorpusCase& ca_key =
        corpus.add("verify_chain_ca_holds_a_key", chain_pem, chain_key, reason::kCaParseError);
    ca_key.verify_chain = true;
    ca_key.ca_pem = chain.root.pem() + chain.root_key.public_pem();

    CorpusCase& good = corpus.add("verify_chain_to_root", chain_pem, chain_key, accepted);
    good.verify_chain = true;
    good.ca_pem = chain.root.pem();

    CorpusCase& anchor =
        corpus.add("verify_chain_intermediate_as_anchor", chain.leaf.pem(), chain_key, accepted);
    anchor.verify_chain = true;
    anchor.ca_pem = chain.intermediate.pem();

    corpus.add("verify_chain_without_ca", chain_pem, chain_key, accepted).verify_chain = true;

    CorpusCase& self = corpus.add("verify_chain_self_signed_leaf_is_ca", ec_cert, ec_key, accepted);
    self.verify_chain = true;
    self.ca_pem = ec_cert;

    CertSpec expired_spec = named({"www.example.com"});
    expired_spec.not_before_offset = -10 * 86400;
    expired_spec.not_after_offset = -86400;
    TestCert expired_leaf =
        TestCert::issue(expired_spec, chain.leaf_key, &chain.intermediate, &chain.intermediate_key);
    CorpusCase& old_leaf =
        corpus.add("verify_chain_expired_leaf", expired_leaf.pem() + chain.intermediate.pem(),
                   chain_key, accepted, {"expired"});
    old_leaf.verify_chain = true;
    old_leaf.ca_pem = chain.root.pem();

    corpus
        .add("reorder_chain_reversed",
             chain.root.pem() + chain.leaf.pem() + chain.intermediate.pem(), chain_key, accepted,
             {"chain_reordered"})
        .reorder_chain = true;
    corpus
        .add("reorder_chain_unrelated_certificate",
             chain.intermediate.pem() + chain.leaf.pem() + other_root, chain_key,
             reason::kChainOrder)
        .reorder_chain = true;
  }

  // --- Tricky but accepted ----------------------------------------------------
  corpus.add("crlf_and_text_around_blocks",
             replace_all("Bag Attributes\n    friendlyName: www\n" + chain.leaf.pem() +
                             "\nsubject=CN = certsync corpus intermediate\n" +
                             chain.intermediate.pem() + "trailing notes\n\n",
                         "\n", "\r\n"),
             replace_all("Key Attributes: <No Attributes>\n" + chain_key + "  \n", "\n", "\r\n"),
             accepted);
  corpus.add("trailing_spaces_on_every_line", replace_all(chain_pem, "\n", " \t\n"), chain_key,
             accepted);
  corpus.add("full_chain_with_root", chain_pem + chain.root.pem(), chain_key, accepted);
  corpus.add("ec_parameters_before_sec1_key", ec_cert,
             block("EC PARAMETERS", "BggqhkjOPQMBBw==") + ec.traditional_pem(), accepted);
  corpus.add("rsa_pkcs1_key", rsa_cert, rsa.traditional_pem(), accepted);
  corpus.add("rsa_exactly_2048", rsa_cert, rsa_key, accepted);
  {
    const TestKey& ed25519 = TestKey::shared(KeyKind::kEd25519);
    corpus.add("key_ed25519", self_signed(ed25519).pem(), ed25519.pkcs8_pem(), accepted);
    const TestKey& p384 = TestKey::shared(KeyKind::kEcP384);
    corpus.add("key_ec_p384", self_signed(p384).pem(), p384.traditional_pem(), accepted);
    const TestKey& p521 = TestKey::shared(KeyKind::kEcP521);
    corpus.add("key_ec_p521", self_signed(p521).pem(), p521.pkcs8_pem(), accepted);
  }
  {
    CertSpec spec = named({"www.example.com"});
    spec.not_before_offset = -10 * 86400;
    spec.not_after_offset = -86400;
    corpus.add("expired", self_signed(ec, spec).pem(), ec_key, accepted, {"expired"});
    spec.not_before_offset = 86400;
    spec.not_after_offset = 30 * 86400;
    corpus.add("not_before_beyond_clock_skew", self_signed(ec, spec).pem(), ec_key, accepted,
               {"not_yet_valid"});
    spec.not_before_offset = 60;
    corpus.add("not_before_within_clock_skew", self_signed(ec, spec).pem(), ec_key, accepted);
  }
  {
    // What cert-manager writes with issue-temporary-certificate: a throwaway
    // CA "cert-manager.local" signs the Certificate's own names.
    const TestKey& ca_key = TestKey::shared(KeyKind::kEcP521, 1);
    TestCert ca = TestCert::issue(ca_spec("cert-manager.local"), ca_key);
    CertSpec spec = named({"www.example.com"});
    spec.subject_serial_number = "1234567890";
    TestCert temporary = TestCert::issue(spec, ec, &ca, &ca_key);
    corpus.add("temporary_cert_manager_local", temporary.pem(), ec_key, accepted, {"temporary"});
    corpus.add("temporary_by_annotation", ec_cert, ec_key, accepted, {"temporary"})
        .temporary_annotation = true;
  }
  {
    CertSpec spec = named({"www.example.com"});
    spec.extended_key_usage = "serverAuth,clientAuth";
    corpus.add("eku_server_and_client", self_signed(ec, spec).pem(), ec_key, accepted);
    spec.extended_key_usage = "anyExtendedKeyUsage";
    corpus.add("eku_any", self_signed(ec, spec).pem(), ec_key, accepted);
  }
  {
    CertSpec sha1_ca = ca_spec("certsync corpus sha1 intermediate");
    sha1_ca.digest = "SHA1";
    const TestKey& key = TestKey::shared(KeyKind::kEcP256, 206);
    TestCert intermediate = TestCert::issue(sha1_ca, key, &chain.root, &chain.root_key);
    TestCert leaf =
        TestCert::issue(named({"www.example.com"}), chain.leaf_key, &intermediate, &key);
    corpus.add("sha1_signed_intermediate", leaf.pem() + intermediate.pem(), chain_key,
               reason::kWeakSignature);
  }
  {
    CertSpec spec = named({"www.example.com"});
    spec.ip_addresses = {"192.0.2.10", "2001:db8::10"};
    corpus.add("ip_and_dns_names", self_signed(ec, spec).pem(), ec_key, accepted);
  }
  corpus.add("names_upper_case_trailing_dot",
             self_signed(ec, named({"WWW.Example.COM.", "www.example.com"})).pem(), ec_key,
             accepted);
  corpus.add(
      "names_wildcard_and_malformed",
      self_signed(ec, named({"*.example.com", "a*.example.com", "bad name.example.com"})).pem(),
      ec_key, accepted);
  {
    CertSpec spec;
    spec.common_name = "www.example.com";
    corpus.add("names_cn_with_fallback", self_signed(ec, spec).pem(), ec_key, accepted)
        .cn_fallback = true;
  }
  return corpus.take();
}

}  // namespace certsync::testing
