shoal_test(communicator_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/communicator_test.cc
  LIBS shoal::worker)
