/*
 * fuzz/fuzz_heap_regions.c - fuzz target of a heap over several memory regions with
 * capabilities (tarn_heap_add_region, tarn_heap_alloc_caps and the variants).
 *
 * The input lays out up to TARN_HEAP_MAX_REGIONS (at most 4 here) regions in one static
 * buffer: each region's size, the gap before it and its capability mask (4 bits) come
 * from the input; region 0 is given to tarn_heap_init, the others are added later, at
 * points the input chooses (before or between operations).  Then each byte selects an
 * operation: alloc / calloc / aligned_alloc with a capability mask (or the plain
 * functions), realloc (keeping the request's capabilities), realloc_caps, resize, free,
 * a bad pointer (freed, inside a block, misaligned, in a gap between regions, in a
 * region's control part, past a region's blocks), add a region.
 *
 * The model holds every live block (address, requested size, capabilities asked for, a
 * pattern tag) and the regions (buffer, capabilities).  Checked after every call:
 *   - a block lies inside one region's buffer, that region has every capability asked
 *     for, tarn_heap_region_of names it; blocks are disjoint and keep their contents
 *     (realloc up to the smaller size), calloc memory is zero, alignment is kept;
 *   - order of preference: before an allocation each eligible region's max_alloc is
 *     read; the block comes from a region no later than the first whose max_alloc covers
 *     the request, and a failure happens only when none does;
 *   - realloc keeps a block within regions having its request's capabilities; a failed
 *     realloc leaves the block as it was;
 *   - bad pointers get their status and change nothing;
 *   - tarn_heap_check, and the statistics against the model, whole heap and per region.
 */
#include "fuzz_common.h"
#include "tarn/heap.h"

#if TARN_HEAP_MAX_REGIONS >= 2

#define GR TARN_HEAP_GRANULE
#define NREG (TARN_HEAP_MAX_REGIONS < 4 ? TARN_HEAP_MAX_REGIONS : 4)
#define AREA (96u * 1024u)
#define MAXL 64u

static unsigned char area[AREA] __attribute__((aligned(64)));

typedef struct lblk {
    unsigned char *p;
    size_t size;
    uint32_t caps;
    uint32_t tag;
} lblk;

static lblk live[MAXL];
static unsigned nlive;
static unsigned char *off[NREG];   /* region buffers */
static size_t len[NREG];
static uint32_t rcap[NREG];
static unsigned nplanned, nadded;
static unsigned char *dead[16];
static unsigned ndead;
static tarn_heap *h;
static uint32_t next_tag;

static int region_at(const unsigned char *p, size_t n)
{
    unsigned i;
    for (i = 0; i < nadded; i++) {
        if (p >= off[i] && p + n <= off[i] + len[i]) return (int)i;
    }
    return -1;
}

static void check_block(const unsigned char *p, size_t n, uint32_t caps, int self)
{
    int r = region_at(p, n);
    unsigned i, hr = 99;
    FZ_CHECK(r >= 0);
    FZ_CHECK((rcap[r] & caps) == caps);
    FZ_ST(tarn_heap_region_of(h, p, &hr), TARN_OK);
    FZ_EQ(hr, r);
    FZ_CHECK(tarn_heap_usable_size(h, p) >= n);
    for (i = 0; i < nlive; i++) {
        if ((int)i != self) FZ_CHECK(!(p < live[i].p + live[i].size && live[i].p < p + n));
    }
}

static void check_all(void)
{
    tarn_heap_stats s;
    size_t used = 0, rused[NREG];
    unsigned i;
    FZ_ST(tarn_heap_check(h), TARN_OK);
    memset(rused, 0, sizeof rused);
    for (i = 0; i < nlive; i++) {
        size_t u = tarn_heap_usable_size(h, live[i].p);
        int r = region_at(live[i].p, live[i].size);
        FZ_VERIFY(live[i].p, live[i].size, live[i].tag);
        used += u;
        if (r >= 0) rused[r] += u;
    }
    FZ_ST(tarn_heap_stats_get(h, &s), TARN_OK);
    FZ_EQ(s.used, used);
    FZ_EQ(s.live_blocks, nlive);
    FZ_EQ(tarn_heap_region_count(h), nadded);
    for (i = 0; i < nadded; i++) {
        tarn_heap_region r;
        FZ_ST(tarn_heap_region_get(h, i, &r), TARN_OK);
        FZ_EQ(r.stats.used, rused[i]);
        FZ_EQ(r.caps, rcap[i]);
        FZ_CHECK(r.mem == off[i] && r.size == len[i]);
    }
}

/* The first region whose capabilities include caps and whose max_alloc covers n, or -1. */
static int expected(size_t n, uint32_t caps)
{
    unsigned i;
    for (i = 0; i < nadded; i++) {
        tarn_heap_region r;
        if ((rcap[i] & caps) != caps) continue;
        FZ_ST(tarn_heap_region_get(h, i, &r), TARN_OK);
        if (r.stats.max_alloc >= n) return (int)i;
    }
    return -1;
}

static void add_next_region(void)
{
    tarn_status st;
    if (nadded >= nplanned) return;
    st = tarn_heap_add_region(h, off[nadded], len[nadded], rcap[nadded]);
    if (st == TARN_ETOOSMALL) {
        /* only a buffer below TARN_HEAP_MIN_SIZE may be refused (the first added also
         * holds the region table, a few hundred bytes at most): it is left out */
        unsigned i;
        FZ_CHECK(len[nadded] < TARN_HEAP_MIN_SIZE + (nadded == 1u ? 512u : 0u));
        for (i = nadded; i + 1u < nplanned; i++) {
            off[i] = off[i + 1u];
            len[i] = len[i + 1u];
            rcap[i] = rcap[i + 1u];
        }
        nplanned--;
        return;
    }
    FZ_ST(st, TARN_OK);
    nadded++;
    FZ_TRACE("add region %u\n", nadded - 1u);
}

static void remember_dead(unsigned char *p)
{
    dead[ndead % 16u] = p;
    ndead++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    unsigned i, steps = 0;
    unsigned char *at = area;
    tarn_config cfg = {{NULL, NULL, NULL}, "fuzz", 0u};
    fz_start(&in, data, size);
    nlive = 0;
    ndead = 0;
    nadded = 0;
    next_tag = 1;
    /* the layout: sizes 256 B .. 24 KiB, gaps 0 .. 1 KiB, capabilities (4 bits) */
    nplanned = 1u + fz_below(&in, NREG);
    for (i = 0; i < nplanned; i++) {
        size_t gap = (size_t)fz_below(&in, 1024);
        size_t n = 256u + (size_t)fz_below(&in, 24u * 1024u - 256u);
        if (at + gap + n > area + AREA) {
            nplanned = i;
            break;
        }
        off[i] = at + gap;
        len[i] = n;
        rcap[i] = fz_u8(&in) & 15u;
        at = off[i] + n;
    }
    if (nplanned == 0u) return 0;
    if (TARN_QUARANTINE > 0 && (fz_u8(&in) & 1u) != 0u) cfg.flags = TARN_F_QUARANTINE;
    if (tarn_heap_init(&h, off[0], len[0], &cfg) != TARN_OK) return 0;
    FZ_ST(tarn_heap_set_caps(h, 0, rcap[0]), TARN_OK);
    nadded = 1;
    while (!fz_empty(&in) && steps++ < 400u) {
        uint8_t b = fz_u8(&in);
        uint32_t caps = (b & 0x80u) ? (fz_u8(&in) & 15u) : 0u;
        tarn_fuzz_ops++;
        switch (b % 10u) {
        case 0:
        case 1:
        case 2: {   /* alloc / calloc / aligned_alloc */
            size_t n = 1u + fz_below(&in, (b & 0x40u) ? 20000u : 600u);
            size_t align = (b % 10u == 2u) ? (size_t)8u << fz_below(&in, 7) : 0u;
            int exp = align == 0u ? expected(n, caps) : -2;
            tarn_status st;
            unsigned char *p;
            if (nlive >= MAXL) break;
            if (b % 10u == 1u) {
                p = (unsigned char *)tarn_heap_calloc_caps_status(h, 1, n, caps, &st);
            } else if (align != 0u) {
                p = (unsigned char *)tarn_heap_aligned_alloc_caps_status(h, align, n, caps, &st);
            } else if (caps == 0u && (b & 0x20u)) {
                p = (unsigned char *)tarn_heap_alloc_status(h, n, &st);
            } else {
                p = (unsigned char *)tarn_heap_alloc_caps_status(h, n, caps, &st);
            }
            FZ_TRACE("alloc %zu caps %u align %zu -> %p\n", n, (unsigned)caps, align, (void *)p);
            if (p == NULL) {
                FZ_ST(st, TARN_ENOMEM);
                if (exp != -2) FZ_EQ(exp, -1);
                break;
            }
            FZ_ST(st, TARN_OK);
            if (align != 0u) FZ_EQ((uintptr_t)p & (align - 1u), 0);
            if (b % 10u == 1u) {
                size_t k;
                for (k = 0; k < n; k++) FZ_EQ(p[k], 0);
            }
            check_block(p, n, caps, -1);
            if (exp >= 0) FZ_CHECK(region_at(p, n) <= exp);
            live[nlive].p = p;
            live[nlive].size = n;
            live[nlive].caps = caps;
            live[nlive].tag = next_tag++;
            fz_fill(p, n, live[nlive].tag);
            nlive++;
            break;
        }
        case 3:
        case 4: {   /* realloc (keeps the request's capabilities) / realloc_caps */
            unsigned j;
            size_t n = 1u + fz_below(&in, (b & 0x40u) ? 20000u : 900u), keep;
            unsigned char *q;
            bool with = b % 10u == 4u;
            if (nlive == 0u) break;
            j = fz_below(&in, nlive);
            keep = live[j].size < n ? live[j].size : n;
            q = (unsigned char *)(with ? tarn_heap_realloc_caps(h, live[j].p, n, caps)
                                       : tarn_heap_realloc(h, live[j].p, n));
            FZ_TRACE("realloc%s %p %zu -> %p\n", with ? "_caps" : "", (void *)live[j].p, n,
                     (void *)q);
            if (q == NULL) {
                FZ_ST(tarn_heap_last_error(h), TARN_ENOMEM);
                FZ_VERIFY(live[j].p, live[j].size, live[j].tag);
                check_block(live[j].p, live[j].size, live[j].caps, (int)j);
                break;
            }
            FZ_VERIFY(q, keep, live[j].tag);
            if (with) live[j].caps = caps;
            check_block(q, n, live[j].caps, (int)j);
            if (q != live[j].p) remember_dead(live[j].p);
            live[j].p = q;
            live[j].size = n;
            fz_fill(q, n, live[j].tag);
            break;
        }
        case 5: {   /* resize in place */
            unsigned j;
            size_t n = 1u + fz_below(&in, 2000u);
            tarn_status st;
            if (nlive == 0u) break;
            j = fz_below(&in, nlive);
            st = tarn_heap_resize(h, live[j].p, n);
            FZ_CHECK(st == TARN_OK || st == TARN_ENOMEM);
            if (st == TARN_OK) {
                size_t keep = live[j].size < n ? live[j].size : n;
                FZ_VERIFY(live[j].p, keep, live[j].tag);
                live[j].size = n;
                fz_fill(live[j].p, n, live[j].tag);
            }
            check_block(live[j].p, live[j].size, live[j].caps, (int)j);
            break;
        }
        case 6:
        case 7: {   /* free */
            unsigned j;
            if (nlive == 0u) break;
            j = fz_below(&in, nlive);
            FZ_VERIFY(live[j].p, live[j].size, live[j].tag);
            FZ_ST(tarn_heap_free(h, live[j].p), TARN_OK);
            remember_dead(live[j].p);
            live[j] = live[--nlive];
            break;
        }
        case 8: {   /* a bad pointer */
            unsigned k = fz_below(&in, 6), r = fz_below(&in, nadded), j;
            unsigned char *p = NULL;
            tarn_status st;
            bool any = false;   /* EFOREIGN or EDOUBLE */
            switch (k) {
            case 0:
                if (ndead == 0u) break;
                p = dead[fz_below(&in, ndead < 16u ? ndead : 16u)];
                any = true;
                break;
            case 1:
                if (nlive == 0u) break;
                p = live[fz_below(&in, nlive)].p + GR * (1u + fz_below(&in, 3));
                any = true;
                break;
            case 2:
                if (nlive == 0u) break;
                p = live[fz_below(&in, nlive)].p + 1u + fz_below(&in, GR - 1u);
                break;
            case 3:     /* the gap before region r (none for a region at the start) */
                if (off[r] == area) break;
                p = off[r] - 1u - fz_below(&in, 64);
                if (region_at(p, 1) >= 0) p = NULL;
                break;
            case 4:     /* region r's control part */
                p = off[r] + GR * fz_below(&in, 8);
                break;
            default:    /* the end of region r: its last blocks, sentinel, slack, past it */
                p = off[r] + len[r] - fz_below(&in, 8) * GR;
                any = true;
                break;
            }
            if (p == NULL) break;
            for (j = 0; j < nlive; j++) {
                if (live[j].p == p) p = NULL;   /* a live block after all */
            }
            if (p == NULL) break;
            st = tarn_heap_free(h, p);
            FZ_TRACE("bad free %p -> %d\n", (void *)p, (int)st);
            if (any) {
                FZ_CHECK(st == TARN_EFOREIGN || st == TARN_EDOUBLE);
            } else {
                FZ_ST(st, TARN_EFOREIGN);
            }
            FZ_ST(tarn_heap_validate(h, p), st);
            FZ_EQ(tarn_heap_usable_size(h, p), 0);
            break;
        }
        default:
            add_next_region();
            break;
        }
        check_all();
    }
    while (nadded < nplanned) add_next_region();
    check_all();
    for (i = 0; i < nlive; i++) FZ_ST(tarn_heap_free(h, live[i].p), TARN_OK);
    nlive = 0;
    check_all();
    FZ_ST(tarn_heap_destroy(h), TARN_OK);
    return 0;
}

#else
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)data;
    (void)size;
    return 0;
}
#endif
