/*
 * ports/zephyr/tarn_zephyr.h - example tarn lock hook for Zephyr over a k_spinlock
 * (documented example; not compiled by tarn's build, which has no Zephyr).
 *
 * k_spin_lock() masks interrupts on the local CPU and, on SMP, spins on the lock, so the
 * pool is safe from threads, ISRs and other cores.  Keep it for O(1) operations (block
 * pool, heap); for long ones (handle-pool compaction) in threads only, use a k_mutex
 * hook instead (k_mutex_lock(m, K_FOREVER) / k_mutex_unlock(m)).
 *
 *     static tarn_zephyr_lock rx_lock;          // zero-initialised k_spinlock is valid
 *     tarn_config cfg = { TARN_ZEPHYR_HOOK(&rx_lock), "rx", 0 };
 */
#ifndef TARN_PORTS_ZEPHYR_H
#define TARN_PORTS_ZEPHYR_H

#include <zephyr/kernel.h>
#include <zephyr/spinlock.h>

#include "tarn/tarn.h"

typedef struct tarn_zephyr_lock {
    struct k_spinlock lock;
    k_spinlock_key_t key; /* written by the holder after taking the lock, read on release */
} tarn_zephyr_lock;

static inline void tarn_zephyr_lock_fn(void *ctx)
{
    tarn_zephyr_lock *l = (tarn_zephyr_lock *)ctx;
    k_spinlock_key_t key = k_spin_lock(&l->lock);
    l->key = key;
}

static inline void tarn_zephyr_unlock_fn(void *ctx)
{
    tarn_zephyr_lock *l = (tarn_zephyr_lock *)ctx;
    k_spin_unlock(&l->lock, l->key);
}

#define TARN_ZEPHYR_HOOK(l) {tarn_zephyr_lock_fn, tarn_zephyr_unlock_fn, (void *)(l)}

#endif /* TARN_PORTS_ZEPHYR_H */
