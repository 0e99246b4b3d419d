/*
 * tests/test_heap_regions_model.c - model-based random test of a heap over several
 * regions with capabilities.
 *
 * Four regions of very different sizes and capabilities, in one buffer with gaps between
 * them; region 0 at init, the others added after allocations have started.  300,000
 * random operations (alloc, calloc, aligned_alloc, realloc, each plain or with a
 * capability mask, realloc_caps, resize, free, and bad pointers: freed, interior, into a
 * gap, into a region's control part) against a model that knows every live block: its
 * pointer, size, the capabilities it asked for and a pattern.  After every successful
 * call the block is checked to lie inside one region that has every capability asked
 * for, to overlap no other live block and to keep its contents; realloc keeps the
 * request's capabilities.  Order of preference: every 4th allocation first reads each
 * region's max_alloc, and the block must come from the first eligible region whose
 * max_alloc covers the request when there is one, and the request may fail only when
 * there is none.  Every 5,000 operations: tarn_heap_check, the statistics against the
 * model (whole heap and per region) and every live block's pattern.  Builds with the
 * quarantine compiled in run with it on (a ring per region).
 */
#include "check.h"
#include "tarn/heap.h"

#include <string.h>

#if TARN_HEAP_MAX_REGIONS >= 4

#define GR TARN_HEAP_GRANULE
#define MAXLIVE 600u
#define NREG 4u

static unsigned char buf[(288u << 10) + 4096u] __attribute__((aligned(64)));
/* region buffers: offset and size in buf (gaps between them) */
static const size_t r_off[NREG] = {0u, (16u << 10) + 512u, (32u << 10), (24u << 10) + 64u};
static const size_t r_len[NREG] = {16u << 10, 6u << 10, 256u << 10, 2048u + 200u};
static const uint32_t r_caps[NREG] = {
    TARN_CAP_INTERNAL | TARN_CAP_DMA, TARN_CAP_DMA, TARN_CAP_EXTERNAL,
    TARN_CAP_INTERNAL | TARN_CAP_EXEC};
static const uint32_t req_caps[] = {
    0u, 0u, 0u, TARN_CAP_DMA, TARN_CAP_INTERNAL, TARN_CAP_EXTERNAL, TARN_CAP_EXEC,
    TARN_CAP_DMA | TARN_CAP_INTERNAL, TARN_CAP_INTERNAL | TARN_CAP_EXEC, TARN_CAP_USER(2)};

typedef struct slot {
    unsigned char *p;
    size_t size;
    uint32_t caps;
    uint32_t tag;
} slot;

static slot live[MAXLIVE];
static unsigned nlive;
static unsigned nreg;          /* regions added so far */
static tarn_heap *h;
static uint32_t next_tag = 1;
static unsigned long placed[NREG], failed_allocs;
static unsigned char *stale[32];
static unsigned nstale;

static int region_at(const unsigned char *p, size_t n)
{
    unsigned i;
    for (i = 0; i < nreg; i++) {
        if (p >= buf + r_off[i] && p + n <= buf + r_off[i] + r_len[i]) return (int)i;
    }
    return -1;
}

/* p (n bytes) lies in one region with every capability of caps, overlaps no live block
 * (but `self`), and the heap names the same region. */
static void check_placed(const unsigned char *p, size_t n, uint32_t caps, int self)
{
    int r = region_at(p, n);
    unsigned i, hr = 99;
    CHECK(r >= 0);
    if (r < 0) return;
    CHECK((r_caps[r] & caps) == caps);
    CHECK_EQ(tarn_heap_region_of(h, p, &hr), TARN_OK);
    CHECK_EQ(hr, (unsigned)r);
    for (i = 0; i < nlive; i++) {
        if ((int)i == self) continue;
        CHECK(!(p < live[i].p + live[i].size && live[i].p < p + n));
    }
}

/* The first eligible region whose max_alloc covers n, or -1. */
static int expected_region(size_t n, uint32_t caps)
{
    unsigned i;
    for (i = 0; i < nreg; i++) {
        tarn_heap_region r;
        if ((r_caps[i] & caps) != caps) continue;
        CHECK_EQ(tarn_heap_region_get(h, i, &r), TARN_OK);
        if (r.stats.max_alloc >= n) return (int)i;
    }
    return -1;
}

static size_t rand_size(void)
{
    uint32_t k = check_below(100);
    if (k < 70u) return 1u + check_below(256);
    if (k < 95u) return 1u + check_below(4096);
    return 1u + check_below(64u << 10);
}

static void full_check(void)
{
    tarn_heap_stats s;
    size_t used = 0, rused[NREG] = {0, 0, 0, 0}, rlive[NREG] = {0, 0, 0, 0};
    unsigned i;
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_sane(h), TARN_OK);
    for (i = 0; i < nlive; i++) {
        size_t u = tarn_heap_usable_size(h, live[i].p);
        int r = region_at(live[i].p, live[i].size);
        CHECK(check_verify(live[i].p, live[i].size, live[i].tag));
        used += u;
        if (r >= 0) {
            rused[r] += u;
            rlive[r]++;
        }
    }
    CHECK_EQ(tarn_heap_stats_get(h, &s), TARN_OK);
    CHECK_EQ(s.used, used);
    CHECK_EQ(s.live_blocks, nlive);
    for (i = 0; i < nreg; i++) {
        tarn_heap_region r;
        CHECK_EQ(tarn_heap_region_get(h, i, &r), TARN_OK);
        CHECK_EQ(r.stats.used, rused[i]);
        CHECK_EQ(r.stats.live_blocks, rlive[i]);
        CHECK_EQ(r.caps, r_caps[i]);
    }
}

static void drop(unsigned i)
{
    if (nstale < 32u) stale[nstale++] = live[i].p;
    else stale[check_below(32)] = live[i].p;
    live[i] = live[--nlive];
}

/* A stale pointer that is not the start of a live block now. */
static unsigned char *stale_pick(void)
{
    unsigned char *p;
    unsigned i;
    if (nstale == 0u) return NULL;
    p = stale[check_below(nstale)];
    for (i = 0; i < nlive; i++) {
        if (live[i].p == p) return NULL;
    }
    return p;
}

static void op_alloc(unsigned op)
{
    uint32_t caps = req_caps[check_below(sizeof req_caps / sizeof req_caps[0])];
    size_t n = rand_size(), align = 0;
    unsigned kind = check_below(4);
    int exp = -1, got;
    bool strict = (op % 4u) == 0u && kind != 2u;
    unsigned char *p;
    tarn_status st;
    if (nlive >= MAXLIVE) return;
    if (strict) exp = expected_region(n, caps);
    switch (kind) {
    case 0:
        p = (unsigned char *)(caps == 0u && check_below(2) ? tarn_heap_alloc(h, n)
                                                           : tarn_heap_alloc_caps(h, n, caps));
        st = p != NULL ? TARN_OK : tarn_heap_last_error(h);
        break;
    case 1:
        p = (unsigned char *)tarn_heap_calloc_caps_status(h, 1, n, caps, &st);
        if (p != NULL) {
            size_t i;
            for (i = 0; i < n; i++) CHECK(p[i] == 0u);
        }
        break;
    case 2:
        align = (size_t)16u << check_below(7);
        p = (unsigned char *)(caps == 0u ? tarn_heap_aligned_alloc(h, align, n)
                                         : tarn_heap_aligned_alloc_caps(h, align, n, caps));
        st = p != NULL ? TARN_OK : tarn_heap_last_error(h);
        if (p != NULL) CHECK(((uintptr_t)p & (align - 1u)) == 0u);
        break;
    default:
        p = (unsigned char *)tarn_heap_alloc_caps_status(h, n, caps, &st);
        break;
    }
    if (p == NULL) {
        CHECK(st == TARN_ENOMEM);
        if (strict) CHECK_EQ(exp, -1);
        failed_allocs++;
        return;
    }
    CHECK_EQ(st, TARN_OK);
    CHECK(tarn_heap_usable_size(h, p) >= n);
    check_placed(p, n, caps, -1);
    got = region_at(p, n);
    if (got >= 0) placed[got]++;
    if (strict && exp >= 0) CHECK(got <= exp);   /* never later than a region that must fit */
    if (strict && exp >= 0 && got >= 0) {
        /* every eligible region before the chosen one could not take it */
        CHECK((r_caps[got] & caps) == caps);
    }
    live[nlive].p = p;
    live[nlive].size = n;
    live[nlive].caps = caps;
    live[nlive].tag = next_tag++;
    check_fill(p, n, live[nlive].tag);
    nlive++;
}

static void op_realloc(void)
{
    unsigned i;
    size_t n = rand_size(), keep;
    unsigned char *q;
    bool with_caps = check_below(3) == 0u;
    uint32_t caps = with_caps ? req_caps[check_below(sizeof req_caps / sizeof req_caps[0])] : 0u;
    if (nlive == 0u) return;
    i = check_below(nlive);
    keep = live[i].size < n ? live[i].size : n;
    q = (unsigned char *)(with_caps ? tarn_heap_realloc_caps(h, live[i].p, n, caps)
                                    : tarn_heap_realloc(h, live[i].p, n));
    if (q == NULL) {
        CHECK(tarn_heap_last_error(h) == TARN_ENOMEM);
        CHECK(check_verify(live[i].p, live[i].size, live[i].tag));
        CHECK_EQ(tarn_heap_validate(h, live[i].p), TARN_OK);
        /* the block stays where its capabilities are */
        check_placed(live[i].p, live[i].size, live[i].caps, (int)i);
        return;
    }
    CHECK(check_verify(q, keep, live[i].tag));
    if (with_caps) live[i].caps = caps;
    check_placed(q, n, live[i].caps, (int)i);
    if (q != live[i].p) {
        if (nstale < 32u) stale[nstale++] = live[i].p;
    }
    live[i].p = q;
    live[i].size = n;
    check_fill(q, n, live[i].tag);
}

static void op_bad(void)
{
    unsigned char *p = NULL;
    tarn_status want = TARN_EFOREIGN, st;
    unsigned k = check_below(5), r = check_below(nreg);
    switch (k) {
    case 0:
        p = stale_pick();
        if (p == NULL) return;
        want = TARN_OK;   /* EDOUBLE or EFOREIGN (merged), checked below */
        break;
    case 1:
        if (nlive == 0u) return;
        p = live[check_below(nlive)].p + GR * (1u + check_below(2));
        /* may be the start of another live block: skip those */
        {
            unsigned i;
            for (i = 0; i < nlive; i++) {
                if (live[i].p == p) return;
            }
        }
        break;
    case 2:          /* the gap after region r */
        p = buf + r_off[r] + r_len[r] + GR * check_below(8);
        if (region_at(p, 1) >= 0) return;
        break;
    case 3:          /* the control part of region r */
        p = buf + r_off[r] + GR * check_below(8);
        break;
    default:
        if (nlive == 0u) return;
        p = live[check_below(nlive)].p + 1u + check_below((unsigned)GR - 1u);
        break;
    }
    st = tarn_heap_free(h, p);
    if (k == 1u) want = TARN_OK;   /* interior: EFOREIGN, or EDOUBLE at a free block */
    if (want == TARN_OK) {
        CHECK(st == TARN_EDOUBLE || st == TARN_EFOREIGN);
    } else {
        CHECK_EQ(st, want);
    }
    CHECK_EQ(tarn_heap_validate(h, p), st);
    CHECK_EQ(tarn_heap_usable_size(h, p), 0);
}

int main(void)
{
    unsigned op, nops = CHECK_ITERS(300000u), i;
    check_seed(0x2222u);
    {
        /* builds with the quarantine compiled in run with it on: each region holds freed
         * blocks back in its own ring */
        tarn_config cfg = {{NULL, NULL, NULL}, "regions", 0u};
#if TARN_QUARANTINE > 0
        cfg.flags = TARN_F_QUARANTINE;
#endif
        REQUIRE(tarn_heap_init(&h, buf + r_off[0], r_len[0], &cfg) == TARN_OK);
    }
    REQUIRE(tarn_heap_set_caps(h, 0, r_caps[0]) == TARN_OK);
    nreg = 1;
    for (op = 0; op < nops; op++) {
        unsigned k;
        if ((op == 500u || op == 2000u || op == 6000u) && nreg < NREG) {
            CHECK_EQ(tarn_heap_add_region(h, buf + r_off[nreg], r_len[nreg], r_caps[nreg]),
                     TARN_OK);
            nreg++;
            CHECK_EQ(tarn_heap_region_count(h), nreg);
            full_check();
        }
        k = check_below(100);
        if (k < 40u) {
            op_alloc(op);
        } else if (k < 55u) {
            op_realloc();
        } else if (k < 60u) {
            if (nlive > 0u) {
                unsigned j = check_below(nlive);
                size_t n = rand_size();
                tarn_status st = tarn_heap_resize(h, live[j].p, n);
                CHECK(st == TARN_OK || st == TARN_ENOMEM);
                if (st == TARN_OK) {
                    size_t keep = live[j].size < n ? live[j].size : n;
                    CHECK(check_verify(live[j].p, keep, live[j].tag));
                    live[j].size = n;
                    check_fill(live[j].p, n, live[j].tag);
                    check_placed(live[j].p, n, live[j].caps, (int)j);
                }
            }
        } else if (k < 95u) {
            if (nlive > 0u) {
                unsigned j = check_below(nlive);
                CHECK(check_verify(live[j].p, live[j].size, live[j].tag));
                CHECK_EQ(tarn_heap_free(h, live[j].p), TARN_OK);
                drop(j);
            }
        } else {
#if TARN_CHECK_LEVEL >= 1           /* level 0 trusts the pointers handed back */
            op_bad();
#endif
        }
        if (op % 5000u == 4999u) full_check();
    }
    full_check();
    for (i = nlive; i > 0u; i--) {
        CHECK_EQ(tarn_heap_free(h, live[i - 1u].p), TARN_OK);
    }
    nlive = 0;
    full_check();
    printf("allocations per region: %lu %lu %lu %lu, failed %lu\n", placed[0], placed[1],
           placed[2], placed[3], failed_allocs);
    for (i = 0; i < NREG; i++) CHECK(placed[i] > 0u);
    return check_done();
}

#else
int main(void)
{
    return 0;
}
#endif
