/* tarn-test: host-only */
/*
 * tests/test_mt_ext.c - external memory manager under 4 threads with the pthread-mutex
 * hook of ports/posix, over an emulated device in RAM, plus a 5th thread that runs full
 * checks and statistics all the time.
 *   - every allocation is written with its owner's pattern through tarn_ext_write and
 *     verified through tarn_ext_read before it is freed;
 *   - no device byte is in two live allocations (ownership of 4-byte device units);
 *   - counters exact at the end, the full check passes, and mounting the device afresh
 *     finds the same empty region.
 */
#include "test_mt_harness.h"
#include "tarn/ext.h"
#include "support/ramdev.h"
#include "../ports/posix/tarn_pthread.h"

#define BASE 0x100u
#define REGION 3072u
#define MAXSZ 128u

static unsigned char dev[BASE + REGION];
static ramdev rd = {dev, BASE, sizeof dev, 0}; /* accesses outside the region: rd.bad */
static const tarn_ext_io io = RAMDEV_IO(&rd); /* called with the manager's lock held */
static tarn_ext ext;
static tarn_pthread_lock mutex = TARN_PTHREAD_LOCK_INIT;

static atomic_long io_errors;
static uintptr_t e_alloc(void *ctx, size_t size)
{
    uint32_t a = 0;
    tarn_status st = tarn_ext_alloc((tarn_ext *)ctx, size, &a);
    if (st != TARN_OK && st != TARN_ENOMEM) atomic_fetch_add(&io_errors, 1);
    return st == TARN_OK ? (uintptr_t)a : 0u;
}
static int e_release(void *ctx, uintptr_t obj, size_t size)
{
    (void)size;
    return (int)tarn_ext_free((tarn_ext *)ctx, (uint32_t)obj);
}
static void e_fill(void *ctx, uintptr_t obj, size_t size, uint32_t tag)
{
    unsigned char buf[MAXSZ];
    check_fill(buf, size, tag);
    if (tarn_ext_write((tarn_ext *)ctx, (uint32_t)obj, 0, buf, size) != TARN_OK) {
        atomic_fetch_add(&io_errors, 1);
    }
}
static int e_verify(void *ctx, uintptr_t obj, size_t size, uint32_t tag)
{
    unsigned char buf[MAXSZ];
    size_t usable = 0;
    if (tarn_ext_size((tarn_ext *)ctx, (uint32_t)obj, &usable) != TARN_OK || usable < size) {
        return 0;
    }
    if (tarn_ext_read((tarn_ext *)ctx, (uint32_t)obj, 0, buf, size) != TARN_OK) return 0;
    return check_verify(buf, size, tag);
}
static void e_units(void *ctx, uintptr_t obj, size_t size, size_t *first, size_t *n)
{
    (void)ctx;
    *first = obj >= BASE ? (size_t)(obj - BASE) / 4u : (size_t)-1;
    *n = (size + 3u) / 4u;
}

static atomic_int stop_audit;
static atomic_long audit_bad, audits;
static void *auditor(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_audit)) {
        tarn_ext_stats st;
        if (tarn_ext_check(&ext) != TARN_OK) atomic_fetch_add(&audit_bad, 1);
        if (tarn_ext_stats_get(&ext, &st) != TARN_OK ||
            (uint64_t)st.live_bytes + st.free_bytes > st.heap_size) {
            atomic_fetch_add(&audit_bad, 1);
        }
        atomic_fetch_add(&audits, 1);
    }
    return NULL;
}

int main(void)
{
    mt_model m;
    mt_result r;
    tarn_ext_stats st, st2;
    tarn_config cfg;
    tarn_ext again;
    pthread_t aud;

    memset(&cfg, 0, sizeof cfg);
    cfg.lock = tarn_pthread_hook(&mutex);
    cfg.name = "mt";
    memset(dev, 0xEE, sizeof dev);
    REQUIRE(tarn_ext_format(&ext, &io, BASE, REGION, 0, &cfg) == TARN_OK);

    memset(&m, 0, sizeof m);
    m.name = "external manager (mutex)";
    m.ctx = &ext;
    m.min_size = 1;
    m.max_size = MAXSZ;
    m.alloc = e_alloc;
    m.release = e_release;
    m.fill = e_fill;
    m.verify = e_verify;
    m.units_of = e_units;
    m.units = REGION / 4u;
    REQUIRE(pthread_create(&aud, NULL, auditor, NULL) == 0);
    CHECK_EQ(mt_run(&m, MT_THREADS, CHECK_ITERS(250000L), 16, 41, &r), 0);
    atomic_store(&stop_audit, 1);
    pthread_join(aud, NULL);
    MT_CHECK_RESULT(r);
#if TARN_TEST_SCALE == 1 /* under Valgrind threads run in turns and may never meet */
    CHECK(r.failed > 0); /* the region did run short */
#endif
    CHECK_EQ(atomic_load(&io_errors), 0);
    CHECK_EQ(atomic_load(&rd.bad), 0);
    CHECK_EQ(atomic_load(&audit_bad), 0);

    CHECK_EQ(tarn_ext_check(&ext), TARN_OK);
    CHECK_EQ(tarn_ext_stats_get(&ext, &st), TARN_OK);
    CHECK_EQ(st.live_blocks, 0);
    CHECK_EQ(st.live_bytes, 0);
    CHECK_EQ(st.free_bytes, st.heap_size);
#if TARN_STATS
    CHECK_EQ(st.allocs, r.allocs);
    CHECK_EQ(st.frees, r.frees);
    CHECK_EQ(st.failed, r.failed);
    CHECK_EQ(st.io_errors, 0);
#endif
    /* the device alone tells the same story */
    CHECK_EQ(tarn_ext_mount(&again, &io, BASE, REGION, NULL), TARN_OK);
    CHECK_EQ(tarn_ext_stats_get(&again, &st2), TARN_OK);
    CHECK_EQ(st2.live_blocks, 0);
    CHECK_EQ(st2.free_bytes, st.free_bytes);
    CHECK_EQ(tarn_ext_check(&again), TARN_OK);
    printf("stats: %u allocs, %u frees, %u failed, %u rescans, %u reads, %u writes; %ld full "
           "checks during the run\n", st.allocs, st.frees, st.failed, st.rescans, st.reads,
           st.writes, atomic_load(&audits));
    return check_done();
}
