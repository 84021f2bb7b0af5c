target_sources(shoal_worker PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/attention_block.cc
  ${CMAKE_CURRENT_LIST_DIR}/decoder.cc
  ${CMAKE_CURRENT_LIST_DIR}/ffn_blocks.cc
  ${CMAKE_CURRENT_LIST_DIR}/workspace.cc
)
