/*
 * ports/posix/tarn_pthread.h - lock hook for tarn pools over a POSIX mutex.
 *
 * Header-only.  Use one mutex per pool (or one for several pools: tarn never calls the
 * hook twice without an unlock in between, and never holds two pools' hooks at once).
 *
 *     #include "tarn_pthread.h"
 *     static tarn_pthread_lock pool_mutex = TARN_PTHREAD_LOCK_INIT;
 *     tarn_config cfg = { TARN_PTHREAD_HOOK(&pool_mutex), "rx", 0 };
 *     static tarn_block_ext pool_ext;
 *     tarn_block_init_ext(&pool, &pool_ext, mem, sizeof mem, 64, &cfg);
 *
 * A failing pthread_mutex_lock/unlock (only possible for a corrupted or destroyed
 * mutex) calls abort(): a pool must never run its operation unprotected.
 * Not for interrupt handlers (a mutex may block); see ports/README.md for RTOS hooks.
 */
#ifndef TARN_PORTS_PTHREAD_H
#define TARN_PORTS_PTHREAD_H

#include <pthread.h>
#include <stdlib.h>

#include "tarn/tarn.h"

/** A mutex to give to one or more pools.  Static: TARN_PTHREAD_LOCK_INIT; dynamic:
 *  tarn_pthread_lock_init() / tarn_pthread_lock_destroy(). */
typedef struct tarn_pthread_lock {
    pthread_mutex_t mutex;
} tarn_pthread_lock;

#define TARN_PTHREAD_LOCK_INIT {PTHREAD_MUTEX_INITIALIZER}

static inline void tarn_pthread_lock_fn(void *ctx)
{
    if (pthread_mutex_lock(&((tarn_pthread_lock *)ctx)->mutex) != 0) {
        abort();
    }
}

static inline void tarn_pthread_unlock_fn(void *ctx)
{
    if (pthread_mutex_unlock(&((tarn_pthread_lock *)ctx)->mutex) != 0) {
        abort();
    }
}

/** Initialise a mutex at run time.  TARN_OK, or TARN_EINVAL (NULL or pthread failure). */
static inline tarn_status tarn_pthread_lock_init(tarn_pthread_lock *l)
{
    if (l == NULL || pthread_mutex_init(&l->mutex, NULL) != 0) {
        return TARN_EINVAL;
    }
    return TARN_OK;
}

/** Destroy a mutex initialised by tarn_pthread_lock_init (no pool may use it any more). */
static inline void tarn_pthread_lock_destroy(tarn_pthread_lock *l)
{
    if (l != NULL) {
        (void)pthread_mutex_destroy(&l->mutex);
    }
}

/** The tarn_lock hook for a tarn_pthread_lock (usable as a struct initialiser). */
#define TARN_PTHREAD_HOOK(l) {tarn_pthread_lock_fn, tarn_pthread_unlock_fn, (void *)(l)}

/** The same as a function, for run-time configs. */
static inline tarn_lock tarn_pthread_hook(tarn_pthread_lock *l)
{
    tarn_lock h;
    h.lock = tarn_pthread_lock_fn;
    h.unlock = tarn_pthread_unlock_fn;
    h.ctx = l;
    return h;
}

#endif /* TARN_PORTS_PTHREAD_H */
