target_sources(shoal_model PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/model_config.cc
  ${CMAKE_CURRENT_LIST_DIR}/model_file.cc
  ${CMAKE_CURRENT_LIST_DIR}/tensor_layout.cc
)
