// Prefix-cache block hashes (DESIGN.md "Prefix cache", REFERENCE.md §4.2): a full KV
// block is named by SHA-256 over its parent block's hash, its token ids and extra keys
// (the model, and for the first block the request's cache salt), so equal hashes mean
// equal prefixes, and a crafted collision that would hand one tenant another's KV costs
// a SHA-256 collision.
#ifndef SHOAL_SCHEDULER_BLOCK_HASH_H_
#define SHOAL_SCHEDULER_BLOCK_HASH_H_

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "absl/hash/hash.h"

namespace shoal::scheduler {

struct BlockHash {
  std::array<uint8_t, 32> bytes{};

  friend bool operator==(const BlockHash& a, const BlockHash& b) { return a.bytes == b.bytes; }
  template <typename H>
  friend H AbslHashValue(H h, const BlockHash& b) {
    // Already uniformly distributed: the first 8 bytes are a fine table hash.
    uint64_t prefix;
    std::memcpy(&prefix, b.bytes.data(), sizeof(prefix));
    return H::combine(std::move(h), prefix);
  }
};

// The hash a request's first block chains from: fixed, so hashes are comparable across
// processes (the router's prefix affinity) and runs.
const BlockHash& RootBlockHash();

// SHA-256(parent ‖ u32 count ‖ tokens as little-endian i32 ‖ u32 len ‖ extra_key).
BlockHash HashBlock(const BlockHash& parent, std::span<const int32_t> tokens,
                    std::string_view extra_key);

// Hashes of the full blocks of `tokens` from block `from` on, appended to `hashes`
// (which holds the hashes of blocks [0, from)). The first block's extra key is
// model_key + salt, later blocks' model_key alone.
void ExtendBlockHashes(std::span<const int32_t> tokens, int64_t block_size,
                       std::string_view model_key, std::string_view salt,
                       std::vector<BlockHash>& hashes);

}  // namespace shoal::scheduler

#endif  // SHOAL_SCHEDULER_BLOCK_HASH_H_
