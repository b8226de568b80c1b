#include "kube/http_stream.h"

#include <curl/curl.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace certsync::kube {

namespace {

struct TransferContext {
  const HttpStream::BodyHandler* on_body;
  HttpResponse* response;
  bool aborted = false;
};

size_t on_write(char* data, size_t size, size_t count, void* user) {
  auto* ctx = static_cast<TransferContext*>(user);
  const size_t bytes = size * count;
  if (!(*ctx->on_body)(ctx->response->status, std::string_view(data, bytes))) {
    ctx->aborted = true;
    return 0;  // makes curl fail the transfer with CURLE_WRITE_ERROR
  }
  return bytes;
}

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* ctx = static_cast<TransferContext*>(user);
  const size_t bytes = size * count;
  std::string_view line(data, bytes);
  if (line.rfind("HTTP/", 0) == 0) {
    // A status line starts a new response (e.g. after 100-continue).
    ctx->response->headers.clear();
    const size_t space = line.find(' ');
    if (space != std::string_view::npos)
      ctx->response->status = std::strtol(std::string(line.substr(space + 1, 3)).c_str(), nullptr, 10);
    return bytes;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return bytes;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  ctx->response->headers[name] = std::string(value);
  return bytes;
}

}  // namespace

HttpStream::HttpStream() : multi_(curl_multi_init()) {}

HttpStream::~HttpStream() { curl_multi_cleanup(static_cast<CURLM*>(multi_)); }

void HttpStream::interrupt() {
  interrupted_.store(true);
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

HttpResponse HttpStream::get(const HttpRequest& request, const BodyHandler& on_body) {
  HttpResponse response;
  if (interrupted_.load()) {
    response.interrupted = true;
    return response;
  }
  CURLM* multi = static_cast<CURLM*>(multi_);
  CURL* easy = curl_easy_init();
  if (easy == nullptr || multi == nullptr) {
    if (easy != nullptr) curl_easy_cleanup(easy);
    response.transport_error = "libcurl could not be initialised";
    return response;
  }
  TransferContext ctx{&on_body, &response};
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  std::string authorization;
  if (!request.bearer_token.empty()) {
    authorization = "Authorization: Bearer ";
    authorization.append(request.bearer_token.view());
    headers = curl_slist_append(headers, authorization.c_str());
    OPENSSL_cleanse(authorization.data(), authorization.size());
  }

  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "certsync/0.1");
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);  // we run on our own thread inside nginx
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, request.connect_timeout_ms);
  if (request.total_timeout_ms > 0) curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, request.total_timeout_ms);
  if (request.idle_timeout_s > 0) {
    // Fewer than 1 byte/s for idle_timeout_s seconds: the connection is dead.
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, request.idle_timeout_s);
  }
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE, 30L);
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL, 10L);
  if (!request.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, request.ca_file.c_str());
  if (request.insecure_skip_tls_verify) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &ctx);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &ctx);

  curl_multi_add_handle(multi, easy);
  CURLcode result = CURLE_OK;
  bool done = false;
  while (!done) {
    if (interrupted_.load()) {
      response.interrupted = true;
      break;
    }
    int running = 0;
    if (curl_multi_perform(multi, &running) != CURLM_OK) {
      result = CURLE_FAILED_INIT;
      break;
    }
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy) {
        result = msg->data.result;
        done = true;
      }
    }
    if (!done) curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response.status);
  if (done && result != CURLE_OK) {
    if (ctx.aborted) {
      response.aborted_by_callback = true;
    } else {
      response.transport_error = curl_easy_strerror(result);
    }
  }
  curl_multi_remove_handle(multi, easy);
  curl_easy_cleanup(easy);
  // The list holds a copy of the token: cleanse it before it goes back to the heap.
  for (curl_slist* node = headers; node != nullptr; node = node->next)
    OPENSSL_cleanse(node->data, std::char_traits<char>::length(node->data));
  curl_slist_free_all(headers);
  return response;
}

}  // namespace certsync::kube
