// Whether tls.crt carries the issuers a client needs to build the chain, and
// which certificates of ca.crt would complete it.
//
// A server must send every intermediate between its leaf and a root the
// client trusts; clients do not fetch missing ones (browsers that cached one
// from another site hide the gap, which is why it reaches production). A
// gap is certain when the leaf alone is sent and it is not self-issued (a
// leaf is never a trusted root), unless ca.crt shows that its issuer is a
// root; or when ca.crt holds a non-root issuer of the top of tls.crt. Roots
// are never appended: clients bring their own trust anchors. Private to tls/.
#pragma once

#include <vector>

#include "tls/ossl_ptr.h"

namespace certsync::tls {

// True if `issuer` issued `subject`: names (and key identifiers) match and
// the signature verifies.
bool issued_by(X509* subject, X509* issuer);
// Subject and issuer are the same name: a root, or a self-signed leaf.
bool self_issued(X509* cert);

struct ChainGap {
  bool incomplete = false;
  // The certificate at the top of tls.crt, whose issuer tls.crt does not carry.
  X509* top = nullptr;
  // Intermediates of ca.crt that continue the chain from `top`, in order
  // (references of their own); empty when ca.crt does not hold the issuer.
  std::vector<ossl::X509Ptr> from_ca;
};

// `chain`: tls.crt, leaf first and in order; `ca`: ca.crt's certificates.
ChainGap find_chain_gap(const std::vector<ossl::X509Ptr>& chain, const std::vector<ossl::X509Ptr>& ca);

}  // namespace certsync::tls
