# The web console (issue 21; docs/console.md; the choice in docs/decisions.md): console/src is
# bundled by esbuild (console/build.mjs, node from Debian, packages pinned by
# console/package-lock.json and installed by scripts/setup.sh with `npm ci`) into
# ${CMAKE_BINARY_DIR}/console/dist, and embed_console.cmake compiles those files into
# console_assets.cpp, so `custos serve` carries them. Without node or console/node_modules the
# console is absent (ConsoleBuilt() false; /console/ says so) and every C++ test still builds
# and runs. Included from src/api/CMakeLists.txt; sets CUSTOS_CONSOLE_ASSETS_CPP and the cache
# entry CUSTOS_CONSOLE_BUILT (tests/console registers the browser test only when ON).
option(CUSTOS_CONSOLE "Build the web console into custos (needs node and npm ci in console/)" ON)
set(CUSTOS_CONSOLE_SRC ${CMAKE_SOURCE_DIR}/console)
set(CUSTOS_CONSOLE_DIST ${CMAKE_BINARY_DIR}/console/dist)
set(CUSTOS_CONSOLE_ASSETS_CPP ${CMAKE_CURRENT_BINARY_DIR}/console_assets.cpp)
find_program(CUSTOS_NODE node)
if(CUSTOS_CONSOLE AND CUSTOS_NODE AND EXISTS ${CUSTOS_CONSOLE_SRC}/node_modules/esbuild/package.json)
  set(CUSTOS_CONSOLE_BUILT ON CACHE INTERNAL "the web console is built into custos")
  file(GLOB_RECURSE custos_console_sources CONFIGURE_DEPENDS ${CUSTOS_CONSOLE_SRC}/src/*)
  set(custos_console_files index.html app.js app.css icon.svg)
  list(TRANSFORM custos_console_files PREPEND ${CUSTOS_CONSOLE_DIST}/ OUTPUT_VARIABLE custos_console_outputs)
  add_custom_command(
    OUTPUT ${custos_console_outputs}
    COMMAND ${CUSTOS_NODE} ${CUSTOS_CONSOLE_SRC}/build.mjs ${CUSTOS_CONSOLE_DIST}
    DEPENDS ${custos_console_sources} ${CUSTOS_CONSOLE_SRC}/build.mjs
            ${CUSTOS_CONSOLE_SRC}/package-lock.json
    COMMENT "Bundling the web console (esbuild)"
    VERBATIM)
  add_custom_command(
    OUTPUT ${CUSTOS_CONSOLE_ASSETS_CPP}
    COMMAND ${CMAKE_COMMAND} -DDIST=${CUSTOS_CONSOLE_DIST} -DOUTPUT=${CUSTOS_CONSOLE_ASSETS_CPP}
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_console.cmake
    DEPENDS ${custos_console_outputs} ${CMAKE_SOURCE_DIR}/cmake/embed_console.cmake
    COMMENT "Embedding the web console"
    VERBATIM)
else()
  set(CUSTOS_CONSOLE_BUILT OFF CACHE INTERNAL "the web console is built into custos")
  message(STATUS "custos: the web console is not built (needs node and `npm ci` in console/: "
                 "scripts/setup.sh); /console/ will say so")
  add_custom_command(
    OUTPUT ${CUSTOS_CONSOLE_ASSETS_CPP}
    COMMAND ${CMAKE_COMMAND} -DDIST= -DOUTPUT=${CUSTOS_CONSOLE_ASSETS_CPP}
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_console.cmake
    DEPENDS ${CMAKE_SOURCE_DIR}/cmake/embed_console.cmake
    COMMENT "Embedding no web console"
    VERBATIM)
endif()
