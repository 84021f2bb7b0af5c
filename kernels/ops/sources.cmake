shoal_kernel_sources(scalar
  ${CMAKE_CURRENT_LIST_DIR}/activations.cc
  ${CMAKE_CURRENT_LIST_DIR}/norm.cc
  ${CMAKE_CURRENT_LIST_DIR}/rope.cc
)
shoal_kernel_sources(avx2 ${CMAKE_CURRENT_LIST_DIR}/activations_avx2.cc)
