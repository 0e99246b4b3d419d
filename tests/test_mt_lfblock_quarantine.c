/* tarn-test: host-only */
/*
 * tests/test_mt_lfblock_quarantine.c - test_mt_lfblock.c with the debug quarantine and
 * freed-memory poisoning compiled in and the pool given TARN_F_QUARANTINE: 4 threads
 * exchange blocks into and out of the ring at once, empty gets take held blocks, and a
 * block handed out while still held would break the poison fill (reported) or a pattern.
 */
#undef TARN_QUARANTINE
#undef TARN_POISON_FREE
#define TARN_QUARANTINE 8
#define TARN_POISON_FREE 1
#define MT_LF_FLAGS TARN_F_QUARANTINE
#include "lfblock.c"
#include "test_mt_lfblock.c"
