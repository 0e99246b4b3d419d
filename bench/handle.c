/*
 * bench/handle.c - handle pool: compaction throughput against memmove of the same bytes,
 * and the cost of lock/unlock against a raw pointer dereference.
 *
 * Compaction.  A pool of up to 1 MiB is filled with blocks (fixed sizes from 16 bytes to
 * 4 KiB, or mixed sizes 16..1024), every other block (or a random half) is freed, and
 * tarn_handle_compact slides the survivors down.  The same run then replays the very same
 * block moves (source, destination, length, in the same order) with memmove on a buffer of
 * the same size - the floor for moving those bytes block by block - and moves the same
 * number of bytes with one bulk memmove (the floor for moving them at all).  Throughput is
 * bytes moved per second; wall time is the best of 31 runs (the pool is re-fragmented and
 * its data area warmed before each, untimed); callgrind instructions come from one run of
 * each kernel.  Build without sanitizer annotations (make bench passes TARN_SANITIZE=0).
 * Both ratios are printed: wall time (noisy, and favourable where memmove's fixed cost
 * dominates) and instructions (repeatable).
 *
 * Stepwise compaction.  The same pools compacted by tarn_handle_compact_step with a budget
 * of STEP_BUDGET units per call: instructions per call and per unit of budget, which
 * should be about the same for small and large blocks (the budget charges each block
 * moved TARN_HANDLE_STEP_MOVE_COST units besides its bytes).
 *
 * Lock/unlock.  1M accesses to random blocks among 1024: lock the handle, read a byte,
 * unlock; against reading the byte through a raw pointer, and the bare loop.
 *
 * Alloc/free.  A pool of 1024 handles and 160 KiB, filled with blocks of 16..256 bytes and
 * half of them freed at random (a fragmented steady state); then 256 allocations of random
 * sizes, and separately the 256 frees of those blocks: instructions per call, loop
 * included.
 */
#include "bench_common.h"
#include "tarn/handle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXD (1u << 20)
#define MAXH 65533u
#define REPS 31

static unsigned char pool_mem[TARN_HANDLE_BYTES(MAXD, MAXH)] TARN_HANDLE_ALIGNED;
static unsigned char mm_buf[MAXD] TARN_HANDLE_ALIGNED;
static tarn_handle_pool pool;
static tarn_handle *hs;

typedef struct move {
    uint32_t src, dst, n;
} move;
static move *moves;
static size_t nmoves, moved_bytes, data_bytes;

typedef struct scenario {
    const char *name;
    uint32_t size;      /* fixed block size, or 0 = mixed 16..1024 */
} scenario;

static uint64_t rng;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* ---- set-up: a fragmented pool, and the list of moves compaction will make ------------ */
typedef struct plan_ctx {
    uint32_t dest;
} plan_ctx;
static bool plan_cb(const tarn_handle_block *b, void *ctx)
{
    plan_ctx *c = (plan_ctx *)ctx;
    if (b->offset != c->dest) {
        moves[nmoves].src = (uint32_t)b->offset;
        moves[nmoves].dst = c->dest;
        moves[nmoves].n = (uint32_t)b->size;
        nmoves++;
        moved_bytes += b->size;
    }
    c->dest += (uint32_t)TARN_ALIGN_UP(b->size, TARN_ALIGN);
    return true;
}

static void fragment(const scenario *s)
{
    uint32_t count = 0, i;
    size_t data = MAXD;
    plan_ctx pc;
    if (s->size != 0u && (size_t)s->size * MAXH < data) data = (size_t)s->size * 32768u;
    data_bytes = data;
    if (tarn_handle_init(&pool, pool_mem, TARN_HANDLE_BYTES(data, MAXH), MAXH, NULL) != TARN_OK) abort();
    rng = 0x2545F4914F6CDD1Dull;
    for (;;) {
        uint32_t sz = s->size != 0u ? s->size : 16u + rnd() % 1009u;
        tarn_handle h = tarn_handle_alloc(&pool, sz);
        if (tarn_handle_is_null(h)) break;
        hs[count++] = h;
        if (count == MAXH) break;
    }
    for (i = 0; i < count; i++) {
        bool drop = s->size != 0u ? (i % 2u == 0u) : (rnd() % 2u == 0u);
        if (drop && tarn_handle_free(&pool, hs[i]) != TARN_OK) abort();
    }
    nmoves = 0;
    moved_bytes = 0;
    pc.dest = 0;
    if (tarn_handle_walk(&pool, plan_cb, &pc) != TARN_OK) abort();
}

/* ---- kernels ---------------------------------------------------------------------------- */
static size_t kernel_result;

static void k_compact(void *ctx)
{
    (void)ctx;
    kernel_result = tarn_handle_compact(&pool);
}

#define STEP_BUDGET 4096u
static size_t step_calls;
static void k_step(void *ctx)
{
    size_t m, total = 0, calls = 1;
    (void)ctx;
    while (!tarn_handle_compact_step(&pool, STEP_BUDGET, &m)) {
        total += m;
        calls++;
    }
    kernel_result = total + m;
    step_calls = calls;
}

static void k_memmove_blocks(void *ctx)
{
    size_t i;
    (void)ctx;
    for (i = 0; i < nmoves; i++) memmove(mm_buf + moves[i].dst, mm_buf + moves[i].src, moves[i].n);
}

static void k_memmove_bulk(void *ctx)
{
    (void)ctx;
    memmove(mm_buf, mm_buf + (data_bytes - moved_bytes), moved_bytes);
}

/* best wall time over REPS runs; `refragment` re-creates the pool before each (untimed) */
static double best_ns(void (*fn)(void *), const scenario *refragment)
{
    double best = 1e30;
    int r, reps = bench_quick ? 5 : REPS;
    for (r = 0; r < reps; r++) {
        uint64_t t0;
        double ns;
        if (refragment != NULL) {
            fragment(refragment);
            /* warm the data area as the memmove runs find their buffer warm */
            memset(pool_mem + TARN_HANDLE_TABLE_SPACE(MAXH), r, data_bytes);
        }
        t0 = bench_now_ns();
        fn(NULL);
        ns = (double)(bench_now_ns() - t0);
        if (ns < best) best = ns;
    }
    return best;
}

static const char *mbps(double bytes, double ns)
{
    return bench_fmt("%.0f", bytes / ns * 1e9 / (1024.0 * 1024.0));
}

static void compaction_table(void)
{
    static const scenario sc[] = {
        {"16 B blocks", 16}, {"64 B blocks", 64}, {"256 B blocks", 256},
        {"1 KiB blocks", 1024}, {"4 KiB blocks", 4096}, {"mixed 16..1024 B", 0},
    };
    static const char *const cols[] = {
        "workload", "blocks moved", "KiB moved", "compact MiB/s", "memmove/block MiB/s",
        "bulk memmove MiB/s", "compact / memmove-per-block (time)", "compact / bulk (time)",
        "compact instr/KiB", "memmove/block instr/KiB", "compact / memmove-per-block (instr)",
        "step(4096) MiB/s", "step calls", "step instr/call", "step instr/unit"};
    size_t k, nsc = sizeof sc / sizeof sc[0];
    if (!bench_is_child()) {
        bench_table_begin("handle", "compaction throughput (bytes moved per second), best of runs",
                          cols, 15);
    }
    for (k = 0; k < nsc; k++) {
        bench_result rc, rs, rb, rk;
        double tc = 0, ts = 0, tb = 0, tk = 0;
        size_t moved, count, calls;
        char name[64];
        /* instruction counts: one run each (callgrind child runs just the named kernel) */
        fragment(&sc[k]);
        moved = moved_bytes;
        count = nmoves;
        snprintf(name, sizeof name, "compact-%zu", k);
        rc = bench_run(name, k_compact, NULL);
        if (!bench_is_child() && (kernel_result != moved || tarn_handle_check(&pool) != TARN_OK)) {
            fprintf(stderr, "bench/handle: compaction moved %zu bytes, planned %zu\n", kernel_result, moved);
            exit(1);
        }
        fragment(&sc[k]);
        snprintf(name, sizeof name, "step-%zu", k);
        rs = bench_run(name, k_step, NULL);
        calls = step_calls;
        snprintf(name, sizeof name, "memmove-blocks-%zu", k);
        rb = bench_run(name, k_memmove_blocks, NULL);
        snprintf(name, sizeof name, "memmove-bulk-%zu", k);
        rk = bench_run(name, k_memmove_bulk, NULL);
        if (bench_is_child()) continue;
        /* wall time: best of several runs */
        tc = best_ns(k_compact, &sc[k]);
        ts = best_ns(k_step, &sc[k]);
        tb = best_ns(k_memmove_blocks, NULL);
        tk = best_ns(k_memmove_bulk, NULL);
        {
            const char *cells[15];
            cells[0] = sc[k].name;
            cells[1] = bench_fmt("%zu", count);
            cells[2] = bench_fmt("%zu", moved / 1024u);
            cells[3] = mbps((double)moved, tc);
            cells[4] = mbps((double)moved, tb);
            cells[5] = mbps((double)moved, tk);
            cells[6] = bench_fmt("%.2fx", tc / tb);
            cells[7] = bench_fmt("%.2fx", tc / tk);
            cells[8] = rc.instr >= 0 ? bench_fmt("%.0f", rc.instr / ((double)moved / 1024.0)) : "n/a";
            cells[9] = rb.instr >= 0 ? bench_fmt("%.0f", rb.instr / ((double)moved / 1024.0)) : "n/a";
            cells[10] = (rc.instr >= 0 && rb.instr > 0) ? bench_fmt("%.2fx", rc.instr / rb.instr) : "n/a";
            cells[11] = mbps((double)moved, ts);
            cells[12] = bench_fmt("%zu", calls);
            cells[13] = rs.instr >= 0 ? bench_fmt("%.0f", rs.instr / (double)calls) : "n/a";
            /* every call but the last spends (nearly) its whole budget */
            cells[14] = rs.instr >= 0 ? bench_fmt("%.2f", rs.instr / ((double)calls * STEP_BUDGET)) : "n/a";
            bench_row(cells);
        }
        (void)rk;
    }
    {
        /* a pass with nothing to move: one visit per block */
        bench_result rv;
        size_t calls;
        fragment(&sc[0]);
        (void)tarn_handle_compact(&pool);
        rv = bench_run("step-visit", k_step, NULL);
        calls = step_calls;
        if (!bench_is_child()) {
            bench_table_end();
            if (rv.instr >= 0) {
                bench_note("step(%u) over %s already in place (visits only): %zu calls, %.0f instr/call, "
                           "%.2f instr/unit.", STEP_BUDGET, sc[0].name, calls, rv.instr / (double)calls,
                           rv.instr / ((double)calls * STEP_BUDGET));
            }
        }
    }
    if (!bench_is_child()) {
        bench_note("compact / memmove-per-block = compaction's cost over memmove replaying the same "
                   "block moves (time: best wall time; instr: callgrind instructions); / bulk = over one "
                   "memmove of the same bytes.  step: tarn_handle_compact_step(%u) until the pass ends; "
                   "instr/unit = instructions / (calls x budget).", STEP_BUDGET);
    }
}

/* ---- lock/unlock against a raw pointer ------------------------------------------------- */
#define LK 1024u
static uint32_t *idx;
static uint32_t nacc;
static tarn_handle lh[LK];
static unsigned char *lp[LK];
static volatile unsigned sink;

static void k_null(void *ctx)
{
    uint32_t i;
    unsigned s = 0;
    (void)ctx;
    for (i = 0; i < nacc; i++) s += idx[i];
    sink = s;
}
static void k_raw(void *ctx)
{
    uint32_t i;
    unsigned s = 0;
    (void)ctx;
    for (i = 0; i < nacc; i++) s += lp[idx[i]][0];
    sink = s;
}
static void k_lock(void *ctx)
{
    uint32_t i;
    unsigned s = 0;
    (void)ctx;
    for (i = 0; i < nacc; i++) {
        tarn_handle h = lh[idx[i]];
        unsigned char *p = (unsigned char *)tarn_handle_lock(&pool, h);
        s += p[0];
        tarn_handle_unlock(&pool, h);
    }
    sink = s;
}

static void lock_table(void)
{
    static const char *const cols[] = {"access", "ns/access", "instr/access", "net instr/access"};
    bench_result rn, rr, rl;
    uint32_t i;
    nacc = bench_quick ? 100000u : 1000000u;
    idx = (uint32_t *)malloc(nacc * sizeof *idx);
    if (idx == NULL) abort();
    rng = 99;
    for (i = 0; i < nacc; i++) idx[i] = rnd() % LK;
    if (tarn_handle_init(&pool, pool_mem, TARN_HANDLE_BYTES(LK * 64u, LK), LK, NULL) != TARN_OK) abort();
    for (i = 0; i < LK; i++) {
        lh[i] = tarn_handle_alloc(&pool, 64);
        lp[i] = (unsigned char *)tarn_handle_lock(&pool, lh[i]); /* raw pointers, for the baseline */
        if (lp[i] == NULL) abort();
        memset(lp[i], (int)i, 64);
        tarn_handle_unlock(&pool, lh[i]);
    }
    rn = bench_run("lock-null", k_null, NULL);
    rr = bench_run("lock-raw", k_raw, NULL);
    rl = bench_run("lock-unlock", k_lock, NULL);
    if (bench_is_child()) return;
    {
        double tn = best_ns(k_null, NULL), tr = best_ns(k_raw, NULL), tl = best_ns(k_lock, NULL);
        const char *names[3] = {"loop only", "raw pointer read", "lock + read + unlock"};
        bench_result *res[3];
        double t[3];
        int r;
        res[0] = &rn; res[1] = &rr; res[2] = &rl;
        t[0] = tn; t[1] = tr; t[2] = tl;
        bench_table_begin("handle", bench_fmt("%u random accesses to %u blocks of 64 bytes", nacc, LK),
                          cols, 4);
        for (r = 0; r < 3; r++) {
            const char *cells[4];
            cells[0] = names[r];
            cells[1] = bench_fmt("%.2f", t[r] / nacc);
            cells[2] = res[r]->instr >= 0 ? bench_fmt("%.1f", res[r]->instr / nacc) : "n/a";
            cells[3] = (res[r]->instr >= 0 && r > 0) ? bench_fmt("%.1f", (res[r]->instr - rn.instr) / nacc) : "-";
            bench_row(cells);
        }
        bench_table_end();
        if (rl.instr >= 0 && rr.instr >= 0) {
            bench_note("lock+unlock cost %.1f instructions per access more than a raw pointer read "
                       "(%.1fx the raw access loop).", (rl.instr - rr.instr) / nacc, rl.instr / rr.instr);
        }
    }
    free(idx);
}

/* ---- alloc/free in a fragmented steady state ------------------------------------------- */
#define AF_H 1024u
#define AF_N 256u
static tarn_handle af_h[AF_H];
static uint32_t af_size[AF_N];

static void af_prepare(void)
{
    uint32_t i;
    if (tarn_handle_init(&pool, pool_mem, TARN_HANDLE_BYTES(160u * 1024u, AF_H), AF_H, NULL) != TARN_OK) abort();
    rng = 77;
    for (i = 0; i < AF_H; i++) af_h[i] = tarn_handle_alloc(&pool, 16u + rnd() % 241u);
    for (i = 0; i < AF_H; i++) {
        if (!tarn_handle_is_null(af_h[i]) && rnd() % 2u == 0u) {
            if (tarn_handle_free(&pool, af_h[i]) != TARN_OK) abort();
            af_h[i] = tarn_handle_null();
        }
    }
    for (i = 0; i < AF_N; i++) af_size[i] = 16u + rnd() % 241u;
}
static tarn_handle af_new[AF_N];
static void k_alloc(void *ctx)
{
    uint32_t i;
    (void)ctx;
    for (i = 0; i < AF_N; i++) af_new[i] = tarn_handle_alloc(&pool, af_size[i]);
}
static void k_free(void *ctx)
{
    uint32_t i;
    unsigned bad = 0;
    (void)ctx;
    for (i = 0; i < AF_N; i++) bad += tarn_handle_free(&pool, af_new[i]) != TARN_OK;
    sink = bad;
}

static void alloc_free_table(void)
{
    static const char *const cols[] = {"call", "ns/call", "instr/call"};
    bench_result ra, rf;
    double ta = 1e30, tf = 1e30;
    uint32_t i;
    int r;
    af_prepare();
    ra = bench_run("af-alloc", k_alloc, NULL);
    for (i = 0; i < AF_N && !bench_is_child(); i++) {
        if (tarn_handle_is_null(af_new[i])) abort(); /* the bench wants no failed alloc */
    }
    af_prepare();
    k_alloc(NULL);
    rf = bench_run("af-free", k_free, NULL);
    if (bench_is_child()) return;
    for (r = 0; r < (bench_quick ? 5 : REPS); r++) {
        uint64_t t0;
        af_prepare();
        t0 = bench_now_ns();
        k_alloc(NULL);
        if ((double)(bench_now_ns() - t0) < ta) ta = (double)(bench_now_ns() - t0);
        t0 = bench_now_ns();
        k_free(NULL);
        if ((double)(bench_now_ns() - t0) < tf) tf = (double)(bench_now_ns() - t0);
    }
    bench_table_begin("handle", bench_fmt("alloc/free, %u calls each, fragmented pool of %u handles",
                                          AF_N, AF_H), cols, 3);
    {
        const char *cells[3];
        cells[0] = "tarn_handle_alloc (16..256 B)";
        cells[1] = bench_fmt("%.1f", ta / AF_N);
        cells[2] = ra.instr >= 0 ? bench_fmt("%.1f", ra.instr / AF_N) : "n/a";
        bench_row(cells);
        cells[0] = "tarn_handle_free";
        cells[1] = bench_fmt("%.1f", tf / AF_N);
        cells[2] = rf.instr >= 0 ? bench_fmt("%.1f", rf.instr / AF_N) : "n/a";
        bench_row(cells);
    }
    bench_table_end();
}

int main(int argc, char **argv)
{
    bench_init(argc, argv);
    hs = (tarn_handle *)malloc(MAXH * sizeof *hs);
    moves = (move *)malloc(MAXH * sizeof *moves);
    if (hs == NULL || moves == NULL) return 1;
    memset(pool_mem, 0x5A, sizeof pool_mem); /* touch every page before timing */
    memset(mm_buf, 0xA5, sizeof mm_buf);
    compaction_table();
    lock_table();
    alloc_free_table();
    free(hs);
    free(moves);
    return 0;
}
