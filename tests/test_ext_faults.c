/*
 * tests/test_ext_faults.c - the external memory manager across power loss and callback
 * errors.
 *
 * 0. Every way alloc can split a free run of three blocks (whose later headers are live),
 *    with the power cut at every write and byte of the alloc.
 * A random workload of NOPS operations (alloc + write of the data, free, rewrite of part
 * of a block, root update) on a formatted emulated device is then replayed with the power
 * cut:
 * 1. at every write of the workload, before any byte of it lands (the state "between two
 *    writes"), and again with a random prefix landed and a half-programmed byte;
 * 2. at every byte of (a sample of) the writes: each prefix length, and each prefix
 *    followed by a partly programmed byte;
 * 3. on a write-buffered device, at every write, with the writes since the last sync
 *    landing in each subset and order;
 *    and, whenever the first mount after a cut repairs a torn record, with the power cut
 *    again during that repair.
 * After each cut the device is powered up, mounted by a fresh manager and checked against
 * a model: mount and tarn_ext_check succeed; every alloc, free and root update that
 * returned before the cut is there, with all data written before the cut; the operation
 * in flight happened completely or not at all.  The workload then goes on for a few
 * operations on the recovered device, which is checked again.
 * 4. Callback errors: the workload is replayed failing each read, each write (landing a
 *    random part of it) and each sync in turn, alone or followed by more failures.  The
 *    call returns TARN_EIO, the device satisfies the same guarantee, the manager's RAM
 *    state equals what a fresh mount builds, and the same manager runs the rest of the
 *    workload correctly.
 * 5. Bit-order tears: every record write, nothing of it landed but a random subset of its
 *    changed bits (4 subsets per write); tests/test_ext_damage.c tries every subset of the
 *    writes of small regions.
 * Regions of 16 to 32 bytes (the byte-ordered format, TARN_EXT_F_BYTE_ORDERED) run
 * sections 1-4 and the control; not 5: that format's contract excludes bit-order tears.
 * A negative control shows that the checker has teeth: on a device whose sync is a lie
 * (writes of several operations land in any subset) it must find the guarantee broken.
 */
#include "check.h"
#include "tarn/ext.h"
#include "support/emudev.h"

#define BASE 0x40000u
#define REGION 4096u       /* largest geometry: sizes of the arrays */
#define NROOTS 3u
#define NOPS 240
#define MAXLIVE 256
#define MAXREQ 600
#define MAXWRITES 2048
#define CONT_OPS 12

enum { OP_ALLOC, OP_FREE, OP_WRITE, OP_ROOT, OP_NONE };

typedef struct op {
    uint8_t kind;
    uint32_t size, r1, r2, r3;
} op;

typedef struct mblk {
    uint32_t addr, req, usable;
} mblk;

/* The model: live blocks, the expected content of every device byte that holds data
 * written and returned (known[]), the roots. */
typedef struct model {
    unsigned n;
    mblk b[MAXLIVE];
    uint32_t roots[NROOTS];
    uint8_t data[REGION];
    uint8_t known[REGION];
} model;

/* The operation a cut interrupted. */
typedef struct inflight {
    int kind;                 /* OP_NONE: the cut came after the last operation */
    uint32_t addr, req, off, len;
    unsigned root;
    uint32_t root_new;
} inflight;

static uint8_t mem[REGION], formatted[REGION], postcut[REGION];
static emudev dev;
static tarn_ext ext, ext2;
static op ops[NOPS];
static model M, M2;
static size_t wlen[MAXWRITES];     /* length of every write of the dry run */
static uint32_t waddr[MAXWRITES];  /* and its address and bytes (records: up to 24 bytes) */
static uint8_t wbytes[MAXWRITES][TARN_EXT_HEADER_SIZE];
static unsigned long nwrites;      /* writes of the dry run */
static bool logging;
/* The geometry under test: the 4 KiB region with NROOTS roots, then compact regions. */
static uint32_t g_region = REGION;
static unsigned g_nroots = NROOTS;
static unsigned long failures_shown;

static int log_write(void *ctx, uint32_t addr, const void *buf, size_t n)
{
    if (logging && nwrites < MAXWRITES) {
        wlen[nwrites] = n;
        waddr[nwrites] = addr;
        memcpy(wbytes[nwrites], buf, n < TARN_EXT_HEADER_SIZE ? n : TARN_EXT_HEADER_SIZE);
    }
    if (logging) nwrites++;
    return emudev_write(ctx, addr, buf, n);
}

static tarn_ext_io dev_io(void)
{
    tarn_ext_io io = emudev_io(&dev, true);
    io.write = log_write;
    return io;
}

static void gen_ops(void)
{
    unsigned i;
    for (i = 0; i < NOPS; i++) {
        uint32_t k = check_below(100);
        op *o = &ops[i];
        o->r1 = (uint32_t)check_rand();
        o->r2 = (uint32_t)check_rand();
        o->r3 = (uint32_t)check_rand();
        if (k < 42) {
            uint32_t s = check_below(100);
            o->kind = OP_ALLOC;
            o->size = s < 80 ? 1 + check_below(64) : s < 95 ? 65 + check_below(136) : 201 + check_below(400);
            if (g_region < 256u) o->size = 1 + check_below(g_region < 2u * TARN_EXT_MIN_SIZE(0) ? 4u : g_region / 2u);   /* small regions */
        } else if (k < 72) {
            o->kind = OP_FREE;
        } else if (k < 90) {
            o->kind = OP_WRITE;
        } else {
            o->kind = g_nroots > 0 ? OP_ROOT : OP_WRITE;
        }
    }
}

static void model_reset(model *m)
{
    memset(m, 0, sizeof *m);
}

static void pattern(uint8_t *buf, uint32_t n, uint32_t seed)
{
    check_fill(buf, n, seed);
}

static void model_store(model *m, uint32_t addr, const uint8_t *buf, uint32_t n)
{
    memcpy(m->data + (addr - BASE), buf, n);
    memset(m->known + (addr - BASE), 1, n);
}

static void model_forget(model *m, uint32_t addr, uint32_t n)
{
    memset(m->known + (addr - BASE), 0, n);
}

static void model_remove(model *m, unsigned i)
{
    model_forget(m, m->b[i].addr, m->b[i].usable);
    m->b[i] = m->b[--m->n];
}

static bool rooted(const model *m, uint32_t addr)
{
    unsigned i;
    for (i = 0; i < g_nroots; i++) {
        if (m->roots[i] == addr) return true;
    }
    return false;
}

/* Run one operation on e.  0: done (or refused as the model predicts), 1: a call failed
 * with TARN_EIO (the cut), *fl tells what was in flight; -1: a status the model does not
 * allow. */
static int exec_op(tarn_ext *e, model *m, const op *o, inflight *fl)
{
    static uint8_t buf[MAXREQ];
    tarn_status st;
    uint32_t a;
    size_t sz;
    unsigned v;
    memset(fl, 0, sizeof *fl);
    fl->kind = o->kind;
    switch (o->kind) {
    case OP_ALLOC:
        fl->req = o->size;
        st = tarn_ext_alloc(e, o->size, &a);
        if (st == TARN_ENOMEM && a == 0) return 0;
        /* TARN_EIO with *addr 0: nothing was allocated, so nothing may appear; with *addr
         * set (the state could not be re-read), the allocation may exist at that address */
        if (st == TARN_EIO && a == 0) fl->kind = OP_NONE;
        if (st == TARN_EIO) return 1;
        if (st != TARN_OK || m->n == MAXLIVE) return -1;
        st = tarn_ext_size(e, a, &sz);     /* reads only: fails only by injected error */
        if (st == TARN_EIO) {              /* the allocation exists, its size is unknown */
            fl->kind = OP_NONE;
            m->b[m->n].addr = a;
            m->b[m->n].req = o->size;
            m->b[m->n].usable = 0;
            m->n++;
            return 1;
        }
        if (st != TARN_OK || sz < TARN_ALIGN_UP(o->size, 4u) || sz > TARN_ALIGN_UP(o->size, 4u) + TARN_EXT_MAX_SLACK) return -1;
        m->b[m->n].addr = a;
        m->b[m->n].req = o->size;
        m->b[m->n].usable = (uint32_t)sz;
        m->n++;
        pattern(buf, o->size, o->r3);
        st = tarn_ext_write(e, a, 0, buf, o->size);
        if (st == TARN_EIO) {
            fl->kind = OP_WRITE;
            fl->addr = a;
            fl->off = 0;
            fl->len = o->size;
            return 1;
        }
        if (st != TARN_OK) return -1;
        model_store(m, a, buf, o->size);
        return 0;
    case OP_FREE:
        if (m->n == 0) return 0;
        v = o->r1 % m->n;
        fl->addr = a = m->b[v].addr;
        st = tarn_ext_free(e, a);
        if (rooted(m, a)) return st == TARN_EBUSY ? 0 : st == TARN_EIO ? 1 : -1;
        if (st == TARN_EIO) return 1;
        if (st != TARN_OK) return -1;
        model_remove(m, v);
        if (o->r2 % 4 == 0) {                       /* and a double free, refused */
            fl->kind = OP_NONE;
            st = tarn_ext_free(e, a);
            if (st == TARN_EIO) return 1;
            if (st != TARN_EDOUBLE) return -1;
        }
        return 0;
    case OP_WRITE:
        if (m->n == 0) return 0;
        v = o->r1 % m->n;
        fl->addr = a = m->b[v].addr;
        fl->off = o->r2 % m->b[v].req;
        fl->len = 1 + o->r3 % (m->b[v].req - fl->off);
        pattern(buf, fl->len, o->r3 ^ o->r2);
        st = tarn_ext_write(e, a, fl->off, buf, fl->len);
        if (st == TARN_EIO) return 1;
        if (st != TARN_OK) return -1;
        model_store(m, a + fl->off, buf, fl->len);
        return 0;
    case OP_ROOT:
        fl->root = o->r1 % g_nroots;
        fl->root_new = (o->r2 % 4 == 0 || m->n == 0) ? 0 : m->b[o->r2 % m->n].addr;
        st = tarn_ext_root_set(e, fl->root, fl->root_new);
        if (st == TARN_EIO) return 1;
        if (st != TARN_OK) return -1;
        m->roots[fl->root] = fl->root_new;
        return 0;
    default:
        return -1;
    }
}

/* ---- checking a recovered device against the model ----------------------------------- */
typedef struct ulist {
    unsigned n;
    uint32_t addr[MAXLIVE * 2];
    uint32_t size[MAXLIVE * 2];
} ulist;

static bool collect_used(void *ctx, uint32_t addr, size_t size, bool used)
{
    ulist *u = (ulist *)ctx;
    if (used && u->n < MAXLIVE * 2) {
        u->addr[u->n] = addr;
        u->size[u->n] = (uint32_t)size;
        u->n++;
    }
    return true;
}

static bool fail(const char *what, unsigned long ctx1)
{
    if (++failures_shown <= 10) fprintf(stderr, "  violation: %s (%lu)\n", what, ctx1);
    return false;
}

/*
 * Check the mounted manager e against model m with operation fl in flight.  On success,
 * *out is m updated to the outcome found (the in-flight operation happened or not).
 */
static bool verify(tarn_ext *e, const model *m, const inflight *fl, model *out)
{
    static ulist u;
    static uint8_t buf[REGION];
    static bool seen[MAXLIVE * 2];
    unsigned i, j, extra = 0;
    uint32_t extra_addr = 0, extra_size = 0;
    bool freed_gone = false;
    tarn_ext_stats st;

    if (tarn_ext_check(e) != TARN_OK) return fail("check after mount", 0);
    memset(&u, 0, sizeof u);
    if (tarn_ext_walk(e, collect_used, &u) != TARN_OK) return fail("walk", 0);
    memset(seen, 0, sizeof seen);
    *out = *m;
    for (i = 0; i < m->n; i++) {
        const mblk *b = &m->b[i];
        for (j = 0; j < u.n; j++) {
            if (u.addr[j] == b->addr) break;
        }
        if (j == u.n) {
            if (fl->kind == OP_FREE && fl->addr == b->addr) {
                freed_gone = true;
                continue;
            }
            return fail("allocation lost", b->addr);
        }
        seen[j] = true;
        if (b->usable == 0) {               /* size not learnt before the error */
            if (u.size[j] < TARN_ALIGN_UP(b->req, 4u) || u.size[j] > TARN_ALIGN_UP(b->req, 4u) + TARN_EXT_MAX_SLACK) {
                return fail("allocation has a wrong size", b->addr);
            }
            out->b[i].usable = u.size[j];
            continue;
        }
        if (u.size[j] != b->usable) return fail("allocation resized", b->addr);
        if (tarn_ext_read(e, b->addr, 0, buf, b->usable) != TARN_OK) return fail("read", b->addr);
        for (j = 0; j < b->usable; j++) {
            uint32_t off = b->addr - BASE + j;
            if (!m->known[off]) continue;
            if (fl->kind == OP_WRITE && b->addr == fl->addr && j >= fl->off && j < fl->off + fl->len) continue;
            if (buf[j] != m->data[off]) return fail("data changed", b->addr + j);
        }
    }
    for (j = 0; j < u.n; j++) {
        if (seen[j]) continue;
        extra++;
        extra_addr = u.addr[j];
        extra_size = u.size[j];
    }
    if (extra > 1 || (extra == 1 && fl->kind != OP_ALLOC)) return fail("allocation appeared", extra_addr);
    if (extra == 1 && (extra_size < TARN_ALIGN_UP(fl->req, 4u) || extra_size > TARN_ALIGN_UP(fl->req, 4u) + TARN_EXT_MAX_SLACK)) {
        return fail("in-flight allocation has a wrong size", extra_size);
    }
    for (i = 0; i < g_nroots; i++) {
        uint32_t r;
        if (tarn_ext_root_get(e, i, &r) != TARN_OK) return fail("root_get", i);
        if (r == m->roots[i]) continue;
        if (fl->kind == OP_ROOT && fl->root == i && r == fl->root_new) {
            out->roots[i] = r;
            continue;
        }
        return fail("root changed", i);
    }
    tarn_ext_stats_get(e, &st);
    if (st.live_blocks != u.n) return fail("stats disagree with the walk", st.live_blocks);
    /* adopt the outcome */
    if (freed_gone) {
        for (i = 0; i < out->n; i++) {
            if (out->b[i].addr == fl->addr) {
                model_remove(out, i);
                break;
            }
        }
    }
    if (extra == 1) {
        out->b[out->n].addr = extra_addr;
        out->b[out->n].req = extra_size;
        out->b[out->n].usable = extra_size;
        out->n++;
    }
    if (fl->kind == OP_WRITE) model_forget(out, fl->addr + fl->off, fl->len);
    return true;
}

/* ---- one replay ----------------------------------------------------------------------- */
typedef struct cut {
    long at;                  /* write number, -1 = no cut */
    size_t keep;
    uint8_t bits;
    bool buffered, reverse, lying_sync;
    uint32_t mask;
    bool bitmix;              /* nothing of write `at` landed; then each of its changed bits
                                 lands or not (seeded by mask): a bit-order tear */
} cut;

static unsigned long replays, repaired_mounts;

/* Format image -> run the workload with the cut -> power up -> mount -> verify -> go on. */
static bool replay(const cut *c)
{
    tarn_ext_io io;
    inflight fl;
    unsigned i;
    int r = 0;
    tarn_ext_stats st;
    tarn_status s;

    replays++;
    memcpy(mem, formatted, g_region);
    emudev_init(&dev, mem, BASE, g_region);
    dev.buffered = c->buffered;
    dev.land_reverse = c->reverse;
    dev.land_mask = c->mask;
    dev.sync_ignored = c->lying_sync;
    io = dev_io();
    if (tarn_ext_mount(&ext, &io, BASE, g_region, NULL) != TARN_OK) return fail("mount of the formatted image", 0);
    model_reset(&M);
    fl.kind = OP_NONE;
    if (c->at >= 0) emudev_cut_after(&dev, c->at, c->keep, c->bits);
    for (i = 0; i < NOPS; i++) {
        r = exec_op(&ext, &M, &ops[i], &fl);
        if (r != 0) break;
    }
    if (r < 0) return fail("unexpected status before the cut", i);
    if (r == 0) {
        fl.kind = OP_NONE;
        if (c->at >= 0 && dev.cuts == 0 && (unsigned long)c->at < nwrites) return fail("cut missed", (unsigned long)c->at);
    }
    if (r == 1 && dev.cuts == 0) return fail("EIO without a cut", i);
    emudev_power_on(&dev);
    dev.sync_ignored = false;
    if (c->bitmix && r == 1 && c->at >= 0 && c->at < MAXWRITES && wlen[c->at] <= TARN_EXT_HEADER_SIZE) {
        uint32_t rs = c->mask * 2654435761u + 1u;
        size_t k;
        for (k = 0; k < wlen[c->at]; k++) {
            uint8_t *p = mem + (waddr[c->at] - BASE) + k;
            rs = rs * 1103515245u + 12345u;
            *p = (uint8_t)((*p & ~(rs >> 16)) | (wbytes[c->at][k] & (rs >> 16)));
        }
    }
    memcpy(postcut, mem, g_region);

    s = tarn_ext_mount(&ext2, &io, BASE, g_region, NULL);
    if (s != TARN_OK) return fail("mount after the cut", (unsigned long)s);
    if (!verify(&ext2, &M, &fl, &M2)) return false;

    /* the repair made by that mount, cut at each of its bytes in turn (sampled) */
    tarn_ext_stats_get(&ext2, &st);
    if (st.repairs > 0) {
        size_t keep;
        repaired_mounts++;
        for (keep = 0; keep < 8; keep += 1 + (size_t)check_below(3)) {
            static model M3;
            memcpy(mem, postcut, g_region);
            emudev_cut_after(&dev, 0, keep, (uint8_t)check_rand());
            if (tarn_ext_mount(&ext2, &io, BASE, g_region, NULL) != TARN_EIO) return fail("repair not cut", keep);
            emudev_power_on(&dev);
            s = tarn_ext_mount(&ext2, &io, BASE, g_region, NULL);
            if (s != TARN_OK) return fail("mount after a cut repair", (unsigned long)s);
            if (!verify(&ext2, &M, &fl, &M3)) return false;
            M2 = M3;
        }
    }

    /* life goes on: a few more operations on the recovered device, then mount and check */
    {
        unsigned j;
        inflight f2;
        for (j = i + 1; j < NOPS && j <= i + CONT_OPS; j++) {
            if (exec_op(&ext2, &M2, &ops[j], &f2) != 0) return fail("operation after recovery", j);
        }
    }
    if (tarn_ext_mount(&ext, &io, BASE, g_region, NULL) != TARN_OK) return fail("final mount", 0);
    fl.kind = OP_NONE;
    if (!verify(&ext, &M2, &fl, &M)) return false;
    if (dev.range_errors != 0) return fail("access outside the region", dev.range_errors);
    return true;
}

/* ---- every split layout --------------------------------------------------------------
 * A free run of three blocks X1 X2 X3 (p1, p2, p3 units, merged in RAM only: the headers of
 * X2 and X3 are live) followed by an allocation Y filling the rest of a small region; an
 * allocation of `need` units then has to place the remainder's header around X2's and
 * X3's headers.  Cut at each of its writes and bytes; the device must mount with Y and
 * its data intact, and either no new allocation or one of the right size. */
#define LREGION 512u
static uint8_t lmem[LREGION], limage[LREGION];

static bool layout_case(unsigned p1, unsigned p2, unsigned p3, unsigned need, long cut_at,
                        size_t keep, uint8_t bits, unsigned *writes)
{
    tarn_ext_io io;
    uint32_t x1, x2, x3, y, n;
    tarn_ext_stats st;
    static ulist u;
    static uint8_t buf[LREGION], got[LREGION];
    tarn_status s;
    unsigned j;

    *writes = 0;
    memcpy(lmem, limage, LREGION);
    emudev_init(&dev, lmem, 0, LREGION);
    io = emudev_io(&dev, true);
    if (tarn_ext_mount(&ext, &io, 0, LREGION, NULL) != TARN_OK) return fail("layout: mount", 0);
    if (tarn_ext_alloc(&ext, p1 * 4u, &x1) != TARN_OK || tarn_ext_alloc(&ext, p2 * 4u, &x2) != TARN_OK ||
        tarn_ext_alloc(&ext, p3 * 4u, &x3) != TARN_OK) {
        return fail("layout: set-up alloc", 0);
    }
    tarn_ext_stats_get(&ext, &st);
    if (tarn_ext_alloc(&ext, st.free_bytes - TARN_EXT_HEADER_SIZE, &y) != TARN_OK) return fail("layout: y", 0);
    tarn_ext_stats_get(&ext, &st);
    pattern(buf, st.live_bytes - 4u * (p1 + p2 + p3), y);
    if (tarn_ext_write(&ext, y, 0, buf, st.live_bytes - 4u * (p1 + p2 + p3)) != TARN_OK) return fail("layout: write y", 0);
    if (tarn_ext_free(&ext, x1) != TARN_OK || tarn_ext_free(&ext, x2) != TARN_OK ||
        tarn_ext_free(&ext, x3) != TARN_OK) {
        return fail("layout: set-up free", 0);
    }
    if (cut_at >= 0) emudev_cut_after(&dev, cut_at, keep, bits);
    j = (unsigned)dev.writes;
    s = tarn_ext_alloc(&ext, need * 4u, &n);
    *writes = (unsigned)dev.writes - j;
    if (cut_at < 0) {
        if (s != TARN_OK) return fail("layout: alloc", need);
        if (*writes > 2) return fail("layout: more than 2 writes", *writes);
        if (tarn_ext_check(&ext) != TARN_OK) return fail("layout: check", need);
    } else if (s != TARN_EIO) {
        return s == TARN_OK ? true : fail("layout: status under cut", (unsigned long)s);
    }
    emudev_power_on(&dev);
    if (tarn_ext_mount(&ext2, &io, 0, LREGION, NULL) != TARN_OK) return fail("layout: mount after cut", need);
    if (tarn_ext_check(&ext2) != TARN_OK) return fail("layout: check after cut", need);
    memset(&u, 0, sizeof u);
    tarn_ext_walk(&ext2, collect_used, &u);
    for (j = 0; j < u.n; j++) {
        if (u.addr[j] == y) continue;
        if (u.n != 2 || u.addr[j] != x1 || u.size[j] < need * 4u || u.size[j] > need * 4u + TARN_EXT_MAX_SLACK) {
            return fail("layout: wrong allocation after cut", u.size[j]);
        }
    }
    if (u.n < 1 || u.n > 2) return fail("layout: allocations after cut", u.n);
    if (tarn_ext_read(&ext2, y, 0, got, st.live_bytes - 4u * (p1 + p2 + p3)) != TARN_OK ||
        memcmp(got, buf, st.live_bytes - 4u * (p1 + p2 + p3)) != 0) {
        return fail("layout: y's data changed", need);
    }
    return true;
}

static void test_layouts(void)
{
    unsigned p1, p2, p3, need, w, nw = 0, cases = 0, bad = 0;
    size_t keep;
    emudev_init(&dev, lmem, 0, LREGION);
    {
        tarn_ext_io io = emudev_io(&dev, true);
        REQUIRE(tarn_ext_format(&ext, &io, 0, LREGION, 0, NULL) == TARN_OK);
    }
    memcpy(limage, lmem, LREGION);
    for (p1 = 1; p1 <= 6; p1++) {
        for (p2 = 1; p2 <= 6; p2++) {
            for (p3 = 1; p3 <= 5; p3 += 2) {
                for (need = 1; need <= p1 + p2 + p3 + 8u; need++) {
                    if (!layout_case(p1, p2, p3, need, -1, 0, 0, &nw)) bad++;
                    cases++;
                    for (w = 0; w < nw; w++) {
                        size_t len = TARN_EXT_HEADER_SIZE;
                        /* every byte at full length; 1 in about TARN_TEST_SCALE when scaled */
                        for (keep = 0; keep <= len;
                             keep += 1u + (TARN_TEST_SCALE > 1 ? (size_t)check_below(2u * TARN_TEST_SCALE) : 0u)) {
                            if (!layout_case(p1, p2, p3, need, (long)w, keep, (uint8_t)check_rand(), &nw)) bad++;
                            cases++;
                        }
                    }
                }
            }
        }
    }
    printf("0. every split layout of a 3-block free run, cut at every write and byte: %u cases, %u violations\n",
           cases, bad);
    CHECK_EQ(bad, 0);
}

/* ---- 4. callback errors -------------------------------------------------------------- */
typedef struct wl {
    unsigned n, used;
    uint32_t addr[MAXLIVE * 2];
    uint32_t size[MAXLIVE * 2];
    bool is_used[MAXLIVE * 2];
} wl;

static bool collect_all(void *ctx, uint32_t addr, size_t size, bool used)
{
    wl *w = (wl *)ctx;
    if (w->n < MAXLIVE * 2) {
        w->addr[w->n] = addr;
        w->size[w->n] = (uint32_t)size;
        w->is_used[w->n] = used;
        w->n++;
    }
    return true;
}

/* The manager a, used on, observes the same region as b, just mounted. */
static bool same_state(tarn_ext *a, tarn_ext *b)
{
    static wl wa, wb;
    tarn_ext_stats sa, sb;
    unsigned i;
    memset(&wa, 0, sizeof wa);
    memset(&wb, 0, sizeof wb);
    if (tarn_ext_walk(a, collect_all, &wa) != TARN_OK) return fail("walk of the used manager", 0);
    if (tarn_ext_walk(b, collect_all, &wb) != TARN_OK) return fail("walk of the mounted manager", 0);
    if (wa.n != wb.n) return fail("block count differs from a fresh mount", wa.n);
    for (i = 0; i < wa.n; i++) {
        if (wa.addr[i] != wb.addr[i] || wa.size[i] != wb.size[i] || wa.is_used[i] != wb.is_used[i]) {
            return fail("blocks differ from a fresh mount", i);
        }
    }
    if (tarn_ext_stats_get(a, &sa) != TARN_OK || tarn_ext_stats_get(b, &sb) != TARN_OK) return fail("stats", 0);
    if (sa.live_blocks != sb.live_blocks || sa.live_bytes != sb.live_bytes || sa.free_bytes != sb.free_bytes) {
        return fail("RAM counters differ from a fresh mount", sa.live_blocks);
    }
    for (i = 0; i < g_nroots; i++) {
        uint32_t ra = 1, rb = 2;
        tarn_ext_root_get(a, i, &ra);
        tarn_ext_root_get(b, i, &rb);
        if (ra != rb) return fail("roots differ from a fresh mount", i);
    }
    return tarn_ext_check(a) == TARN_OK ? true : fail("check of the used manager", 0);
}

enum { F_READ, F_WRITE, F_SYNC };

static bool error_replay(int kind, long at, size_t keep, unsigned long more)
{
    tarn_ext_io io;
    inflight fl;
    unsigned i, j;
    int r = 0;

    replays++;
    memcpy(mem, formatted, g_region);
    emudev_init(&dev, mem, BASE, g_region);
    io = emudev_io(&dev, true);
    if (tarn_ext_mount(&ext, &io, BASE, g_region, NULL) != TARN_OK) return fail("mount of the formatted image", 0);
    dev.reads = dev.writes = dev.syncs = 0;
    if (kind == F_READ) dev.fail_read_at = at;
    if (kind == F_WRITE) dev.fail_write_at = at;
    if (kind == F_SYNC) dev.fail_sync_at = at;
    dev.fail_write_keep = keep;
    dev.fail_more = more;
    model_reset(&M);
    fl.kind = OP_NONE;
    for (i = 0; i < NOPS; i++) {
        r = exec_op(&ext, &M, &ops[i], &fl);
        if (r != 0) break;
    }
    if (r < 0) return fail("unexpected status", i);
    if (r == 0 && dev.failures > 0) {
        /* an alloc whose commit reached the device before its write or sync reported the
         * error hands the allocation over (TARN_OK); the manager must have seen the error,
         * and the device must hold exactly the model */
        tarn_ext_stats es;
        tarn_ext_stats_get(&ext, &es);
        if (es.io_errors == 0) return fail("an error went unreported", (unsigned long)at);
        dev.burst = 0;
        if (tarn_ext_mount(&ext2, &io, BASE, g_region, NULL) != TARN_OK) return fail("mount after an absorbed error", 0);
        fl.kind = OP_NONE;
        if (!verify(&ext2, &M, &fl, &M2)) return false;
        return same_state(&ext, &ext2);
    }
    if (r == 0) return true;
    /* the failing call returned TARN_EIO; the burst of failures is over now */
    dev.burst = 0;
    if (tarn_ext_mount(&ext2, &io, BASE, g_region, NULL) != TARN_OK) return fail("mount after the error", 0);
    if (!verify(&ext2, &M, &fl, &M2)) return false;
    if (!same_state(&ext, &ext2)) return false;
    /* the same manager, not remounted, runs the rest of the workload */
    for (j = i + 1; j < NOPS; j++) {
        inflight f2;
        if (exec_op(&ext, &M2, &ops[j], &f2) != 0) return fail("operation after the error", j);
    }
    if (tarn_ext_mount(&ext2, &io, BASE, g_region, NULL) != TARN_OK) return fail("final mount", 0);
    fl.kind = OP_NONE;
    if (!verify(&ext2, &M2, &fl, &M)) return false;
    return same_state(&ext, &ext2);
}

/* Where a sweep over writes starts: 0 at full length; a random one of the first
 * TARN_TEST_SCALE when scaled (the sweep then takes 1 in TARN_TEST_SCALE). */
static unsigned long scaled_start(void)
{
    return TARN_TEST_SCALE > 1 ? (unsigned long)check_below((uint32_t)TARN_TEST_SCALE) : 0u;
}

static void test_callback_errors(unsigned long nreads, unsigned long nsyncs)
{
    unsigned long n, bad = 0, cases = 0, step;
    /* every write and sync at full length, 1 in TARN_TEST_SCALE (from a random start) when scaled */
    const unsigned long wstep = TARN_TEST_SCALE;
    const unsigned long w0 = scaled_start();
    step = nreads / (unsigned long)CHECK_ITERS(4000) + 1u;
    for (n = check_below((uint32_t)step); n < nreads; n += step, cases++) {
        if (!error_replay(F_READ, (long)n, 0, n % 5 == 0 ? 2u : 0u)) bad++;
    }
    for (n = w0; n < nwrites; n += wstep, cases += 3) {
        if (!error_replay(F_WRITE, (long)n, 0, 0)) bad++;
        if (!error_replay(F_WRITE, (long)n, (size_t)check_below((uint32_t)wlen[n] + 1u), 0)) bad++;
        if (!error_replay(F_WRITE, (long)n, (size_t)check_below((uint32_t)wlen[n] + 1u), 1u + check_below(3))) bad++;
    }
    for (n = w0; n < nsyncs; n += wstep, cases += 2) {
        if (!error_replay(F_SYNC, (long)n, 0, 0)) bad++;
        if (!error_replay(F_SYNC, (long)n, 0, 1u + check_below(3))) bad++;
    }
    printf("4. callback errors: 1 in %lu of %lu reads, 1 in %lu of %lu writes and of %lu syncs, alone or in a "
           "burst: %lu cases, %lu violations\n", step, nreads, wstep, nwrites, nsyncs, cases, bad);
    CHECK_EQ(bad, 0);
}

/* Sections 1-4 and the negative control on one geometry. */
static void run_geometry(uint32_t region, unsigned nroots)
{
    unsigned long dry_reads, dry_syncs;
    cut c;
    unsigned long w, bad, caught = 0;
    unsigned long sample_step, k;
    tarn_ext_io io;
    size_t keep;
    unsigned i;
    inflight fl;

    g_region = region;
    g_nroots = nroots;
    nwrites = 0;
    replays = repaired_mounts = 0;
    failures_shown = 0;
    bool byte_ordered = region <= TARN_EXT_BYTE_ORDERED_MAX_SIZE;
    tarn_config cfg;

    memset(&cfg, 0, sizeof cfg);
    cfg.flags = byte_ordered ? TARN_EXT_F_BYTE_ORDERED : 0u;
    printf("-- region of %u bytes, %u roots (%s format)\n", (unsigned)region, nroots,
           byte_ordered ? "byte-ordered" : region <= TARN_EXT_COMPACT_MAX_SIZE ? "compact" : "normal");
    gen_ops();

    /* a device full of garbage, formatted once */
    for (i = 0; i < g_region; i++) mem[i] = (uint8_t)check_rand();
    emudev_init(&dev, mem, BASE, g_region);
    io = emudev_io(&dev, true);
    if (byte_ordered) {        /* refused without the option */
        REQUIRE(tarn_ext_format(&ext, &io, BASE, g_region, g_nroots, NULL) == TARN_ETOOSMALL);
    }
    REQUIRE(tarn_ext_format(&ext, &io, BASE, g_region, g_nroots, &cfg) == TARN_OK);
    memcpy(formatted, mem, g_region);

    /* dry run: no cut; count and measure the writes */
    emudev_init(&dev, mem, BASE, g_region);
    io = dev_io();
    REQUIRE(tarn_ext_mount(&ext, &io, BASE, g_region, NULL) == TARN_OK);
    model_reset(&M);
    logging = true;
    dev.reads = dev.syncs = 0;
    {
        unsigned counts[4] = {0, 0, 0, 0};
        for (i = 0; i < NOPS; i++) {
            REQUIRE(exec_op(&ext, &M, &ops[i], &fl) == 0);
            counts[ops[i].kind]++;
        }
        printf("workload: %d operations (%u alloc, %u free, %u write, %u root), %lu writes, %u live at the end\n",
               NOPS, counts[OP_ALLOC], counts[OP_FREE], counts[OP_WRITE], counts[OP_ROOT], nwrites, M.n);
    }
    logging = false;
    dry_reads = dev.reads;
    dry_syncs = dev.syncs;
    REQUIRE(nwrites < MAXWRITES);
    REQUIRE(nwrites > (region <= TARN_EXT_COMPACT_MAX_SIZE ? NOPS / 2u : NOPS));
    {
        tarn_ext_io io2 = emudev_io(&dev, true);
        REQUIRE(tarn_ext_mount(&ext2, &io2, BASE, g_region, NULL) == TARN_OK);
        fl.kind = OP_NONE;
        CHECK(verify(&ext2, &M, &fl, &M2));
    }

    /* 1. every write (1 in TARN_TEST_SCALE when scaled): nothing of it landed; then a random
     *    prefix and half a byte */
    memset(&c, 0, sizeof c);
    bad = 0;
    for (w = scaled_start(); w <= nwrites; w += TARN_TEST_SCALE) {
        c.at = (long)w;
        c.keep = 0;
        c.bits = 0;
        if (!replay(&c)) bad++;
        if (w < nwrites) {
            c.keep = (size_t)check_below((uint32_t)wlen[w]);
            c.bits = (uint8_t)check_rand();
            if (!replay(&c)) bad++;
        }
    }
    printf("1. cut at 1 in %d of %lu writes (before it, and torn at a random byte): %lu violations\n",
           TARN_TEST_SCALE, nwrites, bad);
    CHECK_EQ(bad, 0);

    /* 2. every byte of a sample of writes, plain prefix and half-programmed last byte */
    bad = 0;
    sample_step = (unsigned long)(nwrites / (unsigned long)CHECK_ITERS(400)) + 1u;
    k = 0;
    for (w = check_below((uint32_t)sample_step); w < nwrites; w += sample_step) {
        for (keep = 0; keep <= wlen[w]; keep++) {
            if (wlen[w] > 40 && keep > 20 && keep + 20 < wlen[w] && check_below(8) != 0) continue;
            c.at = (long)w;
            c.keep = keep;
            c.bits = 0;
            if (!replay(&c)) bad++;
            if (keep < wlen[w]) {
                c.bits = (uint8_t)(1u + check_below(254));
                if (!replay(&c)) bad++;
            }
            k++;
        }
    }
    printf("2. cut at every byte of 1 in %lu writes (%lu cut points, x2 with a half-programmed byte): %lu violations\n",
           sample_step, k, bad);
    CHECK_EQ(bad, 0);

    /* 3. write-buffered device: each write (1 in TARN_TEST_SCALE when scaled), the pending
     *    writes landing in each subset and order (the interrupted one torn at a random byte) */
    bad = 0;
    c.buffered = true;
    for (w = scaled_start(); w < nwrites; w += TARN_TEST_SCALE) {
        uint32_t mask;
        for (mask = 0; mask < 4; mask++) {
            c.at = (long)w;
            c.mask = mask;
            c.reverse = (mask & 1u) != 0 && check_below(2) == 0;
            c.keep = (size_t)check_below((uint32_t)wlen[w] + 1u);
            c.bits = (uint8_t)check_rand();
            if (!replay(&c)) bad++;
        }
    }
    printf("3. write-buffered device, cut at 1 in %d writes, 4 landing patterns: %lu violations\n",
           TARN_TEST_SCALE, bad);
    CHECK_EQ(bad, 0);
    printf("   (%lu replays; %lu mounts repaired a torn record and had their repair cut too)\n",
           replays, repaired_mounts);
    CHECK(repaired_mounts > 0);

    test_callback_errors(dry_reads, dry_syncs);

    /* 5. bit-order tears (a parallel-programming EEPROM): every record write of the workload,
     *    its changed bits landing in 4 random subsets (scaled down for slow runs; every subset
     *    of the writes of small regions: tests/test_ext_damage.c) */
    bad = 0;
    k = 0;
    if (!byte_ordered) {
        cut t;
        memset(&t, 0, sizeof t);
        t.bitmix = true;
        for (w = 0; w < nwrites; w++) {
            uint32_t m;
            if (wlen[w] > TARN_EXT_HEADER_SIZE) continue;
            for (m = 0; m < (uint32_t)CHECK_ITERS(4); m++) {
                t.at = (long)w;
                t.mask = (uint32_t)check_rand();
                if (!replay(&t)) bad++;
                k++;
            }
        }
    }
    if (byte_ordered) printf("5. bit-order tears: not part of the byte-ordered format's contract, not tried\n");
    else printf("5. bit-order tears of each record write, 4 landing subsets each: %lu tears, %lu violations\n", k, bad);
    CHECK_EQ(bad, 0);

    /* negative control: a device whose sync does nothing lets writes of several operations
     * land in any subset; the checker must see the guarantee broken */
    c.lying_sync = true;
    failures_shown = 100;      /* quiet */
    for (w = 0; w < nwrites; w++) {
        c.at = (long)w;
        c.mask = (uint32_t)check_rand();
        c.reverse = check_below(2) == 0;
        c.keep = EMUDEV_ALL;
        c.bits = 0;
        if (!replay(&c)) caught++;
    }
    printf("negative control (sync ignored by the device): %lu of %lu cuts break the guarantee\n",
           caught, nwrites);
    CHECK(caught > 0);
}

int main(void)
{
    check_seed(0x5EEDu);
    test_layouts();
    run_geometry(REGION, NROOTS);
    /* the compact format: the smallest region, and the largest that uses it */
    run_geometry(TARN_EXT_MIN_SIZE(0), 0);
    run_geometry(TARN_EXT_COMPACT_MAX_SIZE, 0);
    /* the byte-ordered format (TARN_EXT_F_BYTE_ORDERED): 16, 20 and 32 bytes */
    run_geometry(TARN_EXT_BYTE_ORDERED_MIN_SIZE, 0);
    run_geometry(20u, 0);
    run_geometry(TARN_EXT_BYTE_ORDERED_MAX_SIZE, 0);
    return check_done();
}
