shoal_test(sampler_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/candidates_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/distribution_golden_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/logit_math_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/sampler_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/sampling_params_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/sampling_rng_test.cc
  LIBS shoal::worker nlohmann_json::nlohmann_json)
