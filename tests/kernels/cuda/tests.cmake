# The device kernels' host-buildable parts, checked on the CPU (no GPU needed).
shoal_test(dequantize_block_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/dequantize_block_test.cc
  LIBS shoal::common)
