/*
 * tests/test_handle_plain.c - the handle pool model test (test_handle_model.c) with the
 * pool compiled without sanitizer annotations.  Host builds usually annotate pools for
 * Valgrind or ASan (TARN_SANITIZE), which sends compaction through its annotated move;
 * this file compiles src/handle.c itself with TARN_SANITIZE 0, so that the plain copy
 * compaction uses in release builds (small blocks word by word, whole spans) is what the
 * model checks, contents and all.
 */
#undef TARN_SANITIZE
#define TARN_SANITIZE 0
#include "handle.c"

#include "test_handle_model.c"
