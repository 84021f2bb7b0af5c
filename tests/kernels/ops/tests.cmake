shoal_test(ops_test CPU_CAP_RUN SOURCES ${CMAKE_CURRENT_LIST_DIR}/ops_test.cc LIBS shoal::kernels)
