shoal_test(step_layout_test DATA
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/step_layout_test.cc
  LIBS shoal::worker)
