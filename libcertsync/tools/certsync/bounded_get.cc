#include "bounded_get.h"

namespace certsync::cli {

BoundedResponse bounded_get(kube::HttpStream& http, const kube::HttpRequest& request, size_t max_bytes,
                            std::string& body) {
  BoundedResponse out;
  out.response = http.get(request, [&](long, std::string_view bytes) {
    if (body.size() + bytes.size() > max_bytes) {
      out.too_large = true;
      return false;
    }
    body.append(bytes);
    return true;
  });
  return out;
}

}  // namespace certsync::cli
