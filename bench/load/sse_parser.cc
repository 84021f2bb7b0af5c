#include "bench/load/sse_parser.h"

#include <utility>

namespace shoal::bench {

void SseParser::Feed(std::string_view bytes, std::vector<Event>& events) {
  size_t pos = 0;
  if (skip_lf_ && !bytes.empty()) {
    if (bytes[0] == '\n') pos = 1;
    skip_lf_ = false;
  }
  while (pos < bytes.size()) {
    const size_t end = bytes.find_first_of("\r\n", pos);
    if (end == std::string_view::npos) {
      line_.append(bytes.substr(pos));
      return;
    }
    const std::string_view piece = bytes.substr(pos, end - pos);
    if (line_.empty()) {
      OnLine(piece, events);
    } else {
      line_.append(piece);
      OnLine(line_, events);
      line_.clear();
    }
    pos = end + 1;
    if (bytes[end] == '\r') {
      if (pos == bytes.size()) {
        skip_lf_ = true;
      } else if (bytes[pos] == '\n') {
        ++pos;
      }
    }
  }
}

void SseParser::OnLine(std::string_view line, std::vector<Event>& events) {
  if (line.empty()) {
    // The SDK dispatches only when the event set a field; `id:` and `retry:` do not
    // matter to a benchmark, so data or a name decides here.
    if (has_data_ || !pending_.event.empty()) events.push_back(std::move(pending_));
    pending_ = Event();
    has_data_ = false;
    return;
  }
  if (line[0] == ':') return;
  const size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
  if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) pending_.data += '\n';
    pending_.data.append(value);
    has_data_ = true;
  } else if (field == "event") {
    pending_.event.assign(value);
  }
}

}  // namespace shoal::bench
