/* tarn-test: host-only */
/*
 * tests/test_mt_block.c - block pool under 4 threads with the pthread-mutex hook of
 * ports/posix: random get/put traffic over a pool smaller than what the threads want, so
 * it runs empty often; concurrent validate, stats and full checks from the same threads'
 * neighbour (a 5th "auditor" thread), which also walks the pool and sets and removes a
 * put callback (that frees the block as put would) while the workers get and put: under
 * ThreadSanitizer (make test-tsan) neither may race with the inline get/put.  No block
 * handed out twice, every pattern intact, stats exact at the end, and the hook taken
 * around every call.
 */
#include "test_mt_harness.h"
#include "tarn/block.h"
#include "../ports/posix/tarn_pthread.h"

#define NBLK 34u
#define BSZ 48u

static unsigned char mem[TARN_BLOCK_POOL_BYTES(NBLK, BSZ)] TARN_BLOCK_ALIGNED;
static tarn_block_pool pool;
static tarn_block_ext pool_ext;
static tarn_pthread_lock mutex = TARN_PTHREAD_LOCK_INIT;

/* The hook, wrapped to count calls and catch overlap (a second holder). */
static atomic_long hook_calls;
static atomic_int holders, overlaps;
static void counting_lock(void *ctx)
{
    tarn_pthread_lock_fn(ctx);
    if (atomic_fetch_add(&holders, 1) != 0) atomic_fetch_add(&overlaps, 1);
    atomic_fetch_add(&hook_calls, 1);
}
static void counting_unlock(void *ctx)
{
    atomic_fetch_sub(&holders, 1);
    tarn_pthread_unlock_fn(ctx);
}

static uintptr_t b_alloc(void *ctx, size_t size)
{
    (void)size;
    return (uintptr_t)tarn_block_get((tarn_block_pool *)ctx);
}
static int b_release(void *ctx, uintptr_t obj, size_t size)
{
    (void)size;
    return (int)tarn_block_put((tarn_block_pool *)ctx, (void *)obj);
}
static void b_units(void *ctx, uintptr_t obj, size_t size, size_t *first, size_t *n)
{
    long i = tarn_block_index((tarn_block_pool *)ctx, (void *)obj);
    (void)size;
    *first = (size_t)i;
    *n = i < 0 ? 0u : 1u;
}

/* Auditor: stats and full checks while the workers run; every answer must be sane. */
static atomic_int stop_audit;
static atomic_long audit_bad, audits, cb_puts;

static tarn_status pass_cb(tarn_block_pool *p, void *blk, void *arg)
{
    (void)arg;
    atomic_fetch_add(&cb_puts, 1);
    return tarn_block_put_from_cb(p, blk);
}
static bool walk_count(void *ctx, void *block, size_t size, bool used)
{
    (void)block;
    if (size != TARN_BLOCK_USABLE(BSZ)) atomic_fetch_add(&audit_bad, 1);
    if (used) ++*(unsigned *)ctx;
    return true;
}
static void *auditor(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_audit)) {
        tarn_block_stats st;
        if (tarn_block_check(&pool) != TARN_OK) atomic_fetch_add(&audit_bad, 1);
        if (tarn_block_stats_get(&pool, &st) != TARN_OK || st.free > NBLK ||
            st.min_free > st.free || st.count != NBLK) {
            atomic_fetch_add(&audit_bad, 1);
        }
        {
            unsigned used = 0;
            if (tarn_block_walk(&pool, walk_count, &used) != TARN_OK || used > NBLK) {
                atomic_fetch_add(&audit_bad, 1);
            }
        }
        tarn_block_set_put_cb(&pool, (atomic_load(&audits) & 1) ? pass_cb : NULL, NULL);
        atomic_fetch_add(&audits, 1);
    }
    tarn_block_set_put_cb(&pool, NULL, NULL);
    return NULL;
}

int main(void)
{
    mt_model m;
    mt_result r;
    tarn_block_stats st;
    tarn_config cfg;
    pthread_t aud;
    long calls_before;

    memset(&cfg, 0, sizeof cfg);
    cfg.lock.lock = counting_lock;
    cfg.lock.unlock = counting_unlock;
    cfg.lock.ctx = &mutex;
    cfg.name = "mt";
    REQUIRE(tarn_block_init_ext(&pool, &pool_ext, mem, sizeof mem, BSZ, &cfg) == TARN_OK);
    REQUIRE(tarn_block_stats_get(&pool, &st) == TARN_OK && st.count == NBLK);

    memset(&m, 0, sizeof m);
    m.name = "block pool (mutex)";
    m.ctx = &pool;
    m.min_size = 1;
    m.max_size = BSZ;
    m.alloc = b_alloc;
    m.release = b_release;
    m.units_of = b_units;
    m.units = NBLK;
    calls_before = atomic_load(&hook_calls);
    REQUIRE(pthread_create(&aud, NULL, auditor, NULL) == 0);
    CHECK_EQ(mt_run(&m, MT_THREADS, CHECK_ITERS(500000L), 16, 21, &r), 0);
    atomic_store(&stop_audit, 1);
    pthread_join(aud, NULL);
    MT_CHECK_RESULT(r);
#if TARN_TEST_SCALE == 1 /* under Valgrind threads run in turns and may never meet */
    CHECK(r.failed > 0); /* the pool did run empty */
#endif
    CHECK_EQ(atomic_load(&overlaps), 0);
    CHECK_EQ(atomic_load(&audit_bad), 0);
    /* every get, put (and index lookup: no, those read only init-time fields) took the
     * hook once; the auditor took it for each check and stats call */
    CHECK(atomic_load(&hook_calls) - calls_before >= (long)r.ops);
    CHECK_EQ(tarn_block_check(&pool), TARN_OK);
    CHECK_EQ(tarn_block_stats_get(&pool, &st), TARN_OK);
    CHECK_EQ(st.free, NBLK);
    CHECK_EQ(st.failed_gets, r.failed);
    CHECK(r.failed == 0 || st.min_free == 0); /* under the lock, a failed get saw 0 free */
    CHECK(st.min_free <= NBLK - r.max_held);
    printf("stats: free %u, min_free %u, failed_gets %u; %ld audits during the run, %ld puts "
           "through the callback\n", st.free, st.min_free, st.failed_gets, atomic_load(&audits),
           atomic_load(&cb_puts));
    return check_done();
}
