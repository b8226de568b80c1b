// A minimal protobuf wire-format reader: enough to walk the one message
// kubectl sends as protobuf (see protobuf_secret.h).
//
// Reads from a borrowed byte range; every read is bounds-checked and a
// malformed input makes next() return false with ok() == false, never an
// out-of-range access. Unknown fields are skipped by the caller calling
// skip() on them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kube_test {

class ProtobufReader {
 public:
  enum WireType : uint32_t {
    kVarint = 0,
    kFixed64 = 1,
    kLengthDelimited = 2,
    kStartGroup = 3,
    kEndGroup = 4,
    kFixed32 = 5,
  };

  explicit ProtobufReader(std::string_view bytes) : data_(bytes) {}

  // Advances to the next field's tag. False at a clean end of input, or on a
  // malformed tag (then ok() is false).
  bool next();
  uint32_t field() const { return field_; }
  uint32_t wire_type() const { return wire_type_; }

  // Value readers for the current field; each fails (ok() = false) if the
  // wire type does not match or the input is truncated.
  bool read_varint(uint64_t &out);
  bool read_bytes(std::string_view &out);  // length-delimited: view into input
  bool read_string(std::string &out);
  // Skips the current field's value, whatever its wire type.
  bool skip();

  bool ok() const { return ok_; }

 private:
  bool varint(uint64_t &out);
  bool fail() {
    ok_ = false;
    return false;
  }

  std::string_view data_;
  size_t pos_ = 0;
  uint32_t field_ = 0;
  uint32_t wire_type_ = 0;
  bool ok_ = true;
};

}  // namespace kube_test
