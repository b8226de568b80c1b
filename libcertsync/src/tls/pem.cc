#include "tls/pem.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cstdint>
#include <utility>

namespace certsync::tls::pem {

WipedBuffer::WipedBuffer(size_t size)
    : data_(size > 0 ? new unsigned char[size] : nullptr), size_(size) {}

WipedBuffer::WipedBuffer(WipedBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

WipedBuffer& WipedBuffer::operator=(WipedBuffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

WipedBuffer::~WipedBuffer() { release(); }

void WipedBuffer::release() noexcept {
  if (data_ != nullptr) {
    OPENSSL_cleanse(data_, size_);
    delete[] data_;
  }
  data_ = nullptr;
  size_ = 0;
}

namespace {

constexpr std::string_view kDashes = "-----";
constexpr std::string_view kBeginKeyword = "-----BEGIN";
constexpr std::string_view kEndKeyword = "-----END";

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string_view trim(std::string_view s) {
  s = trim_right(s);
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  return s;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Yields the lines of a text one by one ('\n' separated; a '\r' before it is
// left for the trimming that every caller does).
class LineReader {
 public:
  explicit LineReader(std::string_view text) : rest_(text) {}

  bool next(std::string_view& line) {
    if (done_) return false;
    size_t eol = rest_.find('\n');
    if (eol == std::string_view::npos) {
      line = rest_;
      rest_ = {};
      done_ = true;
    } else {
      line = rest_.substr(0, eol);
      rest_.remove_prefix(eol + 1);
    }
    ++number_;
    return true;
  }

  size_t number() const { return number_; }

 private:
  std::string_view rest_;
  size_t number_ = 0;
  bool done_ = false;
};

// Parses a trimmed boundary line "<keyword> LABEL-----". RFC 7468 labels are
// printable ASCII that neither starts nor ends with a space or a hyphen.
bool parse_boundary(std::string_view line, std::string_view keyword, std::string_view& label) {
  if (!starts_with(line, keyword)) return false;
  std::string_view rest = line.substr(keyword.size());
  if (!ends_with(rest, kDashes)) return false;
  rest.remove_suffix(kDashes.size());
  if (rest.size() < 2 || rest.front() != ' ') return false;
  rest.remove_prefix(1);
  for (char c : rest) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  if (rest.front() == ' ' || rest.front() == '-' || rest.back() == ' ' || rest.back() == '-') {
    return false;
  }
  label = rest;
  return true;
}

// The base64 alphabet's values, -1 for every other byte: a table, because
// decoding looks every character of every PEM body up twice (validation
// and decoding) and the chain of comparisons was a twentieth of
// validating a bundle.
struct Base64Table {
  signed char value[256];
  constexpr Base64Table() : value() {
    for (int i = 0; i < 256; ++i) value[i] = -1;
    for (int i = 0; i < 26; ++i) {
      value['A' + i] = static_cast<signed char>(i);
      value['a' + i] = static_cast<signed char>(26 + i);
    }
    for (int i = 0; i < 10; ++i) value['0' + i] = static_cast<signed char>(52 + i);
    value[static_cast<unsigned char>('+')] = 62;
    value[static_cast<unsigned char>('/')] = 63;
  }
};
constexpr Base64Table kBase64;

int base64_value(char c) { return kBase64.value[static_cast<unsigned char>(c)]; }

struct BodyLine {
  std::string_view text;  // trimmed
  size_t number;
};

// Strict base64: only the alphabet, '=' padding at the very end, a length
// that is a multiple of four. Line breaks may fall anywhere.
ScanError decode_base64(const std::vector<BodyLine>& lines, WipedBuffer& out, size_t& error_line) {
  size_t data_chars = 0;
  size_t padding = 0;
  for (const BodyLine& line : lines) {
    for (char c : line.text) {
      if (c == '=') {
        ++padding;
      } else if (base64_value(c) >= 0 && padding == 0) {
        ++data_chars;
      } else {
        error_line = line.number;
        return ScanError::kBadBase64;
      }
    }
  }
  const size_t total = data_chars + padding;
  if (total == 0) return ScanError::kEmptyBody;
  if (total % 4 != 0 || padding > 2) {
    error_line = lines.back().number;
    return ScanError::kBadBase64;
  }

  WipedBuffer buffer(total / 4 * 3 - padding);
  unsigned char* dst = buffer.data();
  uint32_t bits = 0;
  int count = 0;
  for (const BodyLine& line : lines) {
    for (char c : line.text) {
      if (c == '=') continue;
      bits = (bits << 6) | static_cast<uint32_t>(base64_value(c));
      if (++count == 4) {
        *dst++ = static_cast<unsigned char>(bits >> 16);
        *dst++ = static_cast<unsigned char>(bits >> 8);
        *dst++ = static_cast<unsigned char>(bits);
        bits = 0;
        count = 0;
      }
    }
  }
  if (count == 3) {  // "xxx=": 18 bits, 2 bytes
    *dst++ = static_cast<unsigned char>(bits >> 10);
    *dst++ = static_cast<unsigned char>(bits >> 2);
  } else if (count == 2) {  // "xx==": 12 bits, 1 byte
    *dst++ = static_cast<unsigned char>(bits >> 4);
  }
  OPENSSL_cleanse(&bits, sizeof bits);
  out = std::move(buffer);
  return ScanError::kNone;
}

}  // namespace

ScanResult scan(std::string_view text) {
  ScanResult result;
  LineReader reader(text);
  std::string_view raw;

  auto fail = [&](ScanError error, size_t line) {
    result.error = error;
    result.error_line = line;
    return std::move(result);
  };

  while (reader.next(raw)) {
    const std::string_view line = trim(raw);
    if (starts_with(line, kEndKeyword)) return fail(ScanError::kStrayEnd, reader.number());
    if (!starts_with(line, kBeginKeyword)) continue;  // text between blocks

    Block block;
    block.line = reader.number();
    if (!parse_boundary(line, kBeginKeyword, block.label)) {
      return fail(ScanError::kBadBoundary, reader.number());
    }

    // Optional RFC 1421 headers: "Name: value" lines (continuations start with
    // whitespace) up to an empty line. Base64 never contains ':'.
    std::vector<BodyLine> body;
    bool in_headers = false;
    bool first = true;
    bool closed = false;
    while (reader.next(raw)) {
      const std::string_view content = trim(raw);
      if (first) {
        first = false;
        in_headers = content.find(':') != std::string_view::npos;
      }
      if (in_headers) {
        if (content.empty()) {
          in_headers = false;
        } else if (is_space(raw.front()) && !block.headers.empty()) {
          continue;  // continuation of the previous header
        } else if (size_t colon = content.find(':');
                   colon != std::string_view::npos && colon > 0 && !starts_with(content, kDashes)) {
          block.headers.push_back(
              Header{trim(content.substr(0, colon)), trim(content.substr(colon + 1))});
        } else {
          return fail(ScanError::kBadHeader, reader.number());
        }
        continue;
      }
      if (starts_with(content, kDashes)) {
        std::string_view end_label;
        if (parse_boundary(content, kEndKeyword, end_label)) {
          if (end_label != block.label) return fail(ScanError::kLabelMismatch, reader.number());
          closed = true;
          break;
        }
        if (starts_with(content, kBeginKeyword)) {
          return fail(ScanError::kNestedBegin, reader.number());
        }
        return fail(ScanError::kBadBoundary, reader.number());
      }
      if (!content.empty()) body.push_back(BodyLine{content, reader.number()});
    }
    if (!closed) return fail(ScanError::kUnterminated, block.line);
    if (in_headers) return fail(ScanError::kBadHeader, block.line);
    if (body.empty()) return fail(ScanError::kEmptyBody, block.line);

    size_t error_line = block.line;
    ScanError decoded = decode_base64(body, block.der, error_line);
    if (decoded != ScanError::kNone) return fail(decoded, error_line);
    result.blocks.push_back(std::move(block));
  }
  return result;
}

std::string_view describe(ScanError error) {
  switch (error) {
    case ScanError::kNone:
      return "no error";
    case ScanError::kBadBoundary:
      return "a malformed -----BEGIN/-----END line";
    case ScanError::kStrayEnd:
      return "an -----END line without a matching -----BEGIN line";
    case ScanError::kNestedBegin:
      return "a -----BEGIN line inside another PEM block";
    case ScanError::kLabelMismatch:
      return "an -----END line whose label differs from its -----BEGIN line";
    case ScanError::kUnterminated:
      return "a PEM block without its -----END line";
    case ScanError::kBadHeader:
      return "a malformed PEM header";
    case ScanError::kBadBase64:
      return "malformed base64 data inside a PEM block";
    case ScanError::kEmptyBody:
      return "a PEM block with no data";
  }
  return "an unknown PEM error";
}

bool is_blank(std::string_view text) {
  for (char c : text) {
    if (!is_space(c)) return false;
  }
  return true;
}

std::string_view printable_label(std::string_view label) {
  if (label.empty() || label.size() > 40) return {};
  for (char c : label) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' || c == '-';
    if (!ok) return {};
  }
  return label;
}

namespace {

constexpr size_t kBodyLine = 64;

}  // namespace

size_t body_size(size_t der_size) {
  const size_t encoded = (der_size + 2) / 3 * 4;
  return encoded + (encoded + kBodyLine - 1) / kBodyLine;
}

char* write_body(const unsigned char* der, size_t der_size, char* out) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t column = 0;
  for (size_t i = 0; i < der_size; i += 3) {
    const size_t n = der_size - i < 3 ? der_size - i : 3;
    uint32_t triple = static_cast<uint32_t>(der[i]) << 16;
    if (n > 1) triple |= static_cast<uint32_t>(der[i + 1]) << 8;
    if (n > 2) triple |= static_cast<uint32_t>(der[i + 2]);
    *out++ = kAlphabet[(triple >> 18) & 63];
    *out++ = kAlphabet[(triple >> 12) & 63];
    *out++ = n > 1 ? kAlphabet[(triple >> 6) & 63] : '=';
    *out++ = n > 2 ? kAlphabet[triple & 63] : '=';
    column += 4;
    if (column == kBodyLine) {
      *out++ = '\n';
      column = 0;
    }
  }
  if (column != 0) *out++ = '\n';
  return out;
}

SecretBytes encode(std::string_view label, const WipedBuffer& der) {
  const std::string begin = "-----BEGIN " + std::string(label) + "-----\n";
  const std::string end = "-----END " + std::string(label) + "-----\n";
  // Sized once: growing would leave copies of the key behind in freed memory.
  std::string text(begin.size() + body_size(der.size()) + end.size(), '\0');
  char* out = std::copy(begin.begin(), begin.end(), text.data());
  out = write_body(der.data(), der.size(), out);
  std::copy(end.begin(), end.end(), out);
  return SecretBytes::adopt(std::move(text));
}

}  // namespace certsync::tls::pem
