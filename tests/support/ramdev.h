/*
 * tests/support/ramdev.h - a device for the external memory manager made of plain RAM,
 * for the multi-thread tests (host only: C11 atomics).
 *
 * The device answers addresses [base, base + size of its window); every access outside
 * it fails and is counted in `bad`, which a test checks to be 0 at the end.  The manager
 * calls the callbacks with its lock held, so only `bad` needs to be atomic.
 */
#ifndef TARN_TESTS_RAMDEV_H
#define TARN_TESTS_RAMDEV_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "tarn/ext.h"

typedef struct ramdev {
    unsigned char *mem;   /* device address a is mem[a] */
    uint32_t base;        /* first address the device answers */
    size_t end;           /* one past the last address */
    atomic_long bad;      /* accesses outside [base, end) */
} ramdev;

/* The device's address of an access of n bytes at addr, or NULL (counted) if outside. */
static inline unsigned char *ramdev_at(ramdev *d, uint32_t addr, size_t n)
{
    if (addr < d->base || addr > d->end || n > d->end - addr) {
        atomic_fetch_add(&d->bad, 1);
        return NULL;
    }
    return d->mem + addr;
}

static inline int ramdev_read(void *ctx, uint32_t addr, void *buf, size_t n)
{
    unsigned char *p = ramdev_at((ramdev *)ctx, addr, n);
    if (p == NULL) return -1;
    memcpy(buf, p, n);
    return 0;
}

static inline int ramdev_write(void *ctx, uint32_t addr, const void *buf, size_t n)
{
    unsigned char *p = ramdev_at((ramdev *)ctx, addr, n);
    if (p == NULL) return -1;
    memcpy(p, buf, n);
    return 0;
}

/* The I/O table of the device d, for tarn_ext_format / tarn_ext_mount. */
#define RAMDEV_IO(d) {ramdev_read, ramdev_write, NULL, (d)}

#endif /* TARN_TESTS_RAMDEV_H */
