/* tarn-test: host-only */
/*
 * tests/test_handle_guard_death.c - the death tests of test_handle_death.c again, with the
 * handle pool compiled in canary mode (TARN_GUARD 1), so that they run in the ASan and
 * Valgrind builds: the guard bytes after every block are NOACCESS for the tools, so a
 * write past the end of a locked block is reported at once, whether it stops in the guard
 * or runs on into the next block (which it reaches only through the guard), and every
 * other report stays as it was.  Skipped (77) when no tool watches this process.
 */
#undef TARN_GUARD
#define TARN_GUARD 1
#include "handle.c"
#include "test_handle_death.c"
