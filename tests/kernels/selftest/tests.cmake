# The backend self-test: its comparison logic, that it catches a wrong backend, and the
# CUDA backend against the CPU reference where a GPU is present (skipped, visibly, when
# not).
shoal_test(selftest_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/selftest_test.cc
  LIBS shoal::selftest)
