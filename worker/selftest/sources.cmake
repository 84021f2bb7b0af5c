target_sources(shoal_worker PRIVATE ${CMAKE_CURRENT_LIST_DIR}/model_forwards.cc)
