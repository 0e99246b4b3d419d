/*
 * src/dump.c - text dump of a pool map (see include/tarn/dump.h).  No stdio.
 */
#include "tarn/dump.h"
#include "internal.h"

static void dump_put(tarn_dump *d, const char *s, size_t n)
{
    if (d == NULL || d->status != TARN_OK || n == 0) return;
    if (d->write != NULL) {
        if (d->write(d->ctx, s, n) != 0) d->status = TARN_EIO;
        else d->len += n;
        return;
    }
    if (n > d->cap - d->len) {
        d->status = TARN_ENOMEM;
        return;
    }
    memcpy(d->buf + d->len, s, n);
    d->len += n;
}

static void dump_str(tarn_dump *d, const char *s)
{
    size_t n = 0;
    while (s[n] != '\0') n++;
    dump_put(d, s, n);
}

/* A name as one field: spaces and control bytes become '_', NULL or "" becomes '-'. */
static void dump_name(tarn_dump *d, const char *s)
{
    if (s == NULL || *s == '\0') {
        dump_put(d, "-", 1);
        return;
    }
    for (; *s != '\0'; s++) {
        bool plain = (unsigned char)*s > ' ' && (unsigned char)*s != 0x7fu;
        dump_put(d, plain ? s : "_", 1);
    }
}

static void dump_u64(tarn_dump *d, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + (unsigned)(v % 10u));
        v /= 10u;
    } while (v != 0);
    dump_put(d, tmp + i, sizeof tmp - i);
}

static tarn_status dump_start(tarn_dump *d)
{
    d->len = 0;
    d->base = 0;
    d->status = TARN_OK;
    dump_str(d, "tarn-dump 1\n");
    return TARN_OK;
}

tarn_status tarn_dump_to_buffer(tarn_dump *d, char *buf, size_t cap)
{
    if (d == NULL || buf == NULL) return TARN_EINVAL;
    d->write = NULL;
    d->ctx = NULL;
    d->buf = buf;
    d->cap = cap;
    return dump_start(d);
}

tarn_status tarn_dump_to_writer(tarn_dump *d, tarn_dump_write_fn fn, void *ctx)
{
    if (d == NULL || fn == NULL) return TARN_EINVAL;
    d->write = fn;
    d->ctx = ctx;
    d->buf = NULL;
    d->cap = 0;
    return dump_start(d);
}

void tarn_dump_pool(tarn_dump *d, const char *kind, const char *name, const void *base,
                    size_t capacity)
{
    if (d == NULL) return;
    d->base = (uintptr_t)base;
    dump_str(d, "pool ");
    dump_name(d, kind);
    dump_put(d, " ", 1);
    dump_name(d, name);
    dump_put(d, " ", 1);
    dump_u64(d, capacity);
    dump_put(d, "\n", 1);
}

void tarn_dump_region(tarn_dump *d, uint64_t offset, uint64_t size, tarn_dump_state state)
{
    char st[3];
    if (d == NULL) return;
    dump_str(d, "r ");
    dump_u64(d, offset);
    dump_put(d, " ", 1);
    dump_u64(d, size);
    st[0] = ' ';
    st[1] = (char)state;
    st[2] = '\n';
    dump_put(d, st, 3);
}

void tarn_dump_region_at(tarn_dump *d, const void *addr, uint64_t size, tarn_dump_state state)
{
    if (d == NULL) return;
    tarn_dump_region(d, (uint64_t)((uintptr_t)addr - d->base), size, state);
}

void tarn_dump_stat(tarn_dump *d, const char *key, uint64_t value)
{
    if (d == NULL) return;
    dump_str(d, "s ");
    dump_name(d, key);
    dump_put(d, " ", 1);
    dump_u64(d, value);
    dump_put(d, "\n", 1);
}

bool tarn_dump_walk_cb(void *ctx, void *addr, size_t size, bool used)
{
    tarn_dump_region_at((tarn_dump *)ctx, addr, size, used ? TARN_DUMP_USED : TARN_DUMP_FREE);
    return true;
}

tarn_status tarn_dump_end(tarn_dump *d, size_t *len)
{
    if (d == NULL) return TARN_EINVAL;
    dump_str(d, "end\n");
    if (len != NULL) *len = d->len;
    return d->status;
}
