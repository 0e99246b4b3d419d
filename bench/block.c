/*
 * bench/block.c - block pool get+put pairs: tarn against a bare intrusive free list (the
 * physical limit), the system allocators, and a null baseline (the loop alone).
 *
 * Workload: `live` blocks of `size` bytes are taken first; then each step frees the block
 * in a slot chosen by a precomputed random sequence and takes a new one for that slot.
 * The figure is net instructions per get+put pair: (kernel - null) / pairs.
 *
 * tarn's get and put are inline functions (block.h) whose common case is done at the call
 * site; the reference rows "bare free list" (the physical limit) call out-of-line
 * functions.  Two more rows keep the comparison honest: the bare list inlined too, and
 * tarn through its out-of-line entries (what call sites compiled with -Os or
 * TARN_BLOCK_NO_INLINE, or by a compiler without GNU C, call).  Built with
 * -DTARN_BLOCK_FAST_ENTRY=0, that row is the full path alone: what a pool with a lock
 * hook (hook calls aside), or a library built with -Os, pays.
 *
 * Peers (bench/ref_block.h, written from their documentation, locks left out): a
 * Mynewt-style os_mempool (intrusive LIFO list threaded at init; put checks the range and
 * the block boundary), the same with its optional double-put check (a scan of the free
 * list on every put), and a Zephyr-style k_mem_slab (no check).  The lock-free pool's
 * get+put pair is measured on the same stream.  A second table counts init plus the
 * first get of every block of a 4096-block pool (tarn carves blocks on first use; the
 * peers thread the whole list at init).
 */
#include "bench_common.h"
#include "tarn/block.h"
#include "tarn/lfblock.h"
#include "ref_block.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIVE 1000u
#define SIZE 32u

typedef struct workload {
    uint32_t pairs;
    uint32_t *order;      /* slot freed at each step */
    void **slots;
} workload;

static workload W;

/* ---- the kernels ---------------------------------------------------------------------- */
/* A kernel over the stream: for each of the first n steps, free the block in the chosen
 * slot `*s` (the statement put) and take a new one for it (the expression get). */
#define PAIR_KERNEL(name, n, put, get)                 \
    static void name(void *ctx)                        \
    {                                                  \
        uint32_t i;                                    \
        (void)ctx;                                     \
        for (i = 0; i < (n); i++) {                    \
            void **s = &W.slots[W.order[i]];           \
            put;                                       \
            *s = get;                                  \
        }                                              \
    }

static volatile uintptr_t sink;   /* what the null loop reads goes here */

static void run_null(void *ctx)
{
    uint32_t i;
    (void)ctx;
    for (i = 0; i < W.pairs; i++) {
        void **s = &W.slots[W.order[i]];
        sink ^= (uintptr_t)*s;
        *s = (void *)(uintptr_t)i;
    }
}

/* A bare intrusive free list: no checks, no stats, no carving (threaded up front). */
typedef struct bare_list { void *head; } bare_list;
static bare_list bare;
static unsigned char bare_mem[(LIVE + 1) * SIZE] __attribute__((aligned(16)));

__attribute__((noinline)) static void *bare_get(bare_list *l)
{
    void *p = l->head;
    if (p != NULL) l->head = *(void **)p;
    return p;
}
__attribute__((noinline)) static void bare_put(bare_list *l, void *p)
{
    *(void **)p = l->head;
    l->head = p;
}

static void bare_setup(void)
{
    uint32_t i;
    bare.head = NULL;
    for (i = LIVE + 1; i-- > 0;) bare_put(&bare, bare_mem + i * SIZE);
    for (i = 0; i < LIVE; i++) W.slots[i] = bare_get(&bare);
}

/* The same list, inlined at the call site. */
static inline void *bare_get_inline(bare_list *l)
{
    void *p = l->head;
    if (p != NULL) l->head = *(void **)p;
    return p;
}
static inline void bare_put_inline(bare_list *l, void *p)
{
    *(void **)p = l->head;
    l->head = p;
}

PAIR_KERNEL(run_bare_inline, W.pairs, bare_put_inline(&bare, *s), bare_get_inline(&bare))

PAIR_KERNEL(run_bare, W.pairs, bare_put(&bare, *s), bare_get(&bare))

static tarn_block_pool pool;
static unsigned char pool_mem[TARN_BLOCK_POOL_BYTES(LIVE + 1, SIZE)] TARN_BLOCK_ALIGNED;

static void tarn_setup(void)
{
    uint32_t i;
    if (tarn_block_init(&pool, pool_mem, sizeof pool_mem, SIZE, NULL) != TARN_OK) abort();
    for (i = 0; i < LIVE; i++) W.slots[i] = tarn_block_get(&pool);
}

PAIR_KERNEL(run_tarn, W.pairs, tarn_block_put(&pool, *s), tarn_block_get(&pool))

/* tarn through its out-of-line entries only */
PAIR_KERNEL(run_tarn_call, W.pairs, tarn_block_put_slow_(&pool, *s), tarn_block_get_slow_(&pool))

/* ---- peers and the lock-free pool on the same stream ------------------------------------ */
static ref_mynewt_pool mynewt;
static ref_zephyr_slab zephyr;
static unsigned char ref_mem[2 * LIVE * SIZE] __attribute__((aligned(16)));

static void mynewt_setup(void)
{
    uint32_t i;
    if (ref_mynewt_init(&mynewt, LIVE + 1, SIZE, ref_mem) != 0) abort();
    for (i = 0; i < LIVE; i++) W.slots[i] = ref_mynewt_get(&mynewt);
}
/* the scanning variant over 2 * LIVE blocks: LIVE of them free, as in a half-used pool */
static void mynewt_setup_half(void)
{
    uint32_t i;
    if (ref_mynewt_init(&mynewt, 2 * LIVE, SIZE, ref_mem) != 0) abort();
    for (i = 0; i < LIVE; i++) W.slots[i] = ref_mynewt_get(&mynewt);
}
static void zephyr_setup(void)
{
    uint32_t i;
    if (ref_zephyr_init(&zephyr, ref_mem, SIZE, LIVE + 1) != 0) abort();
    for (i = 0; i < LIVE; i++) W.slots[i] = ref_zephyr_alloc(&zephyr);
}
__attribute__((noinline)) static void *mynewt_get_call(void) { return ref_mynewt_get(&mynewt); }
__attribute__((noinline)) static int mynewt_put_call(void *p) { return ref_mynewt_put(&mynewt, p); }
__attribute__((noinline)) static int mynewt_put_checked_call(void *p)
{
    return ref_mynewt_put_checked(&mynewt, p);
}
__attribute__((noinline)) static void *zephyr_alloc_call(void) { return ref_zephyr_alloc(&zephyr); }
__attribute__((noinline)) static void zephyr_free_call(void *p) { ref_zephyr_free(&zephyr, p); }

PAIR_KERNEL(run_mynewt, W.pairs, (void)mynewt_put_call(*s), mynewt_get_call())
/* O(free) per put: a hundredth of the stream */
PAIR_KERNEL(run_mynewt_checked, W.pairs / 100u, (void)mynewt_put_checked_call(*s),
            mynewt_get_call())
PAIR_KERNEL(run_zephyr, W.pairs, zephyr_free_call(*s), zephyr_alloc_call())

static tarn_lfblock_pool lfpool;
static unsigned char lf_mem[TARN_LFBLOCK_POOL_BYTES(LIVE + 1, SIZE)] TARN_LFBLOCK_ALIGNED;
static void lf_setup(void)
{
    uint32_t i;
    if (tarn_lfblock_init(&lfpool, lf_mem, sizeof lf_mem, SIZE, NULL) != TARN_OK) abort();
    for (i = 0; i < LIVE; i++) W.slots[i] = tarn_lfblock_get(&lfpool);
}
PAIR_KERNEL(run_lf, W.pairs, tarn_lfblock_put(&lfpool, *s), tarn_lfblock_get(&lfpool))

/* ---- init + first get of every block ---------------------------------------------------- */
#define FIRST_N 4096u
#define FIRST_SIZE 12u
static unsigned char first_mem[TARN_BLOCK_POOL_BYTES(FIRST_N, 16)] __attribute__((aligned(16)));
/* volatile: every block handed out is stored, so no compiler drops the address computation */
static void *volatile first_out[FIRST_N];
static tarn_block_pool first_pool;
static void run_first_tarn(void *ctx)
{
    uint32_t i;
    (void)ctx;
    if (tarn_block_init(&first_pool, first_mem, TARN_BLOCK_POOL_BYTES(FIRST_N, FIRST_SIZE), FIRST_SIZE,
                        NULL) != TARN_OK) abort();
    for (i = 0; i < FIRST_N; i++) first_out[i] = tarn_block_get(&first_pool);
}
static void run_first_mynewt(void *ctx)
{
    uint32_t i;
    (void)ctx;
    if (ref_mynewt_init(&mynewt, FIRST_N, FIRST_SIZE, first_mem) != 0) abort();
    for (i = 0; i < FIRST_N; i++) first_out[i] = mynewt_get_call();
}
static void run_first_null(void *ctx)
{
    uint32_t i;
    (void)ctx;
    for (i = 0; i < FIRST_N; i++) first_out[i] = (void *)(uintptr_t)i;
}

static bench_sys *cur_sys;
static void sys_setup(bench_sys *a)
{
    uint32_t i;
    for (i = 0; i < LIVE; i++) W.slots[i] = a->malloc_fn(SIZE);
}
static void sys_teardown(bench_sys *a)
{
    uint32_t i;
    for (i = 0; i < LIVE; i++) a->free_fn(W.slots[i]);
}
static void run_sys(void *ctx)
{
    bench_sys *a = (bench_sys *)ctx;
    uint32_t i;
    for (i = 0; i < W.pairs; i++) {
        void **s = &W.slots[W.order[i]];
        a->free_fn(*s);
        *s = a->malloc_fn(SIZE);
    }
}

int main(int argc, char **argv)
{
    static const char *const cols[] = {"allocator", "ns/pair", "instr/pair", "net instr/pair",
                                       "net instr/op", "x bare list", "x mimalloc"};
    bench_sys sys[4];
    int nsys, k;
    uint32_t i;
    uint64_t x = 12345;
    bench_result rnull, rbare, rbare_in, rtarn, rtarn_call, rsys[4];
    bench_result rmy, rmyc, rze, rlf, rfnull, rftarn, rfmy;
    double net_bare, net_mi = -1.0;

    bench_init(argc, argv);
    W.pairs = bench_quick ? 100000u : 1000000u;
    W.order = malloc(W.pairs * sizeof *W.order);
    W.slots = malloc(LIVE * sizeof *W.slots);
    if (W.order == NULL || W.slots == NULL) return 1;
    for (i = 0; i < W.pairs; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        W.order[i] = (uint32_t)(x % LIVE);
    }
    nsys = bench_sys_allocators(sys, 4);

    memset(W.slots, 0, LIVE * sizeof *W.slots);
    rnull = bench_run("null", run_null, NULL);
    bare_setup();
    rbare = bench_run("bare", run_bare, NULL);
    bare_setup();
    rbare_in = bench_run("bare-inline", run_bare_inline, NULL);
    tarn_setup();
    rtarn = bench_run("tarn", run_tarn, NULL);
    tarn_setup();
    rtarn_call = bench_run("tarn-call", run_tarn_call, NULL);
    if (!bench_is_child() && tarn_block_check(&pool) != TARN_OK) {
        fprintf(stderr, "bench/block: pool corrupted\n");
        return 1;
    }
    mynewt_setup();
    rmy = bench_run("mynewt", run_mynewt, NULL);
    mynewt_setup_half();
    rmyc = bench_run("mynewt-checked", run_mynewt_checked, NULL);
    zephyr_setup();
    rze = bench_run("zephyr", run_zephyr, NULL);
    lf_setup();
    rlf = bench_run("lfblock", run_lf, NULL);
    if (!bench_is_child() && tarn_lfblock_check(&lfpool) != TARN_OK) {
        fprintf(stderr, "bench/block: lock-free pool corrupted\n");
        return 1;
    }
    rfnull = bench_run("first-null", run_first_null, NULL);
    rftarn = bench_run("first-tarn", run_first_tarn, NULL);
    rfmy = bench_run("first-mynewt", run_first_mynewt, NULL);
    for (k = 0; k < nsys; k++) {
        char kname[32];
        cur_sys = &sys[k];
        snprintf(kname, sizeof kname, "sys-%s", sys[k].name);
        sys_setup(cur_sys);
        rsys[k] = bench_run(kname, run_sys, cur_sys);
        sys_teardown(cur_sys);
        if (strcmp(sys[k].name, "mimalloc") == 0 && rsys[k].instr >= 0) {
            net_mi = (rsys[k].instr - rnull.instr) / W.pairs;
        }
    }
    if (bench_is_child()) return 0;

    net_bare = (rbare.instr - rnull.instr) / W.pairs;
    bench_table_begin("block", bench_fmt("%u live %u-byte blocks, %u get+put pairs, random order",
                                         LIVE, SIZE, W.pairs), cols, 7);
    {
        const char *names[16];
        bench_result *res[16];
        double scale[16];
        int n = 0, r;
        names[n] = "null (loop only)"; res[n++] = &rnull;
        names[n] = "bare free list"; res[n++] = &rbare;
        names[n] = TARN_CHECK_LEVEL == 0 ? "tarn block pool (check 0)"
                   : TARN_CHECK_LEVEL == 1 ? "tarn block pool (check 1)" : "tarn block pool (check 2)";
        res[n++] = &rtarn;
        names[n] = "bare free list, inlined"; res[n++] = &rbare_in;
        names[n] = "tarn, out-of-line path"; res[n++] = &rtarn_call;
        names[n] = "Mynewt-style list (range check)"; res[n++] = &rmy;
        names[n] = "Mynewt-style + scan, 1000 free (1%)"; res[n++] = &rmyc;
        names[n] = "Zephyr-style slab (no check)"; res[n++] = &rze;
        names[n] = "tarn lfblock"; res[n++] = &rlf;
        for (k = 0; k < nsys; k++) { names[n] = sys[k].name; res[n++] = &rsys[k]; }
        for (r = 0; r < n; r++) scale[r] = 1.0;
        scale[6] = 100.0;  /* the scan row ran a hundredth of the pairs */
        for (r = 0; r < n; r++) {
            double net = (res[r]->instr - rnull.instr / scale[r]) * scale[r] / W.pairs;
            const char *cells[7];
            cells[0] = names[r];
            cells[1] = bench_fmt("%.2f", res[r]->ns / W.pairs);
            cells[2] = res[r]->instr >= 0 ? bench_fmt("%.1f", res[r]->instr * scale[r] / W.pairs) : "n/a";
            cells[3] = (res[r]->instr >= 0 && r > 0) ? bench_fmt("%.1f", net) : "-";
            cells[4] = (res[r]->instr >= 0 && r > 0) ? bench_fmt("%.1f", net / 2) : "-";
            cells[5] = (res[r]->instr >= 0 && r > 0 && net_bare > 0) ? bench_fmt("%.2f", net / net_bare) : "-";
            cells[6] = (res[r]->instr >= 0 && r > 0 && net_mi > 0) ? bench_fmt("%.2f", net / net_mi) : "-";
            bench_row(cells);
        }
    }
    bench_table_end();
    bench_note("net = callgrind instructions of the kernel minus the null loop; per pair (get+put)"
               " and per operation (half a pair).  The free-list-scan row ran 1%% of the pairs"
               " (its put is O(free blocks)); its figures are per pair all the same.");
    {
        static const char *const fcols[] = {"pool", "instr (init + 4096 first gets)", "per block"};
        const char *cells[3];
        double t = rftarn.instr - rfnull.instr, m = rfmy.instr - rfnull.instr;
        bench_table_begin("block-first-use", "init + first get of each of 4096 12-byte blocks",
                          fcols, 3);
        cells[0] = "tarn block pool (carves on first get)";
        cells[1] = rftarn.instr >= 0 ? bench_fmt("%.0f", t) : "n/a";
        cells[2] = rftarn.instr >= 0 ? bench_fmt("%.1f", t / FIRST_N) : "n/a";
        bench_row(cells);
        cells[0] = "Mynewt-style list (threads all at init)";
        cells[1] = rfmy.instr >= 0 ? bench_fmt("%.0f", m) : "n/a";
        cells[2] = rfmy.instr >= 0 ? bench_fmt("%.1f", m / FIRST_N) : "n/a";
        bench_row(cells);
        bench_table_end();
    }
    free(W.order);
    free(W.slots);
    return 0;
}
