// A read-only memory mapping of a whole file. Model weights are read straight from
// the mapping, so loading a model costs no copy and pages come in on first touch.
#ifndef SHOAL_COMMON_MAPPED_FILE_H_
#define SHOAL_COMMON_MAPPED_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/statusor.h"

namespace shoal {

// Immutable after Open(); safe to read from any thread.
class MappedFile {
 public:
  static absl::StatusOr<std::unique_ptr<MappedFile>> Open(const std::string& path);
  ~MappedFile();

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Tells the kernel the whole pages inside `range` (bytes of some read-only file
  // mapping) are not needed for now, so they stop counting as this process's memory.
  // They stay valid: a later read brings them back from the file. A hint; never fails.
  static void DropResidentPages(std::span<const uint8_t> range);

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}

  std::string path_;
  const uint8_t* data_;
  size_t size_;
};

}  // namespace shoal

#endif  // SHOAL_COMMON_MAPPED_FILE_H_
