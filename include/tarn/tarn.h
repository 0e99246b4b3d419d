/*
 * tarn/tarn.h - common definitions shared by every tarn module.
 *
 * tarn is a C99 library of memory pools for embedded systems.  It never calls malloc:
 * every pool lives in memory the caller provides.  This header gives the version, the
 * status codes (tarn_status, tarn_strerror), the lock hook and the common init
 * configuration, and the alignment helpers used by the sizing macros of every module.
 */
#ifndef TARN_TARN_H
#define TARN_TARN_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "tarn/config.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- version ----------------------------------------------------------------------- */
#define TARN_VERSION_MAJOR 0 /**< major version: incompatible API changes */
#define TARN_VERSION_MINOR 1 /**< minor version: compatible additions */
#define TARN_VERSION_PATCH 0 /**< patch version: fixes */
#define TARN_STR_(x) #x
/** Stringify a macro's value. */
#define TARN_STR(x) TARN_STR_(x)
/** "MAJOR.MINOR.PATCH"; the build system reads the numbers above. */
#define TARN_VERSION_STRING \
    TARN_STR(TARN_VERSION_MAJOR) "." TARN_STR(TARN_VERSION_MINOR) "." TARN_STR(TARN_VERSION_PATCH)
/** One integer that grows with every release: 0xMMmmpp. */
#define TARN_VERSION_NUMBER \
    ((TARN_VERSION_MAJOR << 16) | (TARN_VERSION_MINOR << 8) | TARN_VERSION_PATCH)

/* ---- status codes ------------------------------------------------------------------ */
/**
 * Result of every tarn function that can fail for a reason.  TARN_OK is 0; every error
 * is a distinct positive value named by tarn_strerror().
 */
typedef enum tarn_status {
    TARN_OK = 0,     /**< success */
    TARN_EINVAL,     /**< invalid argument (NULL where not allowed, zero or bad size...) */
    TARN_ENOMEM,     /**< not enough free memory in the pool for the request */
    TARN_EFOREIGN,   /**< pointer/handle/address does not belong to this pool, or
                          points inside a block instead of at its start */
    TARN_EDOUBLE,    /**< the block is already free (double free) */
    TARN_ECORRUPT,   /**< pool metadata failed an integrity check */
    TARN_EIO,        /**< a user read/write/sync callback reported an error */
    TARN_EBUSY,      /**< the object is in use (pinned, locked, or pool not empty) */
    TARN_EALIGN,     /**< buffer or pointer not aligned as required */
    TARN_ETOOSMALL,  /**< buffer too small to hold the pool (see the module's MIN_SIZE) */
    TARN_ESTALE,     /**< handle refers to a freed or reused slot (generation mismatch) */
    TARN_EOVERFLOW,  /**< a count or size computation would overflow */
    TARN_ENOENT,     /**< no such object (name lookup, empty slot, nothing to mount) */
    TARN_ERANGE,     /**< access outside the bounds of an allocation or device */
    TARN_STATUS_COUNT_ /**< number of codes; not a status */
} tarn_status;

/**
 * Name of a status code, e.g. "TARN_EDOUBLE: block already free".
 * Complexity O(1).  Never returns NULL (unknown codes give "TARN_?: unknown status").
 * ISR-safe and reentrant.
 */
const char *tarn_strerror(tarn_status status);

/**
 * Copy n bytes from pool memory that a pool may have made inaccessible to AddressSanitizer
 * or Valgrind (a free region), without a report and without changing what the tools know
 * of it: the read a layer over a pool makes to validate a pointer handed back to it
 * (compat/ckremm reads the handle stored before a block).  Without those tools, memcpy.
 * O(n).  ISR-safe and reentrant.
 */
void tarn_mem_peek(void *dst, const void *src, size_t n);

/* ---- lock hook --------------------------------------------------------------------- */
/**
 * Optional lock hook given to a pool at init.  When `lock` is non-NULL the pool calls
 * lock(ctx) before and unlock(ctx) after every public operation that touches its state.
 * With both NULL the pool is single-threaded and pays only a predictable branch (or
 * nothing, with TARN_LOCKING 0).  The hook need not be recursive: tarn never calls it
 * twice without an unlock in between.
 */
typedef struct tarn_lock {
    void (*lock)(void *ctx);   /**< take the lock (NULL: no locking) */
    void (*unlock)(void *ctx); /**< release it (NULL exactly when lock is NULL) */
    void *ctx;                 /**< passed to both */
} tarn_lock;

/**
 * Common optional configuration for every tarn_<module>_init().  Pass NULL for
 * defaults: no lock, no name, no flags.  The struct is read during init only (the
 * name pointer is kept, so it must outlive the pool).
 */
typedef struct tarn_config {
    tarn_lock lock;      /**< lock hook; {NULL, NULL, NULL} = single-threaded */
    const char *name;    /**< pool name for registries, stats and dumps; may be NULL */
    uint32_t flags;      /**< module-specific flags (see each module's TARN_*_F_*) */
} tarn_config;

/**
 * Config flag common to every module (modules' own flags use the low bits): a bad free
 * (double free, foreign or interior pointer) is also reported to the active memory tool
 * as the error it is — Valgrind memcheck reports "Invalid free()", AddressSanitizer a
 * use-after-poison at the block — with the caller's stack.  Without a tool, or when the
 * tool lets the program go on, the call still returns its status and changes nothing.
 * Meant for debug builds and death tests; off by default.
 */
#define TARN_F_SAN_REPORT 0x80000000u

/**
 * Config flag common to the block pool, the heap and the handle pool: turn on the debug
 * quarantine (see TARN_QUARANTINE in tarn/config.h).  A freed block is held back, still
 * poisoned for the memory tools (and filled with TARN_POISON_BYTE when TARN_POISON_FREE
 * is on), until TARN_QUARANTINE later frees push it out, so a use-after-free is reported
 * even after the pool has been busy.  A second free of a quarantined block is still a
 * double free.  Ignored when TARN_QUARANTINE is 0 (compiled out).
 */
#define TARN_F_QUARANTINE 0x40000000u

#if TARN_QUARANTINE > 0
/**
 * The quarantine ring inside a pool struct (private; see TARN_F_QUARANTINE): freed blocks
 * in the order they were freed, `first` the oldest, `count` how many are held.
 */
typedef struct tarn_quarantine {
    void *slot[TARN_QUARANTINE]; /**< held blocks, a ring */
    uint16_t first;              /**< index of the oldest held block */
    uint16_t count;              /**< blocks held */
    uint16_t on;                 /**< TARN_F_QUARANTINE given at init */
} tarn_quarantine;
#endif

/* ---- alignment and sizing helpers (usable in constant expressions) ----------------- */
/** Round x up to a multiple of a (a power of two). */
#define TARN_ALIGN_UP(x, a) (((x) + ((a) - 1u)) & ~((size_t)(a) - 1u))
/** Round x down to a multiple of a (a power of two). */
#define TARN_ALIGN_DOWN(x, a) ((x) & ~((size_t)(a) - 1u))
/** Non-zero when x is a power of two (0 is not). */
#define TARN_IS_POW2(x) (((x) != 0u) && ((((x) - 1u) & (x)) == 0u))
/** Non-zero when pointer p is aligned to a (a power of two). */
#define TARN_IS_ALIGNED(p, a) ((((uintptr_t)(p)) & ((uintptr_t)(a) - 1u)) == 0u)
/** Larger of two constant expressions. */
#define TARN_MAX(a, b) ((a) > (b) ? (a) : (b))

#ifdef __cplusplus
}
#endif

#endif /* TARN_TARN_H */
