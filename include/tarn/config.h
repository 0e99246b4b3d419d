/*
 * tarn/config.h - compile-time configuration of tarn, with defaults.
 *
 * One configuration point: define TARN_CONFIG_FILE (for example
 * -DTARN_CONFIG_FILE='"my_tarn_config.h"') and that file is included first;
 * every option it defines overrides the default below.  No file is required.
 *
 * Options
 *   TARN_CHECK_LEVEL   0 = trust the caller (no validation of pointers handed back),
 *                      1 = O(1) validation of every pointer/handle handed back (default),
 *                      2 = level 1 plus a full integrity check on each call (slow, debug).
 *   TARN_STATS         1 = keep statistics (counters, watermarks); 0 = compile them out.
 *   TARN_LOCKING       1 = honour the lock hooks given at init; 0 = compile locking out.
 *   TARN_POISON_FREE   1 = fill freed memory with TARN_POISON_BYTE (catches stale reads
 *                      on targets without sanitizers); 0 = leave it (default).
 *   TARN_POISON_BYTE   the fill byte for TARN_POISON_FREE (default 0xDB).
 *   TARN_SANITIZE      1 = tell AddressSanitizer / Valgrind memcheck which pool bytes are
 *                      live.  Default: on when compiled with ASan, off otherwise.
 *                      Valgrind annotations are opt-in: build with TARN_SANITIZE 1 to run
 *                      under Valgrind with pool-aware checks (a host that merely has
 *                      valgrind/memcheck.h installed keeps the fast paths).
 *   TARN_ALIGN         alignment of every block handed out, a power of two >= 4
 *                      (default 8).
 *   TARN_ASSERT(c)     hook called on internal invariant failures (never on bad user
 *                      input, which is reported by status).  Default: does nothing.
 *   TARN_NO_INTRINSICS 1 = use the portable C bit-scan code instead of compiler builtins.
 *   TARN_GUARD         1 = canary mode for targets without sanitizers: every block of the
 *                      block pool, the heap and the handle pool is followed by at least
 *                      TARN_GUARD_SIZE guard bytes holding TARN_GUARD_BYTE; a free/put
 *                      whose guard was overwritten returns TARN_ECORRUPT (the block stays
 *                      allocated, nothing else changes) and each module's check reports
 *                      every damaged guard.  0 = no guard bytes (default).
 *   TARN_GUARD_SIZE    guard bytes after each block in canary mode (default 8).
 *   TARN_GUARD_BYTE    the guard byte (default 0xFD).
 *   TARN_QUARANTINE    capacity of the debug quarantine: pools given the flag
 *                      TARN_F_QUARANTINE at init hold up to this many freed blocks back
 *                      from reuse (oldest released first; released early when the pool
 *                      would otherwise fail a request), so a use-after-free keeps hitting
 *                      poisoned memory.  0 = quarantine compiled out (default).
 *   TARN_HEAP_MAX_REGIONS  most memory regions one heap can span (tarn_heap_add_region):
 *                      1..16, default 4.  Each region beyond the first costs the heap
 *                      two pointers, a size and a capability word; 1 compiles regions out.
 */
#ifndef TARN_CONFIG_H
#define TARN_CONFIG_H

#ifdef TARN_CONFIG_FILE
#include TARN_CONFIG_FILE
#endif

#ifndef TARN_CHECK_LEVEL
/** Validation level: 0, 1 (default) or 2; see above. */
#define TARN_CHECK_LEVEL 1
#endif

#ifndef TARN_STATS
/** Keep statistics (1, default) or compile them out (0). */
#define TARN_STATS 1
#endif

#ifndef TARN_LOCKING
/** Honour lock hooks (1, default) or compile locking out (0). */
#define TARN_LOCKING 1
#endif

#ifndef TARN_POISON_FREE
/** Fill freed memory with TARN_POISON_BYTE (1) or not (0, default). */
#define TARN_POISON_FREE 0
#endif

#ifndef TARN_POISON_BYTE
/** Fill byte for TARN_POISON_FREE. */
#define TARN_POISON_BYTE 0xDBu
#endif

#ifndef TARN_ALIGN
/** Alignment of every block handed out (power of two >= 4; default 8). */
#define TARN_ALIGN 8u
#endif

#ifndef TARN_ASSERT
/** Hook for internal invariant failures (default: nothing). */
#define TARN_ASSERT(c) ((void)0)
#endif

#ifndef TARN_NO_INTRINSICS
/** Use portable C instead of compiler bit-scan builtins (1) or not (0). */
#define TARN_NO_INTRINSICS 0
#endif

#ifndef TARN_GUARD
/** Canary mode: guard bytes after every block (1) or not (0, default). */
#define TARN_GUARD 0
#endif

#ifndef TARN_GUARD_SIZE
/** Guard bytes after each block in canary mode. */
#define TARN_GUARD_SIZE 8u
#endif

#ifndef TARN_GUARD_BYTE
/** Value of every guard byte in canary mode. */
#define TARN_GUARD_BYTE 0xFDu
#endif

#ifndef TARN_QUARANTINE
/** Capacity of the debug quarantine (0 = compiled out, default). */
#define TARN_QUARANTINE 0
#endif

#ifndef TARN_HEAP_MAX_REGIONS
/** Most memory regions one heap can span (1..16, default 4). */
#define TARN_HEAP_MAX_REGIONS 4
#endif

/* TARN_SANITIZE default is decided in src/internal.h, where the tool headers are probed. */

#if (TARN_CHECK_LEVEL < 0) || (TARN_CHECK_LEVEL > 2)
#error "TARN_CHECK_LEVEL must be 0, 1 or 2"
#endif
#if (TARN_ALIGN < 4) || ((TARN_ALIGN & (TARN_ALIGN - 1)) != 0)
#error "TARN_ALIGN must be a power of two >= 4"
#endif

#if (TARN_GUARD != 0) && (TARN_GUARD != 1)
#error "TARN_GUARD must be 0 or 1"
#endif
#if TARN_GUARD && (TARN_GUARD_SIZE < 1)
#error "TARN_GUARD_SIZE must be at least 1"
#endif
#if (TARN_QUARANTINE < 0) || (TARN_QUARANTINE > 65535)
#error "TARN_QUARANTINE must be 0..65535"
#endif

#if (TARN_HEAP_MAX_REGIONS < 1) || (TARN_HEAP_MAX_REGIONS > 16)
#error "TARN_HEAP_MAX_REGIONS must be 1..16"
#endif

#endif /* TARN_CONFIG_H */
