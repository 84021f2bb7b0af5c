// Chat templates compiled into the library, for models whose GGUF carries none (like
// llama.cpp's per-architecture fallbacks). The sources live in model/templates/*.jinja and
// are embedded at build time, so C++ and the Python reference tests read the same text.
#ifndef SHOAL_MODEL_JINJA_BUILTIN_TEMPLATES_H_
#define SHOAL_MODEL_JINJA_BUILTIN_TEMPLATES_H_

#include <string_view>

namespace shoal::model::jinja {

// The template source for a GGUF `general.architecture`, or empty when there is none.
std::string_view BuiltinTemplateSource(std::string_view architecture);

}  // namespace shoal::model::jinja

#endif  // SHOAL_MODEL_JINJA_BUILTIN_TEMPLATES_H_
