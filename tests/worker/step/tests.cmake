shoal_test(seeded_sampling_test DATA
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/seeded_sampling_test.cc
  LIBS shoal::worker)
