shoal_test(seeded_sampling_test DATA
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/seeded_sampling_test.cc
  LIBS shoal::worker)
shoal_test(kv_sizing_test DATA
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kv_sizing_test.cc
  LIBS shoal::worker)
