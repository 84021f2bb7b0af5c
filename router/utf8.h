// Text that must be UTF-8 (protobuf strings, JSON) from bytes that may not be: model
// output split mid-character, a token's raw piece.
#ifndef SHOAL_ROUTER_UTF8_H_
#define SHOAL_ROUTER_UTF8_H_

#include <string>
#include <string_view>

namespace shoal::router {

// `bytes` with every byte that is not part of a well-formed UTF-8 sequence (overlong
// forms, surrogates and code points above U+10FFFF included) replaced by U+FFFD.
std::string ToValidUtf8(std::string_view bytes);

}  // namespace shoal::router

#endif  // SHOAL_ROUTER_UTF8_H_
