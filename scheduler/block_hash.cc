#include "scheduler/block_hash.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <string>

#include "common/check.h"

namespace shoal::scheduler {
namespace {

void AppendU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

}  // namespace

const BlockHash& RootBlockHash() {
  static const BlockHash root = [] {
    BlockHash h;
    static constexpr std::string_view kSeed = "shoal prefix cache v1";
    SHA256(reinterpret_cast<const unsigned char*>(kSeed.data()), kSeed.size(), h.bytes.data());
    return h;
  }();
  return root;
}

BlockHash HashBlock(const BlockHash& parent, std::span<const int32_t> tokens,
                    std::string_view extra_key) {
  std::string message;
  message.reserve(32 + 8 + tokens.size() * 4 + extra_key.size());
  message.append(reinterpret_cast<const char*>(parent.bytes.data()), parent.bytes.size());
  AppendU32(message, static_cast<uint32_t>(tokens.size()));
  for (int32_t t : tokens) AppendU32(message, static_cast<uint32_t>(t));
  AppendU32(message, static_cast<uint32_t>(extra_key.size()));
  message.append(extra_key);
  BlockHash h;
  SHA256(reinterpret_cast<const unsigned char*>(message.data()), message.size(), h.bytes.data());
  return h;
}

void ExtendBlockHashes(std::span<const int32_t> tokens, int64_t block_size,
                       std::string_view model_key, std::string_view salt,
                       std::vector<BlockHash>& hashes) {
  SHOAL_CHECK(block_size > 0);
  const int64_t full_blocks = static_cast<int64_t>(tokens.size()) / block_size;
  std::string first_key;
  for (int64_t b = static_cast<int64_t>(hashes.size()); b < full_blocks; ++b) {
    const BlockHash& parent = b == 0 ? RootBlockHash() : hashes[b - 1];
    std::string_view key = model_key;
    if (b == 0) {
      first_key = std::string(model_key) + '\0' + std::string(salt);
      key = first_key;
    }
    hashes.push_back(HashBlock(parent, tokens.subspan(b * block_size, block_size), key));
  }
}

}  // namespace shoal::scheduler
