/* tests/test_heap.c - the heap: every function, every bad input, corruption detection. */
#include "check.h"
#include "support/lock_hook.h"
#include "tarn/heap.h"
#include "internal.h"
#include "support/poke.h"

#define GR TARN_HEAP_GRANULE
#define ARENA 16384u
/* a request's usable size: rounded up to the granule, or exact in canary mode */
#define RU(n) (TARN_GUARD ? (size_t)(n) : TARN_ALIGN_UP((size_t)(n), GR))
#define BB(n) TARN_HEAP_BLOCK_BYTES(n)   /* bytes of blocks it consumes */
#define XB TARN_HEAP_EXTRA               /* guard and trailer (canary mode), else 0 */
/* the largest request served by the smallest block */
#define MINREQ (TARN_HEAP_BLOCK_BYTES(1) - TARN_HEAP_EXTRA - GR)

static unsigned char mem[ARENA + 64] __attribute__((aligned(64)));
static unsigned char mem2[4096] __attribute__((aligned(64)));

TARN_HEAP_DEFINE(app, 4096);

/* ---- helpers ------------------------------------------------------------------------- */

/* Write into memory the heap keeps inaccessible (free blocks), as a damaging bug would,
 * without tripping the memory tools. */
static void poke32(void *p, uint32_t v)
{
    test_poke(p, &v, 4);
}
/* The used-start bitmap: right after the control structure (heap.c's layout). */
static uint32_t *umap_of(tarn_heap *h)
{
    return (uint32_t *)(void *)((unsigned char *)h + sizeof(tarn_heap));
}
static uint32_t peek32(const void *p)
{
    uint32_t v;
    tarn_san_peek(&v, p, 4);
    return v;
}

/* The class of a free block of u granules (heap.c's class(u)). */
static uint32_t cls(const tarn_heap *h, size_t u)
{
    uint32_t e;
    if (u < (2u << h->k)) return (uint32_t)u;
    e = tarn_log2_u32((uint32_t)u) - h->k;
    return (e << h->k) + ((uint32_t)u >> e);
}

/* The heap living in `mem`: destroyed before the buffer is reused (the memory tools
 * keep its free parts inaccessible until then). */
static tarn_heap *cur;
static void drop(void)
{
    if (cur != NULL) (void)tarn_heap_destroy(cur);
    cur = NULL;
}
static tarn_heap *fresh(size_t size, const tarn_config *cfg)
{
    drop();
    memset(mem, 0xEE, sizeof mem);   /* garbage before init */
    REQUIRE(tarn_heap_init(&cur, mem, size, cfg) == TARN_OK && cur != NULL);
    return cur;
}

static size_t used_of(tarn_heap *h)
{
    tarn_heap_stats st;
    REQUIRE(tarn_heap_stats_get(h, &st) == TARN_OK);
    return st.used;
}

/* ---- init ---------------------------------------------------------------------------- */
static void test_init(void)
{
    tarn_heap *h = (tarn_heap *)(void *)&lock_depth;   /* must be overwritten with NULL */
    tarn_config cfg;
    size_t mis;
    memset(&cfg, 0, sizeof cfg);

    CHECK_EQ(tarn_heap_init(NULL, mem, ARENA, NULL), TARN_EINVAL);
    CHECK_EQ(tarn_heap_init(&h, NULL, ARENA, NULL), TARN_EINVAL);
    CHECK(h == NULL);
    CHECK_EQ(tarn_heap_init(&h, mem, 0, NULL), TARN_ETOOSMALL);
    CHECK_EQ(tarn_heap_init(&h, mem, 100, NULL), TARN_ETOOSMALL);
    cfg.lock.lock = t_lock;                               /* half a hook */
    CHECK_EQ(tarn_heap_init(&h, mem, ARENA, &cfg), TARN_EINVAL);
    cfg.lock.lock = NULL;
    cfg.lock.unlock = t_unlock;
    CHECK_EQ(tarn_heap_init(&h, mem, ARENA, &cfg), TARN_EINVAL);
    cfg.lock.unlock = NULL;
    cfg.flags = 0x80u;                                    /* unknown flag */
    CHECK_EQ(tarn_heap_init(&h, mem, ARENA, &cfg), TARN_EINVAL);
    CHECK(h == NULL);

    /* TARN_HEAP_MIN_SIZE works for every alignment of the buffer; one byte less does
     * not for the worst one */
    for (mis = 0; mis < GR; mis++) {
        void *p;
        CHECK_EQ(tarn_heap_init(&h, mem + mis, TARN_HEAP_MIN_SIZE, NULL), TARN_OK);
        CHECK(h != NULL && (uintptr_t)h % GR == 0u);
        p = tarn_heap_alloc(h, MINREQ);
        CHECK(p != NULL);
        CHECK(tarn_heap_alloc(h, 1) == NULL);
        CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
        CHECK_EQ(tarn_heap_check(h), TARN_OK);
        CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    }
    CHECK_EQ(tarn_heap_init(&h, mem + 1, TARN_HEAP_MIN_SIZE - 1u, NULL), TARN_ETOOSMALL);
    CHECK(h == NULL);

    /* every size from the minimum to a few KiB gives a consistent heap */
    for (mis = TARN_HEAP_MIN_SIZE; mis < 3000u; mis += 37u) {
        tarn_heap_stats st;
        CHECK_EQ(tarn_heap_init(&h, mem + (mis & 7u), mis, NULL), TARN_OK);
        CHECK_EQ(tarn_heap_check(h), TARN_OK);
        CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
        CHECK(st.capacity + st.overhead == mis && (st.capacity + XB) % GR == 0u && st.capacity > 0u);
        CHECK_EQ(st.largest_free, st.capacity);
        CHECK(tarn_heap_alloc(h, st.capacity) != NULL);   /* the whole heap in one block */
        CHECK_EQ(tarn_heap_check(h), TARN_OK);
        CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    }

    /* a name and flags */
    cfg.flags = TARN_HEAP_F_CLEAR_FREED;
    cfg.name = "main";
    h = fresh(ARENA, &cfg);
    CHECK(strcmp(tarn_heap_name(h), "main") == 0);
    CHECK(tarn_heap_name(NULL) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_OK);
    CHECK_EQ(tarn_heap_last_error(NULL), TARN_EINVAL);
    /* overhead: control structure, class table (k = 1 here: 2 classes per power of
     * two), used-start bitmap, the free block's header and the sentinel: under 3 % of a
     * 16 KiB buffer on 32-bit hosts (the control structure is larger on 64-bit) */
    {
        tarn_heap_stats st;
        CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
#if TARN_QUARANTINE > 0
        size_t ring = sizeof(tarn_quarantine);   /* debug builds: the ring in the struct */
#else
        size_t ring = 0u;
#endif
        CHECK((st.overhead - XB - ring) * 100u < ARENA * (sizeof(void *) == 4u ? 3u : 4u));
        CHECK_EQ(h->k, 1);
    }
}

/* ---- allocation ------------------------------------------------------------------------ */
static void test_alloc(void)
{
    tarn_heap *h = fresh(ARENA, NULL);
    tarn_heap_stats st;
    unsigned char *p[8];
    static const size_t sizes[] = {1, 8, 24, 100, 1000};
    size_t i, cap;

    CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
    cap = st.capacity;

    CHECK(tarn_heap_alloc(h, 0) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EINVAL);
    CHECK(tarn_heap_alloc(h, SIZE_MAX) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
    CHECK(tarn_heap_alloc(h, SIZE_MAX - GR + 2u) == NULL);
    CHECK(tarn_heap_alloc(h, SIZE_MAX / 2u + 1u) == NULL);
    CHECK(tarn_heap_alloc(h, cap + 1u) == NULL);
    CHECK(tarn_heap_alloc(NULL, 8) == NULL);
    CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
    CHECK_EQ(st.failed_allocs, 5);
    CHECK_EQ(st.used, 0);

    /* bytes of blocks one allocation consumes: its size rounded up to the granule */
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t before = used_of(h);
        p[i] = (unsigned char *)tarn_heap_alloc(h, sizes[i]);
        REQUIRE(p[i] != NULL);
        CHECK(((uintptr_t)p[i] & (GR - 1u)) == 0u);
        CHECK_EQ(used_of(h) - before, RU(sizes[i]));
        CHECK_EQ(tarn_heap_usable_size(h, p[i]), RU(sizes[i]));
        memset(p[i], (int)i, tarn_heap_usable_size(h, p[i]));
    }
    if (GR <= 16u) CHECK(TARN_ALIGN_UP(1u, GR) <= 16u && TARN_ALIGN_UP(8u, GR) <= 16u);
    for (i = 0; i < 5; i++) {
        size_t k;
        for (k = 0; k < tarn_heap_usable_size(h, p[i]); k++) CHECK(p[i][k] == (unsigned char)i);
        CHECK_EQ(tarn_heap_free(h, p[i]), TARN_OK);
    }
    CHECK_EQ(tarn_heap_check(h), TARN_OK);

    /* the whole capacity in one block, then nothing more */
    p[0] = (unsigned char *)tarn_heap_alloc(h, cap);
    CHECK(p[0] != NULL);
    CHECK(tarn_heap_alloc(h, 1) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
    CHECK_EQ(tarn_heap_free(h, p[0]), TARN_OK);

    /* calloc: zeroed even over dirty memory; overflow; zero */
    p[0] = (unsigned char *)tarn_heap_alloc(h, 256);
    memset(p[0], 0xFF, 256);
    CHECK_EQ(tarn_heap_free(h, p[0]), TARN_OK);
    p[1] = (unsigned char *)tarn_heap_calloc(h, 32, 8);
    REQUIRE(p[1] != NULL);
    for (i = 0; i < 256; i++) CHECK(p[1][i] == 0);
    CHECK(tarn_heap_calloc(h, SIZE_MAX / 2u, 3) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EOVERFLOW);
    CHECK(tarn_heap_calloc(h, (size_t)1 << (sizeof(size_t) * 4u), (size_t)1 << (sizeof(size_t) * 4u)) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EOVERFLOW);
    CHECK(tarn_heap_calloc(h, 0, 8) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EINVAL);
    CHECK(tarn_heap_calloc(h, 8, 0) == NULL);
    CHECK(tarn_heap_calloc(NULL, 1, 1) == NULL);
    CHECK_EQ(tarn_heap_free(h, p[1]), TARN_OK);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(used_of(h), 0);
}

static void test_aligned(void)
{
    tarn_heap *h = fresh(ARENA, NULL);
    unsigned char *p, *q[12];
    size_t a, i;
    CHECK(tarn_heap_aligned_alloc(h, 0, 8) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EINVAL);
    CHECK(tarn_heap_aligned_alloc(h, 24, 8) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EINVAL);
    CHECK(tarn_heap_aligned_alloc(h, 3, 8) == NULL);
    CHECK(tarn_heap_aligned_alloc(h, 64, 0) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EINVAL);
    CHECK(tarn_heap_aligned_alloc(h, (size_t)1 << (sizeof(size_t) * 8u - 1u), 8) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
    CHECK(tarn_heap_aligned_alloc(h, 64, SIZE_MAX) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
    CHECK(tarn_heap_aligned_alloc(NULL, 64, 8) == NULL);
    /* small alignments are plain allocations */
    for (a = 1; a <= GR; a <<= 1) {
        p = (unsigned char *)tarn_heap_aligned_alloc(h, a, 3);
        CHECK(p != NULL && tarn_heap_usable_size(h, p) == RU(3));
        CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
    }
    for (i = 0, a = 2u * GR; a <= 4096u; a <<= 1, i++) {
        q[i] = (unsigned char *)tarn_heap_aligned_alloc(h, a, 10u + i);
        REQUIRE(q[i] != NULL);
        CHECK(((uintptr_t)q[i] & (a - 1u)) == 0u);
        CHECK_EQ(tarn_heap_usable_size(h, q[i]), RU(10u + i));
        CHECK_EQ(tarn_heap_validate(h, q[i]), TARN_OK);
        memset(q[i], 0x5A, 10u + i);
        CHECK_EQ(tarn_heap_check(h), TARN_OK);
    }
    while (i-- > 0) CHECK_EQ(tarn_heap_free(h, q[i]), TARN_OK);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(used_of(h), 0);
    {
        tarn_heap_stats st;
        CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
        CHECK_EQ(st.free_blocks, 1);
    }
}

/* ---- realloc / resize ------------------------------------------------------------------- */
static void test_realloc(void)
{
    tarn_heap *h = fresh(ARENA, NULL);
    unsigned char *a, *b, *c, *q;
    tarn_heap_stats st;
    size_t i;

    /* NULL: an allocation; 0: a free */
    a = (unsigned char *)tarn_heap_realloc(h, NULL, 40);
    CHECK(a != NULL && tarn_heap_usable_size(h, a) == RU(40));
    CHECK(tarn_heap_realloc(h, a, 0) == NULL);
    CHECK_EQ(used_of(h), 0);
    CHECK_EQ(tarn_heap_validate(h, a), TARN_EDOUBLE);    /* the free rest merged into it */
    CHECK(tarn_heap_realloc(NULL, NULL, 8) == NULL);

    /* a b c side by side (each cut from the front of the free rest) */
    a = (unsigned char *)tarn_heap_alloc(h, 64);
    b = (unsigned char *)tarn_heap_alloc(h, 64);
    c = (unsigned char *)tarn_heap_alloc(h, 64);
    REQUIRE(a && b && c);
    CHECK(b == a + BB(64) && c == b + BB(64));
    for (i = 0; i < 64; i++) b[i] = (unsigned char)i;
    /* shrink in place, same pointer, contents kept */
    q = (unsigned char *)tarn_heap_realloc(h, b, 20);
    CHECK(q == b);
    CHECK_EQ(tarn_heap_usable_size(h, b), RU(20));
    for (i = 0; i < 20; i++) CHECK(b[i] == (unsigned char)i);
    /* grow back in place into the freed tail */
    q = (unsigned char *)tarn_heap_realloc(h, b, 64);
    CHECK(q == b);
    for (i = 0; i < 20; i++) CHECK(b[i] == (unsigned char)i);
    /* grow beyond: c is in the way, so it moves (after c) */
    q = (unsigned char *)tarn_heap_realloc(h, b, 200);
    CHECK(q != NULL && q != b);
    for (i = 0; i < 20; i++) CHECK(q[i] == (unsigned char)i);
    CHECK_EQ(tarn_heap_validate(h, b), TARN_EDOUBLE);    /* between a and c: a free block */
    CHECK(q == c + BB(64));
    b = q;
    /* a can now grow in place into b's old room, and back */
    memset(a, 7, 64);
    q = (unsigned char *)tarn_heap_realloc(h, a, 100);
    CHECK(q == a);
    CHECK_EQ(tarn_heap_usable_size(h, a), RU(100));
    for (i = 0; i < 64; i++) CHECK(a[i] == 7);
    q = (unsigned char *)tarn_heap_realloc(h, a, 2u * BB(64) - GR - XB);   /* all of it */
    CHECK(q == a);
    q = (unsigned char *)tarn_heap_realloc(h, a, 2u * BB(64) - GR - XB + 1u);   /* one more moves */
    CHECK(q != NULL && q != a);
    CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
    memset(c, 7, 64);
    /* failure leaves the block untouched */
    CHECK(tarn_heap_realloc(h, c, ARENA * 2u) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
    CHECK(tarn_heap_realloc(h, c, SIZE_MAX) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
    for (i = 0; i < 64; i++) CHECK(c[i] == 7);
    CHECK_EQ(tarn_heap_validate(h, c), TARN_OK);
    /* bad pointers: NULL result, nothing changes */
    CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
    CHECK(tarn_heap_realloc(h, c + GR, 10) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EFOREIGN);
    CHECK(tarn_heap_realloc(h, c + 1, 10) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EFOREIGN);
    CHECK(tarn_heap_realloc(h, mem2, 10) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EFOREIGN);
    {
        tarn_heap_stats st2;
        CHECK_EQ(tarn_heap_stats_get(h, &st2), TARN_OK);
        CHECK(st2.used == st.used && st2.live_blocks == st.live_blocks);
    }
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, c), TARN_OK);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(used_of(h), 0);

    /* when the heap is full, realloc fails and keeps the block */
    a = (unsigned char *)tarn_heap_alloc(h, 1000);
    REQUIRE(a != NULL);
    memset(a, 3, 1000);
    while (tarn_heap_alloc(h, 64) != NULL) {
    }
    CHECK(tarn_heap_realloc(h, a, 2000) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
    for (i = 0; i < 1000; i++) CHECK(a[i] == 3);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}

static void test_realloc_aligned(void)
{
    tarn_heap *h = fresh(ARENA, NULL);
    unsigned char *a, *blocker, *q;
    size_t i;
    a = (unsigned char *)tarn_heap_aligned_alloc(h, 256, 40);
    REQUIRE(a != NULL && ((uintptr_t)a & 255u) == 0u);
    blocker = (unsigned char *)tarn_heap_alloc(h, 8);   /* try to sit right after a */
    for (i = 0; i < 40; i++) a[i] = (unsigned char)(i + 1);
    /* shrink in place keeps the alignment */
    q = (unsigned char *)tarn_heap_realloc(h, a, 1);
    CHECK(q == a && tarn_heap_usable_size(h, a) == RU(1));
    q = (unsigned char *)tarn_heap_realloc(h, a, 40);
    CHECK(q == a && a[0] == 1);
    for (i = 1; i < 40; i++) a[i] = (unsigned char)(i + 1);   /* beyond the 1 byte kept */
    /* grow a lot: moves, and the new block is aligned to 256 as well */
    q = (unsigned char *)tarn_heap_realloc(h, a, 3000);
    REQUIRE(q != NULL);
    CHECK(((uintptr_t)q & 255u) == 0u);
    for (i = 0; i < 40; i++) CHECK(q[i] == (unsigned char)(i + 1));
    q = (unsigned char *)tarn_heap_realloc(h, q, 5000);
    REQUIRE(q != NULL);
    CHECK(((uintptr_t)q & 255u) == 0u);
    for (i = 0; i < 40; i++) CHECK(q[i] == (unsigned char)(i + 1));
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, blocker), TARN_OK);
    CHECK_EQ(used_of(h), 0);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}

static void test_resize(void)
{
    tarn_heap *h = fresh(ARENA, NULL);
    unsigned char *a, *b, *c;
    a = (unsigned char *)tarn_heap_alloc(h, 100);
    b = (unsigned char *)tarn_heap_alloc(h, 100);   /* right after a: a cannot grow */
    c = (unsigned char *)tarn_heap_alloc(h, 100);
    REQUIRE(a && b && c);
    CHECK_EQ(tarn_heap_resize(h, a, 50), TARN_OK);
    CHECK_EQ(tarn_heap_usable_size(h, a), RU(50));
    CHECK_EQ(tarn_heap_resize(h, a, RU(100)), TARN_OK);   /* back into its own tail */
    CHECK_EQ(tarn_heap_usable_size(h, a), RU(100));
    CHECK_EQ(tarn_heap_resize(h, a, 1000), TARN_ENOMEM);  /* b is used */
    CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
    CHECK_EQ(tarn_heap_usable_size(h, a), RU(100));
    CHECK_EQ(tarn_heap_resize(h, b, 0), TARN_EINVAL);
    CHECK_EQ(tarn_heap_resize(h, b, SIZE_MAX), TARN_ENOMEM);
    CHECK_EQ(tarn_heap_resize(h, NULL, 8), TARN_EINVAL);
    CHECK_EQ(tarn_heap_resize(h, b + GR, 8), TARN_EFOREIGN);
    CHECK_EQ(tarn_heap_resize(NULL, b, 8), TARN_EINVAL);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
    CHECK_EQ(tarn_heap_resize(h, b, 8), TARN_EDOUBLE);
    CHECK_EQ(tarn_heap_resize(h, a, 2u * BB(100) - GR - XB + 1u), TARN_ENOMEM);  /* b's room is free... */
    CHECK_EQ(tarn_heap_resize(h, a, 2u * BB(100) - GR - XB), TARN_OK);           /* ...exactly this much */
    CHECK_EQ(tarn_heap_usable_size(h, a), 2u * BB(100) - GR - XB);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, c), TARN_OK);
    CHECK_EQ(used_of(h), 0);
}

/* ---- free and every bad pointer ---------------------------------------------------------- */
static void test_bad_pointers(void)
{
    tarn_heap *h = fresh(ARENA, NULL), *h2 = NULL;
    unsigned char *a, *b, *c, *x;
    int local = 0;
    tarn_heap_stats before, after;

    REQUIRE(tarn_heap_init(&h2, mem2, sizeof mem2, NULL) == TARN_OK);
    a = (unsigned char *)tarn_heap_alloc(h, 48);
    b = (unsigned char *)tarn_heap_alloc(h, 48);
    c = (unsigned char *)tarn_heap_alloc(h, 48);
    x = (unsigned char *)tarn_heap_alloc(h2, 48);
    REQUIRE(a && b && c && x);
    memset(a, 1, 48);
    memset(b, 2, 48);
    memset(c, 3, 48);
    CHECK_EQ(tarn_heap_stats_get(h, &before), TARN_OK);

    CHECK_EQ(tarn_heap_free(NULL, a), TARN_EINVAL);
    CHECK_EQ(tarn_heap_free(h, NULL), TARN_EINVAL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EINVAL);
    CHECK_EQ(tarn_heap_free(h, &local), TARN_EFOREIGN);          /* the stack */
    CHECK_EQ(tarn_heap_free(h, x), TARN_EFOREIGN);               /* another heap's block */
    CHECK_EQ(tarn_heap_free(h2, b), TARN_EFOREIGN);
    CHECK_EQ(tarn_heap_free(h, h), TARN_EFOREIGN);               /* the control structure */
    CHECK_EQ(tarn_heap_free(h, mem), TARN_EFOREIGN);
    CHECK_EQ(tarn_heap_free(h, mem + ARENA), TARN_EFOREIGN);     /* past the end */
    CHECK_EQ(tarn_heap_free(h, b + GR), TARN_EFOREIGN);          /* inside a block */
    CHECK_EQ(tarn_heap_free(h, b + 40), TARN_EFOREIGN);
    CHECK_EQ(tarn_heap_free(h, b + 1), TARN_EFOREIGN);           /* misaligned */
    CHECK_EQ(tarn_heap_free(h, b - 1), TARN_EFOREIGN);
    CHECK_EQ(tarn_heap_free(h, (void *)(uintptr_t)GR), TARN_EFOREIGN);
    CHECK_EQ(tarn_heap_free(h, (void *)UINTPTR_MAX), TARN_EFOREIGN);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EFOREIGN);
    CHECK_EQ(tarn_heap_usable_size(h, b + GR), 0);
    CHECK_EQ(tarn_heap_usable_size(h, NULL), 0);
    CHECK_EQ(tarn_heap_usable_size(NULL, b), 0);
    CHECK_EQ(tarn_heap_validate(h, b + GR), TARN_EFOREIGN);
    CHECK_EQ(tarn_heap_validate(h, NULL), TARN_EINVAL);
    CHECK_EQ(tarn_heap_validate(NULL, b), TARN_EINVAL);
    CHECK_EQ(tarn_heap_validate(h, b), TARN_OK);
    CHECK_EQ(tarn_heap_stats_get(h, &after), TARN_OK);
    CHECK(memcmp(&before, &after, sizeof before) == 0);

    /* double free: b has used neighbours, so it stays a free block of its own */
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, b), TARN_EDOUBLE);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EDOUBLE);
    CHECK_EQ(tarn_heap_validate(h, b), TARN_EDOUBLE);
    CHECK_EQ(tarn_heap_free(h, b + 1), TARN_EFOREIGN);
    CHECK_EQ(tarn_heap_usable_size(h, b), 0);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EDOUBLE);     /* usable_size reported it */
    CHECK(tarn_heap_realloc(h, b, 8) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_EDOUBLE);
    /* b merges into a (its free right neighbour): a starts the free block, b is now
     * inside one */
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, a), TARN_EDOUBLE);
    CHECK_EQ(tarn_heap_free(h, b), TARN_EFOREIGN);
    /* nothing was harmed */
    {
        size_t i;
        for (i = 0; i < 48; i++) CHECK(c[i] == 3);
    }
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, c), TARN_OK);
    CHECK_EQ(used_of(h), 0);
    CHECK_EQ(tarn_heap_free(h2, x), TARN_OK);
    CHECK_EQ(tarn_heap_destroy(h2), TARN_OK);
}

/* ---- diagnostics ---------------------------------------------------------------------------- */
typedef struct walk_acc {
    size_t blocks, used_bytes, total, stop_after;
    unsigned char *last;
    int order_ok;
} walk_acc;

static bool walk_cb(void *ctx, void *block, size_t size, bool used)
{
    walk_acc *w = (walk_acc *)ctx;
    /* a used block's size is its usable size; every block has a header granule */
    size_t len = used ? BB(size) : size + GR;
    if (w->last != NULL && (unsigned char *)block != w->last) w->order_ok = 0;
    w->last = (unsigned char *)block + len;
    w->blocks++;
    w->total += len;
    if (used) w->used_bytes += size;
    return !(w->stop_after != 0 && w->blocks >= w->stop_after);
}

static void test_stats_walk(void)
{
    tarn_heap *h = fresh(ARENA, NULL);
    tarn_heap_stats st;
    walk_acc w;
    void *p[6];
    size_t i;
    for (i = 0; i < 6; i++) p[i] = tarn_heap_alloc(h, 100u * (i + 1u));
    CHECK_EQ(tarn_heap_free(h, p[1]), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, p[3]), TARN_OK);
    CHECK(tarn_heap_alloc(h, ARENA) == NULL);
    CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
    CHECK_EQ(st.live_blocks, 4);
    CHECK_EQ(st.total_allocs, 6);
    CHECK_EQ(st.total_frees, 2);
    CHECK_EQ(st.failed_allocs, 1);
    CHECK_EQ(st.used, RU(100) + RU(300) + RU(500) + RU(600));
    CHECK_EQ(st.peak_used, RU(100) + RU(200) + RU(300) + RU(400) + RU(500) + RU(600));
    CHECK_EQ(st.used + st.free, st.capacity);
    CHECK_EQ(st.free_blocks, 3);                        /* p[1], p[3], the rest */
    CHECK_EQ(st.largest_free,
             st.capacity - BB(100) - BB(200) - BB(300) - BB(400) - BB(500) - BB(600));
    /* max_alloc is the smallest size of the largest non-empty class: within 1 - 2^-k of
     * the largest free block (in whole blocks, header included) */
    CHECK(st.max_alloc <= st.largest_free &&
          (st.max_alloc + XB + GR) * (1u << h->k) >= (st.largest_free + XB + GR) * ((1u << h->k) - 1u));
    CHECK(tarn_heap_alloc(h, st.max_alloc) != NULL);   /* guaranteed */
    CHECK_EQ(tarn_heap_stats_get(NULL, &st), TARN_EINVAL);
    CHECK_EQ(tarn_heap_stats_get(h, NULL), TARN_EINVAL);

    CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
    memset(&w, 0, sizeof w);
    w.order_ok = 1;
    CHECK_EQ(tarn_heap_walk(h, walk_cb, &w), TARN_OK);
    CHECK(w.order_ok);
    CHECK_EQ(w.total, st.capacity + XB + GR);
    CHECK_EQ(w.blocks, st.live_blocks + st.free_blocks);
    CHECK_EQ(w.used_bytes, st.used);
    memset(&w, 0, sizeof w);
    w.order_ok = 1;
    w.stop_after = 3;
    CHECK_EQ(tarn_heap_walk(h, walk_cb, &w), TARN_OK);
    CHECK_EQ(w.blocks, 3);
    CHECK_EQ(tarn_heap_walk(h, NULL, &w), TARN_EINVAL);
    CHECK_EQ(tarn_heap_walk(NULL, walk_cb, &w), TARN_EINVAL);
    CHECK_EQ(tarn_heap_check(NULL), TARN_EINVAL);
    CHECK_EQ(tarn_heap_sane(NULL), TARN_EINVAL);
    CHECK_EQ(tarn_heap_sane(h), TARN_OK);
}

/* Damage: every kind is found by the full check, the O(1) check sees control damage, and
 * operations that would follow a damaged link refuse with TARN_ECORRUPT without writing
 * outside the heap. */
static void test_corruption(void)
{
    tarn_heap *h;
    unsigned char *a, *b, *c;
    uint32_t saved;
    unsigned char guard[64];
    size_t i;

    /* a damaged free-list link (a use-after-free write into a free block) */
    h = fresh(ARENA, NULL);
    memcpy(guard, mem + ARENA, sizeof guard);
    a = (unsigned char *)tarn_heap_alloc(h, 64);
    b = (unsigned char *)tarn_heap_alloc(h, 64);
    c = (unsigned char *)tarn_heap_alloc(h, 64);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);             /* b: a free block between a and c */
    saved = peek32(b);
    poke32(b, 0x00ABCDEFu);                              /* next link -> far outside */
    CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_free(h, a), TARN_ECORRUPT);       /* merging needs b's links */
    CHECK_EQ(tarn_heap_last_error(h), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_validate(h, a), TARN_OK);         /* a untouched, still live */
    CHECK(tarn_heap_realloc(h, a, 100) == NULL);         /* growing into b needs its links */
    CHECK_EQ(tarn_heap_last_error(h), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_resize(h, a, 8), TARN_ECORRUPT);  /* so does a cut tail joining b */
    CHECK_EQ(tarn_heap_usable_size(h, a), 64);           /* a unchanged */
    CHECK(tarn_heap_alloc(h, 8) == NULL);                /* damage seen: no more allocations */
    CHECK_EQ(tarn_heap_last_error(h), TARN_ECORRUPT);
    poke32(b, saved);
    CHECK(memcmp(guard, mem + ARENA, sizeof guard) == 0);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);

    /* damaged prev link */
    h = fresh(ARENA, NULL);
    a = (unsigned char *)tarn_heap_alloc(h, 64);
    b = (unsigned char *)tarn_heap_alloc(h, 64);
    c = (unsigned char *)tarn_heap_alloc(h, 64);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
    saved = peek32(b + 4);
    poke32(b + 4, 0x7FFFFFF0u);
    CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_free(h, c), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_sane(h), TARN_ECORRUPT);          /* b heads the smallest class */
    poke32(b + 4, saved);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
#if TARN_CHECK_LEVEL < 2
    CHECK(tarn_heap_alloc(h, 64) == NULL);               /* refused until initialised again */
    CHECK_EQ(tarn_heap_last_error(h), TARN_ECORRUPT);
#else
    /* level 2: the full check refused every call while the damage was there (the O(1)
     * checks that mark the heap as damaged did not run); repaired, it works */
    b = (unsigned char *)tarn_heap_alloc(h, 64);
    CHECK(b != NULL);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
#endif
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);             /* frees still work (checked) */
    CHECK_EQ(tarn_heap_free(h, c), TARN_OK);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(used_of(h), 0);

    /* the head of a class pointing nowhere: alloc refuses */
    h = fresh(ARENA, NULL);
    a = (unsigned char *)tarn_heap_alloc(h, 64);
    b = (unsigned char *)tarn_heap_alloc(h, 64);
    c = (unsigned char *)tarn_heap_alloc(h, 64);
    for (i = 0; i < 64; i++) a[i] = (unsigned char)(i ^ 0x3C);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
    saved = h->heads[cls(h, BB(64) / GR)];
    h->heads[cls(h, BB(64) / GR)] = 12345678u;
    CHECK_EQ(tarn_heap_sane(h), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
    CHECK(tarn_heap_alloc(h, 64) == NULL);
    CHECK_EQ(tarn_heap_last_error(h), TARN_ECORRUPT);
    h->heads[cls(h, BB(64) / GR)] = saved;
    CHECK_EQ(tarn_heap_sane(h), TARN_OK);

    /* bitmap damage: a stray used start inside a, a lost one at a; header damage */
    {
        uint32_t ga = (uint32_t)((size_t)(a - h->blocks) / GR) - 1u;   /* a's header granule */
        umap_of(h)[(ga + 1u) >> 5] ^= 1u << ((ga + 1u) & 31u);
        CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
        umap_of(h)[(ga + 1u) >> 5] ^= 1u << ((ga + 1u) & 31u);
        CHECK_EQ(tarn_heap_check(h), TARN_OK);
        umap_of(h)[ga >> 5] ^= 1u << (ga & 31u);
        CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
        CHECK_EQ(tarn_heap_validate(h, a), TARN_EFOREIGN);   /* exact: U says no block */
        umap_of(h)[ga >> 5] ^= 1u << (ga & 31u);
        CHECK_EQ(tarn_heap_check(h), TARN_OK);
        saved = peek32(a - 4);                                /* a's size */
        poke32(a - 4, saved + 1u);
        CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
        CHECK_EQ(tarn_heap_validate(h, a), TARN_ECORRUPT);   /* tag of the next disagrees */
        CHECK_EQ(tarn_heap_usable_size(h, a), 0);
        poke32(a - 4, saved);
        saved = peek32(a - 8);                                /* a's boundary tag */
        poke32(a - 8, saved + 2u);
        CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
        CHECK_EQ(tarn_heap_free(h, a), TARN_ECORRUPT);       /* refused, a still live */
        poke32(a - 8, saved);
        CHECK_EQ(tarn_heap_check(h), TARN_OK);
    }
    /* counters and class bitmaps */
    h->used += GR;
    CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
    h->used -= GR;
    h->top ^= 1u << 20;
    CHECK_EQ(tarn_heap_sane(h), TARN_ECORRUPT);
    CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
    h->top ^= 1u << 20;
    h->groups[0] ^= 1u << 5;
    CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
    h->groups[0] ^= 1u << 5;
    /* geometry */
    h->ngran++;
    CHECK_EQ(tarn_heap_sane(h), TARN_ECORRUPT);
    h->ngran--;
    CHECK_EQ(tarn_heap_sane(h), TARN_OK);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    for (i = 0; i < 64; i++) CHECK(a[i] == (unsigned char)(i ^ 0x3C));
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, c), TARN_OK);
    CHECK_EQ(used_of(h), 0);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}

/* ---- options -------------------------------------------------------------------------------- */
static void test_lock_and_clear(void)
{
    tarn_config cfg;
    tarn_heap *h;
    tarn_heap_stats st;
    walk_acc w;
    unsigned char *p, *q;
    int calls;
    memset(&cfg, 0, sizeof cfg);
    cfg.lock.lock = t_lock;
    cfg.lock.unlock = t_unlock;
    cfg.lock.ctx = &lock_depth;
    cfg.flags = TARN_HEAP_F_CLEAR_FREED;
    h = fresh(ARENA, &cfg);
    lock_calls = 0;
    p = (unsigned char *)tarn_heap_alloc(h, 100);
    q = (unsigned char *)tarn_heap_alloc(h, 100);
    memset(p, 0xAB, 100);
    CHECK_EQ(lock_calls, 2);
    CHECK_EQ(tarn_heap_free(h, p), TARN_OK);            /* p has used neighbours? q below */
    CHECK_EQ(peek32(p + 8), 0);                          /* cleared (links aside) */
    CHECK_EQ(peek32(p + 96), 0);
    calls = lock_calls;
    p = (unsigned char *)tarn_heap_calloc(h, 2, 50);
    q = (unsigned char *)tarn_heap_realloc(h, q, 300);
    CHECK_EQ(tarn_heap_resize(h, q, 10), TARN_OK);
    (void)tarn_heap_aligned_alloc(h, 64, 10);
    (void)tarn_heap_usable_size(h, q);
    (void)tarn_heap_validate(h, q);
    CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
    memset(&w, 0, sizeof w);
    CHECK_EQ(tarn_heap_walk(h, walk_cb, &w), TARN_OK);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_sane(h), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
    {
        tarn_status again = tarn_heap_free(h, p);
        CHECK(again == TARN_EDOUBLE || again == TARN_EFOREIGN);
    }
    CHECK_EQ(lock_calls, calls + 12);   /* one lock/unlock per call */
    CHECK_EQ(lock_depth, 0);
    CHECK_EQ(lock_bad, 0);
    cur = NULL;
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    CHECK_EQ(lock_depth, 0);
}

static void test_destroy_and_define(void)
{
    tarn_heap *h = fresh(ARENA, NULL);
    void *p = tarn_heap_alloc(h, 10), *q;
    cur = NULL;
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    CHECK_EQ(tarn_heap_destroy(h), TARN_EINVAL);
    CHECK(tarn_heap_alloc(h, 10) == NULL);
    CHECK_EQ(tarn_heap_free(h, p), TARN_EINVAL);
    CHECK_EQ(tarn_heap_check(h), TARN_EINVAL);
    CHECK_EQ(tarn_heap_destroy(NULL), TARN_EINVAL);

    /* the static heap and its generated API */
    CHECK(app_heap() != NULL && strcmp(tarn_heap_name(app_heap()), "app") == 0);
    p = app_alloc(100);
    CHECK(p != NULL && app_size(p) == RU(100));
    q = app_calloc(10, 10);
    CHECK(q != NULL && ((unsigned char *)q)[99] == 0);
    p = app_realloc(p, 300);
    CHECK(p != NULL && app_size(p) == RU(300));
    CHECK_EQ(app_free(p), TARN_OK);
    CHECK(app_free(p) != TARN_OK);
    CHECK_EQ(app_free(q), TARN_OK);
    CHECK(app_alloc(5000) == NULL);
    CHECK_EQ(app_size(NULL), 0);
    CHECK_EQ(tarn_heap_check(app_heap()), TARN_OK);
}

/* Re-initialising a buffer whose heap still has live blocks (without destroy), with a
 * larger control structure over them: the new heap is sound, and the memory tools see
 * its control structure as accessible. */
static void test_reinit(void)
{
    tarn_heap *h;
    tarn_heap_stats st;
    int n = 0;
    drop();
    REQUIRE(tarn_heap_init(&h, mem, 600, NULL) == TARN_OK);
    while (tarn_heap_alloc(h, 8) != NULL) n++;
    CHECK(n > (int)(80u / BB(8)));   /* more than 10 (more than 3 in canary mode) */
    REQUIRE(tarn_heap_init(&cur, mem, ARENA, NULL) == TARN_OK);   /* no destroy before */
    CHECK_EQ(tarn_heap_check(cur), TARN_OK);
    CHECK_EQ(tarn_heap_stats_get(cur, &st), TARN_OK);
    CHECK_EQ(st.used, 0);
    CHECK(tarn_heap_alloc(cur, 100) != NULL);
    CHECK_EQ(tarn_heap_check(cur), TARN_OK);
    drop();
}

static void test_size_for(void)
{
    size_t s;
    tarn_heap *h;
    tarn_heap_stats st;
    CHECK_EQ(tarn_heap_size_for(0, 8, 1), TARN_HEAP_MIN_SIZE);
    CHECK_EQ(tarn_heap_size_for(100, 0, 1), TARN_HEAP_MIN_SIZE);
    CHECK_EQ(tarn_heap_size_for(SIZE_MAX, SIZE_MAX, 0), 0);
    /* one live block of n bytes at most: n rounded up plus nothing else */
    s = tarn_heap_size_for(1000, 1000, 1);
    CHECK(s > 1000u + XB && s < 1000u + XB + 500u + sizeof(tarn_heap));   /* the block, control, class table */
    REQUIRE(s <= sizeof mem);
    drop();
    CHECK_EQ(tarn_heap_init(&h, mem + 1, s, NULL), TARN_OK);
    CHECK(tarn_heap_alloc(h, 1000) != NULL);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    /* grows with the number of live blocks */
    CHECK(tarn_heap_size_for(4000, 100, 40) > tarn_heap_size_for(4000, 100, 10));
    CHECK(tarn_heap_size_for(4000, 100, 0) >= tarn_heap_size_for(4000, 100, 4000));
    s = tarn_heap_size_for(2000, 64, 50);
    REQUIRE(s > 0u && s <= sizeof mem);
    CHECK_EQ(tarn_heap_init(&h, mem, s, NULL), TARN_OK);
    CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    /* N >= Mg + (L - 1)(r - 1) + L s, here s = 0 (64 bytes has a class of its own) */
    CHECK(st.capacity / GR >= (2000u + 50u * (GR - 1u)) / GR + 49u * ((64u + GR - 1u) / GR - 1u));
}

/* The _status variants give each call its own status; every failing call, realloc of a
 * bad pointer included, counts in failed_allocs. */
static void test_status_variants(void)
{
    tarn_heap *h = fresh(4096, NULL);
    tarn_heap_stats hs;
    tarn_status st = TARN_OK;
    char *a, *b;
    size_t f0;
    CHECK_EQ(tarn_heap_stats_get(h, &hs), TARN_OK);
    f0 = hs.failed_allocs;
    a = tarn_heap_alloc_status(h, 100, &st);
    CHECK(a != NULL);
    CHECK_EQ(st, TARN_OK);
    CHECK(tarn_heap_alloc_status(h, 0, &st) == NULL);
    CHECK_EQ(st, TARN_EINVAL);
    CHECK(tarn_heap_alloc_status(h, 1u << 20, &st) == NULL);
    CHECK_EQ(st, TARN_ENOMEM);
    CHECK(tarn_heap_calloc_status(h, SIZE_MAX / 2u, 4u, &st) == NULL);
    CHECK_EQ(st, TARN_EOVERFLOW);
    b = tarn_heap_calloc_status(h, 10, 10, &st);
    CHECK(b != NULL && b[99] == 0);
    CHECK_EQ(st, TARN_OK);
    CHECK(tarn_heap_aligned_alloc_status(h, 24, 10, &st) == NULL);   /* not a power of 2 */
    CHECK_EQ(st, TARN_EINVAL);
    CHECK(tarn_heap_realloc_status(h, a + 8, 200, &st) == NULL);     /* interior */
    CHECK_EQ(st, TARN_EFOREIGN);
    CHECK(tarn_heap_realloc_status(h, mem2, 200, &st) == NULL);      /* foreign */
    CHECK_EQ(st, TARN_EFOREIGN);
    a = tarn_heap_realloc_status(h, a, 300, &st);
    CHECK(a != NULL);
    CHECK_EQ(st, TARN_OK);
    CHECK(tarn_heap_realloc_status(h, a, 0, &st) == NULL);           /* frees a */
    CHECK_EQ(st, TARN_OK);
    CHECK(tarn_heap_realloc_status(h, a, 10, &st) == NULL);          /* a is freed */
    CHECK(st == TARN_EDOUBLE || st == TARN_EFOREIGN);
    CHECK(tarn_heap_alloc_status(NULL, 8, &st) == NULL);
    CHECK_EQ(st, TARN_EINVAL);
    CHECK(tarn_heap_alloc_status(h, 8, NULL) != NULL);               /* st may be NULL */
    CHECK_EQ(tarn_heap_stats_get(h, &hs), TARN_OK);
    /* alloc 0, too big, overflow, aligned 24, three bad reallocs */
    CHECK_EQ(hs.failed_allocs, f0 + 7u);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}

int main(void)
{
    test_init();
    test_alloc();
    test_aligned();
    test_realloc();
    test_realloc_aligned();
    test_resize();
    test_bad_pointers();
    test_stats_walk();
    test_corruption();
    test_lock_and_clear();
    test_destroy_and_define();
    test_reinit();
    test_size_for();
    test_status_variants();
    drop();
    return check_done();
}
