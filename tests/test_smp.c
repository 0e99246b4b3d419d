/* tests/test_smp.c - the SMP compat layer: every function, every bad input. */
#include "check.h"
#include "smp.h"

SMP_POOL_WITH_API(tp, 2048);
SMP_POOL(p2, 100);
SMP_API(p2);

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
    CHECK(tp_size(a) >= 100u && tp_size(b) >= 1u && tp_size(c) >= 300u);
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
    CHECK_EQ(tp_size(NULL), 0);
    CHECK_EQ(tp_size(a + 8), 0);
    CHECK_EQ(tp_size(&other), 0);
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
    CHECK(a != NULL && p2_size(a) >= 100u);
    CHECK_EQ(tp_size(a), 0);    /* not tp's */
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
    smp_pool_t tiny = {buf, sizeof buf, "tiny", NULL};
    smp_pool_t none = {NULL, 100, "none", NULL};
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
    test_api();
    test_tiny_pool();
    test_churn();
    return check_done();
}
