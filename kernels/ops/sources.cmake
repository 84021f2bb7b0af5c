shoal_kernel_sources(scalar
  ${CMAKE_CURRENT_LIST_DIR}/activations.cc
  ${CMAKE_CURRENT_LIST_DIR}/norm.cc
  ${CMAKE_CURRENT_LIST_DIR}/rope.cc
)
