shoal_test(paged_attention_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/paged_attention_test.cc
  LIBS shoal::kernels)
