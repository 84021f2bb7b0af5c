# Every dependency comes from Debian 12 packages (scripts/setup installs them).
find_package(Threads REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(fmt REQUIRED)
# Debian's spdlog is built on the same external fmt (SPDLOG_FMT_EXTERNAL, libfmt9), so
# there is one fmt in the process.
find_package(spdlog REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(UTF8PROC REQUIRED IMPORTED_TARGET libutf8proc)

if(SHOAL_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
find_package(prometheus-cpp CONFIG REQUIRED)
find_package(Boost 1.81 CONFIG REQUIRED)
find_package(yaml-cpp REQUIRED)  # the router's key file
