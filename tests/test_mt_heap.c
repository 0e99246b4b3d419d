/* tarn-test: host-only */
/*
 * tests/test_mt_heap.c - heap under 4 threads with the pthread-mutex hook of ports/posix,
 * plus a 5th thread running the full and the O(1) integrity checks and statistics all the
 * time.  Random sizes (1..256 bytes) in a heap smaller than what the threads want, so
 * allocations fail often and blocks split and merge constantly.
 *   - no heap byte is in two live blocks (ownership of 8-byte granules);
 *   - every block keeps its owner's pattern until it is freed;
 *   - stats exact at the end: nothing used, one free block spanning the heap, counts of
 *     allocations, frees and failures equal to what the threads saw.
 */
#include "test_mt_harness.h"
#include "tarn/heap.h"
#include "../ports/posix/tarn_pthread.h"

#define HEAP_BYTES 6144u
#define MAXSZ 256u
#define GRAN 8u

static unsigned char mem[HEAP_BYTES] __attribute__((aligned(16)));
static tarn_heap *heap;
static tarn_pthread_lock mutex = TARN_PTHREAD_LOCK_INIT;

static uintptr_t h_alloc(void *ctx, size_t size)
{
    return (uintptr_t)tarn_heap_alloc((tarn_heap *)ctx, size);
}
static int h_release(void *ctx, uintptr_t obj, size_t size)
{
    (void)size;
    return (int)tarn_heap_free((tarn_heap *)ctx, (void *)obj);
}
static void h_units(void *ctx, uintptr_t obj, size_t size, size_t *first, size_t *n)
{
    (void)ctx;
    if (obj < (uintptr_t)mem || obj >= (uintptr_t)mem + sizeof mem) {
        *first = (size_t)-1;
        *n = 0;
        return;
    }
    *first = (size_t)(obj - (uintptr_t)mem) / GRAN;
    *n = (size + GRAN - 1u) / GRAN;
}

static atomic_int stop_audit;
static atomic_long audit_bad, audits;
static void *auditor(void *arg)
{
    unsigned long i = 0;
    (void)arg;
    while (!atomic_load(&stop_audit)) {
        tarn_heap_stats st;
        if ((i++ & 3u) == 0 && tarn_heap_check(heap) != TARN_OK) atomic_fetch_add(&audit_bad, 1);
        if (tarn_heap_sane(heap) != TARN_OK) atomic_fetch_add(&audit_bad, 1);
        if (tarn_heap_stats_get(heap, &st) != TARN_OK || st.used + st.free != st.capacity ||
            st.largest_free > st.free || st.peak_used < st.used) {
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
    tarn_heap_stats st;
    tarn_config cfg;
    pthread_t aud;

    memset(&cfg, 0, sizeof cfg);
    cfg.lock = tarn_pthread_hook(&mutex);
    cfg.name = "mt";
    REQUIRE(tarn_heap_init(&heap, mem, sizeof mem, &cfg) == TARN_OK);

    memset(&m, 0, sizeof m);
    m.name = "heap (mutex)";
    m.ctx = heap;
    m.min_size = 1;
    m.max_size = MAXSZ;
    m.alloc = h_alloc;
    m.release = h_release;
    m.units_of = h_units;
    m.units = HEAP_BYTES / GRAN;
    REQUIRE(pthread_create(&aud, NULL, auditor, NULL) == 0);
    CHECK_EQ(mt_run(&m, MT_THREADS, CHECK_ITERS(250000L), 16, 51, &r), 0);
    atomic_store(&stop_audit, 1);
    pthread_join(aud, NULL);
    MT_CHECK_RESULT(r);
#if TARN_TEST_SCALE == 1 /* under Valgrind threads run in turns and may never meet */
    CHECK(r.failed > 0); /* the heap did run short */
#endif
    CHECK_EQ(atomic_load(&audit_bad), 0);

    CHECK_EQ(tarn_heap_check(heap), TARN_OK);
    CHECK_EQ(tarn_heap_stats_get(heap, &st), TARN_OK);
    CHECK_EQ(st.used, 0);
    CHECK_EQ(st.live_blocks, 0);
    CHECK_EQ(st.free, st.capacity);
    CHECK_EQ(st.free_blocks, 1);              /* everything merged back */
    CHECK_EQ(st.largest_free, st.capacity);
    CHECK_EQ(st.total_allocs, r.allocs);
    CHECK_EQ(st.total_frees, r.frees);
    CHECK_EQ(st.failed_allocs, r.failed);
    CHECK(st.peak_used <= st.capacity && st.peak_used > 0);
    printf("stats: capacity %zu, peak used %zu, %zu allocs, %zu failed; %ld audits during the "
           "run\n", st.capacity, st.peak_used, st.total_allocs, st.failed_allocs,
           atomic_load(&audits));
    return check_done();
}
