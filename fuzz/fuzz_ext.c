/*
 * fuzz/fuzz_ext.c - fuzz target of the external memory manager (include/tarn/ext.h) on
 * the emulated device of the tests (tests/support/emudev.h).
 *
 * One region (size, base - up to the very top of the 32-bit address space -, roots, sync
 * or not, lock hook: chosen by the input) on a device that is exactly the region, driven
 * by the input one operation per byte, with arguments following.  Besides the API calls,
 * operations inject faults: a power cut at a chosen write (torn bytes, half-programmed
 * bits, a write buffer landing any subset of its writes in either order), callback errors
 * (a failing read, write - partly landed - or sync, with bursts), damage to the device
 * (then mount must refuse it or mount something tarn_ext_check accepts).
 *
 * The model holds the live allocations (address, usable size), a mirror of their data
 * bytes, the roots, the counters.  Checked:
 *   - every status, including bad addresses (0, freed, inside a block, misaligned, outside,
 *     a root's allocation freed), sizes 0 and huge, out-of-bounds reads and writes, bad
 *     root indices, bad format and mount parameters, calls on an unmounted manager;
 *   - the walk: blocks tile the region from the first header to the end, its allocations
 *     are exactly the live ones; usable size >= request and at most 16 bytes more;
 *   - the manager never changes an allocation's data on the device, and never touches the
 *     device outside the region (the device counts range errors);
 *   - after a power cut, mount succeeds and shows the state from before or after the
 *     operation in flight, never anything else (a cut format: ENOENT or the new region);
 *     after a callback error the same, without a remount, and tarn_ext_check passes;
 *   - remount rebuilds the same state; statistics; the lock hook is balanced.
 */
#include "fuzz_common.h"
#include "tarn/ext.h"
#include "support/emudev.h"

#define DEV_MAX 6144u
#define MAXB 320u          /* a 6 KiB region holds at most 6144 / 20 blocks */
#define NDEAD 32u
/* header bytes: regions of 16-32 bytes use the byte-ordered format (TARN_EXT_F_BYTE_ORDERED),
 * those of at most TARN_EXT_COMPACT_MAX_SIZE the compact format */
#define TINY_REGION (X.size <= TARN_EXT_BYTE_ORDERED_MAX_SIZE)
#define HDR (TINY_REGION ? TARN_EXT_BYTE_ORDERED_HEADER_SIZE : \
             X.size <= TARN_EXT_COMPACT_MAX_SIZE ? TARN_EXT_COMPACT_HEADER_SIZE : TARN_EXT_HEADER_SIZE)
/* ext.h: usable size = size rounded up to 4, or up to TARN_EXT_MAX_SLACK bytes more when
 * the rest of the run is too small or would overlap a header: r moves past a header
 * (header - 4 bytes), past a block too small for a fresh header (another header - 4), and
 * the remainder left is too small (a header) - 3 headers - 8 bytes; with 24-byte headers,
 * 64 (regress-ext-usable-slack: free blocks of 4 and 12 bytes, alloc(12) got 32 with
 * 16-byte headers).  Checked against this bound; see fuzz/README.md. */
#define EXT_SLACK TARN_EXT_MAX_SLACK

/* Damage: after a mount that accepts a damaged region, the target goes on with what the
 * walk shows (regress-ext-damage-rollback: a bit flipped in the newer slot of a split
 * block's header once made mount roll the header back over later allocations, which free
 * then accepted a second time; mount now refuses that with TARN_ECORRUPT). */

typedef struct xblk {
    bool used;
    uint32_t addr;
    uint32_t size;     /* usable */
} xblk;

/* What a walk showed. */
typedef struct wb {
    uint32_t addr;
    uint32_t size;
    bool used;
} wb;

static uint8_t dev_mem[DEV_MAX];
static bool faulting;                 /* a fault is armed: no extra bus traffic */
static uint8_t mirror[DEV_MAX];       /* expected data bytes of live allocations */

static struct {
    tarn_ext ext;
    emudev d;
    tarn_ext_io io;
    fz_lock lock;
    tarn_config cfg;
    bool use_cfg;
    bool mounted;
    bool formatted;       /* the device holds a region (mountable) */
    uint32_t base;
    uint32_t size;
    unsigned nroots;
    bool with_sync;
    xblk live[MAXB];
    uint32_t nlive;
    uint32_t dead[NDEAD];
    uint32_t ndead, dead_pos;
    uint32_t roots[TARN_EXT_MAX_ROOTS];
    uint32_t allocs, frees;
    uint32_t nw;
    wb w[MAXB * 2u + 4u];
} X;

static uint32_t off_of(uint32_t addr) { return addr - X.base; }
static uint32_t heap_start(void)
{
    if (TINY_REGION) return X.base + 4u;      /* byte-ordered: one 4-byte superblock, no roots */
    if (X.size <= TARN_EXT_COMPACT_MAX_SIZE) return X.base + 8u;   /* compact superblock (2 copies), no roots */
    return X.base + TARN_EXT_SUPER_SIZE + TARN_EXT_ROOT_SIZE * X.nroots;
}

static xblk *find_live(uint32_t addr)
{
    uint32_t i;
    for (i = 0; i < MAXB; i++) {
        if (X.live[i].used && X.live[i].addr == addr) return &X.live[i];
    }
    return NULL;
}

static xblk *pick_live(uint32_t k)
{
    uint32_t i;
    if (X.nlive == 0) return NULL;
    k %= X.nlive;
    for (i = 0; i < MAXB; i++) {
        if (X.live[i].used && k-- == 0) return &X.live[i];
    }
    return NULL;
}

static xblk *add_live(uint32_t addr, uint32_t size)
{
    uint32_t i;
    for (i = 0; i < MAXB; i++) {
        if (!X.live[i].used) {
            X.live[i].used = true;
            X.live[i].addr = addr;
            X.live[i].size = size;
            X.nlive++;
            memcpy(mirror + off_of(addr), dev_mem + off_of(addr), size);  /* whatever it held */
            return &X.live[i];
        }
    }
    FZ_CHECK(!"model full");
    return NULL;
}

static void drop_live(xblk *e)
{
    e->used = false;
    X.nlive--;
    X.dead[X.dead_pos] = e->addr;
    X.dead_pos = (X.dead_pos + 1u) % NDEAD;
    if (X.ndead < NDEAD) X.ndead++;
}

static bool root_names(uint32_t addr)
{
    unsigned i;
    for (i = 0; i < X.nroots; i++) {
        if (X.roots[i] == addr) return true;
    }
    return false;
}

/* ---- walk and device checks ------------------------------------------------------------- */
static bool walk_cb(void *ctx, uint32_t addr, size_t size, bool used)
{
    (void)ctx;
    FZ_CHECK(X.nw < sizeof X.w / sizeof X.w[0]);
    X.w[X.nw].addr = addr;
    X.w[X.nw].size = (uint32_t)size;
    X.w[X.nw].used = used;
    X.nw++;
    return true;
}

/* Walk (no fault armed) and check the tiling; returns the walk's status. */
static void walk(void)
{
    uint32_t i;
    uint64_t next = (uint64_t)heap_start() + HDR;
    X.nw = 0;
    FZ_ST(tarn_ext_walk(&X.ext, walk_cb, NULL), TARN_OK);
    FZ_EQ(X.lock.depth, 0);
    FZ_CHECK(X.nw >= 1);
    for (i = 0; i < X.nw; i++) {
        FZ_EQ(X.w[i].addr, next);
        FZ_CHECK(X.w[i].size >= TARN_EXT_UNIT && X.w[i].size % TARN_EXT_UNIT == 0);
        next = (uint64_t)X.w[i].addr + X.w[i].size + HDR;
    }
    FZ_EQ(next - HDR, (uint64_t)X.base + X.size);
}

/* The walk's allocations are the model's; their data is untouched on the device. */
static void check_layout(void)
{
    uint32_t i, nused = 0;
    walk();
    for (i = 0; i < X.nw; i++) {
        if (X.w[i].used) {
            xblk *e = find_live(X.w[i].addr);
            FZ_CHECK(e != NULL);
            FZ_EQ(X.w[i].size, e->size);
            nused++;
        }
    }
    FZ_EQ(nused, X.nlive);
    for (i = 0; i < MAXB; i++) {
        const xblk *e = &X.live[i];
        if (e->used) FZ_EQ(memcmp(dev_mem + off_of(e->addr), mirror + off_of(e->addr), e->size), 0);
    }
}

static void check_stats(void)
{
    tarn_ext_stats st;
    uint32_t i, bytes = 0;
    FZ_ST(tarn_ext_stats_get(&X.ext, &st), TARN_OK);
    for (i = 0; i < MAXB; i++) bytes += X.live[i].used ? X.live[i].size : 0u;
    FZ_EQ(st.region_size, X.size);
    FZ_EQ(st.heap_size, X.base + X.size - heap_start());
    FZ_EQ(st.live_blocks, X.nlive);
    FZ_EQ(st.live_bytes, bytes);
    FZ_EQ(st.free_bytes, st.heap_size - bytes - HDR * X.nlive);
    FZ_EQ(st.roots, X.nroots);
#if TARN_STATS
    FZ_EQ(st.allocs, X.allocs);
    FZ_EQ(st.frees, X.frees);
#endif
}

static void check_all(void)
{
    unsigned i;
    FZ_EQ(X.d.range_errors, 0);
    if (!X.mounted) {
        uint32_t a = 1;
        FZ_ST(tarn_ext_alloc(&X.ext, 8, &a), TARN_EINVAL);
        FZ_EQ(a, 0);
        FZ_ST(tarn_ext_check(&X.ext), TARN_EINVAL);
        return;
    }
    FZ_ST(tarn_ext_check(&X.ext), TARN_OK);
    check_layout();
    check_stats();
    for (i = 0; i < X.nroots; i++) {
        uint32_t v = 1;
        FZ_ST(tarn_ext_root_get(&X.ext, i, &v), TARN_OK);
        FZ_EQ(v, X.roots[i]);
    }
    FZ_EQ(X.lock.depth, 0);
    FZ_EQ(X.d.range_errors, 0);
}

/* ---- after a fault: the operation in flight happened completely or not at all -------- */
enum { F_NONE, F_ALLOC, F_FREE, F_ROOT, F_WRITE };

typedef struct inflight {
    int op;
    uint32_t addr;       /* F_FREE, F_WRITE: the allocation */
    size_t req;          /* F_ALLOC: bytes asked for */
    unsigned idx;        /* F_ROOT */
    uint32_t val;        /* F_ROOT: new value */
    size_t woff, wn;     /* F_WRITE: the range */
} inflight;

static void reconcile(const inflight *f)
{
    uint32_t i, j;
    bool added = false;
    walk();
    /* allocations that were live: still live (same size), or freed by the free in flight */
    for (i = 0; i < MAXB; i++) {
        xblk *e = &X.live[i];
        if (!e->used) continue;
        for (j = 0; j < X.nw && X.w[j].addr != e->addr; j++) {}
        if (j < X.nw && X.w[j].used) {
            FZ_EQ(X.w[j].size, e->size);
        } else {
            FZ_CHECK(f->op == F_FREE && f->addr == e->addr);
            drop_live(e);
            X.frees++;
        }
    }
    /* new allocations: at most the one in flight */
    for (j = 0; j < X.nw; j++) {
        if (X.w[j].used && find_live(X.w[j].addr) == NULL) {
            FZ_CHECK(f->op == F_ALLOC && !added);
            FZ_CHECK(X.w[j].size >= f->req && X.w[j].size <= TARN_ALIGN_UP(f->req, 4u) + EXT_SLACK);
            add_live(X.w[j].addr, X.w[j].size);
            X.allocs++;
            added = true;
        }
    }
    /* data: untouched, except the range of the write in flight */
    if (f->op == F_WRITE && find_live(f->addr) != NULL) {
        memcpy(mirror + off_of(f->addr) + f->woff, dev_mem + off_of(f->addr) + f->woff, f->wn);
    }
    for (i = 0; i < X.nroots; i++) {
        uint32_t v;
        FZ_ST(tarn_ext_root_get(&X.ext, i, &v), TARN_OK);
        if (v != X.roots[i]) {
            FZ_CHECK(f->op == F_ROOT && f->idx == i && v == f->val);
            X.roots[i] = v;
        }
    }
    /* counters restart at a mount; after a re-read they go on: take them as they are */
    {
        tarn_ext_stats st;
        FZ_ST(tarn_ext_stats_get(&X.ext, &st), TARN_OK);
        X.allocs = st.allocs;
        X.frees = st.frees;
    }
    check_all();
}

/* ---- region ------------------------------------------------------------------------------ */
static void forget_all(void)
{
    memset(X.live, 0, sizeof X.live);
    X.nlive = 0;
    X.ndead = X.dead_pos = 0;
    memset(X.roots, 0, sizeof X.roots);
    X.allocs = X.frees = 0;
}

static const tarn_config *cfgp(void) { return X.use_cfg ? &X.cfg : NULL; }

/* New device geometry and a format (or a refused one, `bad` != 0). */
static void do_format(fz_in *in, unsigned bad)
{
    unsigned f = fz_u8(in);
    unsigned nroots = fz_u8(in) % (TARN_EXT_MAX_ROOTS + 1u);
    /* normal-format sizes from 60 bytes; with flag 32 and no roots, a compact region */
    uint32_t minsz = nroots == 0 ? TARN_EXT_COMPACT_MAX_SIZE + 4u : TARN_EXT_MIN_SIZE(nroots);
    uint32_t size = minsz + 4u * fz_below(in, (DEV_MAX - minsz) / 4u + 1u);
    uint32_t base;
    uint64_t fsize = size;
    unsigned where = fz_u8(in) % 4u;
    tarn_ext_io io;
    tarn_status st, ex = TARN_OK;
    unsigned nr = nroots;
    tarn_ext *e = &X.ext;

    if (size > DEV_MAX) size = DEV_MAX - DEV_MAX % 4u;
    if ((f & 32u) && nroots == 0) size = TARN_EXT_MIN_SIZE(0) + 4u * (size / 4u % 10u);
    /* with flags 32 and 64 and no roots, a byte-ordered region of 16 to 32 bytes */
    if ((f & 96u) == 96u && nroots == 0) size = TARN_EXT_BYTE_ORDERED_MIN_SIZE + 4u * (size / 4u % 5u);
    base = where == 0 ? 0u : where == 1 ? 4u * fz_u16(in) : (uint32_t)(0u - size);
    X.base = base;
    X.size = size;
    X.nroots = nroots;
    X.with_sync = (f & 1u) != 0;
    X.use_cfg = (f & 2u) != 0;
    memset(&X.cfg, 0, sizeof X.cfg);
    if (f & 4u) X.cfg.lock = fz_lock_hook(&X.lock);
    X.cfg.name = (f & 8u) ? "fram" : NULL;
    if (size <= TARN_EXT_BYTE_ORDERED_MAX_SIZE) {
        X.use_cfg = true;                    /* the option is needed to format it */
        X.cfg.flags = TARN_EXT_F_BYTE_ORDERED | ((f & 2u) ? TARN_F_SAN_REPORT : 0u);
    } else if (f & 64u) {
        X.cfg.flags = TARN_EXT_F_BYTE_ORDERED;   /* changes nothing from 36 bytes on */
    }
    X.lock.depth = 0;
    if (f & 16u) memset(dev_mem, (int)fz_u8(in), sizeof dev_mem);   /* blank, or old junk */
    emudev_init(&X.d, dev_mem, base, size);
    X.io = emudev_io(&X.d, X.with_sync);
    io = X.io;
    switch (bad % 9u) {
    case 1: e = NULL; ex = TARN_EINVAL; break;   /* and then io NULL on the manager */
    case 2: io.read = NULL; ex = TARN_EINVAL; break;
    case 3: nr = TARN_EXT_MAX_ROOTS + 1u + fz_u8(in) % 4u; ex = TARN_EINVAL; break;
    case 4: fsize = size - 1u - fz_u8(in) % 3u; ex = TARN_EALIGN; break;
    case 5:   /* below the minimum: 36 bytes, or 16 with TARN_EXT_F_BYTE_ORDERED and no roots */
        fsize = (nroots == 0 && X.use_cfg && (X.cfg.flags & TARN_EXT_F_BYTE_ORDERED) ? TARN_EXT_BYTE_ORDERED_MIN_SIZE
                 : TARN_EXT_MIN_SIZE(nroots)) - 4u * (1u + fz_u8(in) % 4u);
        ex = TARN_ETOOSMALL;
        break;
    case 6: fsize = TARN_EXT_MAX_SIZE + 4u * (1u + fz_u8(in)); ex = TARN_ERANGE; break;
    case 7: /* past the top of the address space (when the region ends there) */
        if ((uint32_t)(base + size) == 0u && base != 0) { fsize = (uint64_t)size + 4u * (1u + fz_u8(in) % 8u); ex = TARN_ERANGE; }
        else { io.write = NULL; ex = TARN_EINVAL; }
        break;
    case 8: X.use_cfg = true; X.cfg.lock.lock = fz_lock_take; X.cfg.lock.unlock = NULL; ex = TARN_EINVAL; break;
    default: break;
    }
    if (bad != 0) {
        /* nothing may be written: the region keeps whatever it held */
        unsigned long writes = X.d.writes;
        st = tarn_ext_format(e, &io, base, fsize, nr, cfgp());
        FZ_TRACE("  bad format(%u) = %s\n", bad % 9u, tarn_strerror(st));
        FZ_ST(st, ex);
        if (e == NULL) FZ_ST(tarn_ext_format(&X.ext, NULL, base, size, nroots, NULL), TARN_EINVAL);
        FZ_EQ(X.d.writes, writes);
        X.mounted = false;
        X.use_cfg = false;
        if (TINY_REGION) {          /* a valid config with the option, for later formats */
            memset(&X.cfg, 0, sizeof X.cfg);
            X.cfg.flags = TARN_EXT_F_BYTE_ORDERED;
            X.use_cfg = true;
        }
        X.formatted = false;
        forget_all();
        check_all();
        return;
    }
    forget_all();
    if (size <= TARN_EXT_BYTE_ORDERED_MAX_SIZE && (f & 128u)) {
        /* without the option: refused, nothing written */
        unsigned long writes = X.d.writes;
        X.cfg.flags &= ~TARN_EXT_F_BYTE_ORDERED;
        FZ_ST(tarn_ext_format(&X.ext, &X.io, base, size, nroots, &X.cfg), TARN_ETOOSMALL);
        FZ_ST(tarn_ext_format(&X.ext, &X.io, base, size, nroots, NULL), TARN_ETOOSMALL);
        FZ_EQ(X.d.writes, writes);
        X.cfg.flags |= TARN_EXT_F_BYTE_ORDERED;
    }
    st = tarn_ext_format(&X.ext, &X.io, base, size, nroots, cfgp());
    FZ_TRACE("  format(base %#x, size %u, roots %u, sync %d) = %s\n", (unsigned)base,
             (unsigned)size, nroots, (int)X.with_sync, tarn_strerror(st));
    FZ_ST(st, TARN_OK);
    X.mounted = X.formatted = true;
    walk();
    FZ_EQ(X.nw, 1);
    FZ_CHECK(!X.w[0].used);
    check_all();
}

static void do_mount(void)
{
    tarn_status st = tarn_ext_mount(&X.ext, &X.io, X.base, X.size, cfgp());
    FZ_TRACE("  mount() = %s\n", tarn_strerror(st));
    FZ_EQ(X.lock.depth, 0);
    if (!X.formatted) {       /* after a cut format: nothing there, or the new region */
        FZ_CHECK(st == TARN_ENOENT || st == TARN_OK);
        if (st != TARN_OK) { X.mounted = false; return; }
        /* the device held a region after all (a cut format that completed): take it */
        X.formatted = true;
    } else {
        FZ_ST(st, TARN_OK);
    }
    X.mounted = true;
    X.allocs = X.frees = 0;      /* the counters restart at a mount */
}

/* ---- addresses ---------------------------------------------------------------------- */
/* An address, and what a free of it must return (a set, as flags of status bits). */
#define S(x) (1u << (x))
static uint32_t pick_addr(fz_in *in, unsigned *ok_set, xblk **live)
{
    unsigned kind = fz_u8(in) % 9u;
    uint32_t k = fz_u16(in), a;
    xblk *e;
    *live = NULL;
    switch (kind) {
    case 0: case 1: case 2:
        if ((e = pick_live(k)) != NULL) { *live = e; *ok_set = S(TARN_OK); return e->addr; }
        /* fall through */
    case 3:
        if (X.ndead > 0) { a = X.dead[k % X.ndead]; break; }
        /* fall through */
    case 4: /* inside a live block, aligned or not */
        if ((e = pick_live(k)) != NULL) { a = e->addr + 1u + (k >> 3) % (e->size + HDR - 1u); break; }
        /* fall through */
    case 5: a = 0; break;
    case 6: a = X.base + k % (X.size + 64u); break;                  /* anywhere, headers too */
    case 7: a = X.base - 4u * (1u + k % 16u); break;                   /* below the region */
    default: a = X.base + X.size + 4u * (k % 16u); break;               /* at or past its end */
    }
    *live = find_live(a);
    if (*live != NULL) { *ok_set = S(TARN_OK); return a; }
    /* not live: a free block start says free; inside a block it is foreign, unless the
     * bytes before it are a stale header (always "free") */
    *ok_set = S(TARN_EFOREIGN) | S(TARN_EDOUBLE);
    if (a == 0) *ok_set |= S(TARN_EINVAL);
    if (X.mounted && !faulting) {
        uint32_t j;
        walk();
        for (j = 0; j < X.nw; j++) {
            if (X.w[j].addr == a) *ok_set = S(TARN_EDOUBLE);
        }
    }
    return a;
}

/* ---- operations ------------------------------------------------------------------------ */
static size_t pick_size(fz_in *in)
{
    unsigned kind = fz_u8(in) % 12u;
    uint32_t r = fz_u16(in);
    switch (kind) {
    case 0: case 1: case 2: case 3: case 4: return 1u + r % 40u;
    case 5: case 6: case 7: return 1u + r % 400u;
    case 8: return 1u + r % X.size;
    case 9: return 0;
    case 10: return (size_t)X.size + r % 64u;
    default: return SIZE_MAX - r % 8u;
    }
}

static tarn_status op_alloc(fz_in *in, inflight *f)
{
    size_t size = pick_size(in), us = 0;
    uint32_t a = 1;
    tarn_status st;
    f->op = F_ALLOC;
    f->req = size;
    if (X.nlive >= MAXB) return TARN_OK;
    st = tarn_ext_alloc(&X.ext, size, &a);
    FZ_TRACE("  alloc(%zu) = %s %#x\n", size, tarn_strerror(st), (unsigned)a);
    FZ_EQ(X.lock.depth, 0);
    if (!X.mounted) { FZ_ST(st, TARN_EINVAL); return st; }
    if (st == TARN_EIO) return st;
    if (size == 0) { FZ_ST(st, TARN_EINVAL); FZ_EQ(a, 0); return st; }
    if (st != TARN_OK) {
        FZ_ST(st, TARN_ENOMEM);
        FZ_EQ(a, 0);
        FZ_ST(tarn_ext_last_error(&X.ext), TARN_ENOMEM);
        /* refused only when no free run can hold it: every run is shorter */
        if (!faulting) {
            uint32_t j, run = 0, best = 0;
            walk();
            for (j = 0; j < X.nw; j++) {
                run = X.w[j].used ? 0u : run + X.w[j].size + (run ? HDR : 0u);
                if (run > best) best = run;
            }
            FZ_CHECK(size > best);
        }
        return st;
    }
    if (faulting) {           /* the usable size comes from the walk after the fault */
        return st;
    }
    FZ_ST(tarn_ext_size(&X.ext, a, &us), TARN_OK);
    FZ_CHECK(us >= size && us <= TARN_ALIGN_UP(size, 4u) + EXT_SLACK && a % 4u == 0);
    FZ_CHECK(a >= heap_start() + HDR && (uint64_t)a + us <= (uint64_t)X.base + X.size);
    FZ_CHECK(find_live(a) == NULL);
    add_live(a, (uint32_t)us);
    X.allocs++;
    return st;
}

static tarn_status op_free(fz_in *in, inflight *f)
{
    unsigned ok_set;
    xblk *e;
    uint32_t a = pick_addr(in, &ok_set, &e);
    tarn_status st;
    if (e != NULL && root_names(a)) ok_set = S(TARN_EBUSY);
    f->op = F_FREE;
    f->addr = a;
    st = tarn_ext_free(&X.ext, a);
    FZ_TRACE("  free(%#x) = %s\n", (unsigned)a, tarn_strerror(st));
    FZ_EQ(X.lock.depth, 0);
    if (!X.mounted) { FZ_ST(st, TARN_EINVAL); return st; }
    if (st == TARN_EIO) return st;
    FZ_CHECK((ok_set >> st) & 1u);
    if (st == TARN_OK) {
        drop_live(e);
        X.frees++;
    } else {
        FZ_ST(tarn_ext_last_error(&X.ext), st);
    }
    return st;
}

static tarn_status op_rw(fz_in *in, inflight *f, bool write)
{
    unsigned ok_set;
    xblk *e;
    uint32_t a = pick_addr(in, &ok_set, &e);
    size_t off = fz_u16(in) % 512u, n = fz_u8(in) % 48u, us = 0;
    uint8_t data[48], back[48];
    uint32_t tag = fz_u32(in);
    tarn_status st, ex;
    fz_fill(data, n, tag);
    if (e != NULL && fz_u8(in) % 4u != 0) {   /* mostly in bounds */
        off %= e->size + 1u;
        if (n > e->size - off) n = e->size - off;
    }
    /* in flight only if it can land: a live block, in bounds */
    f->op = (write && e != NULL && off + n <= e->size) ? F_WRITE : F_NONE;
    f->addr = a;
    f->woff = off;
    f->wn = n;
    memset(back, 0xA5, sizeof back);
    st = write ? tarn_ext_write(&X.ext, a, off, data, n) : tarn_ext_read(&X.ext, a, off, back, n);
    FZ_TRACE("  %s(%#x, %zu, %zu) = %s\n", write ? "write" : "read", (unsigned)a, off, n,
             tarn_strerror(st));
    FZ_EQ(X.lock.depth, 0);
    if (!X.mounted) { FZ_ST(st, TARN_EINVAL); return st; }
    if (st == TARN_EIO) return st;
    ex = e == NULL ? TARN_EFOREIGN : off + n > e->size ? TARN_ERANGE : TARN_OK;
    FZ_ST(st, ex);
    if (faulting) {
        if (st == TARN_OK && write) memcpy(mirror + off_of(a) + off, data, n);
        return st;
    }
    /* and the size query agrees */
    FZ_ST(tarn_ext_size(&X.ext, a, &us), e == NULL ? TARN_EFOREIGN : TARN_OK);
    FZ_EQ(us, e == NULL ? 0u : e->size);
    if (st != TARN_OK) return st;
    if (write) memcpy(mirror + off_of(a) + off, data, n);
    else FZ_EQ(memcmp(back, mirror + off_of(a) + off, n), 0);
    return st;
}

static tarn_status op_root(fz_in *in, inflight *f)
{
    unsigned idx = fz_u8(in) % (TARN_EXT_MAX_ROOTS + 2u), ok_set;
    xblk *e;
    uint32_t a = (fz_u8(in) & 3u) == 0 ? 0u : pick_addr(in, &ok_set, &e), v = 7;
    tarn_status st;
    f->op = F_ROOT;
    f->idx = idx;
    f->val = a;
    st = tarn_ext_root_set(&X.ext, idx, a);
    FZ_TRACE("  root_set(%u, %#x) = %s\n", idx, (unsigned)a, tarn_strerror(st));
    FZ_EQ(X.lock.depth, 0);
    if (!X.mounted) {
        FZ_ST(st, TARN_EINVAL);
        FZ_ST(tarn_ext_root_get(&X.ext, idx, &v), TARN_EINVAL);
        return st;
    }
    if (st == TARN_EIO) return st;
    if (idx >= X.nroots) {
        FZ_ST(st, TARN_EINVAL);
        FZ_ST(tarn_ext_root_get(&X.ext, idx, &v), TARN_EINVAL);
        return st;
    }
    FZ_ST(st, (a == 0 || find_live(a) != NULL) ? TARN_OK : TARN_EFOREIGN);
    if (st == TARN_OK) X.roots[idx] = a;
    FZ_ST(tarn_ext_root_get(&X.ext, idx, &v), TARN_OK);
    FZ_EQ(v, X.roots[idx]);
    return st;
}

/* One mutating operation (for the fault injections). */
static tarn_status one_op(fz_in *in, inflight *f)
{
    switch (fz_u8(in) % 4u) {
    case 0: return op_alloc(in, f);
    case 1: return op_free(in, f);
    case 2: return op_root(in, f);
    default: return op_rw(in, f, true);
    }
}

/* Power cut at the k-th write from now, during one operation; then power on, mount. */
static void op_cut(fz_in *in)
{
    long k = fz_u8(in) % 6u;
    size_t keep = fz_u8(in) % 20u;
    uint8_t bits = fz_u8(in);
    unsigned mode = fz_u8(in);
    inflight f;
    unsigned long cuts = X.d.cuts;
    if (!X.mounted) return;
    memset(&f, 0, sizeof f);
    if (X.with_sync) {                 /* a write buffer is only safe with sync */
        X.d.buffered = (mode & 1u) != 0;
        X.d.land_mask = fz_u32(in);
        X.d.land_reverse = (mode & 2u) != 0;
    }
    emudev_cut_after(&X.d, k, keep, bits);
    if ((mode & 0xC0u) == 0xC0u) {
        /* cut a format: mount then finds nothing (ENOENT), the new empty region, or - when
         * the cut came before any byte of the format landed - the old region unchanged */
        static xblk saved[MAXB];
        uint32_t saved_n = X.nlive, saved_roots[TARN_EXT_MAX_ROOTS];
        tarn_status st;
        memcpy(saved, X.live, sizeof saved);
        memcpy(saved_roots, X.roots, sizeof saved_roots);
        st = tarn_ext_format(&X.ext, &X.io, X.base, X.size, X.nroots, cfgp());
        FZ_TRACE("  format under cut at %ld = %s\n", k, tarn_strerror(st));
        forget_all();
        if (X.d.cuts == cuts) {
            FZ_ST(st, TARN_OK);
            X.d.cut_at = -1;
            X.d.buffered = false;
            X.d.npending = 0;
            X.d.log_used = 0;
            check_all();
            return;
        }
        FZ_ST(st, TARN_EIO);
        emudev_power_on(&X.d);
        X.d.buffered = false;
        X.formatted = false;
        do_mount();
        if (X.mounted) {
            walk();
            if (X.nw != 1 || X.w[0].used) {      /* not an empty region: the old one */
                memcpy(X.live, saved, sizeof saved);
                X.nlive = saved_n;
                memcpy(X.roots, saved_roots, sizeof saved_roots);
                reconcile(&f);
            } else {
                unsigned i;
                for (i = 0; i < X.nroots; i++) {
                    uint32_t v;
                    FZ_ST(tarn_ext_root_get(&X.ext, i, &v), TARN_OK);
                    if (v != 0) X.roots[i] = saved_roots[i];   /* an old region, empty */
                }
                check_all();
            }
        }
        return;
    }
    faulting = true;
    (void)one_op(in, &f);
    faulting = false;
    if (X.d.cuts == cuts) {            /* the cut did not come: disarm, go on */
        X.d.cut_at = -1;
        X.d.buffered = false;
        X.d.npending = 0;
        X.d.log_used = 0;
        if (X.mounted) reconcile(&f);   /* an alloc made under the armed cut is taken here */
        return;
    }
    emudev_power_on(&X.d);
    X.d.buffered = false;
    do_mount();
    reconcile(&f);
}

/* A failing read, write or sync (and more after it), during one operation. */
static void op_ioerr(fz_in *in)
{
    unsigned which = fz_u8(in) % 3u;
    long k = fz_u8(in) % 4u;
    inflight f;
    tarn_status st;
    if (!X.mounted) return;
    memset(&f, 0, sizeof f);
    X.d.fail_more = fz_u8(in) % 3u;
    X.d.fail_write_keep = fz_u8(in) % 20u;
    if (which == 0) X.d.fail_read_at = (long)X.d.reads + k;
    else if (which == 1) X.d.fail_write_at = (long)X.d.writes + k;
    else X.d.fail_sync_at = (long)X.d.syncs + k;
    faulting = true;
    st = one_op(in, &f);
    faulting = false;
    X.d.fail_read_at = X.d.fail_write_at = X.d.fail_sync_at = -1;
    X.d.burst = 0;
    FZ_TRACE("  ... under an injected %s error: %s\n", which == 0 ? "read" : which == 1 ? "write" : "sync",
             tarn_strerror(st));
    (void)st;
    reconcile(&f);
}

/* Damage the device, then mount: refused, or a region that passes the full check. */
static void op_damage(fz_in *in)
{
    unsigned n = 1u + fz_u8(in) % 4u, i;
    tarn_status st;
    if (!X.formatted) return;
    for (i = 0; i < n; i++) {
        uint32_t o = fz_u16(in) % X.size;
        dev_mem[o] ^= (uint8_t)(1u << (fz_u8(in) % 8u));
    }
    st = tarn_ext_mount(&X.ext, &X.io, X.base, X.size, cfgp());
    FZ_TRACE("  mount after damage = %s\n", tarn_strerror(st));
    FZ_EQ(X.lock.depth, 0);
    FZ_EQ(X.d.range_errors, 0);
    forget_all();
    if (st != TARN_OK) {
        /* a compact superblock stores the size with 4 check bits only: damage to both can
         * make it name another size, which mount reports as such */
        FZ_CHECK(st == TARN_ECORRUPT || st == TARN_ENOENT || (st == TARN_EINVAL && X.size <= TARN_EXT_COMPACT_MAX_SIZE));
        X.mounted = X.formatted = false;
        check_all();
        return;
    }
    /* take what mount found; it must be consistent */
    X.mounted = true;
    FZ_ST(tarn_ext_check(&X.ext), TARN_OK);
    walk();
    for (i = 0; i < X.nw; i++) {
        if (X.w[i].used && X.nlive < MAXB) add_live(X.w[i].addr, X.w[i].size);
    }
    if (X.nlive == MAXB) {      /* beyond the model: make the manager unusable */
        FZ_ST(tarn_ext_format(&X.ext, NULL, X.base, X.size, X.nroots, NULL), TARN_EINVAL);
        X.mounted = X.formatted = false;
        return;
    }
    for (i = 0; i < X.nroots; i++) {
        FZ_ST(tarn_ext_root_get(&X.ext, i, &X.roots[i]), TARN_OK);
        FZ_CHECK(X.roots[i] == 0 || find_live(X.roots[i]) != NULL);
    }
    check_all();
}

/* Mount with wrong arguments: refused, and the manager is unusable until a real mount. */
static void op_bad_mount(fz_in *in)
{
    unsigned kind = fz_u8(in) % 5u;
    uint64_t size = X.size;
    tarn_ext_io io = X.io;
    tarn_status st, ex = TARN_EINVAL;
    if (!X.formatted) return;
    switch (kind) {
    case 0: size = X.size - 4u * (1u + fz_u8(in) % 4u); break;      /* not the formatted size */
    case 1: size = X.size + 1u; ex = TARN_EALIGN; break;
    case 2: io.write = NULL; break;
    case 3: size = (uint64_t)TARN_EXT_MAX_SIZE + 4u; ex = TARN_ERANGE; break;
    default: size = 8u; ex = TARN_ETOOSMALL; break;
    }
    st = tarn_ext_mount(&X.ext, &io, X.base, size, cfgp());
    FZ_TRACE("  bad mount(%u) = %s\n", kind, tarn_strerror(st));
    /* a size below the minimum is also not the formatted size: either reason */
    if (kind == 0 && size < TARN_EXT_MIN_SIZE(X.nroots)) FZ_CHECK(st == TARN_EINVAL || st == TARN_ETOOSMALL);
    else FZ_ST(st, ex);
    X.mounted = false;
    check_all();
    do_mount();
    check_all();
}

enum {
    OP_ALLOC, OP_ALLOC2, OP_FREE, OP_FREE2, OP_WRITE, OP_READ, OP_ROOT, OP_CHECK, OP_REMOUNT,
    OP_CUT, OP_CUT2, OP_IOERR, OP_DAMAGE, OP_BAD_MOUNT, OP_FORMAT, OP_BAD_FORMAT, OP_COUNT
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    inflight f;
    fz_start(&in, data, size);
    memset(dev_mem, 0, sizeof dev_mem);
    X.mounted = X.formatted = false;
    do_format(&in, 0);
    while (!fz_empty(&in)) {
        unsigned op = fz_u8(&in) % OP_COUNT;
        tarn_fuzz_ops++;
        FZ_TRACE("op %u\n", op);
        memset(&f, 0, sizeof f);
        switch (op) {
        case OP_ALLOC: case OP_ALLOC2: (void)op_alloc(&in, &f); break;
        case OP_FREE: case OP_FREE2: (void)op_free(&in, &f); break;
        case OP_WRITE: (void)op_rw(&in, &f, true); break;
        case OP_READ: (void)op_rw(&in, &f, false); break;
        case OP_ROOT: (void)op_root(&in, &f); break;
        case OP_CHECK: check_all(); break;
        case OP_REMOUNT:
            if (X.formatted) {
                do_mount();
                reconcile(&f);      /* nothing in flight: exactly the same state */
            }
            break;
        case OP_CUT: case OP_CUT2: op_cut(&in); break;
        case OP_IOERR: op_ioerr(&in); break;
        case OP_DAMAGE: op_damage(&in); break;
        case OP_BAD_MOUNT: op_bad_mount(&in); break;
        case OP_FORMAT: do_format(&in, 0); break;
        default: do_format(&in, 1u + fz_u8(&in) % 8u); break;
        }
        FZ_EQ(X.d.range_errors, 0);
    }
    check_all();
    return 0;
}
