// Packed PEM: a PEM text held as its blocks' labels and DER bytes, three
// quarters of its size, and given back byte for byte when read.
//
// The store holds every served certificate chain and key for as long as it
// serves them (50,000 of each on a large node), while callers read one only
// when it changes: so it keeps them packed and unpacks on read. Only the
// canonical form validation hands out packs (LF line endings, 64-character
// base64 lines, no headers): pack() checks that unpacking gives the text
// back exactly, and refuses anything else, which the caller then keeps as
// text. Every buffer is sized once, never grown, so a private key's bytes
// leave no copies behind in freed memory; buffers that held them are
// cleansed. No I/O; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace certsync::store {

// The packed form of `pem`, or nullopt when `pem` is not canonical PEM.
std::optional<std::string> pack_pem(std::string_view pem);
// The length of the PEM text `packed` (from pack_pem) stands for.
size_t unpacked_pem_size(std::string_view packed);
// Writes that text to `out`, which holds unpacked_pem_size(packed) bytes.
void unpack_pem(std::string_view packed, char* out);

}  // namespace certsync::store
