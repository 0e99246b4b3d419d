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
# Only where the programs can load it: a 64-bit Linux host build without sanitizers (an
# instrumented library cannot be preloaded into uninstrumented programs).  The full
# integrity check on every call (TARN_CHECK_LEVEL 2, O(heap size)) is brought back to
# level 1 for it: a compiler run makes millions of calls on a 256 MiB heap.
if(CMAKE_SYSTEM_NAME STREQUAL "Linux" AND CMAKE_SIZEOF_VOID_P EQUAL 8
   AND NOT CMAKE_C_FLAGS MATCHES "-fsanitize")
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
  message(STATUS "tarn: port_libc_preload not built (needs a 64-bit Linux build without sanitizers)")
endif()
