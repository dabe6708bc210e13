# Finds every dependency from Debian's packages. The package names live only in
# scripts/setup; here a missing dependency names it so configure says what to install.
find_package(PkgConfig REQUIRED)

macro(r1_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR "r1-edge: ${what} not found. Install the Debian package '${package}' (or run scripts/setup).")
  endif()
endmacro()

find_package(Threads REQUIRED)
find_package(OpenMP)
r1_require(OpenMP_CXX_FOUND "OpenMP" "libomp-dev")

find_package(hwy CONFIG QUIET)
r1_require(hwy_FOUND "Highway" "libhwy-dev")

find_package(CLI11 CONFIG QUIET)
r1_require(CLI11_FOUND "CLI11" "libcli11-dev")

find_package(nlohmann_json 3 CONFIG QUIET)
r1_require(nlohmann_json_FOUND "nlohmann-json" "nlohmann-json3-dev")

pkg_check_modules(PCRE2 QUIET IMPORTED_TARGET libpcre2-8)
r1_require(PCRE2_FOUND "PCRE2" "libpcre2-dev")

pkg_check_modules(UTF8PROC QUIET IMPORTED_TARGET libutf8proc)
r1_require(UTF8PROC_FOUND "utf8proc" "libutf8proc-dev")

pkg_check_modules(LIBEDIT QUIET IMPORTED_TARGET libedit)
r1_require(LIBEDIT_FOUND "libedit" "libedit-dev")

# r1 serve's HTTP transport (cli/cmd_serve.cpp). Debian builds it as a library; its pkg-config
# file carries the feature defines the library was compiled with.
pkg_check_modules(HTTPLIB QUIET IMPORTED_TARGET cpp-httplib)
r1_require(HTTPLIB_FOUND "cpp-httplib" "libcpp-httplib-dev")

if(R1_BUILD_TESTS)
  find_package(GTest CONFIG QUIET)
  r1_require(GTest_FOUND "GoogleTest" "libgtest-dev")
  # Only the tokenizer tests use SentencePiece (as an independent oracle), so only a
  # build with tests needs it.
  pkg_check_modules(SENTENCEPIECE QUIET IMPORTED_TARGET sentencepiece)
  r1_require(SENTENCEPIECE_FOUND "SentencePiece" "libsentencepiece-dev")
endif()
if(R1_BUILD_BENCH)
  find_package(benchmark CONFIG QUIET)
  r1_require(benchmark_FOUND "Google Benchmark" "libbenchmark-dev")
endif()

# Optional GPU backends: AUTO enables them when the toolchain is present.
set(R1_HAVE_VULKAN OFF)
if(NOT R1_VULKAN STREQUAL "OFF")
  find_package(Vulkan QUIET)
  find_program(R1_GLSLC glslc)
  if(Vulkan_FOUND AND R1_GLSLC)
    set(R1_HAVE_VULKAN ON)
  elseif(R1_VULKAN STREQUAL "ON")
    message(FATAL_ERROR "r1-edge: R1_VULKAN=ON but Vulkan/glslc not found. Install 'libvulkan-dev' and 'glslc'.")
  endif()
endif()
set(R1_HAVE_CUDA OFF)
if(NOT R1_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(R1_HAVE_CUDA ON)
  elseif(R1_CUDA STREQUAL "ON")
    message(FATAL_ERROR "r1-edge: R1_CUDA=ON but no CUDA compiler (nvcc) found.")
  endif()
endif()
message(STATUS "r1-edge: Vulkan backend ${R1_HAVE_VULKAN}, CUDA backend ${R1_HAVE_CUDA}")

# fmt: C++20 std::format is not in Debian 12's libstdc++ (gcc 12), so we use fmt.
find_package(fmt CONFIG QUIET)
r1_require(fmt_FOUND "fmt" "libfmt-dev")
