/* tarn-test: host-only */
/* tests/test_mem_pool.c - the mem_pool compat layer (it takes its block from malloc, as the
 * study documents): every function, every type tag, every bad input. */
#include "check.h"
#include "mem_pool.h"

static void test_init_destroy(void)
{
    struct m_pool pool = {0};
    void *base;
    CHECK_EQ(pool_init(NULL), -1);
    CHECK_EQ(pool_init_size(&pool, 0), -1);                /* nothing to store */
    CHECK_EQ(pool_init_size(&pool, SIZE_MAX), -1);
    CHECK(pool.base_address == NULL);
    CHECK_EQ(pool_init(&pool), 0);
    CHECK(pool.base_address != NULL);
    CHECK_EQ(pool.size, MEM_POOL_SIZE);
    /* the control data comes on top of the capacity */
    CHECK((size_t)((unsigned char *)pool.top_address - (unsigned char *)pool.base_address) >
          MEM_POOL_SIZE);
    base = pool.base_address;
    CHECK_EQ(pool_init(&pool), -1);                        /* already initialised: no leak */
    CHECK(pool.base_address == base);
    CHECK_EQ(pool_destroy(&pool), 0);
    CHECK(pool.base_address == NULL && pool.top_address == NULL);
    CHECK_EQ(pool_destroy(&pool), -1);
    CHECK_EQ(pool_destroy(NULL), -1);
    CHECK_EQ(pool_init_size(&pool, 1u << 16), 0);
    CHECK_EQ(pool.size, 1u << 16);
    CHECK_EQ(pool_destroy(&pool), 0);
}

/* Capacity: a user sizes a pool by what it stores.  A fresh pool of any size serves one
 * allocation of that size, with any type tag (the study's pool_init: 1024 bytes). */
static void test_capacity(void)
{
    static const size_t sizes[] = {1, 3, 8, 20, 100, 1000, 1024, 1025, 4096, 5000, 65536};
    size_t i;
    int t;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (t = 0; t < M_TYPE_COUNT_; t++) {
            struct m_pool pool = {0};
            unsigned char *p = NULL;
            REQUIRE(pool_init_size(&pool, sizes[i]) == 0);
            CHECK_EQ(pool_alloc(&pool, (void **)&p, sizes[i], (enum m_type)t), 0);
            if (p != NULL) {
                CHECK_EQ((uintptr_t)p % pool_type_align((enum m_type)t), 0);
                memset(p, 0x77, sizes[i]);
                CHECK_EQ(pool_free((void **)&p, sizes[i], &pool), 0);
            }
            CHECK_EQ(tarn_heap_check(pool.heap), TARN_OK);
            CHECK_EQ(pool_destroy(&pool), 0);
        }
    }
    {   /* pool_init: 1024 bytes in one piece, and the study's two allocations */
        struct m_pool pool = {0};
        int *ints = NULL;
        char *str = NULL;
        REQUIRE(pool_init(&pool) == 0);
        CHECK_EQ(pool_alloc(&pool, (void **)&ints, 1024, u8), 0);
        CHECK_EQ(pool_free((void **)&ints, 1024, &pool), 0);
        CHECK_EQ(pool_alloc(&pool, (void **)&ints, 5 * sizeof(int), i32), 0);
        CHECK_EQ(pool_alloc(&pool, (void **)&str, 5, s), 0);
        CHECK_EQ(pool_free((void **)&str, 5, &pool), 0);
        CHECK_EQ(pool_free((void **)&ints, 5 * sizeof(int), &pool), 0);
        CHECK_EQ(pool_destroy(&pool), 0);
    }
}

static void test_types(void)
{
    struct m_pool pool = {0};
    void *p[M_TYPE_COUNT_];
    int t;
    REQUIRE(pool_init_size(&pool, 8192) == 0);
    for (t = 0; t < (int)M_TYPE_COUNT_; t++) {
        size_t a = pool_type_align((enum m_type)t);
        CHECK(a >= 1u && (a & (a - 1u)) == 0u);
        p[t] = NULL;
        CHECK_EQ(pool_alloc(&pool, &p[t], 24, (enum m_type)t), 0);
        REQUIRE(p[t] != NULL);
        CHECK(((uintptr_t)p[t] & (a - 1u)) == 0u);
        memset(p[t], t, 24);
        CHECK((unsigned char *)p[t] >= (unsigned char *)pool.base_address &&
              (unsigned char *)p[t] + 24 <= (unsigned char *)pool.top_address);
    }
    CHECK_EQ(pool_type_align(i32), sizeof(int32_t));
    CHECK_EQ(pool_type_align(s), 1);
    CHECK(pool_type_align(maxal) >= pool_type_align(f64));
    CHECK(pool_type_align(maxal) >= pool_type_align(ldbl));
    CHECK_EQ(pool_type_align(M_TYPE_COUNT_), 0);
    for (t = 0; t < (int)M_TYPE_COUNT_; t++) {
        size_t i;
        for (i = 0; i < 24; i++) CHECK(((unsigned char *)p[t])[i] == (unsigned char)t);
        CHECK_EQ(pool_free(&p[t], 24, &pool), 0);
        CHECK(p[t] == NULL);
    }
    CHECK_EQ(tarn_heap_check(pool.heap), TARN_OK);
    CHECK_EQ(pool_destroy(&pool), 0);
}

static void test_bad_input(void)
{
    struct m_pool pool = {0}, never = {0};
    int *v = NULL, *w = NULL, *keep, local = 0;
    void *q = NULL, *saved;
    tarn_heap_stats before, after;
    size_t i;

    CHECK_EQ(pool_alloc(&never, &q, 8, i32), -1);           /* not initialised */
    CHECK_EQ(pool_alloc(NULL, &q, 8, i32), -1);
    REQUIRE(pool_init(&pool) == 0);
    CHECK_EQ(pool_alloc(&pool, NULL, 8, i32), -1);
    CHECK_EQ(pool_alloc(&pool, &q, 0, i32), -1);
    CHECK_EQ(pool_alloc(&pool, &q, 8, M_TYPE_COUNT_), -1);
    CHECK_EQ(pool_alloc(&pool, &q, 8, (enum m_type)-1), -1);
    CHECK_EQ(pool_alloc(&pool, &q, 4u * MEM_POOL_SIZE, i32), -1);  /* no room */
    CHECK_EQ(pool_alloc(&pool, &q, SIZE_MAX, i32), -1);
    CHECK(q == NULL);                                        /* untouched on failure */

    REQUIRE(pool_alloc(&pool, (void **)&v, 5 * sizeof(int), i32) == 0);
    REQUIRE(pool_alloc(&pool, (void **)&w, 5 * sizeof(int), i32) == 0);
    for (i = 0; i < 5; i++) v[i] = (int)i * 11;
    keep = v;
    CHECK_EQ(tarn_heap_stats_get(pool.heap, &before), TARN_OK);
    CHECK_EQ(pool_free((void **)&v, 4 * sizeof(int), &pool), -1);   /* wrong size */
    CHECK_EQ(pool_free((void **)&v, 6 * sizeof(int), &pool), -1);
    CHECK_EQ(pool_free((void **)&v, 0, &pool), -1);
    CHECK(v == keep);
    CHECK_EQ(pool_free(NULL, 20, &pool), -1);
    q = NULL;
    CHECK_EQ(pool_free(&q, 20, &pool), -1);                 /* *ptr NULL */
    CHECK_EQ(pool_free((void **)&v, 20, NULL), -1);
    CHECK_EQ(pool_free((void **)&v, 20, &never), -1);
    q = (unsigned char *)v + 8;
    CHECK_EQ(pool_free(&q, 12, &pool), -1);                 /* interior */
    q = &local;
    CHECK_EQ(pool_free(&q, sizeof local, &pool), -1);       /* foreign */
    CHECK_EQ(tarn_heap_stats_get(pool.heap, &after), TARN_OK);
    CHECK(memcmp(&before, &after, sizeof before) == 0);
    for (i = 0; i < 5; i++) CHECK(v[i] == (int)i * 11);

    saved = v;
    CHECK_EQ(pool_free((void **)&v, 5 * sizeof(int), &pool), 0);
    CHECK(v == NULL);
    q = saved;
    CHECK_EQ(pool_free(&q, 5 * sizeof(int), &pool), -1);    /* double free */
    CHECK(q == saved);
    CHECK_EQ(pool_free((void **)&w, 5 * sizeof(int), &pool), 0);
    CHECK_EQ(tarn_heap_check(pool.heap), TARN_OK);
    CHECK_EQ(pool_destroy(&pool), 0);
    CHECK_EQ(pool_alloc(&pool, &q, 8, i32), -1);            /* destroyed */
}

/* The pool is reused over and over without losing memory. */
static void test_reuse(void)
{
    struct m_pool pool = {0};
    void *p[16] = {0};
    size_t n[16] = {0};
    long i, iters = CHECK_ITERS(200000L);
    tarn_heap_stats st;
    REQUIRE(pool_init_size(&pool, 4096) == 0);
    check_seed(77);
    for (i = 0; i < iters; i++) {
        uint32_t k = check_below(16);
        if (p[k] == NULL) {
            n[k] = 1u + check_below(150);
            if (pool_alloc(&pool, &p[k], n[k], (enum m_type)check_below(M_TYPE_COUNT_)) == 0) {
                check_fill(p[k], n[k], k);
            }
        } else {
            CHECK(check_verify(p[k], n[k], k));
            CHECK_EQ(pool_free(&p[k], n[k], &pool), 0);
        }
    }
    for (i = 0; i < 16; i++) {
        if (p[i] != NULL) CHECK_EQ(pool_free(&p[i], n[i], &pool), 0);
    }
    CHECK_EQ(tarn_heap_stats_get(pool.heap, &st), TARN_OK);
    CHECK_EQ(st.used, 0);
    CHECK_EQ(st.free_blocks, 1);
    CHECK_EQ(pool_destroy(&pool), 0);
}

int main(void)
{
    test_init_destroy();
    test_capacity();
    test_types();
    test_bad_input();
    test_reuse();
    return check_done();
}
