shoal_test(model_forwards_test DATA
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/model_forwards_test.cc
  LIBS shoal::worker)
