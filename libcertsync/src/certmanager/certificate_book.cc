#include "certmanager/certificate_book.h"

namespace certsync::certmanager {

bool CertificateBook::in_namespace(const std::string& id, const std::string& namespace_name) {
  return namespace_name.empty() ||
         (id.size() > namespace_name.size() && id.compare(0, namespace_name.size(), namespace_name) == 0 &&
          id[namespace_name.size()] == '/');
}

void CertificateBook::replace_all(size_t scope_index, const std::string& namespace_name,
                                  std::vector<Certificate> certificates) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = certificates_.begin(); it != certificates_.end();) {
    it = in_namespace(it->first, namespace_name) ? certificates_.erase(it) : std::next(it);
  }
  for (auto& certificate : certificates) {
    const std::string id = certificate.id();
    certificates_[id] = std::move(certificate);
  }
  if (scope_index < scopes_.size()) scopes_[scope_index].listed = true;
  changed_locked();
}

void CertificateBook::apply(Certificate certificate) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string id = certificate.id();
  certificates_[id] = std::move(certificate);
  changed_locked();
}

void CertificateBook::remove(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (certificates_.erase(id) != 0) changed_locked();
}

bool CertificateBook::set_available(size_t scope_index, const std::string& namespace_name, bool available,
                                    const std::string& reason) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (scope_index >= scopes_.size()) return true;
  ScopeState& scope = scopes_[scope_index];
  if (available) {
    const bool news = !scope.unavailable.empty();
    scope.unavailable.clear();
    if (news) changed_locked();
    return news;
  }
  if (scope.unavailable == reason) return false;
  // "HTTP 404" and "HTTP 403" are the news; each namespace saying it again is not.
  const std::string code = reason.find("HTTP 404") != std::string::npos ? "404" : "403";
  bool news = true;
  for (const auto& other : scopes_) {
    if (&other != &scope && other.unavailable.find("HTTP " + code) != std::string::npos) news = false;
  }
  scope.unavailable = reason;
  scope.listed = false;
  for (auto it = certificates_.begin(); it != certificates_.end();) {
    it = in_namespace(it->first, namespace_name) ? certificates_.erase(it) : std::next(it);
  }
  changed_locked();
  return news;
}

uint64_t CertificateBook::version() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return version_;
}

size_t CertificateBook::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return certificates_.size();
}

std::shared_ptr<const std::string> CertificateBook::certificates_json(uint64_t known, uint64_t* version) {
  std::lock_guard<std::mutex> lock(mutex_);
  *version = version_;
  if (known == version_) return nullptr;
  if (rendered_version_ != version_ || !rendered_) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [id, certificate] : certificates_) out.push_back(to_json(certificate));
    rendered_ = std::make_shared<const std::string>(out.dump());
    rendered_version_ = version_;
  }
  return rendered_;
}

nlohmann::json CertificateBook::summary() const {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t unavailable = 0, listed = 0;
  std::string reason;
  for (const auto& scope : scopes_) {
    if (!scope.unavailable.empty()) {
      ++unavailable;
      if (reason.empty()) reason = scope.unavailable;
    }
    listed += scope.listed ? 1 : 0;
  }
  nlohmann::json out = {{"watching", unavailable == 0},
                        {"synced", listed == scopes_.size()},
                        {"certificates", certificates_.size()},
                        {"version", version_},
                        {"scopes_unavailable", unavailable}};
  if (!reason.empty()) out["reason"] = reason;
  return out;
}

}  // namespace certsync::certmanager
