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
