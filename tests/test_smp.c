/* tests/test_smp.c - the SMP compat layer: every function, every bad input, the macros
 * written as the original allows (with or without a trailing semicolon), and the
 * capacity rule (one allocation of pool_size bytes fits a fresh pool). */
#include "check.h"
#include "smp.h"

SMP_POOL_WITH_API(tp, 2048);
SMP_POOL(p2, 100);
SMP_API(p2);

/* the original's macros are complete definitions: no semicolon needed */
SMP_POOL_WITH_API(nosemi, 256)
SMP_POOL(nosemi2, 64)
SMP_API(nosemi2)

/* capacity: pools of many sizes, each must serve one block of its full pool_size */
SMP_POOL_WITH_API(c1, 1)
SMP_POOL_WITH_API(c7, 7)
SMP_POOL_WITH_API(c8, 8)
SMP_POOL_WITH_API(c100, 100)
SMP_POOL_WITH_API(c512, 512)
SMP_POOL_WITH_API(c1000, 1000)
SMP_POOL_WITH_API(c1024, 1024)
SMP_POOL_WITH_API(c4097, 4097)
SMP_POOL_WITH_API(c16k, 16384)
SMP_POOL_WITH_API(c65k, 65536 + 24)

static void test_capacity(void)
{
    static smp_pool_t *const pools[] = {&c1, &c7, &c8, &c100, &c512, &c1000, &c1024,
                                        &c4097, &c16k, &c65k, &tp, &p2, &nosemi, &nosemi2};
    size_t i;
    for (i = 0; i < sizeof pools / sizeof pools[0]; i++) {
        smp_pool_t *p = pools[i];
        void *a = smp_alloc(p, p->size);
        CHECK(a != NULL);
        CHECK(smp_size(p, a) >= p->size);
        if (a != NULL) memset(a, 0x3C, p->size);
        smp_dealloc(p, a);
        CHECK_EQ(tarn_heap_check(smp_heap(p)), TARN_OK);
    }
    /* the seed's example, as written */
    {
        char *d = (char *)c512_alloc(128);
        int k;
        REQUIRE(d != NULL);
        for (k = 0; k < 128; k++) d[k] = (char)k;
        c512_dealloc(d);
    }
    CHECK(nosemi_alloc(256) != NULL);
    CHECK(nosemi2_calloc(8, 8) != NULL);
}

static int other;

static void test_api(void)
{
    tarn_heap_stats st, st2;
    unsigned char *a, *b, *c, *z;
    size_t i;

    REQUIRE(smp_heap(&tp) != NULL);
    CHECK(strcmp(tarn_heap_name(smp_heap(&tp)), "tp") == 0);
    CHECK_EQ(tarn_heap_stats_get(smp_heap(&tp), &st), TARN_OK);
    CHECK(st.capacity >= 2048u);                     /* pool_size bytes of blocks */

    a = (unsigned char *)tp_alloc(100);
    b = (unsigned char *)tp_alloc(1);
    c = (unsigned char *)tp_alloc(300);
    REQUIRE(a && b && c);
    CHECK(smp_size(&tp, a) >= 100u && smp_size(&tp, b) >= 1u && smp_size(&tp, c) >= 300u);
    CHECK(((uintptr_t)a & 7u) == 0u && ((uintptr_t)b & 7u) == 0u);
    memset(a, 0xA1, 100);
    memset(c, 0xC3, 300);
    z = (unsigned char *)tp_calloc(10, 20);
    REQUIRE(z != NULL);
    for (i = 0; i < 200; i++) CHECK(z[i] == 0);

    /* bad input: NULL, zero, too large, overflow */
    CHECK(tp_alloc(0) == NULL);
    CHECK(tp_alloc(5000) == NULL);
    CHECK(tp_alloc(SIZE_MAX) == NULL);
    CHECK(tp_calloc(SIZE_MAX / 2u, 4) == NULL);
    CHECK(tp_calloc(0, 4) == NULL);
    CHECK(smp_alloc(NULL, 8) == NULL);
    CHECK(smp_calloc(NULL, 1, 8) == NULL);
    CHECK_EQ(smp_size(NULL, a), 0);
    CHECK_EQ(smp_size(&tp, NULL), 0);
    CHECK_EQ(smp_size(&tp, a + 8), 0);
    CHECK_EQ(smp_size(&tp, &other), 0);
    CHECK(smp_heap(NULL) == NULL);

    /* deallocating anything that is not a live block changes nothing */
    CHECK_EQ(tarn_heap_stats_get(smp_heap(&tp), &st), TARN_OK);
    tp_dealloc(NULL);
    tp_dealloc(a + 8);          /* interior */
    tp_dealloc(a + 1);          /* misaligned */
    tp_dealloc(&other);         /* foreign */
    smp_dealloc(NULL, a);       /* no pool */
    p2_dealloc(a);              /* another pool's block */
    CHECK_EQ(tarn_heap_stats_get(smp_heap(&tp), &st2), TARN_OK);
    CHECK(st.used == st2.used && st.live_blocks == st2.live_blocks);
    tp_dealloc(b);
    tp_dealloc(b);              /* double: ignored */
    CHECK_EQ(tarn_heap_last_error(smp_heap(&tp)), TARN_EDOUBLE);
    for (i = 0; i < 100; i++) CHECK(a[i] == 0xA1);
    for (i = 0; i < 300; i++) CHECK(c[i] == 0xC3);
    CHECK_EQ(tarn_heap_check(smp_heap(&tp)), TARN_OK);

    /* coalescing: everything back, then the whole pool in one block */
    tp_dealloc(a);
    tp_dealloc(c);
    tp_dealloc(z);
    CHECK_EQ(tarn_heap_stats_get(smp_heap(&tp), &st), TARN_OK);
    CHECK_EQ(st.used, 0);
    CHECK_EQ(st.free_blocks, 1);
    a = (unsigned char *)tp_alloc(2048);
    CHECK(a != NULL);
    tp_dealloc(a);

    /* the second pool, declared with the two separate macros */
    a = (unsigned char *)p2_alloc(100);
    CHECK(a != NULL && smp_size(&p2, a) >= 100u);
    CHECK_EQ(smp_size(&tp, a), 0);    /* not tp's */
    p2_dealloc(a);
    CHECK_EQ(tarn_heap_stats_get(smp_heap(&p2), &st), TARN_OK);
    CHECK(st.capacity >= 100u);
    CHECK(p2_alloc(st.capacity + 1u) == NULL);
    a = (unsigned char *)p2_alloc(st.capacity);
    CHECK(a != NULL);
    p2_dealloc(a);
}

/* A pool whose buffer cannot hold a heap: every call fails cleanly. */
static void test_tiny_pool(void)
{
    static unsigned char buf[16];
    smp_pool_t tiny = {buf, 1, sizeof buf, "tiny", NULL};
    smp_pool_t none = {NULL, 100, 100, "none", NULL};
    CHECK(smp_heap(&tiny) == NULL);
    CHECK(smp_alloc(&tiny, 1) == NULL);
    CHECK(smp_calloc(&tiny, 1, 1) == NULL);
    CHECK_EQ(smp_size(&tiny, buf), 0);
    smp_dealloc(&tiny, buf);
    CHECK(smp_alloc(&none, 1) == NULL);
    CHECK(smp_heap(&none) == NULL);
}

/* Many sizes in and out: the pool never loses memory. */
static void test_churn(void)
{
    void *p[40] = {0};
    long i, n = CHECK_ITERS(100000L);
    tarn_heap_stats st;
    check_seed(5);
    for (i = 0; i < n; i++) {
        uint32_t k = check_below(40);
        if (p[k] == NULL) {
            p[k] = tp_alloc(1u + check_below(120));
        } else {
            tp_dealloc(p[k]);
            p[k] = NULL;
        }
    }
    for (i = 0; i < 40; i++) tp_dealloc(p[i]);
    CHECK_EQ(tarn_heap_check(smp_heap(&tp)), TARN_OK);
    CHECK_EQ(tarn_heap_stats_get(smp_heap(&tp), &st), TARN_OK);
    CHECK_EQ(st.used, 0);
    CHECK_EQ(st.free_blocks, 1);
}

int main(void)
{
    test_capacity();
    test_api();
    test_tiny_pool();
    test_churn();
    return check_done();
}
