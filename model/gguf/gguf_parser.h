// Parses the GGUF header, metadata and tensor infos into a GgufFile. Internal to
// model/gguf; callers use GgufFile::Open / GgufFile::Parse.
#ifndef SHOAL_MODEL_GGUF_GGUF_PARSER_H_
#define SHOAL_MODEL_GGUF_GGUF_PARSER_H_

#include "absl/status/status.h"
#include "model/gguf/byte_reader.h"
#include "model/gguf/gguf_file.h"

namespace shoal::model {

class GgufParser {
 public:
  // Fills `file` from `file->bytes_`.
  static absl::Status Run(GgufFile& file);

 private:
  GgufParser(GgufFile& file) : file_(file), reader_(file.bytes_) {}

  absl::Status ReadHeader(int64_t& n_tensors, int64_t& n_kv);
  absl::Status ReadMetadata(int64_t n_kv);
  absl::StatusOr<GgufScalar> ReadScalar(GgufValueType type, std::string_view key);
  absl::StatusOr<GgufValue> ReadValue(GgufValueType type, std::string_view key);
  absl::Status ReadAlignment();
  absl::Status ReadTensorInfos(int64_t n_tensors);
  absl::StatusOr<GgufTensorInfo> ReadTensorInfo(int64_t index);
  absl::Status LocateTensorData();

  GgufFile& file_;
  ByteReader reader_;
};

}  // namespace shoal::model

#endif  // SHOAL_MODEL_GGUF_GGUF_PARSER_H_
