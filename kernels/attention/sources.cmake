# Paged attention: the public op and its work split (paged_attention.cc), the plain
# reference, and the tile kernel at each level from one template (simd/*.inc).
shoal_kernel_sources(scalar
  ${CMAKE_CURRENT_LIST_DIR}/paged_attention.cc
  ${CMAKE_CURRENT_LIST_DIR}/attention_reference.cc
  ${CMAKE_CURRENT_LIST_DIR}/attention_scalar.cc
  ${CMAKE_CURRENT_LIST_DIR}/tile_scratch.cc
)
shoal_kernel_sources(avx2 ${CMAKE_CURRENT_LIST_DIR}/attention_avx2.cc)
shoal_kernel_sources(avx512 ${CMAKE_CURRENT_LIST_DIR}/attention_avx512.cc)
