#include "base64.h"

namespace kube_test {
namespace {

constexpr char kStd[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(const std::string &in, const char *alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  while (i + 3 <= in.size()) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
    i += 3;
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

// -1: not in the alphabet(s) accepted.
int sextet(char c, bool std_ok, bool url_ok) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (std_ok && c == '+') return 62;
  if (std_ok && c == '/') return 63;
  if (url_ok && c == '-') return 62;
  if (url_ok && c == '_') return 63;
  return -1;
}

std::optional<std::string> decode(const std::string &raw, bool std_ok,
                                  bool url_ok, bool require_padding) {
  // Go's (non-strict) decoder skips CR and LF anywhere in the input.
  std::string in;
  in.reserve(raw.size());
  for (char c : raw) {
    if (c != '\r' && c != '\n') in += c;
  }
  size_t len = in.size();
  size_t pad = 0;
  while (len > 0 && in[len - 1] == '=' && pad < 2) {
    --len;
    ++pad;
  }
  if (require_padding && (len + pad) % 4 != 0) return std::nullopt;
  if (pad > 0 && (len + pad) % 4 != 0) return std::nullopt;
  if (len % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(len * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (size_t i = 0; i < len; ++i) {
    int v = sextet(in[i], std_ok, url_ok);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Like Go's default (non-strict) decoder, non-zero leftover bits are
  // tolerated.
  return out;
}

}  // namespace

std::string base64_encode(const std::string &bytes) {
  return encode(bytes, kStd, true);
}

std::string base64_url_encode_raw(const std::string &bytes) {
  return encode(bytes, kUrl, false);
}

std::optional<std::string> base64_decode(const std::string &text) {
  return decode(text, true, false, true);
}

std::optional<std::string> base64_decode_lenient(const std::string &text) {
  return decode(text, true, true, false);
}

}  // namespace kube_test
