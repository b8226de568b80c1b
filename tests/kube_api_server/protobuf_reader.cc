#include "protobuf_reader.h"

namespace kube_test {

bool ProtobufReader::varint(uint64_t &out) {
  out = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos_ >= data_.size()) return fail();
    auto byte = static_cast<unsigned char>(data_[pos_++]);
    out |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return fail();  // more than 10 bytes: not a varint
}

bool ProtobufReader::next() {
  if (!ok_ || pos_ >= data_.size()) return false;
  uint64_t tag = 0;
  if (!varint(tag)) return false;
  field_ = static_cast<uint32_t>(tag >> 3);
  wire_type_ = static_cast<uint32_t>(tag & 7);
  if (field_ == 0 || (tag >> 3) > 0x1FFFFFFF) return fail();
  return true;
}

bool ProtobufReader::read_varint(uint64_t &out) {
  if (wire_type_ != kVarint) return fail();
  return varint(out);
}

bool ProtobufReader::read_bytes(std::string_view &out) {
  if (wire_type_ != kLengthDelimited) return fail();
  uint64_t len = 0;
  if (!varint(len)) return false;
  if (len > data_.size() - pos_) return fail();
  out = data_.substr(pos_, static_cast<size_t>(len));
  pos_ += static_cast<size_t>(len);
  return true;
}

bool ProtobufReader::read_string(std::string &out) {
  std::string_view view;
  if (!read_bytes(view)) return false;
  out.assign(view.data(), view.size());
  return true;
}

bool ProtobufReader::skip() {
  switch (wire_type_) {
    case kVarint: {
      uint64_t ignored = 0;
      return varint(ignored);
    }
    case kFixed64:
      if (data_.size() - pos_ < 8) return fail();
      pos_ += 8;
      return true;
    case kFixed32:
      if (data_.size() - pos_ < 4) return fail();
      pos_ += 4;
      return true;
    case kLengthDelimited: {
      std::string_view ignored;
      return read_bytes(ignored);
    }
    default:
      // Groups are deprecated and never produced by Kubernetes' generated code.
      return fail();
  }
}

}  // namespace kube_test
