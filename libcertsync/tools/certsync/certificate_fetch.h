// Finding the cert-manager Certificate that writes a Secret: LIST the
// namespace's Certificates (cert-manager.io/v1) and keep those whose
// spec.secretName names it. Optional, like the watch: a cluster without the
// CRD (404) or an identity without list on it (403) answers with a note,
// never a failure, so `inspect` judges the Secret all the same.
#pragma once

#include <string>
#include <vector>

#include "certmanager/certificate.h"
#include "kube/connection_config.h"

namespace certsync::cli {

struct CertificateLookup {
  std::vector<certmanager::Certificate> certificates;  // those writing the Secret (normally one)
  std::string note;  // why none could be looked for, "" when the lookup worked
  bool absent = false;  // the CRD is not installed: nothing to say to people who do not use cert-manager
};

CertificateLookup find_certificates(const kube::ConnectionConfig& connection, const std::string& namespace_name,
                                    const std::string& secret_name);

// renewalTime has passed and the Certificate is not Ready, or its latest
// issuance failed (as the plugin's certsync.certificates says it).
bool renewal_overdue(const certmanager::Certificate& certificate, int64_t now);

}  // namespace certsync::cli
