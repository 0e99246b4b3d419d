/* tarn-test: host-only */
/*
 * tests/test_heap_regions_attack.c - the heap's regions (tarn_heap_add_region, TARN_CAP_*,
 * the _caps allocators, set_caps, region_get/_walk/_of/_count) attacked from the header's
 * contract: regions adjacent to each other on either side, regions overlapping by one
 * byte (another region, or a live block of the same heap), every misalignment of start
 * and size against tarn_heap_init on the same buffer, wrap-around sizes, the region limit,
 * a broken heap, a static heap; placement by capabilities (none, unknown, user bits,
 * caps changed after allocations, more capability sets than the heap remembers, realloc
 * into other capabilities, over-alignment, calloc overflow); every address in and around
 * each region handed back as a pointer; the sum of the regions' statistics and walks
 * against the heap's after each step; an overrun from one region into the next; stray
 * writes (bit 0 and bit 7 of every byte) into the region table and a region's control
 * part: detected by tarn_heap_check, or harmless; growth stopping at a region's end;
 * realloc_caps in place; clear-freed and quarantine in added regions; region_count under
 * the lock; regions added by one thread while three others allocate and free through a
 * pthread lock hook (so the test is host-only).  Bugs it found (fixed in heap.c/heap.h):
 * the first region's table was not in TARN_HEAP_MIN_SIZE (TARN_HEAP_REGION_TABLE_BYTES
 * now), a damaged table made pointers "foreign", the ops pointer's check word missed
 * its top 16 bits on 64-bit hosts and tarn_heap_check did not verify it, region_count
 * read the table without the lock, and level 2 served _caps requests past a damaged
 * region 0.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "check.h"
#include "tarn/heap.h"
#include "../ports/posix/tarn_pthread.h"
#include "support/lock_hook.h"
#include "internal.h"   /* TARN_SAN_OPEN: the simulated damage is made past ASan */

#include <pthread.h>
#include <string.h>
#include <time.h>

#define ARENA 49152u
#define GUARD 64u
static union {
    tarn_heap_align_ a;
    unsigned char b[GUARD + ARENA + GUARD];
} arena_u;
#define ARENA_MEM (arena_u.b + GUARD)

static union {
    tarn_heap_align_ a;
    unsigned char b[8192];
} other_u;

static void arena_reset(void)
{
    TARN_SAN_OPEN(arena_u.b, sizeof arena_u.b);   /* heaps left undestroyed (damaged) */
    memset(arena_u.b, 0x5c, sizeof arena_u.b);
}

static int guards_intact(void)
{
    unsigned i;
    for (i = 0; i < GUARD; i++) {
        if (arena_u.b[i] != 0x5c || arena_u.b[GUARD + ARENA + i] != 0x5c) return 0;
    }
    return 1;
}

/* ---- consistency: regions sum to the heap, walks agree with stats ---------------------- */
typedef struct walk_acc {
    size_t blocks, used_blocks, free_blocks, used_bytes;
    unsigned char *lo, *hi;
    int outside;
} walk_acc;

static bool acc_cb(void *ctx, void *block, size_t size, bool used)
{
    walk_acc *a = ctx;
    unsigned char *p = block;
    a->blocks++;
    if (used) {
        a->used_blocks++;
        a->used_bytes += size;
    } else {
        a->free_blocks++;
    }
    if (a->lo != NULL && (p < a->lo || p + size > a->hi)) a->outside++;
    return true;
}

static int consistent_line;
static void consistent_at(tarn_heap *h, int line)
{
    tarn_heap_stats hs, sum;
    walk_acc all, part;
    unsigned r, n = tarn_heap_region_count(h);
    memset(&sum, 0, sizeof sum);
    memset(&all, 0, sizeof all);
    REQUIRE(n >= 1);
    consistent_line = line;
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_stats_get(h, &hs), TARN_OK);
    CHECK_EQ(tarn_heap_walk(h, acc_cb, &all), TARN_OK);
    for (r = 0; r < n; r++) {
        tarn_heap_region rg;
        memset(&part, 0, sizeof part);
        CHECK_EQ(tarn_heap_region_get(h, r, &rg), TARN_OK);
        part.lo = rg.mem;
        part.hi = (unsigned char *)rg.mem + rg.size;
        CHECK_EQ(tarn_heap_region_walk(h, r, acc_cb, &part), TARN_OK);
        CHECK_EQ(part.outside, 0);
        CHECK_EQ(part.used_blocks, rg.stats.live_blocks);
        CHECK_EQ(part.used_bytes, rg.stats.used);
        CHECK_EQ(part.free_blocks, rg.stats.free_blocks + rg.stats.held_blocks); /* walk: held = free */
        CHECK_EQ(rg.stats.used + rg.stats.free, rg.stats.capacity);
        CHECK(rg.stats.largest_free <= rg.stats.free);
        CHECK(rg.stats.capacity + rg.stats.overhead <= rg.size);
        sum.capacity += rg.stats.capacity;
        sum.used += rg.stats.used;
        sum.free += rg.stats.free;
        sum.free_blocks += rg.stats.free_blocks;
        sum.live_blocks += rg.stats.live_blocks;
        sum.total_allocs += rg.stats.total_allocs;
        sum.total_frees += rg.stats.total_frees;
        sum.overhead += rg.stats.overhead;
        sum.held_blocks += rg.stats.held_blocks;
        if (rg.stats.largest_free > sum.largest_free) sum.largest_free = rg.stats.largest_free;
    }
    CHECK_EQ(sum.capacity, hs.capacity);
    CHECK_EQ(sum.used, hs.used);
    CHECK_EQ(sum.free, hs.free);
    CHECK_EQ(sum.free_blocks, hs.free_blocks);
    CHECK_EQ(sum.live_blocks, hs.live_blocks);
    CHECK_EQ(sum.total_allocs, hs.total_allocs);
    CHECK_EQ(sum.total_frees, hs.total_frees);
    CHECK_EQ(sum.overhead, hs.overhead);
    CHECK_EQ(sum.held_blocks, hs.held_blocks);
    CHECK_EQ(sum.largest_free, hs.largest_free);
    CHECK_EQ(all.used_blocks, hs.live_blocks);
    CHECK_EQ(all.used_bytes, hs.used);
    CHECK_EQ(all.free_blocks, hs.free_blocks + hs.held_blocks);
    if (all.free_blocks != hs.free_blocks + hs.held_blocks) fprintf(stderr, "  (consistent() called at line %d)\n", consistent_line);
}

#define consistent(h) consistent_at((h), __LINE__)

static unsigned region_of(tarn_heap *h, const void *p)
{
    unsigned r = 99u;
    if (tarn_heap_region_of(h, p, &r) != TARN_OK) return 99u;
    return r;
}

/* ---- 1. adjacent regions: no merge across the boundary -------------------------------- */
static void test_adjacent(void)
{
    tarn_heap *h;
    unsigned char *m = ARENA_MEM;
    void *a[400], *b[400];
    size_t na = 0, nb = 0, i;
    tarn_heap_region r0, r1, r2;
    arena_reset();
    /* region 1 = [0, 4096), region 0 = [4096, 12288), region 2 = [12288, 16384) */
    REQUIRE(tarn_heap_init(&h, m + 4096, 8192, NULL) == TARN_OK);
    CHECK_EQ(tarn_heap_add_region(h, m, 4096, TARN_CAP_DMA), TARN_OK);
    CHECK_EQ(tarn_heap_add_region(h, m + 12288, 4096, TARN_CAP_EXTERNAL), TARN_OK);
    CHECK_EQ(tarn_heap_region_count(h), 3u);
    consistent(h);
    /* fill region 1 (before region 0) and region 2 (after it) with 24-byte blocks */
    while (na < 400 && (a[na] = tarn_heap_alloc_caps(h, 24, TARN_CAP_DMA)) != NULL) {
        CHECK_EQ(region_of(h, a[na]), 1u);
        memset(a[na], 0x11, 24);
        na++;
    }
    while (nb < 400 && (b[nb] = tarn_heap_alloc_caps(h, 24, TARN_CAP_EXTERNAL)) != NULL) {
        CHECK_EQ(region_of(h, b[nb]), 2u);
        memset(b[nb], 0x22, 24);
        nb++;
    }
    REQUIRE(na > 4 && nb > 4);
    consistent(h);
    /* fill region 0 completely too, with whatever sizes still fit */
    {
        void *c[800];
        size_t na0 = na;
        size_t nc = 0;
        size_t sz;
        for (sz = 4096; sz >= 1; sz /= 2) {
            void *p;
            while (nc < 800 && (p = tarn_heap_alloc_caps(h, sz, 0)) != NULL) {
                if (region_of(h, p) == 0u) {
                    c[nc++] = p;
                } else if (na < 400) {
                    a[na++] = p;   /* a small one in the rest of region 1 or 2 */
                }
            }
        }
        CHECK_EQ(tarn_heap_region_get(h, 0, &r0), TARN_OK);
        CHECK_EQ(r0.stats.free_blocks, 0u);
        consistent(h);
        /* free the last block of region 1 (just before region 0's buffer) and the first
         * block of region 0 (just after it): they must stay two free blocks */
        {
            void *last1 = NULL, *first0 = NULL, *last0 = NULL, *first2 = NULL;
            for (i = 0; i < na0; i++) {
                if (last1 == NULL || (unsigned char *)a[i] > (unsigned char *)last1) last1 = a[i];
            }
            for (i = 0; i < nc; i++) {
                if (first0 == NULL || (unsigned char *)c[i] < (unsigned char *)first0) first0 = c[i];
                if (last0 == NULL || (unsigned char *)c[i] > (unsigned char *)last0) last0 = c[i];
            }
            for (i = 0; i < nb; i++) {
                if (first2 == NULL || (unsigned char *)b[i] < (unsigned char *)first2) first2 = b[i];
            }
            CHECK_EQ(tarn_heap_free(h, last1), TARN_OK);
            CHECK_EQ(tarn_heap_free(h, first0), TARN_OK);
            CHECK_EQ(tarn_heap_free(h, last0), TARN_OK);
            CHECK_EQ(tarn_heap_free(h, first2), TARN_OK);
            CHECK_EQ(tarn_heap_region_get(h, 0, &r0), TARN_OK);
            CHECK_EQ(tarn_heap_region_get(h, 1, &r1), TARN_OK);
            CHECK_EQ(tarn_heap_region_get(h, 2, &r2), TARN_OK);
            CHECK_EQ(r0.stats.free_blocks, 2u);
            CHECK(r1.stats.free_blocks >= 1u);
            CHECK(r2.stats.free_blocks >= 1u);
            consistent(h);
            /* everything else intact */
            for (i = 0; i < na0; i++) {
                if (a[i] != last1) {
                    CHECK(((unsigned char *)a[i])[0] == 0x11 && ((unsigned char *)a[i])[23] == 0x11);
                }
            }
            for (i = 0; i < nb; i++) {
                if (b[i] != first2) {
                    CHECK(((unsigned char *)b[i])[0] == 0x22 && ((unsigned char *)b[i])[23] == 0x22);
                }
            }
            for (i = 0; i < nc; i++) {
                if (c[i] != first0 && c[i] != last0) CHECK_EQ(tarn_heap_free(h, c[i]), TARN_OK);
            }
        }
    }
    for (i = 0; i < na; i++) (void)tarn_heap_free(h, a[i]);
    for (i = 0; i < nb; i++) (void)tarn_heap_free(h, b[i]);
    consistent(h);
    CHECK_EQ(tarn_heap_region_get(h, 0, &r0), TARN_OK);
    CHECK_EQ(tarn_heap_region_get(h, 1, &r1), TARN_OK);
    CHECK_EQ(tarn_heap_region_get(h, 2, &r2), TARN_OK);
    CHECK_EQ(r0.stats.free_blocks, 1u);
    CHECK_EQ(r1.stats.free_blocks, 1u);
    CHECK_EQ(r2.stats.free_blocks, 1u);
    CHECK_EQ(r0.stats.used + r1.stats.used + r2.stats.used, 0u);
    CHECK(guards_intact());
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
}

/* ---- 2. overlaps by one byte, a live block as a region -------------------------------- */
static void test_overlap(void)
{
    tarn_heap *h;
    unsigned char *m = ARENA_MEM;
    tarn_heap_stats before, after;
    void *blk;
    unsigned n;
    arena_reset();
    REQUIRE(tarn_heap_init(&h, m + 8192, 8192, NULL) == TARN_OK);
    CHECK_EQ(tarn_heap_add_region(h, m + 24576, 4096, TARN_CAP_DMA), TARN_OK);
    blk = tarn_heap_alloc(h, 2048);
    REQUIRE(blk != NULL);
    CHECK_EQ(tarn_heap_stats_get(h, &before), TARN_OK);
    n = tarn_heap_region_count(h);
    /* one byte into region 0 from below / from above */
    CHECK_EQ(tarn_heap_add_region(h, m + 4096, 4097, 0), TARN_EINVAL);
    CHECK_EQ(tarn_heap_add_region(h, m + 16383, 4096, 0), TARN_EINVAL);
    /* one byte into region 1 from below / from above */
    CHECK_EQ(tarn_heap_add_region(h, m + 16384, 8193, 0), TARN_EINVAL);
    CHECK_EQ(tarn_heap_add_region(h, m + 24576 + 4095, 4096, 0), TARN_EINVAL);
    /* containing a region, contained in a region, the same buffer again */
    CHECK_EQ(tarn_heap_add_region(h, m, 40000, 0), TARN_EINVAL);
    CHECK_EQ(tarn_heap_add_region(h, m + 8192 + 1024, 2048, 0), TARN_EINVAL);
    CHECK_EQ(tarn_heap_add_region(h, m + 24576, 4096, 0), TARN_EINVAL);
    CHECK_EQ(tarn_heap_add_region(h, m + 8192, 8192, 0), TARN_EINVAL);
    /* the heap's own live block handed back as a region */
    CHECK_EQ(tarn_heap_add_region(h, blk, 2048, TARN_CAP_EXEC), TARN_EINVAL);
    /* NULL memory, wrap-around sizes */
    CHECK_EQ(tarn_heap_add_region(h, NULL, 4096, 0), TARN_EINVAL);
    CHECK_EQ(tarn_heap_add_region(h, m + 32768, SIZE_MAX, 0), TARN_EINVAL);
    CHECK_EQ(tarn_heap_add_region(h, m + 32768, SIZE_MAX - (size_t)(uintptr_t)(m + 32768) + 2u, 0),
             TARN_EINVAL);
    CHECK_EQ(tarn_heap_add_region(NULL, m + 32768, 4096, 0), TARN_EINVAL);
    /* nothing changed */
    CHECK_EQ(tarn_heap_region_count(h), n);
    CHECK_EQ(tarn_heap_stats_get(h, &after), TARN_OK);
    CHECK_EQ(after.capacity, before.capacity);
    CHECK_EQ(after.used, before.used);
    CHECK_EQ(after.free_blocks, before.free_blocks);
    consistent(h);
    CHECK_EQ(tarn_heap_free(h, blk), TARN_OK);
    /* exact neighbours on both sides of both regions are accepted */
#if TARN_HEAP_MAX_REGIONS >= 4
    CHECK_EQ(tarn_heap_add_region(h, m + 16384, 8192, TARN_CAP_USER(0)), TARN_OK);
    CHECK_EQ(tarn_heap_add_region(h, m + 4096, 4096, TARN_CAP_USER(1)), TARN_OK);
    CHECK_EQ(tarn_heap_region_count(h), 4u);
#endif
    consistent(h);
    CHECK(guards_intact());
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
}

/* ---- 3. every alignment and size near the minimum, against tarn_heap_init ------------ */
static void test_alignment_sizes(void)
{
    unsigned off;
    size_t d;
    for (off = 0; off < 16; off++) {
        for (d = 0; d < 2 * TARN_HEAP_GRANULE + 2; d++) {
            size_t size = TARN_HEAP_MIN_SIZE + TARN_HEAP_GRANULE - d;
            tarn_heap *h, *probe;
            tarn_status want, got;
            unsigned char *rm = ARENA_MEM + 16384 + off;
            tarn_heap_stats ps;
            unsigned char *fm = ARENA_MEM + 24576 + off;   /* first region added */
            size_t fsize = size + TARN_HEAP_REGION_TABLE_BYTES;
            arena_reset();
            want = tarn_heap_init(&probe, rm, size, NULL);
            memset(&ps, 0, sizeof ps);
            if (want == TARN_OK) CHECK_EQ(tarn_heap_stats_get(probe, &ps), TARN_OK);
            /* the first region added (holding the table) of size + the table's bound */
            arena_reset();
            REQUIRE(tarn_heap_init(&h, ARENA_MEM, 8192, NULL) == TARN_OK);
            got = tarn_heap_add_region(h, fm, fsize, TARN_CAP_EXEC);
            if (size >= TARN_HEAP_MIN_SIZE) CHECK_EQ(got, TARN_OK);
            if (got == TARN_OK) {
                tarn_heap_region rg;
                CHECK_EQ(tarn_heap_region_get(h, 1, &rg), TARN_OK);
                CHECK(rg.stats.capacity >= ps.capacity);
                CHECK(tarn_heap_alloc_caps(h, 1, TARN_CAP_EXEC) != NULL);
            } else {
                CHECK_EQ(tarn_heap_add_region(h, fm, 8192, TARN_CAP_EXEC), TARN_OK);
            }
            /* a later region is laid out exactly as a one-region heap of its size */
            got = tarn_heap_add_region(h, rm, size, TARN_CAP_DMA);
            CHECK_EQ(got, want);
            if (size >= TARN_HEAP_MIN_SIZE) CHECK_EQ(got, TARN_OK);
            if (got == TARN_OK) {
                tarn_heap_region rg;
                CHECK_EQ(tarn_heap_region_get(h, 2, &rg), TARN_OK);
                CHECK_EQ(rg.stats.capacity, ps.capacity);
                CHECK_EQ(rg.stats.overhead, ps.overhead);
                void *p = tarn_heap_alloc_caps(h, 1, TARN_CAP_DMA);
                CHECK(p != NULL);
                CHECK(p == NULL || ((uintptr_t)p % TARN_HEAP_GRANULE) == 0);
                CHECK(p == NULL ||
                      ((unsigned char *)p >= rm && (unsigned char *)p + 1 <= rm + size));
                CHECK_EQ(region_of(h, p), 2u);
                consistent(h);
                CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
            } else {
                CHECK_EQ(got, TARN_ETOOSMALL);
                CHECK_EQ(tarn_heap_region_count(h), 2u);
            }
            CHECK(guards_intact());
        }
    }
}

/* ---- 4. region limit, broken heap, static heap --------------------------------------- */
TARN_HEAP_DEFINE(sheap, 4096);

static void test_limits(void)
{
    tarn_heap *h;
    unsigned i;
    void *p;
    arena_reset();
    REQUIRE(tarn_heap_init(&h, ARENA_MEM, 2048, NULL) == TARN_OK);
    for (i = 1; i < TARN_HEAP_MAX_REGIONS; i++) {
        CHECK_EQ(tarn_heap_add_region(h, ARENA_MEM + 2048u * i, 2048, TARN_CAP_USER(i)), TARN_OK);
    }
    CHECK_EQ(tarn_heap_region_count(h), (unsigned)TARN_HEAP_MAX_REGIONS);
    CHECK_EQ(tarn_heap_add_region(h, ARENA_MEM + 2048u * i, 2048, 0), TARN_EOVERFLOW);
    CHECK_EQ(tarn_heap_region_count(h), (unsigned)TARN_HEAP_MAX_REGIONS);
    CHECK_EQ(tarn_heap_set_caps(h, TARN_HEAP_MAX_REGIONS, 0), TARN_ENOENT);
    {
        tarn_heap_region rg;
        CHECK_EQ(tarn_heap_region_get(h, TARN_HEAP_MAX_REGIONS, &rg), TARN_ENOENT);
        CHECK_EQ(tarn_heap_region_get(h, 0, NULL), TARN_EINVAL);
    }
    consistent(h);
    CHECK(guards_intact());
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    CHECK_EQ(tarn_heap_region_count(h), 0u);
    CHECK_EQ(tarn_heap_add_region(h, ARENA_MEM + 32768, 4096, 0), TARN_EINVAL);

    /* a broken heap stays broken after add_region */
    arena_reset();
    REQUIRE(tarn_heap_init(&h, ARENA_MEM, 4096, NULL) == TARN_OK);
    p = tarn_heap_alloc(h, 64);
    REQUIRE(p != NULL);
    {
        void *q = tarn_heap_alloc(h, 64);
        REQUIRE(q != NULL);
        CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
        TARN_SAN_OPEN((unsigned char *)q - 8, 24);
        memset((unsigned char *)q - 8, 0xff, 24); /* header and links of the free block */
        (void)tarn_heap_free(h, p);
        (void)tarn_heap_alloc(h, 16);
        CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
        {
            tarn_status sa = tarn_heap_add_region(h, ARENA_MEM + 8192, 8192, TARN_CAP_DMA);
            void *d = tarn_heap_alloc_caps(h, 16, TARN_CAP_DMA);
            if (d != NULL) fprintf(stderr, "broken heap: add_region %d, then a DMA block\n", (int)sa);
            CHECK(d == NULL);
        }
        q = tarn_heap_alloc(h, 16);
        CHECK(q == NULL);
        CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
    }

    /* a TARN_HEAP_DEFINE heap takes regions */
    arena_reset();
    REQUIRE(sheap_heap() != NULL);
    CHECK_EQ(tarn_heap_add_region(sheap_heap(), ARENA_MEM, 8192, TARN_CAP_EXTERNAL), TARN_OK);
    p = tarn_heap_alloc_caps(sheap_heap(), 100, TARN_CAP_EXTERNAL);
    CHECK(p != NULL && (unsigned char *)p >= ARENA_MEM && (unsigned char *)p < ARENA_MEM + 8192);
    CHECK_EQ(sheap_size(p) >= 100, 1);
    CHECK_EQ(sheap_free(p), TARN_OK);
    p = sheap_alloc(6000); /* too big for region 0: goes to region 1 */
    CHECK(p != NULL && (unsigned char *)p >= ARENA_MEM && (unsigned char *)p < ARENA_MEM + 8192);
    CHECK_EQ(sheap_free(p), TARN_OK);
    consistent(sheap_heap());
    CHECK(guards_intact());
}

/* ---- 5. placement by capabilities ----------------------------------------------------- */
static int in_region_with(tarn_heap *h, const void *p, uint32_t caps)
{
    unsigned r = region_of(h, p);
    tarn_heap_region rg;
    if (r == 99u || tarn_heap_region_get(h, r, &rg) != TARN_OK) return 0;
    return (rg.caps & caps) == caps;
}

static void test_caps(void)
{
    tarn_heap *h;
    tarn_status st;
    void *p, *q;
    unsigned i;
    unsigned char *m = ARENA_MEM;
    arena_reset();
    REQUIRE(tarn_heap_init(&h, m, 8192, NULL) == TARN_OK);
    CHECK_EQ(tarn_heap_add_region(h, m + 8192, 1024, TARN_CAP_DMA | TARN_CAP_INTERNAL), TARN_OK);
    CHECK_EQ(tarn_heap_add_region(h, m + 16384, 16384, TARN_CAP_EXTERNAL | TARN_CAP_USER(23)), TARN_OK);
    CHECK_EQ(tarn_heap_add_region(h, m + 36864, 8192, TARN_CAP_DMA | TARN_CAP_EXTERNAL | TARN_CAP_USER(5)), TARN_OK);

    p = tarn_heap_alloc_caps_status(h, 16, 0, &st);
    CHECK(st == TARN_OK && region_of(h, p) == 0u);
    CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
    /* a capability no region has */
    p = tarn_heap_alloc_caps_status(h, 16, TARN_CAP_EXEC, &st);
    CHECK(p == NULL);
    CHECK_EQ(st, TARN_ENOMEM);
    p = tarn_heap_alloc_caps_status(h, 16, TARN_CAP_USER(22), &st);
    CHECK(p == NULL && st == TARN_ENOMEM);
    /* user bit 23 (bit 31) */
    p = tarn_heap_alloc_caps(h, 16, TARN_CAP_USER(23));
    CHECK_EQ(region_of(h, p), 2u);
    CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
    /* DMA: region 1 first, region 3 when region 1 is too small */
    p = tarn_heap_alloc_caps(h, 16, TARN_CAP_DMA);
    CHECK_EQ(region_of(h, p), 1u);
    q = tarn_heap_alloc_caps(h, 2000, TARN_CAP_DMA);
    CHECK_EQ(region_of(h, q), 3u);
    CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
    /* aligned: an alignment larger than region 1 */
    q = tarn_heap_aligned_alloc_caps_status(h, 4096, 64, TARN_CAP_DMA, &st);
    CHECK(q != NULL && ((uintptr_t)q % 4096u) == 0);
    CHECK(in_region_with(h, q, TARN_CAP_DMA));
    CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
    q = tarn_heap_aligned_alloc_caps_status(h, (size_t)1 << 20, 64, TARN_CAP_DMA, &st);
    CHECK(q == NULL && st == TARN_ENOMEM);
    q = tarn_heap_aligned_alloc_caps_status(h, 24, 64, TARN_CAP_DMA, &st);
    CHECK(q == NULL && st == TARN_EINVAL);
    /* calloc overflow and zero */
    q = tarn_heap_calloc_caps_status(h, SIZE_MAX / 2, 3, TARN_CAP_DMA, &st);
    CHECK(q == NULL && st == TARN_EOVERFLOW);
    q = tarn_heap_calloc_caps_status(h, 0, 3, TARN_CAP_DMA, &st);
    CHECK(q == NULL && st == TARN_EINVAL);
    q = tarn_heap_calloc_caps(h, 100, 10, TARN_CAP_EXTERNAL);
    CHECK(q != NULL && region_of(h, q) == 2u);
    if (q != NULL) {
        for (i = 0; i < 1000; i++) {
            if (((unsigned char *)q)[i] != 0) break;
        }
        CHECK_EQ(i, 1000u);
    }
    /* realloc_caps into another set: contents kept, placed in a region with the new set */
    memset(q, 0x3c, 1000);
    q = tarn_heap_realloc_caps(h, q, 600, TARN_CAP_DMA | TARN_CAP_USER(5));
    CHECK(q != NULL && region_of(h, q) == 3u);
    if (q != NULL) {
        for (i = 0; i < 600; i++) {
            if (((unsigned char *)q)[i] != 0x3c) break;
        }
        CHECK_EQ(i, 600u);
    }
    /* a plain realloc then keeps the new set */
    q = tarn_heap_realloc(h, q, 6000);
    CHECK(q != NULL && in_region_with(h, q, TARN_CAP_DMA | TARN_CAP_USER(5)));
    CHECK(tarn_heap_realloc(h, q, 9000) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
    consistent(h);
    /* set_caps after allocations: region 0 becomes DMA and is then preferred */
    CHECK_EQ(tarn_heap_set_caps(h, 0, TARN_CAP_DMA), TARN_OK);
    {
        void *r = tarn_heap_alloc_caps(h, 16, TARN_CAP_DMA);
        CHECK_EQ(region_of(h, r), 0u);
        CHECK_EQ(tarn_heap_free(h, r), TARN_OK);
    }
    /* region 1 loses DMA: its block p, requested with DMA, must leave it when moved */
    CHECK_EQ(tarn_heap_set_caps(h, 1, TARN_CAP_INTERNAL), TARN_OK);
    p = tarn_heap_realloc(h, p, 3000);
    CHECK(p != NULL && in_region_with(h, p, TARN_CAP_DMA));
    CHECK_EQ(tarn_heap_set_caps(h, 4, 0), TARN_ENOENT);
    CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
    consistent(h);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    CHECK(guards_intact());
}

/* more capability sets than the heap remembers: realloc never drops a requested bit */
static void test_many_sets(void)
{
    tarn_heap *h;
    void *p[24];
    uint32_t want[24];
    unsigned i, k;
    unsigned char *m = ARENA_MEM;
    arena_reset();
    REQUIRE(tarn_heap_init(&h, m, 4096, NULL) == TARN_OK);
    /* region 1: every user bit 0..19 and DMA; region 2: every user bit, no DMA; region 3:
     * only even user bits and DMA */
    CHECK_EQ(tarn_heap_add_region(h, m + 4096, 12288, TARN_CAP_DMA | 0x0fffff00u), TARN_OK);
    CHECK_EQ(tarn_heap_add_region(h, m + 16384, 16384, 0x0fffff00u), TARN_OK);
    if (TARN_HEAP_MAX_REGIONS >= 4) {
        CHECK_EQ(tarn_heap_add_region(h, m + 32768, 16384, TARN_CAP_DMA | 0x05555500u), TARN_OK);
    }
    for (i = 0; i < 20; i++) {
        want[i] = TARN_CAP_USER(i) | (i % 2 == 0 ? TARN_CAP_DMA : 0u);
        p[i] = tarn_heap_alloc_caps(h, 32, want[i]);
        CHECK(p[i] != NULL && in_region_with(h, p[i], want[i]));
        if (p[i] != NULL) memset(p[i], (int)i, 32);
    }
    /* fill the region each lives in so that growing moves it */
    for (k = 0; k < 3; k++) {
        for (i = 0; i < 20; i++) {
            void *n = tarn_heap_realloc(h, p[i], 600 + 200 * k);
            if (n != NULL) {
                p[i] = n;
                CHECK(in_region_with(h, n, want[i]));
                CHECK(((unsigned char *)n)[0] == (unsigned char)i && ((unsigned char *)n)[31] == (unsigned char)i);
            }
        }
        consistent(h);
    }
    for (i = 0; i < 20; i++) CHECK_EQ(tarn_heap_free(h, p[i]), TARN_OK);
    consistent(h);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    CHECK(guards_intact());
}

/* ---- 6. every address handed back ------------------------------------------------------ */
static void test_bad_pointers(void)
{
    tarn_heap *h, *o;
    unsigned char *m = ARENA_MEM;
    void *live[64];
    size_t nl = 0, i;
    unsigned char *p;
    tarn_heap_stats before, after;
    arena_reset();
    REQUIRE(tarn_heap_init(&h, m + 1000, 6000, NULL) == TARN_OK);
    CHECK_EQ(tarn_heap_add_region(h, m + 7005, 3001, TARN_CAP_DMA), TARN_OK);   /* gap 5 B */
    CHECK_EQ(tarn_heap_add_region(h, m + 10006, 5000, TARN_CAP_EXTERNAL), TARN_OK); /* adjacent */
    CHECK_EQ(tarn_heap_add_region(h, m + 20000, 900, TARN_CAP_INTERNAL), TARN_OK); /* gap */
    REQUIRE(tarn_heap_init(&o, other_u.b, sizeof other_u.b, NULL) == TARN_OK);
    for (i = 0; i < 12; i++) {
        static const uint32_t cs[4] = {0, TARN_CAP_DMA, TARN_CAP_EXTERNAL, TARN_CAP_INTERNAL};
        void *q = tarn_heap_alloc_caps(h, 8 + 40 * (i % 3), cs[i % 4]);
        if (q != NULL) live[nl++] = q;
    }
    REQUIRE(nl >= 10);
    /* free some so that freed blocks exist too */
    CHECK_EQ(tarn_heap_free(h, live[4]), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, live[9]), TARN_OK);
    live[4] = NULL;
    live[9] = NULL;
    CHECK_EQ(tarn_heap_stats_get(h, &before), TARN_OK);
    for (p = m - 32; p < m + 21000; p++) {
        int is_live = 0;
        tarn_status v = tarn_heap_validate(h, p);
        for (i = 0; i < nl; i++) {
            if (live[i] == p) is_live = 1;
        }
        if (is_live) {
            CHECK_EQ(v, TARN_OK);
            CHECK(tarn_heap_usable_size(h, p) > 0);
        } else {
            CHECK(v == TARN_EFOREIGN || v == TARN_EDOUBLE);
            CHECK_EQ(tarn_heap_free(h, p), v);
            CHECK_EQ(tarn_heap_usable_size(h, p), 0u);
            CHECK(tarn_heap_realloc(h, p, 16) == NULL);
            CHECK_EQ(tarn_heap_resize(h, p, 8), v);
            {
                unsigned r = 7u;
                CHECK_EQ(tarn_heap_region_of(h, p, &r), v);
            }
        }
        /* the other heap rejects every pointer of h */
        if (((uintptr_t)p % TARN_HEAP_GRANULE) == 0) CHECK_EQ(tarn_heap_validate(o, p), TARN_EFOREIGN);
    }
    CHECK_EQ(tarn_heap_stats_get(h, &after), TARN_OK);
    CHECK_EQ(after.used, before.used);
    CHECK_EQ(after.live_blocks, before.live_blocks);
    CHECK_EQ(after.total_frees, before.total_frees);
    consistent(h);
    for (i = 0; i < nl; i++) {
        if (live[i] == NULL) continue;
        CHECK_EQ(tarn_heap_free(o, live[i]), TARN_EFOREIGN);
        CHECK_EQ(tarn_heap_free(h, live[i]), TARN_OK);
    }
    consistent(h);
    CHECK(guards_intact());
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    CHECK_EQ(tarn_heap_destroy(o), TARN_OK);
}

/* ---- 7. an overrun from the last block of one region into the next ------------------- */
static void test_overrun(void)
{
    unsigned len, only_next;
    for (only_next = 0; only_next < 2; only_next++)
    for (len = 8; len <= 256; len *= 2) {
        tarn_heap *h;
        unsigned char *m = ARENA_MEM;
        void *last = NULL, *q, *b2;
        size_t us;
        unsigned char *end0 = m + 4096;
        arena_reset();
        REQUIRE(tarn_heap_init(&h, m, 4096, NULL) == TARN_OK);
        CHECK_EQ(tarn_heap_add_region(h, m + 4096, 4096, TARN_CAP_DMA), TARN_OK);
        CHECK_EQ(tarn_heap_add_region(h, m + 8192, 4096, TARN_CAP_EXTERNAL), TARN_OK);
        b2 = tarn_heap_alloc_caps(h, 64, TARN_CAP_DMA);
        REQUIRE(b2 != NULL);
        while ((q = tarn_heap_alloc_caps(h, 8, 0)) != NULL && region_of(h, q) == 0u) last = q;
        if (q != NULL) (void)tarn_heap_free(h, q);
        REQUIRE(last != NULL);
        us = tarn_heap_usable_size(h, last);
        /* overrun: from the end of the block up to len bytes into region 1 */
        {
            unsigned char save[64];
            size_t gap = (size_t)(end0 - ((unsigned char *)last + us));
            REQUIRE(gap <= sizeof save);
            TARN_SAN_OPEN((unsigned char *)last + us, gap + len);
            memcpy(save, (unsigned char *)last + us, gap);
            memset((unsigned char *)last + us, 0xa5, gap + len);
            if (only_next) memcpy((unsigned char *)last + us, save, gap);
        }
        {
            tarn_status s1 = tarn_heap_free(h, b2);
            void *r = tarn_heap_alloc_caps(h, 16, TARN_CAP_DMA);
            tarn_status s2 = tarn_heap_check(h);
            tarn_heap_region rg;
            /* damage beyond region 1's first word (an unused table slot) is never taken
             * for a foreign pointer, never lets region 1 hand out a block, and check
             * always reports it; damage to region 0's tail is reported by check */
            if (len > 8u) {
                CHECK_EQ(s1, TARN_ECORRUPT);
                CHECK(r == NULL);
            } else {
                CHECK(s1 == TARN_OK || s1 == TARN_ECORRUPT);
            }
            if (len > 8u || !only_next) CHECK_EQ(s2, TARN_ECORRUPT);
            (void)tarn_heap_region_get(h, 1, &rg);
            (void)tarn_heap_walk(h, acc_cb, &(walk_acc){0, 0, 0, 0, NULL, NULL, 0});
            (void)tarn_heap_alloc_caps(h, 16, TARN_CAP_EXTERNAL);
            (void)tarn_heap_add_region(h, m + 16384, 4096, 0);
            (void)tarn_heap_free(h, last);
        }
        CHECK(guards_intact());
        /* nothing written beyond the damaged bytes: region 2 and after untouched except by
         * its own control part */
    }
}


/* ---- 8. a stray write into the region table: detected, or harmless -------------------- */
static void test_table_flips(void)
{
    size_t off;
    unsigned bit;
    unsigned undetected = 0, detected = 0;
    for (off = 0; off < TARN_HEAP_REGION_TABLE_BYTES; off++) {
        for (bit = 0; bit < 8; bit += 7) {
            tarn_heap *h;
            unsigned char *m = ARENA_MEM;
            unsigned char *t = m + 8192;  /* region 1 starts with the table */
            void *p1, *p2, *n1, *n2, *n0;
            tarn_status s;
            arena_reset();
            REQUIRE(tarn_heap_init(&h, m, 8192, NULL) == TARN_OK);
            REQUIRE(tarn_heap_add_region(h, t, 8192, TARN_CAP_DMA) == TARN_OK);
            REQUIRE(tarn_heap_add_region(h, m + 16384, 8192, TARN_CAP_EXTERNAL) == TARN_OK);
            p1 = tarn_heap_alloc_caps(h, 100, TARN_CAP_DMA);
            p2 = tarn_heap_alloc_caps(h, 100, TARN_CAP_EXTERNAL);
            REQUIRE(p1 != NULL && p2 != NULL);
            if ((unsigned char *)p1 <= t + off) continue;   /* past the control part */
            TARN_SAN_OPEN(t + off, 1);
            t[off] ^= (unsigned char)(1u << bit);
            s = tarn_heap_check(h);
            if (s == TARN_ECORRUPT) {
                detected++;
                /* nothing is served from, or freed into, a damaged table */
                {
                    tarn_status f1 = tarn_heap_free(h, p1), f2 = tarn_heap_free(h, p2);
                    tarn_status s3 = tarn_heap_check(h);
                    /* either the damage stays reported, or it was in state the heap
                     * derives again (past the table, a region's class summary on a
                     * 32-bit host): then everything is consistent again */
                    CHECK(f1 == TARN_OK || f1 == TARN_ECORRUPT || f1 == TARN_EFOREIGN);
                    CHECK(f2 == TARN_OK || f2 == TARN_ECORRUPT || f2 == TARN_EFOREIGN);
                    if (s3 == TARN_OK) consistent(h);
                }
                CHECK(guards_intact());
                continue;
            }
            undetected++;
            /* not detected: the byte must not matter */
            CHECK_EQ(s, TARN_OK);
            CHECK_EQ(region_of(h, p1), 1u);
            CHECK_EQ(region_of(h, p2), 2u);
            n0 = tarn_heap_alloc_caps(h, 40, 0);
            n1 = tarn_heap_alloc_caps(h, 40, TARN_CAP_DMA);
            n2 = tarn_heap_alloc_caps(h, 40, TARN_CAP_EXTERNAL);
            CHECK_EQ(region_of(h, n0), 0u);
            CHECK_EQ(region_of(h, n1), 1u);
            CHECK_EQ(region_of(h, n2), 2u);
            if (region_of(h, n1) != 1u || region_of(h, n2) != 2u) {
                fprintf(stderr, "table byte %u bit %u: undetected and not harmless\n",
                        (unsigned)off, bit);
            }
            CHECK_EQ(tarn_heap_free(h, p1), TARN_OK);
            CHECK_EQ(tarn_heap_free(h, p2), TARN_OK);
            CHECK_EQ(tarn_heap_free(h, n0), TARN_OK);
            CHECK_EQ(tarn_heap_free(h, n1), TARN_OK);
            CHECK_EQ(tarn_heap_free(h, n2), TARN_OK);
            consistent(h);
            CHECK(guards_intact());
        }
    }
    CHECK(detected > 0);
    (void)undetected;
}

/* ---- 9. a stray write into a later region's control part: detected, or harmless ------ */
static void test_control_flips(void)
{
    size_t off;
    unsigned bit;
    for (off = 0; off < sizeof(tarn_heap) + 64u; off++) {
        for (bit = 0; bit < 8; bit += 7) {
            tarn_heap *h;
            unsigned char *m = ARENA_MEM;
            unsigned char *c2 = m + 16384;   /* region 2: its control part, no table */
            void *p2, *n2;
            tarn_status s;
            arena_reset();
            REQUIRE(tarn_heap_init(&h, m, 8192, NULL) == TARN_OK);
            REQUIRE(tarn_heap_add_region(h, m + 8192, 8192, TARN_CAP_DMA) == TARN_OK);
            REQUIRE(tarn_heap_add_region(h, c2, 8192, TARN_CAP_EXTERNAL) == TARN_OK);
            p2 = tarn_heap_alloc_caps(h, 100, TARN_CAP_EXTERNAL);
            REQUIRE(p2 != NULL);
            if ((unsigned char *)p2 - 8 <= c2 + off) continue;
            TARN_SAN_OPEN(c2 + off, 1);
            c2[off] ^= (unsigned char)(1u << bit);
            s = tarn_heap_check(h);
            if (s == TARN_ECORRUPT) {
                /* (the O(1) paths need not see damage to counters or class tables that
                 * they do not read; nothing may be written outside the heap's memory) */
                (void)tarn_heap_alloc_caps(h, 16, TARN_CAP_EXTERNAL);
                (void)tarn_heap_free(h, p2);
                CHECK(guards_intact());
                continue;
            }
            CHECK_EQ(s, TARN_OK);
            n2 = tarn_heap_alloc_caps(h, 40, TARN_CAP_EXTERNAL);
            if (n2 == NULL) {
                /* only the region's "damage seen" flag itself: refusing is safe */
                CHECK_EQ(tarn_heap_last_error(h), TARN_ECORRUPT);
                CHECK(guards_intact());
                continue;
            }
            CHECK_EQ(region_of(h, n2), 2u);
            CHECK_EQ(region_of(h, p2), 2u);
            CHECK_EQ(tarn_heap_free(h, p2), TARN_OK);
            CHECK_EQ(tarn_heap_free(h, n2), TARN_OK);
            consistent(h);
            CHECK(guards_intact());
        }
    }
}

/* ---- 10. growing in place stops at a region's end, even with a free neighbour region --- */
static void test_resize_at_end(void)
{
    tarn_heap *h;
    unsigned char *m = ARENA_MEM;
    void *p, *q, *last = NULL;
    size_t us;
    arena_reset();
    REQUIRE(tarn_heap_init(&h, m, 4096, NULL) == TARN_OK);
    REQUIRE(tarn_heap_add_region(h, m + 4096, 8192, 0) == TARN_OK);  /* adjacent, empty */
    while ((p = tarn_heap_alloc_caps(h, 8, 0)) != NULL && region_of(h, p) == 0u) last = p;
    REQUIRE(p != NULL && last != NULL);
    CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
    us = tarn_heap_usable_size(h, last);
    CHECK_EQ(tarn_heap_resize(h, last, us + 64), TARN_ENOMEM);
    CHECK_EQ(tarn_heap_resize(h, last, us + 4096), TARN_ENOMEM);
    memset(last, 0x77, us);
    q = tarn_heap_realloc(h, last, us + 64);   /* moves into region 1 */
    CHECK(q != NULL && region_of(h, q) == 1u);
    CHECK(q != NULL && ((unsigned char *)q)[0] == 0x77 && ((unsigned char *)q)[us - 1] == 0x77);
    /* the block before region 1's first block is not free space of region 1 either */
    CHECK_EQ(tarn_heap_resize(h, q, 9000), TARN_ENOMEM);
    consistent(h);
    CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
    CHECK(guards_intact());
}

/* ---- 11. add_region from one thread while three threads allocate and free ------------- */
#define MT_WORKERS 3
#define MT_SLOTS 24
static tarn_pthread_lock mt_mutex = TARN_PTHREAD_LOCK_INIT;
static tarn_heap *mt_heap;
static int mt_done;   /* under mt_mutex: the adder has finished */

static int mt_adder_done(void)
{
    int d;
    tarn_pthread_lock_fn(&mt_mutex);
    d = mt_done;
    tarn_pthread_unlock_fn(&mt_mutex);
    return d;
}
typedef struct mt_worker {
    unsigned id;
    unsigned long allocs, frees, misplaced, damaged, bad_status;
    uint32_t rng;
} mt_worker;

static uint32_t mt_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

static void *mt_work(void *arg)
{
    mt_worker *w = arg;
    void *slot[MT_SLOTS];
    size_t len[MT_SLOTS];
    uint32_t want[MT_SLOTS];
    unsigned i, k;
    static const uint32_t cs[4] = {0u, TARN_CAP_DMA, TARN_CAP_EXTERNAL, TARN_CAP_DMA | TARN_CAP_EXTERNAL};
    memset(slot, 0, sizeof slot);
    for (k = 0; k < (unsigned)CHECK_ITERS(40000) || (k % 256u != 0u || !mt_adder_done()); k++) {
        i = mt_rand(&w->rng) % MT_SLOTS;
        if (slot[i] == NULL) {
            tarn_status st;
            uint32_t c = cs[mt_rand(&w->rng) % 4u];
            size_t n = 1u + mt_rand(&w->rng) % 300u;
            void *p = tarn_heap_alloc_caps_status(mt_heap, n, c, &st);
            if (p == NULL) {
                if (st != TARN_ENOMEM) w->bad_status++;
                continue;
            }
            w->allocs++;
            if (c != 0u) {
                unsigned r = 99u;
                tarn_heap_region rg;
                if (tarn_heap_region_of(mt_heap, p, &r) != TARN_OK ||
                    tarn_heap_region_get(mt_heap, r, &rg) != TARN_OK || (rg.caps & c) != c) {
                    w->misplaced++;
                }
            }
            memset(p, (int)(w->id * 16u + i), n);
            slot[i] = p;
            len[i] = n;
            want[i] = c;
        } else {
            unsigned char *p = slot[i];
            size_t j;
            for (j = 0; j < len[i]; j++) {
                if (p[j] != (unsigned char)(w->id * 16u + i)) {
                    w->damaged++;
                    break;
                }
            }
            (void)want[i];
            if (tarn_heap_free(mt_heap, p) != TARN_OK) {
                w->bad_status++;
            } else {
                w->frees++;
            }
            slot[i] = NULL;
        }
        if (k % 512u == 0u) (void)tarn_heap_region_count(mt_heap);
    }
    for (i = 0; i < MT_SLOTS; i++) {
        if (slot[i] != NULL) {
            if (tarn_heap_free(mt_heap, slot[i]) == TARN_OK) {
                w->frees++;
            } else {
                w->bad_status++;
            }
        }
    }
    return NULL;
}

static void *mt_adder(void *arg)
{
    unsigned *added = arg;
    static const uint32_t rc[3] = {TARN_CAP_DMA, TARN_CAP_EXTERNAL, TARN_CAP_DMA | TARN_CAP_EXTERNAL};
    unsigned r;
    for (r = 0; r + 1u < TARN_HEAP_MAX_REGIONS && r < 3u; r++) {
        struct timespec ts = {0, 300000L};
        nanosleep(&ts, NULL);
        if (tarn_heap_add_region(mt_heap, ARENA_MEM + 8192u * (r + 1u), 8192, rc[r]) == TARN_OK) {
            (*added)++;
        }
        (void)tarn_heap_check(mt_heap);
    }
    tarn_pthread_lock_fn(&mt_mutex);
    mt_done = 1;
    tarn_pthread_unlock_fn(&mt_mutex);
    return NULL;
}

static void test_threads(void)
{
    tarn_config cfg = {{tarn_pthread_lock_fn, tarn_pthread_unlock_fn, &mt_mutex}, "mt", 0u};
    pthread_t th[MT_WORKERS + 1];
    mt_worker w[MT_WORKERS];
    unsigned i, added = 0;
    unsigned long allocs = 0, frees = 0;
    tarn_heap_stats hs;
    arena_reset();
    REQUIRE(tarn_heap_init(&mt_heap, ARENA_MEM, 8192, &cfg) == TARN_OK);
    for (i = 0; i < MT_WORKERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].id = i;
        w[i].rng = 0x9E3779B9u * (i + 1u);
        REQUIRE(pthread_create(&th[i], NULL, mt_work, &w[i]) == 0);
    }
    REQUIRE(pthread_create(&th[MT_WORKERS], NULL, mt_adder, &added) == 0);
    for (i = 0; i <= MT_WORKERS; i++) REQUIRE(pthread_join(th[i], NULL) == 0);
    for (i = 0; i < MT_WORKERS; i++) {
        CHECK_EQ(w[i].misplaced, 0);
        CHECK_EQ(w[i].damaged, 0);
        CHECK_EQ(w[i].bad_status, 0);
        CHECK_EQ(w[i].allocs, w[i].frees);
        allocs += w[i].allocs;
        frees += w[i].frees;
    }
    CHECK_EQ(added, TARN_HEAP_MAX_REGIONS - 1u < 3u ? TARN_HEAP_MAX_REGIONS - 1u : 3u);
    CHECK_EQ(tarn_heap_region_count(mt_heap), 1u + added);
    CHECK_EQ(tarn_heap_stats_get(mt_heap, &hs), TARN_OK);
    fprintf(stderr, "threads: %lu allocs, %u regions added\n", allocs, added);
    CHECK_EQ(hs.total_allocs, allocs);
    CHECK_EQ(hs.total_frees, frees);
    CHECK_EQ(hs.used, 0u);
    CHECK_EQ(hs.live_blocks, 0u);
    CHECK_EQ(hs.free_blocks, 1u + added);
    consistent(mt_heap);
    CHECK(guards_intact());
    CHECK_EQ(tarn_heap_destroy(mt_heap), TARN_OK);
}

/* ---- 12. realloc_caps in place, aligned blocks across regions, flags in added regions --- */
static void test_realloc_flags(void)
{
    tarn_heap *h;
    unsigned char *m = ARENA_MEM;
    tarn_config cfg = {{NULL, NULL, NULL}, "f", TARN_HEAP_F_CLEAR_FREED};
    void *p, *q, *a;
    unsigned i;
    arena_reset();
    REQUIRE(tarn_heap_init(&h, m, 4096, &cfg) == TARN_OK);
    REQUIRE(tarn_heap_add_region(h, m + 4096, 8192, TARN_CAP_DMA) == TARN_OK);
    REQUIRE(tarn_heap_add_region(h, m + 12288, 16384, TARN_CAP_DMA | TARN_CAP_EXTERNAL) == TARN_OK);
    /* in place when the block's region has the new capabilities */
    p = tarn_heap_alloc_caps(h, 200, TARN_CAP_DMA | TARN_CAP_EXTERNAL);
    CHECK_EQ(region_of(h, p), 2u);
    q = tarn_heap_realloc_caps(h, p, 100, TARN_CAP_DMA);
    CHECK(q == p);
    q = tarn_heap_realloc_caps(h, p, 300, TARN_CAP_EXTERNAL);
    CHECK(q == p);
    /* NULL pointer: an allocation with caps; size 0: a free */
    a = tarn_heap_realloc_caps(h, NULL, 64, TARN_CAP_DMA);
    CHECK_EQ(region_of(h, a), 1u);
    CHECK(tarn_heap_realloc_caps(h, a, 0, TARN_CAP_EXTERNAL) == NULL);
    {
        tarn_status v = tarn_heap_validate(h, a);
        CHECK(v == TARN_EDOUBLE || v == TARN_EFOREIGN);
    }
    /* an aligned block moved to another region keeps its alignment */
    a = tarn_heap_aligned_alloc_caps(h, 256, 100, TARN_CAP_DMA);
    CHECK(a != NULL && ((uintptr_t)a & 255u) == 0 && region_of(h, a) == 1u);
    memset(a, 0x42, 100);
    q = tarn_heap_realloc(h, a, 9000);  /* too big for region 1 */
    CHECK(q != NULL && ((uintptr_t)q & 255u) == 0 && region_of(h, q) == 2u);
    CHECK(q != NULL && ((unsigned char *)q)[0] == 0x42 && ((unsigned char *)q)[99] == 0x42);
    /* the clear-freed flag applies in added regions: a freed block holds no user data */
    memset(p, 0x99, 300);
    CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
    TARN_SAN_OPEN(p, 300);   /* (reading freed memory on purpose) */
    for (i = 16; i < 300; i++) {
        if (((unsigned char *)p)[i] == 0x99) break;
    }
    CHECK_EQ(i, 300u);
    CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
    consistent(h);
    CHECK(guards_intact());
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
#if TARN_QUARANTINE > 0
    {
        tarn_config qc = {{NULL, NULL, NULL}, "q", TARN_F_QUARANTINE};
        void *b[8];
        tarn_heap_stats hs;
        arena_reset();
        REQUIRE(tarn_heap_init(&h, m, 4096, &qc) == TARN_OK);
        REQUIRE(tarn_heap_add_region(h, m + 4096, 8192, TARN_CAP_DMA) == TARN_OK);
        for (i = 0; i < 8; i++) {
            b[i] = tarn_heap_alloc_caps(h, 48, i % 2 ? TARN_CAP_DMA : 0u);
            REQUIRE(b[i] != NULL);
        }
        for (i = 0; i < 8; i++) CHECK_EQ(tarn_heap_free(h, b[i]), TARN_OK);
        for (i = 0; i < 8; i++) CHECK_EQ(tarn_heap_free(h, b[i]), TARN_EDOUBLE);
        CHECK_EQ(tarn_heap_stats_get(h, &hs), TARN_OK);
        CHECK_EQ(hs.held_blocks, 8u);
        CHECK_EQ(hs.live_blocks, 0u);
        CHECK_EQ(tarn_heap_check(h), TARN_OK);
        CHECK_EQ(tarn_heap_quarantine_flush(h), TARN_OK);
        CHECK_EQ(tarn_heap_stats_get(h, &hs), TARN_OK);
        CHECK_EQ(hs.held_blocks, 0u);
        CHECK_EQ(hs.free_blocks, 2u);
        consistent(h);
        CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    }
#endif
}

/* ---- 13. region_count takes the lock (add_region changes the count and its check word
 * under it: read without it, another thread could see the new count with the old check
 * word and be told "0 regions") ------------------------------------------------------------ */
static void test_count_locked(void)
{
    tarn_heap *h;
    tarn_config cfg = {LOCK_HOOK, "l", 0u};
    int before;
    arena_reset();
    REQUIRE(tarn_heap_init(&h, ARENA_MEM, 4096, &cfg) == TARN_OK);
    CHECK_EQ(tarn_heap_add_region(h, ARENA_MEM + 4096, 4096, TARN_CAP_DMA), TARN_OK);
    before = lock_calls;
    CHECK_EQ(tarn_heap_region_count(h), 2u);
    CHECK_EQ(lock_calls, before + 1);
    CHECK_EQ(lock_depth, 0);
    CHECK_EQ(lock_bad, 0);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
}

int main(void)
{
    test_adjacent();
    test_overlap();
    test_alignment_sizes();
    test_limits();
    test_caps();
    test_many_sets();
    test_bad_pointers();
    test_overrun();
    test_table_flips();
    test_control_flips();
    test_resize_at_end();
    test_realloc_flags();
    test_count_locked();
    test_threads();
    return check_done();
}
