/*
 * tarn/dump.h - a compact text dump of a pool's map, written by the library into a
 * buffer or through a user write callback (so it works from a device: over a UART, into
 * flash, through a debugger), and rendered as an SVG by tools/heapmap.
 *
 * Format (one record per line, fields separated by one space, numbers in decimal):
 *
 *     tarn-dump 1
 *     pool <kind> <name> <capacity>           kind: block, heap, handle, ext
 *     r <offset> <size> <state>               state: u used, f free, p pinned, m metadata
 *     s <key> <value>                         statistics, any number
 *     end
 * Names contain no spaces (spaces are written as '_'; a NULL name as '-').
 *
 * Usage with a module's walk:
 *     tarn_dump d;
 *     tarn_dump_to_buffer(&d, buf, sizeof buf);
 *     tarn_dump_pool(&d, "block", tarn_block_name(&pool), pool_base, pool_bytes);
 *     tarn_block_walk(&pool, tarn_dump_walk_cb, &d);
 *     tarn_dump_stat(&d, "failed_gets", st.failed_gets);
 *     tarn_dump_end(&d, &len);
 *
 * No stdio: numbers are formatted here.  Not thread-safe per dump object; the pool's own
 * walk takes the pool lock.
 */
#ifndef TARN_DUMP_H
#define TARN_DUMP_H

#include "tarn/tarn.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Write callback: write n bytes; return 0 on success, non-zero on error. */
typedef int (*tarn_dump_write_fn)(void *ctx, const void *data, size_t n);

/** Region states of a dump. */
typedef enum tarn_dump_state {
    TARN_DUMP_USED = 'u',
    TARN_DUMP_FREE = 'f',
    TARN_DUMP_PINNED = 'p',
    TARN_DUMP_META = 'm'
} tarn_dump_state;

/** A dump in progress.  Fields are private. */
typedef struct tarn_dump {
    tarn_dump_write_fn write; /**< write callback, or NULL when writing to buf */
    void *ctx;              /**< argument of write */
    char *buf;              /**< output buffer (buffer mode) */
    size_t cap;             /**< its size */
    size_t len;             /**< bytes written so far */
    uintptr_t base;         /**< address offsets are measured from */
    tarn_status status;     /**< first error met, or TARN_OK */
} tarn_dump;

/** Start a dump into buf[0..cap).  If it does not fit, tarn_dump_end reports TARN_ENOMEM.
 *  Errors: TARN_EINVAL (d or buf NULL). */
tarn_status tarn_dump_to_buffer(tarn_dump *d, char *buf, size_t cap);

/** Start a dump written record by record through fn(ctx, data, n).  A non-zero return of
 *  fn stops the dump; tarn_dump_end then reports TARN_EIO.  Errors: TARN_EINVAL. */
tarn_status tarn_dump_to_writer(tarn_dump *d, tarn_dump_write_fn fn, void *ctx);

/** Header of one pool: `base` is the address region offsets are measured from (NULL for
 *  pools whose walk reports offsets, such as the external manager). */
void tarn_dump_pool(tarn_dump *d, const char *kind, const char *name, const void *base,
                    size_t capacity);

/** One region at byte offset `offset` from the pool's base. */
void tarn_dump_region(tarn_dump *d, uint64_t offset, uint64_t size, tarn_dump_state state);

/** One region given by its address (offset computed from the pool's base). */
void tarn_dump_region_at(tarn_dump *d, const void *addr, uint64_t size, tarn_dump_state state);

/** One statistic (key without spaces). */
void tarn_dump_stat(tarn_dump *d, const char *key, uint64_t value);

/** Walk callback adapter for pool walks of the form fn(ctx, addr, size, used):
 *  pass the tarn_dump as ctx (tarn_block_walk takes it directly).  Always continues. */
bool tarn_dump_walk_cb(void *ctx, void *addr, size_t size, bool used);

/** Finish: writes "end".  Returns TARN_OK, TARN_ENOMEM (buffer too small), TARN_EIO (the
 *  write callback failed) or TARN_EINVAL.  *len (if non-NULL) gets the bytes written. */
tarn_status tarn_dump_end(tarn_dump *d, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* TARN_DUMP_H */
