/* tarn-test: host-only */
/*
 * tests/test_ckremm_host.c - the ckreMM create functions that take memory from malloc,
 * and multi-processing: both pools shared by threads through a pthread-mutex lock hook,
 * with a thread that reorders the table pool all the time.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "ckremm.h"
#include "../ports/posix/tarn_pthread.h"

#define WORKERS 3
#define PER 16u

static h_pool *hp;
static t_pool *tp;
static tarn_pthread_lock hmutex = TARN_PTHREAD_LOCK_INIT, tmutex = TARN_PTHREAD_LOCK_INIT;
static atomic_int stop;
static atomic_ulong bad, reorders;

static void test_malloc_create(void)
{
    /* capacity: `size` is what the pool stores; one block of it fits a new pool */
    static const size_t sizes[] = {1, 3, 8, 100, 1000, 1023, 1024, 1025, 4096, 5000, 12345, 65536, 1u << 20};
    size_t i;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        h_pool *h = create_h_pool(sizes[i]);
        t_pool *t = create_pool(sizes[i]);
        tarn_handle_stats st;
        void *p;
        t_handle th;
        REQUIRE(h != NULL && t != NULL);
        p = h_pool_alloc(h, sizes[i]);          /* one block of `size` fits */
        CHECK(p != NULL);
        CHECK(h_pool_dealloc(h, p));
        CHECK_EQ(tarn_handle_stats_get(t_pool_tarn(t), &st), TARN_OK);
        CHECK(st.capacity >= sizes[i]);
        CHECK_EQ(st.handles, CKREMM_T_DEFAULT_HANDLES(sizes[i]));
        th = t_pool_alloc_handle(t, sizes[i]);
        CHECK(!tarn_handle_is_null(th));
        CHECK(t_pool_dealloc_handle(t, th));
        CHECK(destroy_h_pool(h));
        CHECK(destroy_t_pool(t));
    }
    CHECK(create_h_pool(0) == NULL);
    CHECK(create_pool(0) == NULL);
    CHECK(create_h_pool(SIZE_MAX) == NULL);
    CHECK(create_pool(SIZE_MAX) == NULL);
    CHECK(create_pool_ex(4096, TARN_HANDLE_MAX_COUNT + 1u, NULL) == NULL);
    {
        tarn_lock half = {tarn_pthread_lock_fn, NULL, NULL};
        CHECK(create_pool_ex(4096, 16, &half) == NULL);
        CHECK(create_h_pool_ex(4096, &half) == NULL);
    }
    {
        /* a locked block keeps a malloc'd table pool alive */
        t_pool *t = create_pool_ex(1024, 8, NULL);
        t_handle a = t_pool_alloc_handle(t, 10);
        CHECK(t_pool_lock(t, a) != NULL);
        CHECK(!destroy_t_pool(t));
        CHECK(t_pool_unlock(t, a));
        CHECK(destroy_t_pool(t));
    }
}

static uint32_t next(uint64_t *s) { return (uint32_t)(check_rand_r(s) >> 32); }

static void *worker(void *arg)
{
    uint64_t rng = 0x9E3779B97F4A7C15ull * (uint64_t)(uintptr_t)arg + 1u;
    unsigned char *hb[PER];
    t_handle tb[PER];
    size_t hs[PER], ts[PER];
    uint32_t htag[PER], ttag[PER];
    unsigned i, k, iters = (unsigned)CHECK_ITERS(60000);
    for (i = 0; i < PER; i++) {
        hb[i] = NULL;
        tb[i] = tarn_handle_null();
    }
    for (k = 0; k < iters; k++) {
        i = next(&rng) % PER;
        if (next(&rng) % 2u) { /* header pool */
            if (hb[i] == NULL) {
                hs[i] = 1u + next(&rng) % 300u;
                hb[i] = (unsigned char *)h_pool_alloc(hp, hs[i]);
                if (hb[i] != NULL) check_fill(hb[i], hs[i], htag[i] = next(&rng));
            } else {
                if (!check_verify(hb[i], hs[i], htag[i])) atomic_fetch_add(&bad, 1);
                if (!h_pool_dealloc(hp, hb[i])) atomic_fetch_add(&bad, 1);
                hb[i] = NULL;
            }
        } else { /* table pool: blocks touched only while locked */
            unsigned char *p;
            if (tarn_handle_is_null(tb[i])) {
                ts[i] = 1u + next(&rng) % 300u;
                tb[i] = t_pool_alloc_handle(tp, ts[i]);
                if (tarn_handle_is_null(tb[i])) continue;
                p = (unsigned char *)t_pool_lock(tp, tb[i]);
                if (p == NULL) { atomic_fetch_add(&bad, 1); continue; }
                check_fill(p, ts[i], ttag[i] = next(&rng));
                if (!t_pool_unlock(tp, tb[i])) atomic_fetch_add(&bad, 1);
            } else {
                p = (unsigned char *)t_pool_lock(tp, tb[i]);
                if (p == NULL || !check_verify(p, ts[i], ttag[i])) atomic_fetch_add(&bad, 1);
                if (p != NULL && !t_pool_unlock(tp, tb[i])) atomic_fetch_add(&bad, 1);
                if (!t_pool_dealloc_handle(tp, tb[i])) atomic_fetch_add(&bad, 1);
                tb[i] = tarn_handle_null();
            }
        }
    }
    for (i = 0; i < PER; i++) {
        if (hb[i] != NULL && !h_pool_dealloc(hp, hb[i])) atomic_fetch_add(&bad, 1);
        if (!tarn_handle_is_null(tb[i]) && !t_pool_dealloc_handle(tp, tb[i])) atomic_fetch_add(&bad, 1);
    }
    return NULL;
}

static void *reorderer(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        (void)reorder_t_mem(tp);
        (void)reorder_h_mem(hp);
        atomic_fetch_add(&reorders, 1);
    }
    return NULL;
}

static void test_threads(void)
{
    tarn_lock hl = TARN_PTHREAD_HOOK(&hmutex), tl = TARN_PTHREAD_HOOK(&tmutex);
    pthread_t th[WORKERS + 1];
    tarn_handle_stats st;
    uintptr_t i;
    hp = create_h_pool_ex(64u * 1024u, &hl);
    tp = create_pool_ex(64u * 1024u, 256, &tl);
    REQUIRE(hp != NULL && tp != NULL);
    REQUIRE(pthread_create(&th[WORKERS], NULL, reorderer, NULL) == 0);
    for (i = 0; i < WORKERS; i++) REQUIRE(pthread_create(&th[i], NULL, worker, (void *)i) == 0);
    for (i = 0; i < WORKERS; i++) pthread_join(th[i], NULL);
    atomic_store(&stop, 1);
    pthread_join(th[WORKERS], NULL);
    CHECK_EQ(atomic_load(&bad), 0);
    CHECK(atomic_load(&reorders) > 0);
    CHECK(reorder_h_mem(hp));
    CHECK(reorder_t_mem(tp));
    CHECK_EQ(tarn_heap_check(h_pool_tarn(hp)), TARN_OK);
    CHECK_EQ(tarn_handle_check(t_pool_tarn(tp)), TARN_OK);
    CHECK_EQ(tarn_handle_stats_get(t_pool_tarn(tp), &st), TARN_OK);
    CHECK_EQ(st.used, 0);
    printf("%lu reorders, %llu bytes moved in the table pool\n", atomic_load(&reorders),
           (unsigned long long)st.bytes_moved);
    CHECK(destroy_h_pool(hp));
    CHECK(destroy_t_pool(tp));
}

int main(void)
{
    test_malloc_create();
    test_threads();
    return check_done();
}
