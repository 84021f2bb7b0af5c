// Bounds-checked little-endian reads over a byte span, for parsing untrusted files.
// Every read fails with a clear error (naming what was being read and the offset)
// instead of running past the end.
#ifndef SHOAL_MODEL_GGUF_BYTE_READER_H_
#define SHOAL_MODEL_GGUF_BYTE_READER_H_

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "fmt/format.h"

namespace shoal::model {

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  uint64_t position() const { return position_; }
  uint64_t remaining() const { return bytes_.size() - position_; }

  // Reads a trivially copyable little-endian value (the host is little-endian).
  template <typename T>
  absl::StatusOr<T> Read(std::string_view what) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (remaining() < sizeof(T)) return Truncated(what, sizeof(T));
    T value;
    std::memcpy(&value, bytes_.data() + position_, sizeof(T));
    position_ += sizeof(T);
    return value;
  }

  // A GGUF string: u64 length, then that many bytes (no terminator).
  absl::StatusOr<std::string_view> ReadString(std::string_view what) {
    absl::StatusOr<uint64_t> length = Read<uint64_t>(what);
    if (!length.ok()) return length.status();
    if (*length > remaining()) {
      return absl::InvalidArgumentError(
          fmt::format("GGUF {} at byte {} claims {} bytes but only {} remain", what, position_ - 8,
                      *length, remaining()));
    }
    std::string_view text(reinterpret_cast<const char*>(bytes_.data() + position_), *length);
    position_ += *length;
    return text;
  }

 private:
  absl::Status Truncated(std::string_view what, size_t size) const {
    return absl::InvalidArgumentError(
        fmt::format("GGUF file truncated: reading {} ({} bytes) at byte {} of {}", what, size,
                    position_, bytes_.size()));
  }

  std::span<const uint8_t> bytes_;
  uint64_t position_ = 0;
};

}  // namespace shoal::model

#endif  // SHOAL_MODEL_GGUF_BYTE_READER_H_
