# Our own targets build with -Wall -Wextra -Werror; third-party headers come in as SYSTEM.
# gcc 12 (Debian 12) reports -Wrestrict / -Wstringop-overflow on plain std::string and
# std::vector code at -O3 (gcc bugs 105329, 106199): those two are off for gcc < 13 only.
function(r1_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict -Wno-stringop-overflow)
    # With sanitizers gcc 12 also reports -Wmaybe-uninitialized inside <regex>/<functional>.
    if(R1_SANITIZE)
      target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
    endif()
  endif()
endfunction()
