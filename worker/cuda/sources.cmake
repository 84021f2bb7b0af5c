# The CUDA forward engine where CUDA builds (its kernels are shoal_kernels_cuda's),
# else a stand-in that says the build has no CUDA. Its host-side step layout builds
# everywhere, for the CPU tests.
target_sources(shoal_worker PRIVATE ${CMAKE_CURRENT_LIST_DIR}/step_layout.cc)
if(SHOAL_HAVE_CUDA)
  target_sources(shoal_worker PRIVATE
    ${CMAKE_CURRENT_LIST_DIR}/cuda_engine.cc
    ${CMAKE_CURRENT_LIST_DIR}/device_matmul.cc
    ${CMAKE_CURRENT_LIST_DIR}/device_weights.cc
  )
  target_link_libraries(shoal_worker PRIVATE shoal_kernels_cuda)
else()
  target_sources(shoal_worker PRIVATE ${CMAKE_CURRENT_LIST_DIR}/no_cuda_engine.cc)
endif()
