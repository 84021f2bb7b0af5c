# The token sampler: SamplingParams, per-sequence Sampler, and the selection helpers.
target_sources(shoal_worker PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/candidates.cc
  ${CMAKE_CURRENT_LIST_DIR}/distribution.cc
  ${CMAKE_CURRENT_LIST_DIR}/logit_math.cc
  ${CMAKE_CURRENT_LIST_DIR}/raw_logprobs.cc
  ${CMAKE_CURRENT_LIST_DIR}/sampler.cc
  ${CMAKE_CURRENT_LIST_DIR}/sampling_params.cc
  ${CMAKE_CURRENT_LIST_DIR}/sampling_proto.cc
  ${CMAKE_CURRENT_LIST_DIR}/token_history.cc
)
target_link_libraries(shoal_worker PUBLIC absl::flat_hash_map)
