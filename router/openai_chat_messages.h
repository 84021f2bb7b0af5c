// The chat-specific part of a /v1/chat/completions body (openai_request.h): `messages`
// and vLLM's template extensions, into a shoal.v1.ChatInput. Private to router/.
#ifndef SHOAL_ROUTER_OPENAI_CHAT_MESSAGES_H_
#define SHOAL_ROUTER_OPENAI_CHAT_MESSAGES_H_

#include "absl/status/status.h"
#include "router/openai_json_fields.h"
#include "shoal/v1/inference.pb.h"

namespace shoal::router::internal {

// `body` is the whole request object. Fills `messages` (roles system, developer, user,
// assistant, tool; text content, text parts, tool calls, tool_call_id, name,
// reasoning_content), `add_generation_prompt` and `chat_template_kwargs`.
absl::Status ParseChatInput(const Json& body, v1::ChatInput* chat);

}  // namespace shoal::router::internal

#endif  // SHOAL_ROUTER_OPENAI_CHAT_MESSAGES_H_
