# ports/ports.cmake - tests and examples of the drop-in ports (included by CMakeLists.txt
# when tests are built): the FreeRTOS heap (ports/freertos), the C library's malloc
# (ports/libc), the examples that need a package or C++ (examples/lua, sqlite, cjson, cpp).
# Every part that needs something the machine lacks is skipped with a message; the
# library itself never needs any of it.

# Examples built here rather than by the generic examples/<dir>/*.c rule.
set(TARN_PORT_EXAMPLES lua sqlite cjson cpp)

# ---- FreeRTOS heap: tests/port_freertos_*.c against the stand-in kernel headers -------
file(GLOB _tarn_frt_tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/tests/port_freertos_*.c)
foreach(_t IN LISTS _tarn_frt_tests)
  get_filename_component(_n ${_t} NAME_WE)
  tarn_program(${_n} ${_t})
  target_include_directories(${_n} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/tests/freertos)
  tarn_add_test(${_n})
endforeach()

# ---- libc malloc: the API test (prefixed build, any configuration) -------------------
tarn_program(port_libc_api tests/port_libc_api.c)
target_include_directories(port_libc_api PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/ports/libc)
tarn_add_test(port_libc_api)

# ---- libc malloc: libtarn_malloc.so run under real programs with LD_PRELOAD -------------
# Only where the programs can load it: a 64-bit Linux host build without sanitizers or
# coverage (an instrumented library cannot be preloaded into uninstrumented programs).  The full
# integrity check on every call (TARN_CHECK_LEVEL 2, O(heap size)) is brought back to
# level 1 for it: a compiler run makes millions of calls on a 256 MiB heap.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND CMAKE_SIZEOF_VOID_P EQUAL 8
   AND NOT CMAKE_C_FLAGS MATCHES "-fsanitize|--coverage")
  add_library(tarn_malloc SHARED ${TARN_SOURCES} ports/libc/tarn_malloc.c)
  target_include_directories(tarn_malloc PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/include
                             ${CMAKE_CURRENT_SOURCE_DIR}/src ${CMAKE_CURRENT_SOURCE_DIR}/ports/libc)
  target_compile_definitions(tarn_malloc PRIVATE TARN_MALLOC_REPORT=1 TARN_MALLOC_ABORT_ON_BAD_FREE=1)
  target_compile_options(tarn_malloc PRIVATE ${TARN_WARNINGS} -UTARN_CHECK_LEVEL -DTARN_CHECK_LEVEL=1)
  set_target_properties(tarn_malloc PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON)
  add_test(NAME port_libc_preload
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/tests/port_libc_preload.sh $<TARGET_FILE:tarn_malloc>)
  set_tests_properties(port_libc_preload PROPERTIES TIMEOUT 600)
else()
  message(STATUS "tarn: port_libc_preload not built (needs a 64-bit Linux build without sanitizers or coverage)")
endif()

# ---- heavy workloads in the strictest build --------------------------------------------
# The examples make millions of calls on heaps of megabytes; the full integrity check on
# every call (TARN_CHECK_LEVEL 2, O(heap size)) would take hours.  There they link a copy
# of the library built at level 1, every other option of the build kept (one copy, compiled
# once for all of them), and are compiled at level 1 themselves (the pools' layout depends
# on the level).
set(_tarn_ports_level1 OFF)
if(CMAKE_C_FLAGS MATCHES "TARN_CHECK_LEVEL=2")
  set(_tarn_ports_level1 ON)
  add_library(tarn_level1 OBJECT ${TARN_SOURCES})
  target_include_directories(tarn_level1 PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/include
                             ${CMAKE_CURRENT_SOURCE_DIR}/src)
  set_target_properties(tarn_level1 PROPERTIES C_STANDARD 99 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  target_compile_options(tarn_level1 PRIVATE ${TARN_WARNINGS} -UTARN_CHECK_LEVEL -DTARN_CHECK_LEVEL=1)
endif()
function(tarn_ports_heavy target)
  if(_tarn_ports_level1)
    target_sources(${target} PRIVATE $<TARGET_OBJECTS:tarn_level1>)
    target_compile_options(${target} PRIVATE -UTARN_CHECK_LEVEL -DTARN_CHECK_LEVEL=1)
  endif()
endfunction()

# ---- examples on libraries (Debian: liblua5.4-dev, libsqlite3-dev, libcjson-dev) --------
# Each is built only if pkg-config finds the library AND a program using it links with
# this build's flags (a -m32 build has no 32-bit copies, for instance).
find_package(PkgConfig QUIET)
include(CheckCSourceCompiles)
function(tarn_port_example name pcname header call)
  if(NOT PKG_CONFIG_FOUND)
    message(STATUS "tarn: example_${name} not built (no pkg-config)")
    return()
  endif()
  pkg_check_modules(TARN_PC_${name} QUIET ${pcname})
  if(NOT TARN_PC_${name}_FOUND)
    message(STATUS "tarn: example_${name} not built (${pcname} not found)")
    return()
  endif()
  set(CMAKE_REQUIRED_INCLUDES ${TARN_PC_${name}_INCLUDE_DIRS})
  set(CMAKE_REQUIRED_LIBRARIES ${TARN_PC_${name}_LINK_LIBRARIES})
  check_c_source_compiles("#include <${header}>\nint main(void) { ${call}; return 0; }"
                          TARN_PC_${name}_LINKS)
  if(NOT TARN_PC_${name}_LINKS)
    message(STATUS "tarn: example_${name} not built (${pcname} does not link in this configuration)")
    return()
  endif()
  file(GLOB _src CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/examples/${name}/*.c)
  tarn_program(example_${name} ${_src})
  target_include_directories(example_${name} PRIVATE ${TARN_PC_${name}_INCLUDE_DIRS})
  target_link_libraries(example_${name} PRIVATE ${TARN_PC_${name}_LINK_LIBRARIES})
  tarn_ports_heavy(example_${name})
  tarn_add_test(example_${name})
endfunction()
tarn_port_example(lua lua5.4 lauxlib.h "lua_close(luaL_newstate())")
tarn_port_example(sqlite sqlite3 sqlite3.h "sqlite3_initialize()")
tarn_port_example(cjson libcjson cJSON.h "cJSON_Delete(cJSON_CreateNull())")
if(TARGET example_lua)
  # the stock interpreter's output for the same script, when it is installed
  find_program(TARN_LUA5_4 NAMES lua5.4)
  if(TARN_LUA5_4)
    add_test(NAME example_lua_vs_lua5.4
             COMMAND sh -c "'${TARN_LUA5_4}' examples/lua/workload.lua > \"$1.stock\" && \"$0\" --print examples/lua/workload.lua > \"$1.tarn\" && cmp \"$1.stock\" \"$1.tarn\" && echo 'same output as lua5.4'"
                     $<TARGET_FILE:example_lua> ${CMAKE_CURRENT_BINARY_DIR}/example_lua_out
             WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
  endif()
endif()

# ---- C++: include/tarn/tarn.hpp (std::pmr), tests and examples/cpp ----------------------
# The C++ compiler matching the C one (clang++ for clang, g++ for gcc), with this build's
# C flags (sanitizers, -m32, tarn options).  C++ is enabled only if that compiler builds
# and links a C++17 std::pmr program with those flags (probed once, outside CMake's own
# compiler checks, which would stop the whole configuration on failure: a -m32 build
# without 32-bit libstdc++, for instance).
set(_tarn_cxx OFF)
if(NOT DEFINED TARN_CXX_PROBE)
  set(_cxx "${CMAKE_CXX_COMPILER}")
  if(NOT _cxx)
    if(CMAKE_C_COMPILER_ID MATCHES "Clang")
      find_program(TARN_CXX_COMPILER NAMES clang++)
    else()
      find_program(TARN_CXX_COMPILER NAMES g++ c++)
    endif()
    set(_cxx "${TARN_CXX_COMPILER}")
  endif()
  set(_ok "")
  if(_cxx)
    separate_arguments(_fl UNIX_COMMAND "${CMAKE_C_FLAGS} ${CMAKE_EXE_LINKER_FLAGS}")
    set(_dir ${CMAKE_CURRENT_BINARY_DIR}/CMakeFiles/tarn_pmr_probe)
    file(MAKE_DIRECTORY ${_dir})
    file(WRITE ${_dir}/probe.cpp "#include <memory_resource>\n#include <vector>\nint main() { std::pmr::vector<int> v(std::pmr::new_delete_resource()); v.push_back(1); return v[0] - 1; }\n")
    execute_process(COMMAND ${_cxx} -std=c++17 ${_fl} ${_dir}/probe.cpp -o ${_dir}/probe
                    RESULT_VARIABLE _rc OUTPUT_QUIET ERROR_QUIET)
    if(_rc EQUAL 0)
      set(_ok "${_cxx}")
    endif()
  endif()
  set(TARN_CXX_PROBE "${_ok}" CACHE INTERNAL "C++ compiler that builds std::pmr with this build's flags")
endif()
if(TARN_CXX_PROBE)
  set(CMAKE_CXX_COMPILER "${TARN_CXX_PROBE}")
  set(CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS} ${CMAKE_C_FLAGS}")
  enable_language(CXX)
  set(_tarn_cxx ON)
endif()
if(_tarn_cxx)
  set(TARN_CXX_WARNINGS -Wall -Wextra -Wpedantic -Wshadow)
  if(TARN_WERROR)
    list(APPEND TARN_CXX_WARNINGS -Werror)
  endif()
  function(tarn_cxx_program name)
    add_executable(${name} ${ARGN})
    target_link_libraries(${name} PRIVATE tarn)
    set_target_properties(${name} PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
    target_compile_options(${name} PRIVATE ${TARN_CXX_WARNINGS})
    tarn_add_test(${name})
  endfunction()
  tarn_cxx_program(port_cpp_pmr tests/port_cpp_pmr.cpp)
  tarn_cxx_program(port_cpp_pmr_noexcept tests/port_cpp_pmr_noexcept.cpp)
  target_compile_options(port_cpp_pmr_noexcept PRIVATE -fno-exceptions)
  file(GLOB _tarn_cpp_ex CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/examples/cpp/*.cpp)
  if(_tarn_cpp_ex)
    tarn_cxx_program(example_cpp ${_tarn_cpp_ex})
    tarn_ports_heavy(example_cpp)
  endif()
else()
  message(STATUS "tarn: C++ tests and examples/cpp not built (no C++17 std::pmr in this configuration)")
endif()
