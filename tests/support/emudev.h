/*
 * tests/support/emudev.h - an emulated external memory device (SRAM/FRAM/EEPROM behind a
 * bus) for the tests, examples and benchmarks of the external memory manager.
 *
 * The device is a RAM array standing for device addresses [base, base + size).  It counts
 * read/write/sync transactions and bytes, optionally the writes that hit each byte (wear),
 * and injects faults:
 *
 *  - power cut: the write numbered `cut_at` (0-based over all writes) is interrupted: only
 *    its first `cut_keep` bytes land, and of the byte after them the bits set in
 *    `cut_bits` take the new value (a half-programmed byte); then the device is dead:
 *    every call fails until emudev_power_on().
 *  - write buffer (`buffered`): writes are visible to reads at once but become durable
 *    only at a sync.  At a power cut, the writes since the last sync (the interrupted one
 *    included, as the last) are rolled back and only those whose bit is set in
 *    `land_mask` (bit i = i-th pending write) land, in issue order or reversed
 *    (`land_reverse`); the interrupted one, if it lands, is torn as above.
 *    `sync_ignored` makes sync a no-op barrier (a device that lies), for negative tests.
 *  - callback errors: the read, write or sync call numbered fail_read_at / fail_write_at /
 *    fail_sync_at fails (returns -1); a failing write still lands its first
 *    `fail_write_keep` bytes; after it, the next `fail_more` calls of any kind fail too.
 *    The device stays alive.
 *
 * Any access outside [base, base + size) fails and is counted in range_errors.
 * Plain C with no allocation: usable bare-metal.
 */
#ifndef TARN_TESTS_EMUDEV_H
#define TARN_TESTS_EMUDEV_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "tarn/ext.h"

#define EMUDEV_MAX_PENDING 32      /* write-buffer entries; more = the oldest are flushed */
#define EMUDEV_LOG_BYTES 4096      /* bytes of pending writes kept (old and new copies) */
#define EMUDEV_ALL ((size_t)-1)    /* cut_keep / fail_write_keep: every byte lands */

typedef struct emudev_pending_ {
    uint32_t addr;
    uint32_t len;
    uint32_t off;                  /* into old_bytes / new_bytes */
} emudev_pending_;

typedef struct emudev {
    uint8_t *mem;                  /* backing array: mem[0] is device address base */
    uint32_t base;
    size_t size;
    uint32_t *wear;                /* NULL, or size counters: writes that hit each byte */

    /* counters */
    unsigned long reads, writes, syncs;
    unsigned long long read_bytes, write_bytes;
    unsigned long range_errors;    /* accesses outside the device */

    /* power cut */
    long cut_at;                   /* write number to interrupt, -1 = never */
    size_t cut_keep;               /* bytes of it that land */
    uint8_t cut_bits;              /* bits of the next byte that get programmed */
    bool dead;                     /* power is off */
    unsigned long cuts;            /* power cuts that happened */

    /* write buffer */
    bool buffered;
    bool sync_ignored;
    bool land_reverse;
    uint32_t land_mask;
    unsigned npending;
    size_t log_used;
    emudev_pending_ pending[EMUDEV_MAX_PENDING];
    uint8_t old_bytes[EMUDEV_LOG_BYTES];
    uint8_t new_bytes[EMUDEV_LOG_BYTES];

    /* callback errors */
    long fail_read_at, fail_write_at, fail_sync_at;   /* -1 = never */
    size_t fail_write_keep;
    unsigned long fail_more;       /* after an injected error, this many more calls fail */
    unsigned long failures;        /* injected errors returned */
    unsigned long burst;           /* failures still to come in the current burst */
} emudev;

/** Set up a device over mem[0..size) at device address base: counters zero, no faults,
 *  unbuffered, no wear map.  The contents of mem are kept. */
void emudev_init(emudev *d, uint8_t *mem, uint32_t base, size_t size);

/** Restore power after a cut: the device works again with what landed; the cut settings
 *  and the write buffer are cleared (counters and other settings kept). */
void emudev_power_on(emudev *d);

/** Clear the counters (and the wear map if any). */
void emudev_reset_counters(emudev *d);

/** Arrange a power cut at write number `n` counted from now (0 = the next write). */
void emudev_cut_after(emudev *d, long n, size_t keep, uint8_t bits);

/** The callbacks, in the form tarn_ext_io wants (ctx = the emudev). */
int emudev_read(void *ctx, uint32_t addr, void *buf, size_t n);
int emudev_write(void *ctx, uint32_t addr, const void *buf, size_t n);
int emudev_sync(void *ctx);

/** A tarn_ext_io over d; with_sync false leaves sync NULL (media without a write buffer). */
tarn_ext_io emudev_io(emudev *d, bool with_sync);

#endif /* TARN_TESTS_EMUDEV_H */
