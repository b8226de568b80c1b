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
  const HttpRequest* request;
  std::atomic<uint64_t>* body_bytes;
  bool aborted = false;
};

size_t on_write(char* data, size_t size, size_t count, void* user) {
  auto* ctx = static_cast<TransferContext*>(user);
  const size_t bytes = size * count;
  // Counted before the handler looks: what crossed the wire, kept or not.
  ctx->body_bytes->fetch_add(bytes, std::memory_order_relaxed);
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
  if (line == "\r\n" || line == "\n") {  // the blank line that ends the headers
    if (ctx->request->on_headers && ctx->response->status >= 200) ctx->request->on_headers(ctx->response->status);
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

// Splits "https://host:port/prefix" into host (brackets kept for IPv6) and port.
bool split_server(const std::string& server, std::string* scheme, std::string* host, std::string* port,
                  std::string* rest) {
  const size_t scheme_end = server.find("://");
  if (scheme_end == std::string::npos) return false;
  *scheme = server.substr(0, scheme_end);
  size_t pos = scheme_end + 3;
  size_t host_end;
  if (pos < server.size() && server[pos] == '[') {
    host_end = server.find(']', pos);
    if (host_end == std::string::npos) return false;
    ++host_end;
  } else {
    host_end = server.find_first_of(":/", pos);
    if (host_end == std::string::npos) host_end = server.size();
  }
  *host = server.substr(pos, host_end - pos);
  pos = host_end;
  if (pos < server.size() && server[pos] == ':') {
    const size_t port_end = server.find('/', pos);
    *port = server.substr(pos + 1, (port_end == std::string::npos ? server.size() : port_end) - pos - 1);
    pos = port_end == std::string::npos ? server.size() : port_end;
  } else {
    *port = *scheme == "https" ? "443" : "80";
  }
  *rest = server.substr(pos);
  return true;
}

// Applies the connection's trust and client certificate to a handle. With a
// tls_server_name, the URL names that host (so curl sends it as SNI and checks
// the certificate against it) and CONNECT_TO sends the bytes to the real one.
void apply_connection(CURL* easy, const ConnectionConfig& c, const std::string& path_and_query,
                      std::string* url, curl_slist** connect_to) {
  *url = c.server + path_and_query;
  if (!c.tls_server_name.empty()) {
    std::string scheme, host, port, rest;
    if (split_server(c.server, &scheme, &host, &port, &rest)) {
      *url = scheme + "://" + c.tls_server_name + ":" + port + rest + path_and_query;
      *connect_to = curl_slist_append(nullptr, (c.tls_server_name + ":" + port + ":" + host + ":" + port).c_str());
      curl_easy_setopt(easy, CURLOPT_CONNECT_TO, *connect_to);
    }
  }
  // The CA file is read again for every new connection: it may be rotated.
  curl_easy_setopt(easy, CURLOPT_CA_CACHE_TIMEOUT, 0L);
  if (!c.ca_file.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, c.ca_file.c_str());
  if (!c.ca_pem.empty()) {
    curl_blob blob{const_cast<char*>(c.ca_pem.data()), c.ca_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (c.insecure_skip_tls_verify) {
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!c.client_cert_file.empty()) curl_easy_setopt(easy, CURLOPT_SSLCERT, c.client_cert_file.c_str());
  if (!c.client_cert_pem.empty()) {
    curl_blob blob{const_cast<char*>(c.client_cert_pem.data()), c.client_cert_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &blob);
    curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (!c.client_key_file.empty()) curl_easy_setopt(easy, CURLOPT_SSLKEY, c.client_key_file.c_str());
  if (!c.client_key_pem.empty()) {
    // CURL_BLOB_NOCOPY: the key stays in our cleansed buffer, which outlives the transfer.
    curl_blob blob{const_cast<char*>(c.client_key_pem.data()), c.client_key_pem.size(), CURL_BLOB_NOCOPY};
    curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &blob);
    curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
  }
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
  TransferContext ctx{&on_body, &response, &request, &body_bytes_};
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  std::string authorization;
  if (!request.bearer_token.empty()) {
    authorization = "Authorization: Bearer ";
    authorization.append(request.bearer_token.view());
    headers = curl_slist_append(headers, authorization.c_str());
    OPENSSL_cleanse(authorization.data(), authorization.size());
  }

  std::string url;
  curl_slist* connect_to = nullptr;
  apply_connection(easy, *request.connection, request.path_and_query, &url, &connect_to);
  curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
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
      response.timed_out = result == CURLE_OPERATION_TIMEDOUT;
    }
  }
  curl_multi_remove_handle(multi, easy);
  curl_easy_cleanup(easy);
  // The list holds a copy of the token: cleanse it before it goes back to the heap.
  for (curl_slist* node = headers; node != nullptr; node = node->next)
    OPENSSL_cleanse(node->data, std::char_traits<char>::length(node->data));
  curl_slist_free_all(headers);
  curl_slist_free_all(connect_to);
  return response;
}

}  // namespace certsync::kube
