shoal_test(ops_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/ops_test.cc LIBS shoal::kernels)
