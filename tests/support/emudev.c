/* tests/support/emudev.c - emulated external memory device (see emudev.h). */
#include <string.h>

#include "support/emudev.h"

void emudev_init(emudev *d, uint8_t *mem, uint32_t base, size_t size)
{
    memset(d, 0, sizeof *d);
    d->mem = mem;
    d->base = base;
    d->size = size;
    d->cut_at = -1;
    d->fail_read_at = -1;
    d->fail_write_at = -1;
    d->fail_sync_at = -1;
}

void emudev_reset_counters(emudev *d)
{
    d->reads = d->writes = d->syncs = 0;
    d->read_bytes = d->write_bytes = 0;
    d->range_errors = 0;
    d->failures = 0;
    if (d->wear != NULL) memset(d->wear, 0, d->size * sizeof d->wear[0]);
}

void emudev_power_on(emudev *d)
{
    d->dead = false;
    d->cut_at = -1;
    d->npending = 0;
    d->log_used = 0;
}

void emudev_cut_after(emudev *d, long n, size_t keep, uint8_t bits)
{
    d->cut_at = (long)d->writes + n;
    d->cut_keep = keep;
    d->cut_bits = bits;
}

static bool in_range(emudev *d, uint32_t addr, size_t n)
{
    if (addr < d->base || addr - d->base > d->size || n > d->size - (addr - d->base)) {
        d->range_errors++;
        return false;
    }
    return true;
}

/* Program `keep` bytes of src at off (all of them when keep >= n), then the bits `bits`
 * of the byte after them. */
static void program(emudev *d, size_t off, const uint8_t *src, size_t n, size_t keep, uint8_t bits)
{
    size_t i, k = keep < n ? keep : n;
    for (i = 0; i < k; i++) {
        d->mem[off + i] = src[i];
        if (d->wear != NULL) d->wear[off + i]++;
    }
    if (k < n && bits != 0) {
        d->mem[off + k] = (uint8_t)((d->mem[off + k] & ~bits) | (src[k] & bits));
        if (d->wear != NULL) d->wear[off + k]++;
    }
}

/* An injected error on this call: the chosen call, or one of the burst after it. */
static bool inject(emudev *d, long idx, long at)
{
    if (idx == at) {
        d->failures++;
        d->burst = d->fail_more;
        return true;
    }
    if (d->burst > 0) {
        d->burst--;
        d->failures++;
        return true;
    }
    return false;
}

int emudev_read(void *ctx, uint32_t addr, void *buf, size_t n)
{
    emudev *d = (emudev *)ctx;
    long idx = (long)d->reads++;
    if (d->dead) return -1;
    if (inject(d, idx, d->fail_read_at)) {
        memset(buf, 0xEE, n);      /* garbage, as a failed bus read may leave */
        return -1;
    }
    if (!in_range(d, addr, n)) return -1;
    d->read_bytes += n;
    memcpy(buf, d->mem + (addr - d->base), n);
    return 0;
}

/* Forget the pending writes: they are durable now. */
static void flush(emudev *d)
{
    d->npending = 0;
    d->log_used = 0;
}

/* Remember a write about to be applied (old and new bytes) in the write buffer. */
static void log_pending(emudev *d, size_t off, const uint8_t *src, size_t n)
{
    emudev_pending_ *p;
    if (d->npending == EMUDEV_MAX_PENDING || n > EMUDEV_LOG_BYTES - d->log_used) flush(d);
    if (n > EMUDEV_LOG_BYTES) return;   /* too large to buffer: written through */
    p = &d->pending[d->npending++];
    p->addr = (uint32_t)off;
    p->len = (uint32_t)n;
    p->off = (uint32_t)d->log_used;
    memcpy(d->old_bytes + d->log_used, d->mem + off, n);
    memcpy(d->new_bytes + d->log_used, src, n);
    d->log_used += n;
}

/* Power fails with the write buffer holding npending writes (the last one interrupted). */
static void buffered_cut(emudev *d)
{
    unsigned i, k;
    for (i = d->npending; i-- > 0;) {   /* back to the durable state */
        emudev_pending_ *p = &d->pending[i];
        memcpy(d->mem + p->addr, d->old_bytes + p->off, p->len);
    }
    for (k = 0; k < d->npending; k++) {
        emudev_pending_ *p;
        i = d->land_reverse ? d->npending - 1u - k : k;
        if (i >= 32 || (d->land_mask & ((uint32_t)1 << i)) == 0) continue;
        p = &d->pending[i];
        if (i == d->npending - 1u) {
            program(d, p->addr, d->new_bytes + p->off, p->len, d->cut_keep, d->cut_bits);
        } else {
            memcpy(d->mem + p->addr, d->new_bytes + p->off, p->len);
        }
    }
    flush(d);
}

int emudev_write(void *ctx, uint32_t addr, const void *buf, size_t n)
{
    emudev *d = (emudev *)ctx;
    const uint8_t *src = (const uint8_t *)buf;
    long idx = (long)d->writes++;
    size_t off;
    if (d->dead) return -1;
    if (!in_range(d, addr, n)) return -1;
    off = addr - d->base;
    d->write_bytes += n;
    if (idx == d->cut_at) {
        d->cuts++;
        if (d->buffered) {
            log_pending(d, off, src, n);
            program(d, off, src, n, EMUDEV_ALL, 0);
            buffered_cut(d);
        } else {
            program(d, off, src, n, d->cut_keep, d->cut_bits);
        }
        d->dead = true;
        return -1;
    }
    if (inject(d, idx, d->fail_write_at)) {
        if (d->buffered) log_pending(d, off, src, n < d->fail_write_keep ? n : d->fail_write_keep);
        program(d, off, src, n, d->fail_write_keep, 0);
        return -1;
    }
    if (d->buffered) log_pending(d, off, src, n);
    program(d, off, src, n, EMUDEV_ALL, 0);
    return 0;
}

int emudev_sync(void *ctx)
{
    emudev *d = (emudev *)ctx;
    long idx = (long)d->syncs++;
    if (d->dead) return -1;
    if (inject(d, idx, d->fail_sync_at)) return -1;
    if (!d->sync_ignored) flush(d);
    return 0;
}

tarn_ext_io emudev_io(emudev *d, bool with_sync)
{
    tarn_ext_io io;
    io.read = emudev_read;
    io.write = emudev_write;
    io.sync = with_sync ? emudev_sync : NULL;
    io.ctx = d;
    return io;
}
