# Cross toolchain for aarch64 Linux: Debian's g++-aarch64-linux-gnu, libraries from Debian
# multiarch (:arm64 packages in /usr/lib/aarch64-linux-gnu), binaries run under qemu-aarch64.
# Used by scripts/test for the quant and kernel tests (cmake/kernel-tests).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Only the arm64 side of multiarch: never pick up an amd64 library or package config.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu/cmake)
# ctest and gtest_discover_tests run the test binaries through qemu; -cpu max has SVE/SVE2.
# R1_QEMU_CPU overrides it, e.g. "max,sve-default-vector-length=32" for 256-bit SVE.
if(NOT DEFINED R1_QEMU_CPU)
  set(R1_QEMU_CPU max)
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -cpu ${R1_QEMU_CPU})
