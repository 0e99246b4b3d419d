/* tarn-test: host-only */
/*
 * tests/test_mt_lfblock.c - lock-free block pool under 4 threads (2 cores: they truly
 * pre-empt each other between the load and the CAS), without any lock:
 *   1. random get/put traffic over a pool smaller than what the threads want, so the pool
 *      runs empty often: no block handed out twice, every pattern intact, stats exact;
 *   2. racing double puts: 4 threads put the same block at once; exactly one succeeds.
 * Also compiled by test_mt_lfblock_word32.c (32-bit head word),
 * test_mt_lfblock_fallback.c (the lock-hook fallback, with a pthread mutex) and
 * test_mt_lfblock_quarantine.c (the debug quarantine on).
 */
#include "test_mt_harness.h"
#include "tarn/lfblock.h"
#include "../ports/posix/tarn_pthread.h"

#define NBLK 34u
#define BSZ 24u
#ifndef MT_LF_FLAGS
#define MT_LF_FLAGS 0u   /* test_mt_lfblock_quarantine.c: TARN_F_QUARANTINE */
#endif

static unsigned char mem[TARN_LFBLOCK_POOL_BYTES(NBLK, BSZ)] TARN_LFBLOCK_ALIGNED;
static tarn_lfblock_pool pool;
static tarn_pthread_lock mutex = TARN_PTHREAD_LOCK_INIT;

static uintptr_t lf_alloc(void *ctx, size_t size)
{
    (void)size;
    return (uintptr_t)tarn_lfblock_get((tarn_lfblock_pool *)ctx);
}
static int lf_release(void *ctx, uintptr_t obj, size_t size)
{
    (void)size;
    return (int)tarn_lfblock_put((tarn_lfblock_pool *)ctx, (void *)obj);
}
static void lf_units(void *ctx, uintptr_t obj, size_t size, size_t *first, size_t *n)
{
    long i = tarn_lfblock_index((tarn_lfblock_pool *)ctx, (void *)obj);
    (void)size;
    *first = (size_t)i;
    *n = i < 0 ? 0u : 1u;
}

/* ---- phase 2: racing double puts ------------------------------------------------------ */
typedef struct race {
    pthread_barrier_t bar;
    void *volatile block; /* published between barriers (the barrier orders it) */
    long rounds;
    atomic_int ok_count, double_count, other_count;
    atomic_long bad_rounds;
} race;
static race R;

typedef struct race_arg {
    int id;
} race_arg;

static void *race_main(void *arg)
{
    int id = ((race_arg *)arg)->id;
    long i;
    for (i = 0; i < R.rounds; i++) {
        if (id == 0) {
            R.block = tarn_lfblock_get(&pool);
            atomic_store(&R.ok_count, 0);
            atomic_store(&R.double_count, 0);
            atomic_store(&R.other_count, 0);
        }
        pthread_barrier_wait(&R.bar);
        {
            tarn_status st = tarn_lfblock_put(&pool, R.block);
            if (st == TARN_OK) {
                atomic_fetch_add(&R.ok_count, 1);
            } else if (st == TARN_EDOUBLE) {
                atomic_fetch_add(&R.double_count, 1);
            } else {
                atomic_fetch_add(&R.other_count, 1);
            }
        }
        pthread_barrier_wait(&R.bar);
        if (id == 0 && (atomic_load(&R.ok_count) != 1 ||
                        atomic_load(&R.double_count) != MT_THREADS - 1 ||
                        atomic_load(&R.other_count) != 0)) {
            atomic_fetch_add(&R.bad_rounds, 1);
        }
        pthread_barrier_wait(&R.bar); /* nobody starts the next round before the check */
    }
    return NULL;
}

int main(void)
{
    mt_model m;
    mt_result r;
    tarn_lfblock_stats st;
    tarn_config cfg;
    pthread_t tid[MT_THREADS];
    race_arg ra[MT_THREADS];
    int i;

    memset(&cfg, 0, sizeof cfg);
    cfg.name = "mt";
    cfg.flags = MT_LF_FLAGS;
#if !TARN_LFBLOCK_LOCK_FREE
    cfg.lock = tarn_pthread_hook(&mutex); /* the fallback needs its lock */
#else
    (void)mutex;
#endif
    REQUIRE(tarn_lfblock_init(&pool, mem, sizeof mem, BSZ, &cfg) == TARN_OK);
    REQUIRE(tarn_lfblock_count(&pool) == NBLK);

    /* 1. random traffic: 4 threads x 16 slots want ~32 of 34 blocks on average */
    memset(&m, 0, sizeof m);
    m.name = TARN_LFBLOCK_LOCK_FREE ? "lfblock (lock-free)" : "lfblock (fallback, mutex)";
    m.ctx = &pool;
    m.min_size = 1;
    m.max_size = BSZ;
    m.alloc = lf_alloc;
    m.release = lf_release;
    m.units_of = lf_units;
    m.units = NBLK;
    CHECK_EQ(mt_run(&m, MT_THREADS, CHECK_ITERS(1000000L), 16, 11, &r), 0);
    MT_CHECK_RESULT(r);
#if TARN_TEST_SCALE == 1 /* under Valgrind threads run in turns and may never meet */
    CHECK(r.failed > 0); /* the pool did run empty */
#endif
    CHECK_EQ(tarn_lfblock_check(&pool), TARN_OK);
    /* held blocks are not free: release them before the counts are compared */
    CHECK_EQ(tarn_lfblock_quarantine_flush(&pool), TARN_OK);
    CHECK(tarn_lfblock_last_error(&pool) != TARN_ECORRUPT);   /* no write into a held block */
    CHECK_EQ(tarn_lfblock_check(&pool), TARN_OK);
    CHECK_EQ(tarn_lfblock_stats_get(&pool, &st), TARN_OK);
#if TARN_STATS
    CHECK_EQ(st.free, NBLK);
    CHECK_EQ(st.failed_gets, r.failed);
    CHECK(st.min_free <= NBLK - r.max_held);
    printf("stats: free %u, min_free %u, failed_gets %u, CAS retries %u (%.3f per op)\n",
           st.free, st.min_free, st.failed_gets, st.retries, (double)st.retries / (double)r.ops);
#endif

    /* 2. racing double puts */
    R.rounds = CHECK_ITERS(20000L);
    atomic_init(&R.bad_rounds, 0);
    pthread_barrier_init(&R.bar, NULL, MT_THREADS);
    for (i = 0; i < MT_THREADS; i++) {
        ra[i].id = i;
        REQUIRE(pthread_create(&tid[i], NULL, race_main, &ra[i]) == 0);
    }
    for (i = 0; i < MT_THREADS; i++) pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&R.bar);
    CHECK_EQ(atomic_load(&R.bad_rounds), 0);
    printf("double-put races: %ld rounds of %d puts of one block, exactly one accepted in each\n",
           R.rounds, MT_THREADS);
    CHECK_EQ(tarn_lfblock_check(&pool), TARN_OK);
    CHECK_EQ(tarn_lfblock_quarantine_flush(&pool), TARN_OK);
    CHECK_EQ(tarn_lfblock_stats_get(&pool, &st), TARN_OK);
#if TARN_STATS
    CHECK_EQ(st.free, NBLK);
    CHECK_EQ(st.failed_gets, r.failed);
#endif
    return check_done();
}
