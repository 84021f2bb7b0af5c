# The device kernels' host-buildable parts, checked on the CPU (no GPU needed). Built
# without floating-point contraction, as the device code rounds every operation.
shoal_test(dequantize_block_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/dequantize_block_test.cc
  LIBS shoal::common)
target_compile_options(dequantize_block_test PRIVATE -ffp-contract=off)
