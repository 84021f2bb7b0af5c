target_sources(shoal_worker PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/attention_block.cc
  ${CMAKE_CURRENT_LIST_DIR}/batch_validation.cc
  ${CMAKE_CURRENT_LIST_DIR}/cpu_engine.cc
  ${CMAKE_CURRENT_LIST_DIR}/decoder.cc
  ${CMAKE_CURRENT_LIST_DIR}/ffn_blocks.cc
  ${CMAKE_CURRENT_LIST_DIR}/forward_engine.cc
  ${CMAKE_CURRENT_LIST_DIR}/host_memory.cc
  ${CMAKE_CURRENT_LIST_DIR}/moe_routing.cc
  ${CMAKE_CURRENT_LIST_DIR}/workspace.cc
)
