// SHA-256 of bytes as lower-case hex (OpenSSL), for tests that check they read the
// exact files and tensors a reference read.
#ifndef SHOAL_TESTS_SUPPORT_SHA256_H_
#define SHOAL_TESTS_SUPPORT_SHA256_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "openssl/sha.h"

namespace shoal::testing {

inline std::string Sha256Hex(std::span<const uint8_t> bytes) {
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(bytes.data(), bytes.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t byte : digest) {
    hex.push_back(kHex[byte >> 4]);
    hex.push_back(kHex[byte & 15]);
  }
  return hex;
}

inline std::string Sha256Hex(std::string_view bytes) {
  return Sha256Hex(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

}  // namespace shoal::testing

#endif  // SHOAL_TESTS_SUPPORT_SHA256_H_
