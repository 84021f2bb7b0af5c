shoal_kernel_sources(scalar
  ${CMAKE_CURRENT_LIST_DIR}/paged_attention.cc
)
