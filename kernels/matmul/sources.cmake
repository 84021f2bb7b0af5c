# MatMul on quantized weights: the public entry (kernels/matmul.h, matmul.cc), the
# activation layout and reference quantizers, the scalar reference kernels, and one
# kernel table per SIMD level built from the shared templates in simd/*.inc.
shoal_kernel_sources(scalar
  ${CMAKE_CURRENT_LIST_DIR}/activations.cc
  ${CMAKE_CURRENT_LIST_DIR}/gemm_scalar.cc
  ${CMAKE_CURRENT_LIST_DIR}/interleave.cc
  ${CMAKE_CURRENT_LIST_DIR}/interleave_kquant.cc
  ${CMAKE_CURRENT_LIST_DIR}/kernel_table.cc
  ${CMAKE_CURRENT_LIST_DIR}/matmul.cc
  ${CMAKE_CURRENT_LIST_DIR}/vec_dot_scalar.cc
  ${CMAKE_CURRENT_LIST_DIR}/vec_dot_scalar_k.cc
)
shoal_kernel_sources(avx2 ${CMAKE_CURRENT_LIST_DIR}/gemm_avx2.cc)
shoal_kernel_sources(avx512 ${CMAKE_CURRENT_LIST_DIR}/gemm_avx512.cc)
shoal_kernel_sources(avx512_vnni ${CMAKE_CURRENT_LIST_DIR}/gemm_avx512_vnni.cc)
