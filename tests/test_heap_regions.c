/*
 * tests/test_heap_regions.c - one heap over several memory regions, placement by
 * capability.
 *
 *  - adding regions: before and after allocations, up to TARN_HEAP_MAX_REGIONS, and every
 *    refusal (overlap, too small, too many, NULL) changing nothing;
 *  - placement: a request with capabilities lands only in a region having all of them
 *    (never elsewhere, even when that region is full), in the order regions were added;
 *    plain requests use every region in order; aligned, calloc and realloc variants;
 *    realloc keeps a block in regions with its request's capabilities, realloc_caps
 *    moves it where the new ones are;
 *  - regions of very different sizes: 256 B (or TARN_HEAP_MIN_SIZE rounded up to 64
 *    bytes where that is more) up to 64 MiB (taken from malloc);
 *  - bad pointers across regions: into the gap between two regions, into a region's
 *    control part, one past a region's blocks, interior, misaligned, freed: each gets its
 *    status and changes nothing;
 *  - statistics, walk, check and the region queries, per region and for the whole heap;
 *  - a region-boundary overrun: the last block of a region overwritten past its end by
 *    1..64 bytes, into the region's sentinel and the control part of the region placed
 *    right after it; the heap must detect it (free of that block, check) and no later
 *    call may hand out or write memory it must not (a shadow copy of every live block of
 *    the next region is compared after every call).
 */
#include "check.h"
#include "tarn/heap.h"
#include "support/poke.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GR TARN_HEAP_GRANULE
/* 256 bytes, or the smallest region this build accepts at any alignment (rounded up to
 * 64 bytes) where that is more. */
#define SMALL_REGION (TARN_HEAP_MIN_SIZE <= 256u ? 256u : (TARN_HEAP_MIN_SIZE + 63u) / 64u * 64u)

#if TARN_HEAP_MAX_REGIONS >= 4

/* The test's memory: a static array of BIG bytes, and a region of HUGE bytes from malloc
 * (4 and 64 MiB on a host; 1 and 2 MiB on a bare-metal Cortex-M with 4 MiB of RAM). */
#if defined(__arm__) && defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define BIG (1u << 20)
#define HUGE (2u << 20)
#else
#define BIG (4u << 20)
#define HUGE (64u << 20)
#endif
static unsigned char big[BIG] __attribute__((aligned(64)));

static bool count_cb(void *ctx, void *block, size_t size, bool used)
{
    size_t *n = (size_t *)ctx;
    (void)block;
    (void)size;
    if (used) n[0]++;
    n[1]++;
    return true;
}

static unsigned region_of(tarn_heap *h, const void *p)
{
    unsigned r = 99;
    CHECK_EQ(tarn_heap_region_of(h, p, &r), TARN_OK);
    return r;
}

/* The heap's statistics equal the sum of its regions'. */
static void check_sums(tarn_heap *h)
{
    tarn_heap_stats s;
    tarn_heap_region r;
    size_t cap = 0, used = 0, live = 0, fb = 0, over = 0, largest = 0;
    unsigned i, n = tarn_heap_region_count(h);
    size_t walked[2] = {0, 0}, rw[2];
    CHECK_EQ(tarn_heap_stats_get(h, &s), TARN_OK);
    for (i = 0; i < n; i++) {
        CHECK_EQ(tarn_heap_region_get(h, i, &r), TARN_OK);
        cap += r.stats.capacity;
        used += r.stats.used;
        live += r.stats.live_blocks;
        fb += r.stats.free_blocks;
        over += r.stats.overhead;
        if (r.stats.largest_free > largest) largest = r.stats.largest_free;
        rw[0] = rw[1] = 0;
        CHECK_EQ(tarn_heap_region_walk(h, i, count_cb, rw), TARN_OK);
        CHECK_EQ(rw[0], r.stats.live_blocks);
        CHECK_EQ(rw[1] - rw[0], r.stats.free_blocks);
        CHECK_EQ(r.stats.capacity + r.stats.overhead, r.size);
    }
    CHECK_EQ(s.capacity, cap);
    CHECK_EQ(s.used, used);
    CHECK_EQ(s.live_blocks, live);
    CHECK_EQ(s.free_blocks, fb);
    CHECK_EQ(s.overhead, over);
    CHECK_EQ(s.largest_free, largest);
    CHECK_EQ(s.free, s.capacity - s.used);
    CHECK_EQ(tarn_heap_walk(h, count_cb, walked), TARN_OK);
    CHECK_EQ(walked[0], live);
    CHECK_EQ(tarn_heap_region_get(h, n, &r), TARN_ENOENT);
    CHECK_EQ(tarn_heap_region_walk(h, n, count_cb, rw), TARN_ENOENT);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_sane(h), TARN_OK);
}

/* Regions: 0 = internal (big[0..16K)), 1 = DMA|internal (big[64K..72K)),
 * 2 = external (the last 3/4 of big), 3 = a small user-bit region (big[32K..32K+SMALL)). */
static void test_placement(void)
{
    tarn_heap *h;
    void *p, *q, *d[64], *e;
    unsigned nd = 0, i;
    tarn_status st;
    tarn_heap_region r;
    unsigned char *r1 = big + (64u << 10), *r2 = big + BIG / 4u, *r3 = big + (32u << 10);

    REQUIRE(tarn_heap_init(&h, big, 16u << 10, NULL) == TARN_OK);
    CHECK_EQ(tarn_heap_region_count(h), 1);
    CHECK_EQ(tarn_heap_region_get(h, 0, &r), TARN_OK);
    CHECK_EQ(r.caps, TARN_HEAP_CAPS0);
    CHECK(r.mem == big && r.size == (16u << 10));
    CHECK_EQ(tarn_heap_set_caps(h, 0, TARN_CAP_INTERNAL), TARN_OK);
    CHECK_EQ(tarn_heap_set_caps(h, 1, TARN_CAP_INTERNAL), TARN_ENOENT);

    /* allocations before any region is added */
    p = tarn_heap_alloc(h, 100);
    REQUIRE(p != NULL);
    check_fill(p, 100, 1);
    CHECK(tarn_heap_alloc_caps(h, 10, TARN_CAP_DMA) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);

    /* refusals change nothing */
    CHECK_EQ(tarn_heap_add_region(NULL, r1, 8192, TARN_CAP_DMA), TARN_EINVAL);
    CHECK_EQ(tarn_heap_add_region(h, NULL, 8192, TARN_CAP_DMA), TARN_EINVAL);
    CHECK_EQ(tarn_heap_add_region(h, big + 4096, 8192, TARN_CAP_DMA), TARN_EINVAL); /* overlaps 0 */
    CHECK_EQ(tarn_heap_add_region(h, big + (16u << 10) - 1u, 8192, 0u), TARN_EINVAL);
    CHECK_EQ(tarn_heap_add_region(h, r1, 64, TARN_CAP_DMA), TARN_ETOOSMALL);
    CHECK_EQ(tarn_heap_add_region(h, (void *)(uintptr_t)(UINTPTR_MAX - 100u), 8192, 0u),
             TARN_EINVAL);
    CHECK_EQ(tarn_heap_region_count(h), 1);

    CHECK_EQ(tarn_heap_add_region(h, r1, 8192, TARN_CAP_DMA | TARN_CAP_INTERNAL), TARN_OK);
    CHECK_EQ(tarn_heap_add_region(h, r1 + 4096, 8192, TARN_CAP_DMA), TARN_EINVAL); /* overlaps 1 */
    CHECK_EQ(tarn_heap_add_region(h, r2, BIG / 4u * 3u, TARN_CAP_EXTERNAL), TARN_OK);
    CHECK_EQ(tarn_heap_add_region(h, r3, SMALL_REGION, TARN_CAP_USER(0)), TARN_OK);
#if TARN_HEAP_MAX_REGIONS == 4
    CHECK_EQ(tarn_heap_add_region(h, big + (128u << 10), 8192, 0u), TARN_EOVERFLOW);
#endif
    CHECK_EQ(tarn_heap_region_count(h), 4);
    CHECK(check_verify(p, 100, 1));
    CHECK_EQ(region_of(h, p), 0);
    check_sums(h);

    /* capabilities: only regions with every bit */
    q = tarn_heap_alloc_caps(h, 200, TARN_CAP_DMA);
    REQUIRE(q != NULL);
    CHECK_EQ(region_of(h, q), 1);
    e = tarn_heap_alloc_caps(h, 100000, TARN_CAP_EXTERNAL);
    REQUIRE(e != NULL);
    CHECK_EQ(region_of(h, e), 2);
    CHECK(tarn_heap_alloc_caps(h, 8, TARN_CAP_EXEC) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
    CHECK(tarn_heap_alloc_caps(h, 8, TARN_CAP_DMA | TARN_CAP_EXTERNAL) == NULL);
    p = tarn_heap_alloc_caps_status(h, 8, TARN_CAP_USER(0), &st);
    CHECK(p != NULL && st == TARN_OK);
    CHECK_EQ(region_of(h, p), 3);
    CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
    /* internal: region 0 first, then region 1 */
    p = tarn_heap_alloc_caps(h, 64, TARN_CAP_INTERNAL);
    CHECK_EQ(region_of(h, p), 0);
    CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
    /* aligned and calloc variants */
    p = tarn_heap_aligned_alloc_caps(h, 256, 100, TARN_CAP_DMA);
    REQUIRE(p != NULL);
    CHECK(((uintptr_t)p & 255u) == 0u);
    CHECK_EQ(region_of(h, p), 1);
    CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
    p = tarn_heap_calloc_caps(h, 10, 30, TARN_CAP_EXTERNAL);
    REQUIRE(p != NULL);
    for (i = 0; i < 300; i++) CHECK(((unsigned char *)p)[i] == 0u);
    CHECK_EQ(region_of(h, p), 2);
    CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
    CHECK(tarn_heap_calloc_caps_status(h, SIZE_MAX / 2, 4, TARN_CAP_DMA, &st) == NULL);
    CHECK_EQ(st, TARN_EOVERFLOW);
    CHECK(tarn_heap_aligned_alloc_caps_status(h, 48, 10, TARN_CAP_DMA, &st) == NULL);
    CHECK_EQ(st, TARN_EINVAL);
    CHECK(tarn_heap_alloc_caps_status(h, 0, TARN_CAP_DMA, &st) == NULL);
    CHECK_EQ(st, TARN_EINVAL);
    /* huge sizes, and realloc_caps of a foreign or freed pointer: a status, nothing changed */
    CHECK(tarn_heap_alloc_caps_status(h, SIZE_MAX, TARN_CAP_DMA, &st) == NULL);
    CHECK_EQ(st, TARN_ENOMEM);
    CHECK(tarn_heap_aligned_alloc_caps_status(h, 64, SIZE_MAX - 8u, TARN_CAP_DMA, &st) == NULL);
    CHECK(st == TARN_ENOMEM || st == TARN_EOVERFLOW);
    CHECK(tarn_heap_realloc_caps_status(h, big + BIG - 64u, 10, TARN_CAP_DMA, &st) == NULL);
    CHECK_EQ(st, TARN_EFOREIGN);
    {
        void *gone = tarn_heap_alloc_caps(h, 40, TARN_CAP_DMA);
        REQUIRE(gone != NULL);
        CHECK_EQ(tarn_heap_free(h, gone), TARN_OK);
        CHECK(tarn_heap_realloc_caps_status(h, gone, 10, TARN_CAP_DMA, &st) == NULL);
    }
    CHECK_EQ(st, TARN_EDOUBLE);
    check_sums(h);

    /* fill the DMA region: DMA requests then fail although other regions have room */
    while (nd < 64u && (d[nd] = tarn_heap_alloc_caps(h, 500, TARN_CAP_DMA)) != NULL) {
        CHECK_EQ(region_of(h, d[nd]), 1);
        check_fill(d[nd], 500, 100u + nd);
        nd++;
    }
    CHECK(nd > 5u && nd < 64u);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
    /* a DMA block growing beyond its region fails and stays */
    CHECK(tarn_heap_realloc(h, d[0], 6000) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
    CHECK(check_verify(d[0], 500, 100));
    CHECK_EQ(region_of(h, d[0]), 1);
    /* realloc_caps moves it where the new capabilities are */
    p = tarn_heap_realloc_caps(h, d[0], 6000, TARN_CAP_EXTERNAL);
    REQUIRE(p != NULL);
    CHECK_EQ(region_of(h, p), 2);
    CHECK(check_verify(p, 500, 100));
#if TARN_CHECK_LEVEL >= 1
    CHECK_EQ(tarn_heap_validate(h, d[0]), TARN_EDOUBLE);
#endif
    d[0] = p;
    /* ... and a block of region 2 whose request had no capability may go anywhere */
    CHECK_EQ(tarn_heap_free(h, d[0]), TARN_OK);
    d[0] = NULL;

    /* plain requests: region 0 until it is full, then the next regions in order */
    {
        void *pl[400];
        unsigned np = 0, seen[4] = {0, 0, 0, 0};
        while (np < 400u && (pl[np] = tarn_heap_alloc(h, 900)) != NULL) {
            unsigned ri = region_of(h, pl[np]);
            CHECK(ri < 4u);
            if (ri < 4u) seen[ri]++;
            /* never back to an earlier region once it moved on */
            if (np > 0u) CHECK(ri >= region_of(h, pl[np - 1u]));
            np++;
        }
        CHECK(seen[0] > 0u && seen[2] > 0u);
        /* a plain block moved by realloc keeps no capability: region 0 full, so it goes
         * to a later region */
        p = tarn_heap_alloc(h, 40);
        if (p != NULL) CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
        check_sums(h);
        while (np > 0u) CHECK_EQ(tarn_heap_free(h, pl[--np]), TARN_OK);
    }

    /* realloc of a DMA block that must move: only into a DMA region */
    for (i = 1; i + 1u < nd; i += 2u) {
        CHECK_EQ(tarn_heap_free(h, d[i]), TARN_OK);
        d[i] = NULL;
    }
    for (i = 0; i < nd; i++) {
        if (d[i] == NULL) continue;
        p = tarn_heap_realloc(h, d[i], 900);
        if (p != NULL) {
            CHECK_EQ(region_of(h, p), 1);
            CHECK(check_verify(p, 500, 100u + i));
            d[i] = p;
        } else {
            CHECK_EQ(region_of(h, d[i]), 1);
            CHECK(check_verify(d[i], 500, 100u + i));
        }
    }
    check_sums(h);
    for (i = 0; i < nd; i++) {
        if (d[i] != NULL) CHECK_EQ(tarn_heap_free(h, d[i]), TARN_OK);
    }
    CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, e), TARN_OK);
    check_sums(h);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
#if TARN_CHECK_LEVEL >= 1
    CHECK(tarn_heap_alloc(h, 8) == NULL);
#endif
}

/* Bad pointers across regions, with a gap between them. */
static void test_bad_pointers(void)
{
#if TARN_CHECK_LEVEL >= 1
    tarn_heap *h;
    unsigned char *a, *b, *c, *m0 = big, *m1 = big + 8192, *m2 = big + 20000;
    tarn_heap_stats before, after;
    unsigned i;
    REQUIRE(tarn_heap_init(&h, m0, 4096, NULL) == TARN_OK);
    REQUIRE(tarn_heap_add_region(h, m1, 4096, TARN_CAP_DMA) == TARN_OK);
    REQUIRE(tarn_heap_add_region(h, m2, 8192, TARN_CAP_EXTERNAL) == TARN_OK);
    a = (unsigned char *)tarn_heap_alloc_caps(h, 100, TARN_CAP_DMA);
    b = (unsigned char *)tarn_heap_alloc_caps(h, 100, TARN_CAP_EXTERNAL);
    c = (unsigned char *)tarn_heap_alloc_caps(h, 100, TARN_CAP_EXTERNAL);
    REQUIRE(a != NULL && b != NULL && c != NULL);
    memset(a, 0, 100);
    memset(b, 0, 100);
    CHECK_EQ(tarn_heap_free(h, c), TARN_OK);
    CHECK_EQ(tarn_heap_stats_get(h, &before), TARN_OK);
    {
        const void *bad[] = {
            m1 - 16,            /* gap between region 0 and region 1 */
            m1 + 4096 + 64,     /* gap between region 1 and region 2 */
            m1 + 8,             /* region 1's control part */
            m2 + 16,            /* region 2's control part */
            m2 + 8192 - 8,      /* region 2's sentinel / slack */
            m2 + 8192 + 4096,   /* past the last region */
            a + 8, a + 1, b + 16, b - 8,   /* interior, misaligned, header */
            big + sizeof big - 8, (const void *)(uintptr_t)16u,
        };
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            unsigned r;
            CHECK_EQ(tarn_heap_free(h, (void *)(uintptr_t)bad[i]), TARN_EFOREIGN);
            CHECK_EQ(tarn_heap_last_error(h), TARN_EFOREIGN);
            CHECK_EQ(tarn_heap_validate(h, bad[i]), TARN_EFOREIGN);
            CHECK_EQ(tarn_heap_usable_size(h, bad[i]), 0);
            CHECK_EQ(tarn_heap_region_of(h, bad[i], &r), TARN_EFOREIGN);
            CHECK(tarn_heap_realloc(h, (void *)(uintptr_t)bad[i], 10) == NULL);
            CHECK_EQ(tarn_heap_resize(h, (void *)(uintptr_t)bad[i], 10), TARN_EFOREIGN);
        }
    }
    CHECK_EQ(tarn_heap_free(h, c), TARN_EDOUBLE);           /* freed, in region 2 */
    CHECK_EQ(tarn_heap_validate(h, c), TARN_EDOUBLE);
    CHECK(tarn_heap_realloc(h, c, 10) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EDOUBLE);
    CHECK_EQ(tarn_heap_free(h, NULL), TARN_EINVAL);
    CHECK_EQ(tarn_heap_stats_get(h, &after), TARN_OK);
    CHECK_EQ(after.used, before.used);
    CHECK_EQ(after.live_blocks, before.live_blocks);
    CHECK_EQ(after.total_frees, before.total_frees);
    CHECK_EQ(after.failed_allocs, before.failed_allocs + 12u + 1u);   /* the reallocs */
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    /* resize and usable_size in a region */
    CHECK_EQ(tarn_heap_resize(h, b, 300), TARN_OK);
    CHECK(tarn_heap_usable_size(h, b) >= 300u);
    CHECK_EQ(tarn_heap_resize(h, a, 20), TARN_OK);
    CHECK(tarn_heap_usable_size(h, a) >= 20u && tarn_heap_usable_size(h, a) < 100u);
    check_sums(h);
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
    check_sums(h);
#endif
}

/* Regions from the smallest to HUGE (64 MiB on a host), added between allocations. */
static void test_sizes(void)
{
    tarn_heap *h;
    unsigned char *huge = (unsigned char *)malloc(HUGE);
    void *p[8], *x;
    tarn_heap_region r;
    unsigned i;
    REQUIRE(huge != NULL);
    REQUIRE(tarn_heap_init(&h, big, SMALL_REGION, NULL) == TARN_OK);
    p[0] = tarn_heap_alloc(h, 8);
    REQUIRE(p[0] != NULL);
    CHECK(tarn_heap_alloc(h, 4096) == NULL);
    REQUIRE(tarn_heap_add_region(h, huge, HUGE, TARN_CAP_EXTERNAL) == TARN_OK);
    p[1] = tarn_heap_alloc(h, 4096);              /* now served by the big region */
    REQUIRE(p[1] != NULL);
    CHECK_EQ(region_of(h, p[1]), 1);
    REQUIRE(tarn_heap_add_region(h, big + 4096, SMALL_REGION, TARN_CAP_DMA) == TARN_OK);
    p[2] = tarn_heap_alloc_caps(h, 8, TARN_CAP_DMA);
    REQUIRE(p[2] != NULL);
    CHECK_EQ(region_of(h, p[2]), 2);
    p[3] = tarn_heap_alloc_caps(h, HUGE / 4u * 3u, TARN_CAP_EXTERNAL);
    REQUIRE(p[3] != NULL);
    CHECK_EQ(region_of(h, p[3]), 1);
    memset(p[3], 0x5A, HUGE / 4u * 3u);
    CHECK(tarn_heap_alloc_caps(h, HUGE / 4u * 3u, TARN_CAP_EXTERNAL) == NULL);
    /* the block grows in place to 15/16 of the region */
    x = tarn_heap_realloc(h, p[3], HUGE / 16u * 15u);
    CHECK(x == p[3]);
    CHECK_EQ(tarn_heap_region_get(h, 1, &r), TARN_OK);
    CHECK(r.mem == huge && r.size == HUGE && r.caps == TARN_CAP_EXTERNAL);
    CHECK(r.stats.used >= HUGE / 16u * 15u + 4096u);
    CHECK_EQ(tarn_heap_region_get(h, 2, &r), TARN_OK);
    CHECK(r.size == SMALL_REGION && r.stats.live_blocks == 1u);
    check_sums(h);
    /* the small regions can hold what their size promises */
    for (i = 4; i < 8; i++) p[i] = tarn_heap_alloc_caps(h, 8, TARN_CAP_DMA);
    check_sums(h);
    for (i = 0; i < 8; i++) {
        if (p[i] != NULL) CHECK_EQ(tarn_heap_free(h, p[i]), TARN_OK);
    }
    check_sums(h);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    free(huge);
}

/* realloc keeps the request's capabilities: two DMA regions, a full first one. */
static void test_realloc_keeps_caps(void)
{
    tarn_heap *h;
    void *p, *q, *fill[256];
    unsigned n = 0, i;
    REQUIRE(tarn_heap_init(&h, big, 4096, NULL) == TARN_OK);
    CHECK_EQ(tarn_heap_set_caps(h, 0, TARN_CAP_DMA), TARN_OK);
    REQUIRE(tarn_heap_add_region(h, big + 8192, 65536, TARN_CAP_EXTERNAL) == TARN_OK);
    REQUIRE(tarn_heap_add_region(h, big + 81920, 8192, TARN_CAP_DMA | TARN_CAP_USER(3)) == TARN_OK);
    p = tarn_heap_alloc_caps(h, 100, TARN_CAP_DMA);
    REQUIRE(p != NULL);
    CHECK_EQ(region_of(h, p), 0);
    check_fill(p, 100, 7);
    while (n < 256u && (fill[n] = tarn_heap_alloc(h, 64)) != NULL && region_of(h, fill[n]) == 0u) n++;
    /* region 0 is full: growing p moves it, to region 2 (DMA), not region 1 */
    q = tarn_heap_realloc(h, p, 2000);
    REQUIRE(q != NULL);
    CHECK_EQ(region_of(h, q), 2);
    CHECK(check_verify(q, 100, 7));
    /* the realloc_status variant, growing again, stays in DMA memory */
    {
        tarn_status st;
        void *r = tarn_heap_realloc_status(h, q, 7000, &st);
        CHECK(r != NULL && st == TARN_OK);
        if (r != NULL) {
            CHECK_EQ(region_of(h, r), 2);
            q = r;
        }
        r = tarn_heap_realloc_status(h, q, 20000, &st);   /* no DMA region holds it */
        CHECK(r == NULL && st == TARN_ENOMEM);
        CHECK(check_verify(q, 100, 7));
        r = tarn_heap_realloc_caps_status(h, q, 20000, 0u, &st);  /* any region */
        CHECK(r != NULL && st == TARN_OK);
        if (r != NULL) {
            CHECK_EQ(region_of(h, r), 1);
            CHECK(check_verify(r, 100, 7));
            q = r;
        }
    }
    /* many distinct capability sets: beyond the table, a block keeps its region's */
    for (i = 0; i < TARN_HEAP_CAP_SETS + 3u; i++) {
        void *t = tarn_heap_alloc_caps(h, 16, TARN_CAP_DMA | TARN_CAP_USER(3) | TARN_CAP_USER(8u + i));
        CHECK(t == NULL);   /* no region has user bit 8 + i */
        CHECK_EQ(tarn_heap_set_caps(h, 1, TARN_CAP_EXTERNAL | TARN_CAP_USER(8u + i)), TARN_OK);
        t = tarn_heap_alloc_caps(h, 16, TARN_CAP_USER(8u + i));
        REQUIRE(t != NULL);
        CHECK_EQ(region_of(h, t), 1);
        t = tarn_heap_realloc(h, t, 30000);       /* moves or grows: within region 1 */
        REQUIRE(t != NULL);
        CHECK_EQ(region_of(h, t), 1);
        CHECK_EQ(tarn_heap_free(h, t), TARN_OK);
    }
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
    while (n > 0u) CHECK_EQ(tarn_heap_free(h, fill[--n]), TARN_OK);
    check_sums(h);
}

/* A block with capabilities moved by realloc while the heap has one region (plain and
 * from aligned_alloc) keeps them: regions added afterwards without them never receive it
 * (found by fuzz/fuzz_heap_regions: the move of a one-region heap dropped the tag). */
static void test_moved_before_regions(void)
{
    unsigned pass;
    for (pass = 0; pass < 2u; pass++) {
        tarn_heap *h;
        void *p, *fence[8], *q, *r, *fill[64];
        unsigned n = 0, nf = 0;
        REQUIRE(tarn_heap_init(&h, big, 4096, NULL) == TARN_OK);
        CHECK_EQ(tarn_heap_set_caps(h, 0, TARN_CAP_DMA), TARN_OK);
        p = pass == 0u ? tarn_heap_alloc_caps(h, 40, TARN_CAP_DMA)
                       : tarn_heap_aligned_alloc_caps(h, 64, 40, TARN_CAP_DMA);
        REQUIRE(p != NULL);
        /* p cannot grow in place: a block right after it (an aligned block's padding
         * before it takes the first ones) */
        do {
            fence[nf] = tarn_heap_alloc(h, 16);
            REQUIRE(fence[nf] != NULL);
        } while ((unsigned char *)fence[nf++] < (unsigned char *)p && nf < 8u);
        REQUIRE((unsigned char *)fence[nf - 1u] > (unsigned char *)p);
        check_fill(p, 40, 11);
        q = tarn_heap_realloc(h, p, 300);        /* moves, within the one region */
        REQUIRE(q != NULL && q != p);
        CHECK(check_verify(q, 40, 11));
        if (pass == 1u) CHECK_EQ((uintptr_t)q & 63u, 0);
        /* a big region without DMA; then region 0 is filled */
        REQUIRE(tarn_heap_add_region(h, big + 65536, 65536, TARN_CAP_EXTERNAL) == TARN_OK);
        while (n < 64u && (fill[n] = tarn_heap_alloc_caps(h, 64, TARN_CAP_DMA)) != NULL) n++;
        CHECK(n < 64u);
        /* growing q beyond region 0: no DMA region has room, so it stays where it is */
        r = tarn_heap_realloc(h, q, 3000);
        CHECK(r == NULL);
        CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
        CHECK_EQ(region_of(h, q), 0);
        CHECK(check_verify(q, 40, 11));
        /* realloc_caps with no capabilities may move it to region 1 */
        r = tarn_heap_realloc_caps(h, q, 3000, 0u);
        REQUIRE(r != NULL);
        CHECK_EQ(region_of(h, r), 1);
        CHECK(check_verify(r, 40, 11));
        CHECK_EQ(tarn_heap_free(h, r), TARN_OK);
        while (nf > 0u) CHECK_EQ(tarn_heap_free(h, fence[--nf]), TARN_OK);
        while (n > 0u) CHECK_EQ(tarn_heap_free(h, fill[--n]), TARN_OK);
        check_sums(h);
        CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    }
}

/* ---- region-boundary overrun --------------------------------------------------------- */
#define OV_A 2048u
#define OV_B 4096u
static unsigned char ovbuf[OV_A + OV_B] __attribute__((aligned(64)));
typedef struct shadow {
    unsigned char *p;
    size_t n;
    unsigned char copy[160];
} shadow;

/* The memory [p, p + n) lies inside one of the regions' buffers and overlaps no live
 * block of the shadow list. */
static int placed_ok(const unsigned char *p, size_t n, const shadow *sh, unsigned nsh)
{
    unsigned i;
    if (p < ovbuf || p + n > ovbuf + sizeof ovbuf) return 0;
    if (p < ovbuf + OV_A && p + n > ovbuf + OV_A) return 0;   /* straddles the boundary */
    for (i = 0; i < nsh; i++) {
        if (sh[i].p != NULL && p < sh[i].p + sh[i].n && sh[i].p < p + n) return 0;
    }
    return 1;
}

/* last[0]: the last block of the walk; last[1]: the last used one. */
static bool last_cb(void *ctx, void *block, size_t size, bool used)
{
    void **last = (void **)ctx;
    (void)size;
    last[0] = block;
    if (used) last[1] = block;
    return true;
}

/* layout 0: region A (1, DMA) then region B (0, the heap itself) in memory; layout 1:
 * A is region 0, B region 1.  The last block of A is overrun by k bytes. */
static void test_boundary_overrun(void)
{
    unsigned k, layout, harmful = 0, detected = 0;
    for (layout = 0; layout < 2u; layout++) {
        for (k = 1; k <= 64u; k++) {
            tarn_heap *h;
            tarn_heap_stats s;
            shadow sh[24];
            unsigned nsh = 0, i, op, ra = layout == 0u ? 1u : 0u;
            unsigned char *last;
            void *lastw[2] = {NULL, NULL};
            size_t lastn, cnt[2];
            tarn_status st;
            const uint32_t ca = TARN_CAP_DMA, cb = TARN_CAP_USER(1);
            TARN_SAN_OPEN(ovbuf, sizeof ovbuf);   /* the previous trial's heap is gone */
            memset(ovbuf, 0x11, sizeof ovbuf);
            if (layout == 0u) {
                REQUIRE(tarn_heap_init(&h, ovbuf + OV_A, OV_B, NULL) == TARN_OK);
                REQUIRE(tarn_heap_set_caps(h, 0, cb) == TARN_OK);
                REQUIRE(tarn_heap_add_region(h, ovbuf, OV_A, ca) == TARN_OK);
            } else {
                REQUIRE(tarn_heap_init(&h, ovbuf, OV_A, NULL) == TARN_OK);
                REQUIRE(tarn_heap_set_caps(h, 0, ca) == TARN_OK);
                REQUIRE(tarn_heap_add_region(h, ovbuf + OV_A, OV_B, cb) == TARN_OK);
            }
            /* live blocks in region B, after A in memory */
            for (i = 0; i < 8u; i++) {
                sh[nsh].n = 40u + 8u * i;
                sh[nsh].p = (unsigned char *)tarn_heap_alloc_caps(h, sh[nsh].n, cb);
                REQUIRE(sh[nsh].p != NULL);
                check_fill(sh[nsh].p, sh[nsh].n, 1000u + i);
                memcpy(sh[nsh].copy, sh[nsh].p, sh[nsh].n);
                nsh++;
            }
            /* fill region A completely: its last block then ends at A's sentinel (in canary
             * mode a remainder too small for any request may follow it: the overrun then
             * hits the guard and that free block's header) */
            while ((last = (unsigned char *)tarn_heap_alloc_caps(h, 8, ca)) != NULL) {
            }
            REQUIRE(tarn_heap_region_walk(h, ra, last_cb, lastw) == TARN_OK);
            REQUIRE(lastw[1] != NULL);
            last = (unsigned char *)lastw[1];
            lastn = tarn_heap_usable_size(h, last);
            REQUIRE(lastn > 0u && lastn <= sizeof sh[0].copy);
            check_fill(last, lastn, 77);
            sh[nsh].p = last;
            sh[nsh].n = lastn;
            memcpy(sh[nsh].copy, last, lastn);
            nsh++;
            /* the bug: k bytes past the end of the last block of region A */
            for (i = 0; i < k; i++) {
                unsigned char *w = last + lastn + i;
                if (w < ovbuf + OV_A) {
                    test_poke8(w, (unsigned char)(0xA5u ^ i));   /* past the memory tools */
                } else {
                    *w = (unsigned char)(0xA5u ^ i);   /* region B's control part */
                }
            }
            /* the heap detects it: freeing the block, or the check */
            st = tarn_heap_free(h, last);
            if (st == TARN_OK) sh[nsh - 1u].p = NULL;
            if (st != TARN_OK || tarn_heap_check(h) != TARN_OK) detected++;
            /* no later call hands out memory outside the regions or over a live block,
             * and no live block changes; every failure has a status */
            for (op = 0; op < 200u; op++) {
                unsigned j = check_below(nsh);
                size_t n = 8u + check_below(120);
                unsigned char *p;
                switch (check_below(4)) {
                case 0:
                    p = (unsigned char *)tarn_heap_alloc_caps(h, n, check_below(2) ? ca : cb);
                    if (p != NULL) {
                        if (!placed_ok(p, n, sh, nsh)) harmful++;
                        if (nsh < 24u) {
                            sh[nsh].p = p;
                            sh[nsh].n = n;
                            check_fill(p, n, op);
                            memcpy(sh[nsh].copy, p, n);
                            nsh++;
                        }
                    } else {
                        CHECK(tarn_heap_last_error(h) != TARN_OK);
                    }
                    break;
                case 1:
                    if (sh[j].p != NULL && tarn_heap_free(h, sh[j].p) == TARN_OK) sh[j].p = NULL;
                    break;
                case 2:
                    if (sh[j].p != NULL) {
                        p = (unsigned char *)tarn_heap_realloc(h, sh[j].p, n);
                        if (p != NULL) {
                            if (memcmp(p, sh[j].copy, n < sh[j].n ? n : sh[j].n) != 0) harmful++;
                            sh[j].p = NULL;
                            if (!placed_ok(p, n, sh, nsh)) harmful++;
                            sh[j].p = p;
                            sh[j].n = n;
                            check_fill(p, n, op);
                            memcpy(sh[j].copy, p, n);
                        }
                    }
                    break;
                default:
                    (void)tarn_heap_stats_get(h, &s);
                    (void)tarn_heap_check(h);
                    cnt[0] = cnt[1] = 0;
                    (void)tarn_heap_walk(h, count_cb, cnt);
                    break;
                }
                for (i = 0; i < nsh; i++) {
                    if (sh[i].p != NULL && memcmp(sh[i].p, sh[i].copy, sh[i].n) != 0) harmful++;
                }
            }
        }
    }
    printf("region-boundary overrun by 1..64 bytes, 2 layouts: detected %u of 128, harmful "
           "outcomes %u\n",
           detected, harmful);
    CHECK_EQ(harmful, 0);
    CHECK_EQ(detected, 128);
}

int main(void)
{
    check_seed(22);
    test_placement();
    test_bad_pointers();         /* (level 0 trusts pointers: not run there) */
    test_sizes();
    test_realloc_keeps_caps();
    test_moved_before_regions();
#if TARN_CHECK_LEVEL >= 1
    test_boundary_overrun();
#endif
    return check_done();
}

#else
int main(void)
{
    tarn_heap *h;
    static unsigned char m[4096];
    REQUIRE(tarn_heap_init(&h, m, sizeof m, NULL) == TARN_OK);
    /* regions compiled out: adding one is refused, capabilities still select region 0 */
    CHECK(tarn_heap_add_region(h, m, 16, 0u) != TARN_OK);
    CHECK(tarn_heap_alloc_caps(h, 8, TARN_CAP_DMA) == NULL);
    CHECK_EQ(tarn_heap_set_caps(h, 0, TARN_CAP_DMA), TARN_OK);
    CHECK(tarn_heap_alloc_caps(h, 8, TARN_CAP_DMA) != NULL);
    return check_done();
}
#endif
