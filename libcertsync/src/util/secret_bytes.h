// SecretBytes: an owned byte buffer for private keys and tokens.
// Its memory is cleansed (OPENSSL_cleanse) whenever it is released, so a key
// does not linger in freed heap memory. It has no operator<< on purpose: a
// secret can only leave through view(), which makes every use visible.
#pragma once

#include <openssl/crypto.h>

#include <string>
#include <string_view>
#include <utility>

namespace certsync {

class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::string_view bytes) : data_(bytes) {}
  // Takes the string's heap buffer itself, so no copy of the bytes is left
  // behind. For text longer than a string's inline buffer (15 bytes), as
  // every PEM key is.
  static SecretBytes adopt(std::string&& bytes) {
    SecretBytes adopted;
    adopted.data_ = std::move(bytes);
    return adopted;
  }
  SecretBytes(const SecretBytes& other) : data_(other.data_) {}
  SecretBytes(SecretBytes&& other) noexcept : data_(std::move(other.data_)) { other.wipe(); }
  SecretBytes& operator=(const SecretBytes& other) {
    if (this != &other) {
      wipe();
      data_ = other.data_;
    }
    return *this;
  }
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      wipe();
      data_ = std::move(other.data_);
      other.wipe();
    }
    return *this;
  }
  ~SecretBytes() { wipe(); }

  std::string_view view() const { return data_; }
  const char* data() const { return data_.data(); }
  size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  bool operator==(const SecretBytes& other) const { return data_ == other.data_; }
  bool operator!=(const SecretBytes& other) const { return data_ != other.data_; }

 private:
  void wipe() {
    if (!data_.empty()) OPENSSL_cleanse(data_.data(), data_.size());
    data_.clear();
    data_.shrink_to_fit();
  }
  std::string data_;
};

}  // namespace certsync
