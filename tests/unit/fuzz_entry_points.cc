#include "fuzz_entry_points.h"

#include <openssl/err.h>

#include <exception>
#include <nlohmann/json.hpp>
#include <variant>
#include <vector>

#include "kube/secret.h"
#include "kube/secret_validation.h"
#include "tls/reasons.h"
#include "tls/validate.h"

namespace certsync::fuzz {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool printable_ascii(std::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

bool lowercase_hex(std::string_view text) {
  return text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// What is wrong with a refusal, or "".
std::string check_refusal(const tls::Refusal& refused) {
  if (!tls::reason::is_known(refused.code)) return "unknown reason code \"" + refused.code + "\"";
  if (refused.message.empty()) return "empty message for " + refused.code;
  if (!printable_ascii(refused.message)) {
    return "message for " + refused.code + " has bytes outside printable ASCII";
  }
  return {};
}

// What is wrong with an accepted bundle, or "".
std::string check_bundle(const tls::ValidBundle& bundle) {
  if (bundle.snis.empty()) return "accepted without SNIs";
  for (const std::string& sni : bundle.snis) {
    if (sni.empty() || !printable_ascii(sni) ||
        sni.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ ") != std::string::npos ||
        sni.back() == '.') {
      return "an SNI is not normalised";
    }
  }
  if (bundle.chain_length < 1) return "accepted with an empty chain";
  if (!starts_with(bundle.cert_pem, "-----BEGIN CERTIFICATE-----\n"))
    return "cert_pem not normalised";
  if (!starts_with(bundle.key_pem.view(), "-----BEGIN PRIVATE KEY-----\n") &&
      !starts_with(bundle.key_pem.view(), "-----BEGIN RSA PRIVATE KEY-----\n") &&
      !starts_with(bundle.key_pem.view(), "-----BEGIN EC PRIVATE KEY-----\n")) {
    return "key_pem is not one PEM key block";
  }
  if (bundle.fingerprint_sha256.size() != 64 || !lowercase_hex(bundle.fingerprint_sha256)) {
    return "bad fingerprint";
  }
  if (bundle.not_yet_valid != (bundle.deferred_until != 0) && bundle.not_before != 0) {
    return "not_yet_valid and deferred_until disagree";
  }
  return {};
}

std::vector<std::string_view> split_sections(std::string_view rest) {
  std::vector<std::string_view> sections;
  if (rest.find('\0') == std::string_view::npos) {
    sections.push_back(rest.substr(0, rest.size() / 2));
    sections.push_back(rest.substr(rest.size() / 2));
    return sections;
  }
  while (sections.size() < 3) {
    const size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) break;
    sections.push_back(rest.substr(0, nul));
    rest.remove_prefix(nul + 1);
  }
  sections.push_back(rest);
  return sections;
}

std::string validate_and_check(std::string_view cert, std::string_view key,
                               const tls::ValidationOptions& options) {
  ERR_clear_error();
  const tls::ValidationResult result = tls::validate_bundle(cert, key, options);
  if (ERR_peek_error() != 0) {
    ERR_clear_error();
    return "validate_bundle left an error on the OpenSSL queue";
  }
  if (const auto* refused = std::get_if<tls::Refusal>(&result)) return check_refusal(*refused);

  const auto& bundle = std::get<tls::ValidBundle>(result);
  if (std::string problem = check_bundle(bundle); !problem.empty()) return problem;

  // The normalised output is itself a bundle that passes, unchanged.
  const tls::ValidationResult again =
      tls::validate_bundle(bundle.cert_pem, bundle.key_pem.view(), options);
  const auto* second = std::get_if<tls::ValidBundle>(&again);
  if (second == nullptr) {
    return "the normalised bundle is refused: " + std::get<tls::Refusal>(again).code;
  }
  if (second->cert_pem != bundle.cert_pem || second->key_pem != bundle.key_pem ||
      second->snis != bundle.snis || second->fingerprint_sha256 != bundle.fingerprint_sha256 ||
      second->chain_reordered) {
    return "the normalised bundle validates differently";
  }
  return {};
}

}  // namespace

std::string encode_bundle_input(uint8_t flags, std::string_view cert, std::string_view key,
                                std::string_view ca, std::string_view sni_list) {
  std::string input(1, static_cast<char>(flags));
  input.append(cert);
  input += '\0';
  input.append(key);
  if (!ca.empty() || !sni_list.empty()) {
    input += '\0';
    input.append(ca);
  }
  if (!sni_list.empty()) {
    input += '\0';
    input.append(sni_list);
  }
  return input;
}

std::string run_validate_bundle(const uint8_t* data, size_t size) {
  if (size == 0) return {};
  try {
    const uint8_t flags = data[0];
    const std::vector<std::string_view> sections =
        split_sections(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
    tls::ValidationOptions options;
    options.cn_fallback = (flags & kCnFallback) != 0;
    options.reorder_chain = (flags & kReorderChain) != 0;
    options.verify_chain = (flags & kVerifyChain) != 0;
    options.temporary_certificate_annotation = (flags & kTemporaryAnnotation) != 0;
    if ((flags & kNoClockSkew) != 0) options.clock_skew_seconds = 0;
    if (sections.size() > 2) options.ca_pem = sections[2];
    if (sections.size() > 3) options.sni_override = kube::split_server_names(sections[3]);
    return validate_and_check(sections[0], sections[1], options);
  } catch (const std::exception& error) {
    return std::string("exception: ") + error.what();
  } catch (...) {
    return "exception of an unknown type";
  }
}

std::string run_secret_json(const uint8_t* data, size_t size) {
  try {
    nlohmann::json object = nlohmann::json::parse(data, data + size, nullptr,
                                                  /*allow_exceptions=*/false);
    if (object.is_discarded()) return {};

    std::string problem;
    auto decoded = kube::decode_secret(object);
    if (auto* secret = std::get_if<kube::Secret>(&decoded)) {
      if (secret->name.empty() || secret->namespace_name.empty()) {
        problem = "decoded a Secret without a name or namespace";
      } else if (secret->has_tls_keys &&
                 (secret->data_digest.size() != 64 || !lowercase_hex(secret->data_digest))) {
        problem = "a TLS Secret without a proper data digest";
      } else if (secret->has_tls_keys) {
        // As the watcher does, with chain verification on to reach ca.crt.
        tls::ValidationOptions options;
        options.verify_chain = true;
        options.ca_pem = secret->ca_crt;
        options.temporary_certificate_annotation = secret->temporary_annotation;
        options.sni_override = kube::split_server_names(secret->server_names_annotation);
        problem = validate_and_check(secret->tls_crt, secret->tls_key.view(), options);
      }
    } else if (std::get<std::string>(decoded).empty()) {
      problem = "decode_secret failed without a message";
    }

    kube::cleanse_secret_data(object);
    if (problem.empty() && object.is_object()) {
      for (const char* field : {"data", "stringData"}) {
        auto found = object.find(field);
        if (found == object.end() || !found->is_object()) continue;
        for (const auto& value : *found) {
          if (!value.is_string()) continue;
          for (char c : value.get_ref<const std::string&>()) {
            if (c != '\0') return std::string("cleanse_secret_data left bytes in ") + field;
          }
        }
      }
    }
    return problem;
  } catch (const std::exception& error) {
    return std::string("exception: ") + error.what();
  } catch (...) {
    return "exception of an unknown type";
  }
}

}  // namespace certsync::fuzz
