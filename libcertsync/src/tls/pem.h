// A strict PEM block scanner (RFC 7468 framing, RFC 1421 headers). Private to tls/.
//
// scan() finds every "-----BEGIN X-----" ... "-----END X-----" block in a text
// and decodes its base64 body. Text outside blocks is ignored; anything
// malformed inside or around a block (bad base64, a missing or mismatched END
// line, a broken boundary line) stops the scan with an error, so a damaged
// block can never be skipped silently. Decoded bytes live in a WipedBuffer,
// which is cleansed when released: the scanner is also used on private keys.
//
// Nothing the scanner reports (errors, labels, line numbers) contains body bytes.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "util/secret_bytes.h"

namespace certsync::tls::pem {

// A fixed-size byte buffer that is wiped (OPENSSL_cleanse) when destroyed or
// moved from. It never reallocates, so no copy of its bytes is left behind.
class WipedBuffer {
 public:
  WipedBuffer() = default;
  explicit WipedBuffer(size_t size);
  WipedBuffer(const WipedBuffer&) = delete;
  WipedBuffer& operator=(const WipedBuffer&) = delete;
  WipedBuffer(WipedBuffer&& other) noexcept;
  WipedBuffer& operator=(WipedBuffer&& other) noexcept;
  ~WipedBuffer();

  unsigned char* data() { return data_; }
  const unsigned char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  void release() noexcept;
  unsigned char* data_ = nullptr;
  size_t size_ = 0;
};

// One RFC 1421 header line ("Proc-Type: 4,ENCRYPTED"); views into the input.
struct Header {
  std::string_view name;
  std::string_view value;
};

struct Block {
  std::string_view label;       // "CERTIFICATE", "PRIVATE KEY", ...; a view into the input
  std::vector<Header> headers;  // empty for RFC 7468 blocks
  WipedBuffer der;              // the decoded body
  size_t line = 0;              // 1-based line number of the BEGIN line
};

enum class ScanError {
  kNone,
  kBadBoundary,    // a line starting with "-----BEGIN"/"-----END" that is not a valid boundary
  kStrayEnd,       // an END line outside any block
  kNestedBegin,    // a BEGIN line inside a block
  kLabelMismatch,  // END label differs from the BEGIN label
  kUnterminated,   // the text ends inside a block
  kBadHeader,      // a malformed header section
  kBadBase64,      // the body is not valid base64
  kEmptyBody,      // a block with no data
};

struct ScanResult {
  std::vector<Block> blocks;  // complete blocks, in input order (those before an error, too)
  ScanError error = ScanError::kNone;
  size_t error_line = 0;  // 1-based line of the problem
};

ScanResult scan(std::string_view text);

// A short phrase for humans: "the base64 data is malformed".
std::string_view describe(ScanError error);

// True if the text has nothing but whitespace.
bool is_blank(std::string_view text);

// The label if it is made of plain printable words (A-Z, 0-9, space, '-'; at
// most 40 characters), otherwise an empty view: safe to put in a message.
std::string_view printable_label(std::string_view label);

// The PEM text of one block, "-----BEGIN LABEL-----", the DER in base64
// lines of 64 characters, "-----END LABEL-----": the form OpenSSL's PEM
// readers take. Written in place into cleansed memory, for private keys.
SecretBytes encode(std::string_view label, const WipedBuffer& der);

// What encode() writes between the BEGIN and END lines: `der` in base64,
// lines of 64 characters each ending in '\n'. body_size() characters are
// written at `out`; write_body() returns where they end.
size_t body_size(size_t der_size);
char* write_body(const unsigned char* der, size_t der_size, char* out);

}  // namespace certsync::tls::pem
