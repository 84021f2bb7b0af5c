// GPT-2's byte-level alphabet (REFERENCE.md §6.2): every byte maps to one printable code
// point, so byte-level BPE vocabularies hold only printable text. Bytes 0x21..0x7E,
// 0xA1..0xAC and 0xAE..0xFF map to themselves; the other 68 bytes, in increasing order,
// map to U+0100, U+0101, ... (space 0x20 -> U+0120 'Ġ', '\n' -> U+010A 'Ċ').
#ifndef SHOAL_MODEL_TOKENIZER_BYTE_LEVEL_H_
#define SHOAL_MODEL_TOKENIZER_BYTE_LEVEL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shoal::model {

// The code point `byte` stands for.
uint32_t ByteToCodepoint(uint8_t byte);

// The UTF-8 text of ByteToCodepoint(byte) (one or two bytes long).
std::string_view ByteToUtf8(uint8_t byte);

// The byte a code point stands for, or nullopt if it is not in the alphabet.
std::optional<uint8_t> CodepointToByte(uint32_t cpt);

// Appends the byte-level form of every byte of `bytes`.
void AppendByteLevel(std::string_view bytes, std::string* out);

}  // namespace shoal::model

#endif  // SHOAL_MODEL_TOKENIZER_BYTE_LEVEL_H_
