/* tarn-test: host-only */
/*
 * tests/test_handle_threads.c - one handle pool shared by several threads through a
 * pthread-mutex lock hook: workers allocate, fill, lock, verify, resize and free their own
 * blocks while another thread compacts (full passes and budgeted steps) all the time.
 * Blocks are only touched while locked, so compaction may move them at any other moment;
 * every block must keep its contents and the pool must stay consistent.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "check.h"
#include "tarn/handle.h"
#include "../ports/posix/tarn_pthread.h"

#define NH 512u
#define DATA (64u * 1024u)
#define WORKERS 3
#define PER 24u

static unsigned char mem[TARN_HANDLE_BYTES(DATA, NH)] TARN_HANDLE_ALIGNED;
static tarn_handle_pool pool;
static tarn_pthread_lock mutex = TARN_PTHREAD_LOCK_INIT;
static atomic_int stop;
static atomic_int moved; /* the compactor has moved a block: workers may stop */
static unsigned long bad[WORKERS + 1];

typedef struct worker {
    int id;
    uint64_t rng;
} worker;

static uint32_t next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1Dull) >> 32);
}

static void *work(void *arg)
{
    worker *w = (worker *)arg;
    tarn_handle h[PER];
    size_t sz[PER];
    uint32_t tag[PER];
    unsigned i, k, iters = (unsigned)CHECK_ITERS(200000);
    for (i = 0; i < PER; i++) h[i] = tarn_handle_null();
    /* at least iters operations, and on until the compactor has moved something (at a
     * shortened length the workers could otherwise finish before it ever ran) */
    for (k = 0; k < iters || (!atomic_load(&moved) && k < 100u * iters); k++) {
        unsigned char *p;
        i = next(&w->rng) % PER;
        if (tarn_handle_is_null(h[i])) {
            sz[i] = 1u + next(&w->rng) % 600u;
            h[i] = tarn_handle_alloc(&pool, sz[i]);
            if (tarn_handle_is_null(h[i])) continue;
            tag[i] = next(&w->rng);
            p = (unsigned char *)tarn_handle_lock(&pool, h[i]);
            if (p == NULL) { bad[w->id]++; continue; }
            check_fill(p, sz[i], tag[i]);
            if (tarn_handle_unlock(&pool, h[i]) != TARN_OK) bad[w->id]++;
        } else if (next(&w->rng) % 4u == 0u) {
            size_t n = 1u + next(&w->rng) % 600u;
            if (tarn_handle_resize(&pool, h[i], n) == TARN_OK) {
                if (n < sz[i]) sz[i] = n; /* the pattern's known prefix */
            }
        } else {
            p = (unsigned char *)tarn_handle_lock(&pool, h[i]);
            if (p == NULL || !check_verify(p, sz[i], tag[i])) bad[w->id]++;
            if (p != NULL && tarn_handle_unlock(&pool, h[i]) != TARN_OK) bad[w->id]++;
            if (next(&w->rng) % 2u == 0u) {
                if (tarn_handle_free(&pool, h[i]) != TARN_OK) bad[w->id]++;
                h[i] = tarn_handle_null();
            }
        }
    }
    for (i = 0; i < PER; i++) {
        if (!tarn_handle_is_null(h[i]) && tarn_handle_free(&pool, h[i]) != TARN_OK) bad[w->id]++;
    }
    return NULL;
}

static void *compactor(void *arg)
{
    unsigned long n = 0;
    (void)arg;
    while (!atomic_load(&stop)) {
        if (n++ % 8u == 0u) {
            (void)tarn_handle_compact(&pool);
        } else {
            (void)tarn_handle_compact_step(&pool, 64u + n % 512u, NULL);
        }
        if (n % 64u == 0u && tarn_handle_check(&pool) != TARN_OK) bad[WORKERS]++;
        if (!atomic_load(&moved) && n % 16u == 0u) {
            tarn_handle_stats st;
            if (tarn_handle_stats_get(&pool, &st) == TARN_OK && st.bytes_moved > 0) atomic_store(&moved, 1);
        }
    }
    return NULL;
}

int main(void)
{
    tarn_config cfg = {TARN_PTHREAD_HOOK(&mutex), "shared", 0};
    pthread_t th[WORKERS + 1];
    worker w[WORKERS];
    tarn_handle_stats st;
    int i;
#if !TARN_LOCKING
    printf("skipped: lock hooks compiled out (TARN_LOCKING 0)\n");
    return 77;
#endif
    REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, &cfg) == TARN_OK);
    REQUIRE(pthread_create(&th[WORKERS], NULL, compactor, NULL) == 0);
    for (i = 0; i < WORKERS; i++) {
        w[i].id = i;
        w[i].rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
        REQUIRE(pthread_create(&th[i], NULL, work, &w[i]) == 0);
    }
    for (i = 0; i < WORKERS; i++) pthread_join(th[i], NULL);
    atomic_store(&stop, 1);
    pthread_join(th[WORKERS], NULL);
    for (i = 0; i <= WORKERS; i++) CHECK_EQ(bad[i], 0);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    CHECK_EQ(tarn_handle_stats_get(&pool, &st), TARN_OK);
    CHECK_EQ(st.used, 0);
    CHECK_EQ(st.largest_free, DATA);
    printf("bytes moved by the compactor thread: %llu\n", (unsigned long long)st.bytes_moved);
    CHECK(st.bytes_moved > 0);
    CHECK_EQ(tarn_handle_deinit(&pool), TARN_OK);
    return check_done();
}
