/*
 * tests/support/lean.h - the leanest configuration, for the lean tests: no pointer checks,
 * no statistics, no lock hooks, no sanitizer annotations, no debug options, portable bit
 * scans.  Include it first, then the module's .c file (the test compiles the module
 * itself in this configuration).  No include guard: it only sets options.
 */
#undef TARN_CHECK_LEVEL
#undef TARN_STATS
#undef TARN_LOCKING
#undef TARN_SANITIZE
#undef TARN_NO_INTRINSICS
#undef TARN_GUARD
#undef TARN_POISON_FREE
#undef TARN_QUARANTINE
#define TARN_CHECK_LEVEL 0
#define TARN_STATS 0
#define TARN_LOCKING 0
#define TARN_SANITIZE 0
#define TARN_NO_INTRINSICS 1
#define TARN_GUARD 0
#define TARN_POISON_FREE 0
#define TARN_QUARANTINE 0
