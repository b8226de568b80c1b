#include "store/packed_pem.h"

#include <openssl/crypto.h>

#include <cstdint>
#include <cstring>

#include "tls/pem.h"

namespace certsync::store {

// Packed, each block is: label length (1 byte), label, DER length (3 bytes,
// big-endian), DER.

namespace {

constexpr std::string_view kBegin = "-----BEGIN ";
constexpr std::string_view kEnd = "-----END ";
constexpr std::string_view kDashes = "-----\n";
constexpr size_t kMaxDer = (size_t{1} << 24) - 1;

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool starts_with(std::string_view text, size_t at, std::string_view prefix) {
  return text.size() - at >= prefix.size() && text.compare(at, prefix.size(), prefix) == 0;
}

// One PEM block of the text: where its label and base64 body are.
struct Block {
  std::string_view label;
  std::string_view body;  // base64 with its line breaks
  size_t der_size = 0;
};

// Finds the block at `at` and moves `at` past it; false when the text there
// is not a PEM block this packing can hold.
bool next_block(std::string_view pem, size_t& at, Block& block) {
  if (!starts_with(pem, at, kBegin)) return false;
  const size_t label_at = at + kBegin.size();
  const size_t label_end = pem.find(kDashes, label_at);
  if (label_end == std::string_view::npos || label_end == label_at || label_end - label_at > 255) return false;
  block.label = pem.substr(label_at, label_end - label_at);
  if (block.label.find('\n') != std::string_view::npos) return false;
  const size_t body_at = label_end + kDashes.size();
  const size_t end_at = pem.find(kEnd, body_at);
  if (end_at == std::string_view::npos) return false;
  block.body = pem.substr(body_at, end_at - body_at);
  size_t digits = 0;
  size_t padding = 0;
  for (char c : block.body) {
    if (c == '\n') continue;
    if (c == '=') {
      ++padding;
    } else if (base64_value(c) < 0 || padding > 0) {
      return false;
    }
    ++digits;
  }
  if (digits == 0 || digits % 4 != 0 || padding > 2) return false;
  block.der_size = digits / 4 * 3 - padding;
  if (block.der_size > kMaxDer) return false;
  size_t close = end_at + kEnd.size();
  if (!starts_with(pem, close, block.label)) return false;
  close += block.label.size();
  if (!starts_with(pem, close, kDashes)) return false;
  at = close + kDashes.size();
  return true;
}

// Decodes a block's body (checked by next_block) into `out`, der_size bytes.
void decode_body(const Block& block, char* out) {
  uint32_t quad = 0;
  int count = 0;
  size_t written = 0;
  for (char c : block.body) {
    if (c == '\n') continue;
    const int value = c == '=' ? 0 : base64_value(c);
    quad = (quad << 6) | static_cast<uint32_t>(value);
    if (++count < 4) continue;
    for (int shift = 16; shift >= 0 && written < block.der_size; shift -= 8)
      out[written++] = static_cast<char>((quad >> shift) & 0xff);
    quad = 0;
    count = 0;
  }
  OPENSSL_cleanse(&quad, sizeof(quad));
}

}  // namespace

std::optional<std::string> pack_pem(std::string_view pem) {
  size_t packed_size = 0;
  for (size_t at = 0; at < pem.size();) {
    Block block;
    if (!next_block(pem, at, block)) return std::nullopt;
    packed_size += 1 + block.label.size() + 3 + block.der_size;
  }
  if (packed_size == 0) return std::nullopt;
  std::string packed(packed_size, '\0');
  char* out = packed.data();
  for (size_t at = 0; at < pem.size();) {
    Block block;
    next_block(pem, at, block);
    *out++ = static_cast<char>(block.label.size());
    std::memcpy(out, block.label.data(), block.label.size());
    out += block.label.size();
    *out++ = static_cast<char>((block.der_size >> 16) & 0xff);
    *out++ = static_cast<char>((block.der_size >> 8) & 0xff);
    *out++ = static_cast<char>(block.der_size & 0xff);
    decode_body(block, out);
    out += block.der_size;
  }
  // Canonical only: what is given back must be the text itself.
  bool same = unpacked_pem_size(packed) == pem.size();
  if (same) {
    std::string text(pem.size(), '\0');
    unpack_pem(packed, text.data());
    same = text == pem;
    OPENSSL_cleanse(text.data(), text.size());
  }
  if (!same) {
    OPENSSL_cleanse(packed.data(), packed.size());
    return std::nullopt;
  }
  return packed;
}

namespace {

// Calls `each(label, der)` for every block of `packed`.
template <typename Each>
void for_each_block(std::string_view packed, Each&& each) {
  size_t at = 0;
  while (at < packed.size()) {
    const size_t label_size = static_cast<unsigned char>(packed[at]);
    const std::string_view label = packed.substr(at + 1, label_size);
    at += 1 + label_size;
    const size_t der_size = (size_t{static_cast<unsigned char>(packed[at])} << 16) |
                            (size_t{static_cast<unsigned char>(packed[at + 1])} << 8) |
                            size_t{static_cast<unsigned char>(packed[at + 2])};
    at += 3;
    each(label, packed.substr(at, der_size));
    at += der_size;
  }
}

}  // namespace

size_t unpacked_pem_size(std::string_view packed) {
  size_t size = 0;
  for_each_block(packed, [&size](std::string_view label, std::string_view der) {
    size += kBegin.size() + label.size() + kDashes.size() + tls::pem::body_size(der.size()) + kEnd.size() +
            label.size() + kDashes.size();
  });
  return size;
}

void unpack_pem(std::string_view packed, char* out) {
  auto put = [&out](std::string_view text) {
    std::memcpy(out, text.data(), text.size());
    out += text.size();
  };
  for_each_block(packed, [&](std::string_view label, std::string_view der) {
    put(kBegin);
    put(label);
    put(kDashes);
    out = tls::pem::write_body(reinterpret_cast<const unsigned char*>(der.data()), der.size(), out);
    put(kEnd);
    put(label);
    put(kDashes);
  });
}

}  // namespace certsync::store
