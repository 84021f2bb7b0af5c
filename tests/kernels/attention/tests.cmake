shoal_test(paged_attention_test CPU_CAP_RUN
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/paged_attention_test.cc
  LIBS shoal::kernels)
