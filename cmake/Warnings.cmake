# Common compile options for every Custos target (custos_options is linked by each component).
add_library(custos_options INTERFACE)
target_compile_options(custos_options INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Wunused -Woverloaded-virtual -Wformat=2
  # GCC 12 reports false -Wrestrict positives inside libstdc++ string code at -O3.
  -Wno-restrict)
if(CUSTOS_WERROR)
  target_compile_options(custos_options INTERFACE -Werror)
endif()
# Unity builds (-DCMAKE_UNITY_BUILD=ON; scripts/test.sh uses them for the sanitizer builds) put
# several sources in one translation unit, where a class of one source with a member whose type
# is in another's anonymous namespace is no longer in "the main file": GCC's -Wsubobject-linkage
# then fires on what is, per source, file-local. The plain build keeps the warning.
if(CMAKE_UNITY_BUILD)
  target_compile_options(custos_options INTERFACE -Wno-subobject-linkage)
endif()
# Line tables only (-g1): file:line in backtraces and sanitizer reports, function names for
# profilers, but no variable or type information. Each test binary links the whole vault, so
# full debug info costs ~16 GB in a sanitizer build (770 MB for one CLI test) and filled CI's disk
# (scripts/test.sh turns it on for the sanitizer builds; docs/decisions.md).
option(CUSTOS_LINE_TABLES "Debug info as line tables only (-g1)" OFF)
if(CUSTOS_LINE_TABLES)
  target_compile_options(custos_options INTERFACE -g1)
endif()
if(CUSTOS_SANITIZE)
  target_compile_options(custos_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined)
  target_link_options(custos_options INTERFACE -fsanitize=address,undefined)
  # The components optimised a little (-O1, after the build type's -O0), as the ASan
  # documentation advises: at -O0 every libstdc++ call stays a call with its own UBSan checks,
  # so a translation unit held 7x the check data (1.33 MB against 0.18 MB for
  # src/vault/customers.cpp) and 2.5x the relocations that every test process applies when it
  # starts (docs/decisions.md). The tests' own code (targets with CUSTOS_TEST_CODE set, by
  # custos_add_test) stays at -O0: -O1 doubled its compile time for a fifth less data.
  option(CUSTOS_SANITIZE_O1 "Compile the components of the ASan+UBSan build at -O1" ON)
  if(CUSTOS_SANITIZE_O1)
    # GCC 12 at -O1 with the sanitizers reports false -Wmaybe-uninitialized inside libstdc++
    # (std::regex's std::function moves); the plain -O2 build keeps the warning as an error.
    target_compile_options(custos_options INTERFACE
      $<$<NOT:$<BOOL:$<TARGET_PROPERTY:CUSTOS_TEST_CODE>>>:-O1 -Wno-maybe-uninitialized>)
  endif()
  # UBSan's per-check data holds millions of pointers, each a relative relocation the loader
  # applies when a sanitized binary starts (1.7-2.1 s per `custos` before main, which the CLI
  # tests start hundreds of times; docs/decisions.md). Packed (DT_RELR, glibc 2.36) they are
  # a bitmap instead of 24 bytes each.
  include(CheckLinkerFlag)
  check_linker_flag(CXX "-Wl,-z,pack-relative-relocs" CUSTOS_LINKER_PACKS_RELOCS)
  if(CUSTOS_LINKER_PACKS_RELOCS)
    target_link_options(custos_options INTERFACE -Wl,-z,pack-relative-relocs)
  endif()
endif()
# ThreadSanitizer cannot share a binary with ASan. Dependencies (Botan, SQLite, libpq, OpenSSL)
# are not instrumented: races inside them go unseen; tsan.supp lists what is suppressed and why.
if(CUSTOS_TSAN)
  if(CUSTOS_SANITIZE)
    message(FATAL_ERROR "CUSTOS_TSAN and CUSTOS_SANITIZE exclude each other: use two build dirs")
  endif()
  target_compile_options(custos_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  # TSan does not model std::atomic_thread_fence (GCC 12: -Werror=tsan). Asio's handler
  # invocation fences are redundant with the mutex of its scheduler queue, which TSan does see;
  # Asio's documented switch replaces them with a no-op block in this build only.
  target_compile_definitions(custos_options INTERFACE BOOST_ASIO_DISABLE_FENCED_BLOCK)
  target_link_options(custos_options INTERFACE -fsanitize=thread)
endif()
target_include_directories(custos_options INTERFACE ${CMAKE_SOURCE_DIR}/src)
