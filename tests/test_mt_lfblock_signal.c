/* tarn-test: host-only */
/*
 * tests/test_mt_lfblock_signal.c - the lock-free pool used from an "interrupt handler":
 * a POSIX signal handler that takes and returns blocks of the same pool, delivered to the
 * main thread at random points of its own gets and puts (a second thread fires it with
 * pthread_kill as fast as it can).  That is the single-core ISR case: the handler runs to
 * completion on top of a get/put stopped between its load and its CAS.  (With a mutex
 * hook this would deadlock; with the lock-free pool it must just work.)
 * Proves: no block owned by the main thread and the handler at once, every pattern
 * intact, stats exact (failed gets of both counted), and the handler really did
 * interrupt the main thread's traffic many times.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>

#include "check.h"
#include "tarn/lfblock.h"

#define NBLK 18u
#define BSZ 32u
#define MAIN_SLOTS 16
#define ISR_SLOTS 6

static unsigned char mem[TARN_LFBLOCK_POOL_BYTES(NBLK, BSZ)] TARN_LFBLOCK_ALIGNED;
static tarn_lfblock_pool pool;
static atomic_uchar owner[NBLK]; /* 0 free, 1 main, 2 handler */

/* handler state: touched only by the handler (it cannot interrupt itself) and by main
 * after the signals have stopped */
static void *isr_slot[ISR_SLOTS];
static uint32_t isr_tag[ISR_SLOTS];
static uint64_t isr_rng = 0x1234567;
static atomic_long isr_runs, isr_gets, isr_failed, isr_bad;

static int claim(void *b, unsigned char who, int take)
{
    long i = tarn_lfblock_index(&pool, b);
    unsigned char e = take ? 0 : who;
    if (i < 0) return 0;
    return atomic_compare_exchange_strong(&owner[i], &e, take ? who : 0);
}

static void on_signal(int sig)
{
    int k = (int)(check_rand_r(&isr_rng) % ISR_SLOTS);
    (void)sig;
    atomic_fetch_add(&isr_runs, 1);
    if (isr_slot[k] == NULL) {
        void *b = tarn_lfblock_get(&pool);
        if (b == NULL) {
            atomic_fetch_add(&isr_failed, 1);
            return;
        }
        atomic_fetch_add(&isr_gets, 1);
        if (!claim(b, 2, 1)) atomic_fetch_add(&isr_bad, 1);
        isr_tag[k] = 0x20000000u ^ (uint32_t)check_rand_r(&isr_rng);
        check_fill(b, BSZ, isr_tag[k]);
        isr_slot[k] = b;
    } else {
        if (!check_verify(isr_slot[k], BSZ, isr_tag[k])) atomic_fetch_add(&isr_bad, 1);
        if (!claim(isr_slot[k], 2, 0)) atomic_fetch_add(&isr_bad, 1);
        if (tarn_lfblock_put(&pool, isr_slot[k]) != TARN_OK) atomic_fetch_add(&isr_bad, 1);
        isr_slot[k] = NULL;
    }
}

static atomic_int stop_firing;
static pthread_t main_thread;
static atomic_long fired;
/* Fire, then wait until the handler has run before firing again (pending signals of one
 * kind merge), so every signal interrupts the main thread once. */
static void *firing(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_firing)) {
        long before = atomic_load(&isr_runs);
        if (pthread_kill(main_thread, SIGUSR1) != 0) break;
        atomic_fetch_add(&fired, 1);
        while (atomic_load(&isr_runs) == before && !atomic_load(&stop_firing)) sched_yield();
    }
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    sigset_t block_set;
    pthread_t firer;
    void *slot[MAIN_SLOTS];
    uint32_t tag[MAIN_SLOTS];
    uint64_t rng = 99;
    long i, iters = CHECK_ITERS(2000000L), min_runs = CHECK_ITERS(10000L);
    long main_failed = 0, main_bad = 0;
    int k;
    tarn_lfblock_stats st;

#if !TARN_LFBLOCK_LOCK_FREE
    printf("skipped: this build's lfblock is the lock-hook fallback\n");
    return 77;
#endif
    REQUIRE(tarn_lfblock_init(&pool, mem, sizeof mem, BSZ, NULL) == TARN_OK);
    memset(slot, 0, sizeof slot);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    REQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);
    main_thread = pthread_self();
    REQUIRE(pthread_create(&firer, NULL, firing, NULL) == 0);

    /* at least `iters` operations, and on until the handler has run min_runs times */
    for (i = 0; i < iters || atomic_load(&isr_runs) < min_runs; i++) {
        k = (int)(check_rand_r(&rng) % MAIN_SLOTS);
        if (slot[k] == NULL) {
            void *b = tarn_lfblock_get(&pool);
            if (b == NULL) {
                main_failed++;
                continue;
            }
            if (!claim(b, 1, 1)) main_bad++;
            tag[k] = 0x10000000u ^ (uint32_t)i;
            check_fill(b, BSZ, tag[k]);
            slot[k] = b;
        } else {
            if (!check_verify(slot[k], BSZ, tag[k])) main_bad++;
            if (!claim(slot[k], 1, 0)) main_bad++;
            if (tarn_lfblock_put(&pool, slot[k]) != TARN_OK) main_bad++;
            slot[k] = NULL;
        }
    }
    atomic_store(&stop_firing, 1);
    pthread_join(firer, NULL);
    sigemptyset(&block_set);
    sigaddset(&block_set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &block_set, NULL); /* a signal still pending stays so */

    for (k = 0; k < MAIN_SLOTS; k++) {
        if (slot[k] == NULL) continue;
        CHECK(check_verify(slot[k], BSZ, tag[k]));
        CHECK_EQ(tarn_lfblock_put(&pool, slot[k]), TARN_OK);
    }
    for (k = 0; k < ISR_SLOTS; k++) {
        if (isr_slot[k] == NULL) continue;
        CHECK(check_verify(isr_slot[k], BSZ, isr_tag[k]));
        CHECK_EQ(tarn_lfblock_put(&pool, isr_slot[k]), TARN_OK);
    }
    CHECK_EQ(main_bad, 0);
    CHECK_EQ(atomic_load(&isr_bad), 0);
    CHECK(atomic_load(&isr_runs) >= min_runs);
    CHECK(atomic_load(&isr_gets) > min_runs / 8);
    CHECK_EQ(tarn_lfblock_check(&pool), TARN_OK);
    CHECK_EQ(tarn_lfblock_stats_get(&pool, &st), TARN_OK);
#if TARN_STATS
    CHECK_EQ(st.free, NBLK);
    CHECK_EQ(st.failed_gets, main_failed + atomic_load(&isr_failed));
#endif
    printf("main: %ld ops, %ld failed gets; handler: %ld runs (%ld signals sent), %ld gets, "
           "%ld failed; CAS retries %u\n", i, main_failed, atomic_load(&isr_runs),
           atomic_load(&fired), atomic_load(&isr_gets), atomic_load(&isr_failed), st.retries);
    return check_done();
}
