/*
 * bench/concurrency.c - throughput of pools shared by 1, 2 and 4 threads: the lock-free
 * block pool, a block pool and a heap behind the pthread-mutex hook of ports/posix, and
 * the system allocators (glibc malloc/free always; jemalloc and mimalloc when installed),
 * all with the same block size, in the same run.
 *
 * Workload per thread: take LIVE blocks of SIZE bytes, then PAIRS times free the block in
 * a slot chosen by a precomputed random sequence (different per thread) and take a new one
 * for that slot, then free everything.  All threads share one pool (or one malloc) and
 * start together on a barrier.  The kernel includes creating and joining the threads.
 *
 * Figures: million get+put pairs per second over all threads (best of REPS runs: wall time
 * on shared cores is noisy), ns per pair per thread, and throughput relative to glibc with
 * the same thread count.  Callgrind instruction counts per pair are given for 1 thread
 * only: under Valgrind threads run one at a time, so there is no contention to count.
 * For the lock-free pool, CAS retries per pair show how often threads collided.
 */
#include "bench_common.h"
#include "tarn/block.h"
#include "tarn/heap.h"
#include "tarn/lfblock.h"
#include "../ports/posix/tarn_pthread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIZE 64u
#define LIVE 64u
#define MAXT 4
#define REPS 5
#define NBLOCKS (MAXT * LIVE)

typedef struct alloc_if {
    const char *name;
    void (*setup)(void);                 /* fresh pool before each kernel run */
    void *(*get)(void);
    void (*put)(void *p);
    void (*teardown)(void);
} alloc_if;

/* ---- the contenders --------------------------------------------------------------------- */
static tarn_pthread_lock mutex = TARN_PTHREAD_LOCK_INIT;
static tarn_config mutex_cfg(void)
{
    tarn_config c;
    memset(&c, 0, sizeof c);
    c.lock = tarn_pthread_hook(&mutex);
    return c;
}

static unsigned char lf_mem[TARN_LFBLOCK_POOL_BYTES(NBLOCKS, SIZE)] TARN_LFBLOCK_ALIGNED;
static tarn_lfblock_pool lf;
static void lf_setup(void)
{
    if (tarn_lfblock_init(&lf, lf_mem, sizeof lf_mem, SIZE, NULL) != TARN_OK) abort();
}
static void *lf_get(void) { return tarn_lfblock_get(&lf); }
static void lf_put(void *p)
{
    if (tarn_lfblock_put(&lf, p) != TARN_OK) abort();
}
static void lf_teardown(void)
{
    if (tarn_lfblock_check(&lf) != TARN_OK) abort();
}

static unsigned char blk_mem[TARN_BLOCK_POOL_BYTES(NBLOCKS, SIZE)] TARN_BLOCK_ALIGNED;
static tarn_block_pool blk;
static tarn_block_ext blk_ext;
static void blk_setup(void)
{
    tarn_config c = mutex_cfg();
    if (tarn_block_init_ext(&blk, &blk_ext, blk_mem, sizeof blk_mem, SIZE, &c) != TARN_OK) abort();
}
static void *blk_get(void) { return tarn_block_get(&blk); }
static void blk_put(void *p)
{
    if (tarn_block_put(&blk, p) != TARN_OK) abort();
}
static void blk_teardown(void)
{
    if (tarn_block_check(&blk) != TARN_OK) abort();
}

static unsigned char heap_mem[256u * 1024u] __attribute__((aligned(16)));
static tarn_heap *heap;
static void heap_setup(void)
{
    tarn_config c = mutex_cfg();
    if (tarn_heap_init(&heap, heap_mem, sizeof heap_mem, &c) != TARN_OK) abort();
}
static void *heap_get(void) { return tarn_heap_alloc(heap, SIZE); }
static void heap_put(void *p)
{
    if (tarn_heap_free(heap, p) != TARN_OK) abort();
}
static void heap_teardown(void)
{
    if (tarn_heap_check(heap) != TARN_OK) abort();
}

static bench_sys sys[4];
static int nsys;
static void nop(void) {}
#define SYS_IF(k)                                                      \
    static void *sys##k##_get(void) { return sys[k].malloc_fn(SIZE); } \
    static void sys##k##_put(void *p) { sys[k].free_fn(p); }
SYS_IF(0)
SYS_IF(1)
SYS_IF(2)
SYS_IF(3)
static void *(*const sys_get[4])(void) = {sys0_get, sys1_get, sys2_get, sys3_get};
static void (*const sys_put[4])(void *) = {sys0_put, sys1_put, sys2_put, sys3_put};

/* ---- the kernel ---------------------------------------------------------------------------- */
typedef struct workload {
    uint32_t pairs;
    uint32_t *order[MAXT]; /* slot freed at each step, per thread */
} workload;
static workload W;

typedef struct run_ctx {
    const alloc_if *a;
    int threads;
    pthread_barrier_t bar;
    long failures;
} run_ctx;

typedef struct thread_arg {
    run_ctx *rc;
    int id;
    long failures;
} thread_arg;

static void *worker(void *arg)
{
    thread_arg *ta = (thread_arg *)arg;
    const alloc_if *a = ta->rc->a;
    const uint32_t *order = W.order[ta->id];
    void *slots[LIVE];
    uint32_t i;
    for (i = 0; i < LIVE; i++) {
        slots[i] = a->get();
        if (slots[i] == NULL) ta->failures++;
    }
    pthread_barrier_wait(&ta->rc->bar);
    for (i = 0; i < W.pairs; i++) {
        void **s = &slots[order[i]];
        a->put(*s);
        *s = a->get();
        if (*s == NULL) { /* cannot happen: the pool holds MAXT * LIVE blocks */
            ta->failures++;
            *s = a->get();
            if (*s == NULL) abort();
        }
    }
    for (i = 0; i < LIVE; i++) a->put(slots[i]);
    return NULL;
}

static void run_kernel(void *ctx)
{
    run_ctx *rc = (run_ctx *)ctx;
    pthread_t tid[MAXT];
    thread_arg ta[MAXT];
    int i;
    rc->a->setup();
    pthread_barrier_init(&rc->bar, NULL, (unsigned)rc->threads);
    for (i = 0; i < rc->threads; i++) {
        ta[i].rc = rc;
        ta[i].id = i;
        ta[i].failures = 0;
        if (pthread_create(&tid[i], NULL, worker, &ta[i]) != 0) abort();
    }
    rc->failures = 0;
    for (i = 0; i < rc->threads; i++) {
        pthread_join(tid[i], NULL);
        rc->failures += ta[i].failures;
    }
    pthread_barrier_destroy(&rc->bar);
    rc->a->teardown();
}

int main(int argc, char **argv)
{
    static const char *const cols[] = {"allocator", "threads", "Mpairs/s", "ns/pair/thread",
                                       "x glibc", "instr/pair", "CAS retries/pair"};
    alloc_if ifs[8];
    int nif = 0, k, t, rep;
    static const int tcounts[3] = {1, 2, 4};
    double best[8][3], instr[8], retries[8][3], glibc_best[3];
    uint64_t x = 0x5eed;

    bench_init(argc, argv);
    W.pairs = bench_quick ? 50000u : 500000u;
    for (t = 0; t < MAXT; t++) {
        uint32_t i;
        W.order[t] = malloc(W.pairs * sizeof *W.order[t]);
        if (W.order[t] == NULL) return 1;
        for (i = 0; i < W.pairs; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            W.order[t][i] = (uint32_t)(x % LIVE);
        }
    }
    ifs[nif++] = (alloc_if){"tarn lfblock (lock-free)", lf_setup, lf_get, lf_put, lf_teardown};
    ifs[nif++] = (alloc_if){"tarn block pool + mutex", blk_setup, blk_get, blk_put, blk_teardown};
    ifs[nif++] = (alloc_if){"tarn heap + mutex", heap_setup, heap_get, heap_put, heap_teardown};
    nsys = bench_sys_allocators(sys, 4);
    for (k = 0; k < nsys && nif < 8; k++) {
        ifs[nif++] = (alloc_if){sys[k].name, nop, sys_get[k], sys_put[k], nop};
    }

    for (k = 0; k < nif; k++) {
        instr[k] = -1.0;
        for (t = 0; t < 3; t++) {
            run_ctx rc;
            char kname[64];
            memset(&rc, 0, sizeof rc);
            rc.a = &ifs[k];
            rc.threads = tcounts[t];
            snprintf(kname, sizeof kname, "k%d-t%d", k, tcounts[t]);
            best[k][t] = -1.0;
            retries[k][t] = -1.0;
            for (rep = 0; rep < REPS; rep++) {
                bench_result r;
                if (rep == 0 && t == 0) {
                    r = bench_run(kname, run_kernel, &rc); /* timed, and counted by callgrind */
                    instr[k] = r.instr;
                } else if (bench_is_child()) {
                    continue;
                } else {
                    uint64_t t0 = bench_now_ns();
                    run_kernel(&rc);
                    r.ns = (double)(bench_now_ns() - t0);
                }
                if (bench_is_child()) continue;
                if (rc.failures != 0) {
                    fprintf(stderr, "bench/concurrency: %s: %ld failed gets\n", ifs[k].name,
                            rc.failures);
                    return 1;
                }
                if (best[k][t] < 0 || r.ns < best[k][t]) {
                    best[k][t] = r.ns;
                    if (ifs[k].setup == lf_setup) {
                        tarn_lfblock_stats st;
                        tarn_lfblock_stats_get(&lf, &st);
                        retries[k][t] = (double)st.retries / ((double)W.pairs * tcounts[t]);
                    }
                }
            }
        }
    }
    if (bench_is_child()) return 0;
    for (t = 0; t < 3; t++) glibc_best[t] = best[nif - nsys][t];

    bench_table_begin("concurrency",
                      bench_fmt("shared pool, %u B blocks, %u live + %u pairs per thread",
                                SIZE, LIVE, W.pairs),
                      cols, 7);
    for (t = 0; t < 3; t++) {
        for (k = 0; k < nif; k++) {
            const char *cells[7];
            double total = (double)W.pairs * tcounts[t];
            cells[0] = ifs[k].name;
            cells[1] = bench_fmt("%d", tcounts[t]);
            cells[2] = bench_fmt("%.2f", total / best[k][t] * 1e3);
            cells[3] = bench_fmt("%.1f", best[k][t] / (double)W.pairs);
            cells[4] = bench_fmt("%.2f", glibc_best[t] / best[k][t]);
            cells[5] = (t == 0 && instr[k] >= 0)
                           ? bench_fmt("%.1f", instr[k] / ((double)W.pairs + LIVE)) : "-";
            cells[6] = retries[k][t] >= 0 ? bench_fmt("%.4f", retries[k][t]) : "-";
            bench_row(cells);
        }
    }
    bench_table_end();
    bench_note("Best of %d runs.  x glibc > 1: faster than glibc malloc/free with the same "
               "thread count.", REPS);
    bench_note("instr/pair: callgrind, 1 thread, whole kernel (thread start and the initial "
               "and final %u gets/puts included) over pairs + %u.", LIVE, LIVE);
    for (t = 0; t < MAXT; t++) free(W.order[t]);
    return 0;
}
