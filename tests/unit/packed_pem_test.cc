// Packed PEM: what the store keeps of a served chain and key, given back byte for byte.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "store/packed_pem.h"
#include "tls/validate.h"
#include "tls_test_certs.h"

using certsync::store::pack_pem;
using certsync::store::unpack_pem;
using certsync::store::unpacked_pem_size;
using namespace certsync::testing;

namespace {

std::string unpacked(const std::string& packed) {
  std::string text(unpacked_pem_size(packed), '\0');
  unpack_pem(packed, text.data());
  return text;
}

std::string chain_pem() {
  CertSpec spec;
  spec.common_name = "packed.example.test";
  spec.dns_names = {"packed.example.test"};
  const TestPki pki = TestPki::make(KeyKind::kRsa2048, spec);
  return pki.leaf.pem() + pki.intermediate.pem();
}

}  // namespace

TEST_CASE("a chain of certificates packs to three quarters and unpacks to the same text", "[packed_pem]") {
  const std::string pem = chain_pem();
  const auto packed = pack_pem(pem);
  REQUIRE(packed);
  CHECK(packed->size() < pem.size() * 3 / 4 + 64);
  CHECK(unpacked_pem_size(*packed) == pem.size());
  CHECK(unpacked(*packed) == pem);
}

TEST_CASE("private keys of every kind pack and unpack to the same text", "[packed_pem]") {
  for (KeyKind kind : {KeyKind::kEcP256, KeyKind::kRsa2048, KeyKind::kEd25519, KeyKind::kEcP521}) {
    const TestKey& key = TestKey::shared(kind);
    std::vector<std::string> pems = {key.pkcs8_pem()};
    if (kind != KeyKind::kEd25519) pems.push_back(key.traditional_pem());  // Ed25519 has no traditional form
    for (const std::string& pem : pems) {
      INFO(pem.substr(0, 40));
      const auto packed = pack_pem(pem);
      REQUIRE(packed);
      CHECK(unpacked(*packed) == pem);
    }
  }
}

TEST_CASE("what validation hands out packs", "[packed_pem]") {
  CertSpec spec;
  spec.common_name = "valid.example.test";
  spec.dns_names = {"valid.example.test"};
  const TestKey& key = TestKey::shared(KeyKind::kEcP256);
  const auto result =
      certsync::tls::validate_bundle(TestCert::issue(spec, key).pem(), key.traditional_pem());
  const auto& bundle = std::get<certsync::tls::ValidBundle>(result);
  const auto cert = pack_pem(bundle.cert_pem);
  const auto packed_key = pack_pem(bundle.key_pem.view());
  REQUIRE(cert);
  REQUIRE(packed_key);
  CHECK(unpacked(*cert) == bundle.cert_pem);
  CHECK(unpacked(*packed_key) == bundle.key_pem.view());
}

TEST_CASE("text that would not come back byte for byte is not packed", "[packed_pem]") {
  const std::string pem = chain_pem();
  std::string crlf;
  for (char c : pem) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  CHECK_FALSE(pack_pem(crlf));                          // CRLF line endings
  CHECK_FALSE(pack_pem("junk\n" + pem));                // text around the blocks
  CHECK_FALSE(pack_pem(pem + "\n"));
  CHECK_FALSE(pack_pem(pem.substr(0, pem.size() - 1)));  // no final line break
  std::string long_lines = pem;
  long_lines.erase(long_lines.find('\n', 40), 1);  // the first base64 line joined with the next
  CHECK_FALSE(pack_pem(long_lines));
  CHECK_FALSE(pack_pem(""));
  CHECK_FALSE(pack_pem("KEY A2"));
  CHECK_FALSE(pack_pem("-----BEGIN X-----\nAAA=\n-----END Y-----\n"));  // labels differ
  CHECK_FALSE(pack_pem("-----BEGIN X-----\nA=AA\n-----END X-----\n"));  // padding inside
  CHECK(pack_pem("-----BEGIN X-----\nAAA=\n-----END X-----\n"));
}
