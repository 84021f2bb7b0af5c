shoal_test(logits_reference_test DATA
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/logits_reference_test.cc
  LIBS shoal::worker nlohmann_json::nlohmann_json OpenSSL::Crypto absl::strings)
shoal_test(batching_test DATA
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/batching_test.cc
  LIBS shoal::worker)
shoal_test(interleaved_weights_test DATA
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/interleaved_weights_test.cc
  LIBS shoal::worker)
shoal_test(forward_engine_test DATA
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/forward_engine_test.cc
  LIBS shoal::worker)
shoal_test(moe_routing_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/moe_routing_test.cc
  LIBS shoal::worker)
shoal_test(host_memory_test DATA
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/host_memory_test.cc
  LIBS shoal::worker)
