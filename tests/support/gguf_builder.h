// Builds GGUF files byte by byte in tests, so malformed files (bad counts, offsets,
// types) can be made on purpose. Values are appended exactly as written; nothing is
// validated.
#ifndef SHOAL_TESTS_SUPPORT_GGUF_BUILDER_H_
#define SHOAL_TESTS_SUPPORT_GGUF_BUILDER_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace shoal::testing {

class GgufBuilder {
 public:
  // Appends raw little-endian values.
  template <typename T>
  GgufBuilder& Put(T value) {
    const auto* p = reinterpret_cast<const uint8_t*>(&value);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
    return *this;
  }
  GgufBuilder& PutString(std::string_view text) {
    Put<uint64_t>(text.size());
    bytes_.insert(bytes_.end(), text.begin(), text.end());
    return *this;
  }
  GgufBuilder& Header(int64_t n_tensors, int64_t n_kv, uint32_t version = 3) {
    return Put<uint32_t>(0x46554747).Put<uint32_t>(version).Put(n_tensors).Put(n_kv);
  }
  GgufBuilder& KeyU32(std::string_view key, uint32_t value) {
    return PutString(key).Put<uint32_t>(4).Put(value);
  }
  GgufBuilder& KeyF32(std::string_view key, float value) {
    return PutString(key).Put<uint32_t>(6).Put(value);
  }
  GgufBuilder& KeyU32Array(std::string_view key, const std::vector<uint32_t>& values) {
    PutString(key).Put<uint32_t>(9).Put<uint32_t>(4).Put<uint64_t>(values.size());
    for (uint32_t v : values) Put(v);
    return *this;
  }
  GgufBuilder& KeyString(std::string_view key, std::string_view value) {
    PutString(key).Put<uint32_t>(8);
    return PutString(value);
  }
  GgufBuilder& TensorInfo(std::string_view name, std::vector<int64_t> ne, uint32_t type,
                          uint64_t offset) {
    PutString(name).Put<uint32_t>(static_cast<uint32_t>(ne.size()));
    for (int64_t n : ne) Put(n);
    return Put(type).Put(offset);
  }
  // Zero padding up to a multiple of `alignment`.
  GgufBuilder& Align(size_t alignment = 32) {
    while (bytes_.size() % alignment != 0) bytes_.push_back(0);
    return *this;
  }
  GgufBuilder& Zeros(size_t n) {
    bytes_.insert(bytes_.end(), n, 0);
    return *this;
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::vector<uint8_t>& mutable_bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_GGUF_BUILDER_H_
