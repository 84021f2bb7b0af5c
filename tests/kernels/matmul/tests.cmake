# Matmul kernels: activation quantizers, every SIMD level against the scalar reference,
# and MatMul against a float64 reference on model/quant's dequantized weights.
add_library(shoal_matmul_test_util STATIC ${CMAKE_CURRENT_LIST_DIR}/matmul_test_util.cc)
target_include_directories(shoal_matmul_test_util PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(shoal_matmul_test_util PUBLIC shoal::kernels shoal::model GTest::gtest)

shoal_test(matmul_activations_test CPU_CAP_RUN SOURCES ${CMAKE_CURRENT_LIST_DIR}/activations_test.cc
  LIBS shoal_matmul_test_util)
shoal_test(matmul_kernels_test CPU_CAP_RUN SOURCES ${CMAKE_CURRENT_LIST_DIR}/kernels_test.cc
  LIBS shoal_matmul_test_util)
shoal_test(matmul_test CPU_CAP_RUN SOURCES ${CMAKE_CURRENT_LIST_DIR}/matmul_test.cc
  LIBS shoal_matmul_test_util)
shoal_test(matmul_interleave_test CPU_CAP_RUN SOURCES ${CMAKE_CURRENT_LIST_DIR}/interleave_test.cc
  LIBS shoal_matmul_test_util)
