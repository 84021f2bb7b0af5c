// Splits a server-sent event stream into events the way the OpenAI Python SDK's
// SSEDecoder does, so `shoal bench` reads a stream exactly as that SDK's users would:
// a line ends in "\n", "\r\n" or "\r"; a blank line ends an event; a line starting with
// ':' is a comment (servers send them as keep-alives); a field's value loses one
// leading space ("data:x" and "data: x" are the same); several data lines join with
// "\n". Bytes come in whatever pieces the network and the chunked encoding give, so a
// line (even a "\r\n" pair) may span two Feed calls.
//
// Thread: owned by one request, used on the target's io_context thread.
#ifndef SHOAL_BENCH_LOAD_SSE_PARSER_H_
#define SHOAL_BENCH_LOAD_SSE_PARSER_H_

#include <string>
#include <string_view>
#include <vector>

namespace shoal::bench {

class SseParser {
 public:
  struct Event {
    std::string event;  // the `event:` field; "" when none (OpenAI streams send none)
    std::string data;
  };

  // Parses `bytes`, appending every event they complete to `events`.
  void Feed(std::string_view bytes, std::vector<Event>& events);

 private:
  void OnLine(std::string_view line, std::vector<Event>& events);

  std::string line_;      // the start of a line whose end has not arrived yet
  bool skip_lf_ = false;  // the last piece ended in '\r': a '\n' opening the next pairs it
  bool has_data_ = false;
  Event pending_;
};

}  // namespace shoal::bench

#endif  // SHOAL_BENCH_LOAD_SSE_PARSER_H_
