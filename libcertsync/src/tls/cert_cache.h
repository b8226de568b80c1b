// Certificates from DER, issuers shared across bundles.
//
// One intermediate (and one root in ca.crt) signs thousands of Secrets'
// leaves, and OpenSSL 3.0 spends most of a certificate's parse decoding its
// public key: profiled, parsing tls.crt was 40 % of validating an ECDSA
// bundle. Issuer certificates are parsed once and shared (reference
// counted, never changed after parsing); leaves, unique to their Secret,
// are parsed every time. Thread-safe.
#pragma once

#include <cstddef>

#include "tls/ossl_ptr.h"

namespace certsync::tls {

// The certificate in `der`, which must be exactly one DER certificate, or
// nullptr. `shared`: an issuer, worth keeping for the next bundle.
ossl::X509Ptr parse_certificate_der(const unsigned char* der, size_t len, bool shared);

}  // namespace certsync::tls
