# Every dependency is a Debian package installed by scripts/setup.sh.
find_package(PkgConfig REQUIRED)
pkg_check_modules(BOTAN REQUIRED IMPORTED_TARGET botan-2)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)
find_package(fmt REQUIRED)
find_package(tomlplusplus REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(spdlog REQUIRED)  # the logs of `custos serve` (src/api/log.h)
find_package(Threads REQUIRED)
find_library(CSV_LIBRARY NAMES csv REQUIRED)
# Header-only (core only): utfcpp (libutfcpp-dev, /usr/include/utf8cpp/utf8/core.h) and Howard Hinnant's date
# (libhowardhinnant-date-dev, <date/date.h>). Found by header rather than their CMake packages
# so that date's INTERFACE_SOURCES and tz target do not spread to every target.
find_path(UTFCPP_INCLUDE_DIR utf8/core.h PATH_SUFFIXES utf8cpp REQUIRED)
find_path(DATE_INCLUDE_DIR date/date.h REQUIRED)
# The tz half of date (libdate-tz, same package): core/zones.cpp, the company's time zone.
find_library(DATE_TZ_LIBRARY NAMES date-tz REQUIRED)
if(CUSTOS_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(CUSTOS_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# The programs' allocator (custos and custos_read_latency): gperftools' tcmalloc_minimal
# (libtcmalloc-minimal4) in place of glibc's malloc, whose allocations and free-list upkeep were
# ~12 % of a read benchmark's profile (BENCHMARKS.md, "The allocator"; docs/decisions.md). Not
# with the sanitizers, which bring their own. custos_use_program_allocator(TARGET) links it in.
option(CUSTOS_TCMALLOC "Link the programs with tcmalloc_minimal (gperftools)" ON)
if(CUSTOS_TCMALLOC AND NOT CUSTOS_SANITIZE AND NOT CUSTOS_TSAN)
  find_library(CUSTOS_TCMALLOC_LIBRARY NAMES tcmalloc_minimal libtcmalloc_minimal.so.4 REQUIRED)
  set(CUSTOS_ALLOCATOR_LIBRARY ${CUSTOS_TCMALLOC_LIBRARY})
endif()
function(custos_use_program_allocator target)
  if(CUSTOS_ALLOCATOR_LIBRARY)
    # Nothing calls tcmalloc by name: keep it linked even where --as-needed is the default.
    target_link_libraries(${target} PRIVATE "-Wl,--push-state,--no-as-needed"
                          ${CUSTOS_ALLOCATOR_LIBRARY} "-Wl,--pop-state")
  endif()
endfunction()
