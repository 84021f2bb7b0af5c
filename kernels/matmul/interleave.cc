// Interleaving and de-interleaving of 32-block weight matrices (the layout is described
// in kernels/interleave.h). Plain byte moves: this runs once per matrix at load.
#include "kernels/interleave.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "common/dequantize.h"
#include "fmt/format.h"
#include "kernels/matmul/interleave_kquant.h"
#include "kernels/matmul/kernel_table.h"

namespace shoal::kernels {
namespace {

constexpr int64_t kG = kInterleaveRows;
constexpr int kScaleBytes = 2 * kG;  // the record's 16 fp16 scales
constexpr int kVector = 64;

// Byte offsets inside one GGUF block.
struct BlockFormat {
  int qh = -1;  // Q5_0's 32 fifth bits
  int qs = 2;
};

BlockFormat FormatOf(GgmlType type) {
  return type == GgmlType::kQ5_0 ? BlockFormat{.qh = 2, .qs = 6} : BlockFormat{};
}

int64_t RecordBytes(GgmlType type) {
  if (type == GgmlType::kQ4_K) return matmul::kQ4KRecordBytes;
  if (type == GgmlType::kQ5_K) return matmul::kQ5KRecordBytes;
  return kG * TraitsOf(type).type_size;
}

// Moves one row's block between its GGUF form and its place in a record, either way.
template <bool kToRecord>
void MoveBlock(GgmlType type, int64_t i, uint8_t* record, uint8_t* block) {
  if (type == GgmlType::kQ4_K) {
    if constexpr (kToRecord) matmul::Q4KToRecord(i, block, record);
    else matmul::Q4KFromRecord(i, record, block);
    return;
  }
  if (type == GgmlType::kQ5_K) {
    if constexpr (kToRecord) matmul::Q5KToRecord(i, block, record);
    else matmul::Q5KFromRecord(i, record, block);
    return;
  }
  if (type == GgmlType::kQ6_K) {
    if constexpr (kToRecord) matmul::Q6KToRecord(i, block, record);
    else matmul::Q6KFromRecord(i, record, block);
    return;
  }
  const BlockFormat f = FormatOf(type);
  auto move = [](uint8_t* rec, uint8_t* blk, int n) {
    if constexpr (kToRecord)
      std::memcpy(rec, blk, n);
    else
      std::memcpy(blk, rec, n);
  };
  move(record + 2 * i, block, 2);
  uint8_t* vectors = record + kScaleBytes;
  if (type == GgmlType::kQ8_0) {
    for (int k = 0; k < 8; ++k) {
      for (int j = 0; j < 4; ++j) {
        uint8_t& rec = vectors[kVector * k + 4 * i + j];
        uint8_t& blk = block[f.qs + 4 * k + j];
        if constexpr (kToRecord)
          rec = blk ^ 0x80;
        else
          blk = rec ^ 0x80;
      }
    }
    return;
  }
  for (int c = 0; c < 4; ++c) move(vectors + kVector * c + 4 * i, block + f.qs + 4 * c, 4);
  if (f.qh < 0) return;
  uint8_t* masks = vectors + 4 * kVector;
  uint32_t qh = 0;
  if constexpr (kToRecord) std::memcpy(&qh, block + f.qh, 4);
  for (int v = 0; v < 8; ++v) {
    const int c = v / 2, h = v % 2;
    uint64_t mask;
    std::memcpy(&mask, masks + 8 * v, 8);
    for (int j = 0; j < 4; ++j) {
      const int element = 16 * h + 4 * c + j;
      const uint64_t bit = uint64_t{1} << (4 * i + j);
      if constexpr (kToRecord) {
        mask = (qh >> element & 1) ? (mask | bit) : (mask & ~bit);
      } else if (mask & bit) {
        qh |= uint32_t{1} << element;
      }
    }
    if constexpr (kToRecord) std::memcpy(masks + 8 * v, &mask, 8);
  }
  if constexpr (!kToRecord) std::memcpy(block + f.qh, &qh, 4);
}

}  // namespace

bool CanInterleave(const WeightMatrix& w) {
  const bool type_ok = w.type == GgmlType::kQ4_0 || w.type == GgmlType::kQ5_0 ||
                       w.type == GgmlType::kQ8_0 || w.type == GgmlType::kQ4_K ||
                       w.type == GgmlType::kQ5_K || w.type == GgmlType::kQ6_K;
  return type_ok && w.layout == WeightLayout::kRows && w.n_rows > 0 && w.n_rows % kG == 0 &&
         w.n_cols > 0 && w.n_cols % TraitsOf(w.type).block_size == 0;
}

int64_t InterleavedBytes(const WeightMatrix& w) {
  return w.n_rows / kG * (w.n_cols / TraitsOf(w.type).block_size) * RecordBytes(w.type);
}

bool HasInterleavedKernel(GgmlType type, CpuLevel level) {
  const int kind = matmul::WeightKindIndex(type);
  // A level the CPU lacks (or the cap excludes) has no kernel to run here: answer
  // without touching its table, whose code may not run on this CPU.
  return kind >= 0 && CpuHasLevel(level) &&
         matmul::KernelsFor(level).gemm_interleaved[kind] != nullptr;
}

void InterleaveRows(const WeightMatrix& w, uint8_t* out, ThreadPool* pool) {
  const int64_t n_blocks = w.n_cols / TraitsOf(w.type).block_size, row_bytes = w.row_bytes();
  const int64_t type_size = TraitsOf(w.type).type_size, record = RecordBytes(w.type);
  auto groups = [&](int64_t begin, int64_t end) {
    std::vector<uint8_t> block(type_size);
    for (int64_t g = begin; g < end; ++g) {
      for (int64_t b = 0; b < n_blocks; ++b) {
        uint8_t* rec = out + (g * n_blocks + b) * record;
        std::memset(rec, 0, record);
        for (int64_t i = 0; i < kG; ++i) {
          std::memcpy(block.data(), w.data + (g * kG + i) * row_bytes + b * type_size, type_size);
          MoveBlock<true>(w.type, i, rec, block.data());
        }
      }
    }
  };
  const int64_t n_groups = w.n_rows / kG;
  if (pool != nullptr)
    pool->ParallelFor(n_groups, 16, groups);
  else
    groups(0, n_groups);
}

void DeinterleaveRow(const WeightMatrix& w, int64_t row, uint8_t* out) {
  const int64_t n_blocks = w.n_cols / TraitsOf(w.type).block_size;
  const int64_t type_size = TraitsOf(w.type).type_size;
  const int64_t g = row / kG, i = row % kG, record = RecordBytes(w.type);
  // The records are read-only; MoveBlock<false> only reads them.
  uint8_t* records = const_cast<uint8_t*>(w.data);
  for (int64_t b = 0; b < n_blocks; ++b) {
    uint8_t* block = out + b * type_size;
    std::memset(block, 0, type_size);
    MoveBlock<false>(w.type, i, records + (g * n_blocks + b) * record, block);
  }
}

absl::Status DequantizeMatrixRow(const WeightMatrix& w, int64_t row, std::span<float> out) {
  if (row < 0 || row >= w.n_rows || static_cast<int64_t>(out.size()) != w.n_cols) {
    return absl::InvalidArgumentError(fmt::format("row {} of a {} x {} matrix into {} floats", row,
                                                  w.n_rows, w.n_cols, out.size()));
  }
  const int64_t row_bytes = w.row_bytes();
  if (w.layout == WeightLayout::kRows) {
    return Dequantize(w.type, std::span(w.data + row * row_bytes, row_bytes), out);
  }
  // Embedding lookups call this once per token: rows of up to 16 KiB (8192 Q8_0 columns)
  // are put back together on the stack, not the heap.
  absl::InlinedVector<uint8_t, 16384> bytes(row_bytes);
  DeinterleaveRow(w, row, bytes.data());
  return Dequantize(w.type, std::span<const uint8_t>(bytes.data(), bytes.size()), out);
}

void InterleavedCopy::Free::operator()(uint8_t* p) const { std::free(p); }

absl::StatusOr<InterleavedCopy> InterleavedCopy::Create(const WeightMatrix& rows,
                                                        ThreadPool* pool) {
  if (!CanInterleave(rows)) {
    return absl::InvalidArgumentError(fmt::format("a {} x {} {} matrix cannot be interleaved",
                                                  rows.n_rows, rows.n_cols,
                                                  GgmlTypeName(rows.type)));
  }
  const size_t bytes = static_cast<size_t>(InterleavedBytes(rows));
  const size_t rounded = (bytes + 63) / 64 * 64;
  InterleavedCopy copy;
  copy.bytes_.reset(static_cast<uint8_t*>(std::aligned_alloc(64, rounded)));
  if (copy.bytes_ == nullptr) {
    return absl::ResourceExhaustedError(
        fmt::format("cannot allocate {} bytes for an interleaved weight copy", bytes));
  }
  InterleaveRows(rows, copy.bytes_.get(), pool);
  copy.matrix_ = rows;
  copy.matrix_.data = copy.bytes_.get();
  copy.matrix_.layout = WeightLayout::kInterleaved16;
  return copy;
}

}  // namespace shoal::kernels
