/*
 * bench/heap.c - the tarn heap against the system allocators and a null baseline.
 *
 * Workloads (generated deterministically into an operation array before timing):
 *   a. fixed: 1000 live 32-byte blocks, then 1M free+alloc pairs, in LIFO order (free
 *      the k newest, k uniform in 1..16, then allocate k) and in random order;
 *   b. mixed: 2M operations, sizes power-law (p(x) ~ x^-1.5) over 8..1024 and over
 *      8..16384 bytes, live requested bytes random-walking between 0 and 60 % of a 1 MiB
 *      arena (a target level redrawn every 10,000 operations), random free order;
 *   d. realloc growth: 8 buffers growing by 1.5x steps (16 B .. 32 KiB, then freed and
 *      started again) among small allocations and frees (8..512 bytes), 400,000
 *      operations; besides the instructions it counts how many growing reallocs stay in
 *      place, in tarn and in the reference;
 *   c. replay of a text trace (`a ID SIZE`, `f ID`, `r ID SIZE` lines), by default
 *      bench/traces/shell.trace (the allocations of bash running bench/traces/shell.sh;
 *      --trace FILE for another).
 * `--seed N` draws other mixed workloads (b) of the same distribution; 0 (the default)
 * gives the published figures.  `--frag-only` prints the fragmentation table alone (no
 * timed or counted runs: seconds instead of minutes, for trying a placement change).
 * Allocators: tarn's heap, a TLSF-style reference written for this bench
 * (bench/ref_tlsf.h: good fit, boundary tags, no checks), the system allocators.
 * Figures:
 *   - ns/op (one timed run) and callgrind instructions/op; "net" subtracts the null
 *     baseline, which runs the same replay loop without an allocator;
 *   - tarn's heap also over 4 regions (tarn_heap_add_region): the same buffer cut in
 *     quarters (requests spill from one region to the next), and the whole buffer with 3
 *     small regions added that the workload never reaches (the price of having regions);
 *   - fragmentation: the smallest buffer (bytes given to tarn_heap_init, so control
 *     structure and bitmaps included) in which the workload completes with no failed
 *     allocation, divided by its peak of live requested bytes (also for the reference,
 *     whose buffer holds its control structure too);
 *   - the bytes of arena one allocation of 1, 8, 24, 100 and 1000 bytes consumes.
 * Build the 32-bit variant with `make bench-heap32` (mk/heap.mk).
 */
#include "bench_common.h"
#include "ref_tlsf.h"
#include "tarn/heap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h> /* malloc_usable_size */
#endif

enum { OP_ALLOC, OP_FREE, OP_REALLOC };

typedef struct op {
    uint32_t id;
    uint32_t size;     /* bytes (alloc, realloc) */
    uint32_t kind;
} op;

typedef struct workload {
    const char *name;
    op *ops;
    uint32_t nops, cap;
    uint32_t prefill;  /* leading operations run at set-up, not timed */
    uint32_t nids;
    size_t peak;       /* peak live requested bytes (all operations) */
    size_t gpeak;      /* peak live bytes with every request rounded up to a granule */
    size_t hpeak;      /* the same with a 4-byte header added to every request */
    size_t arena;      /* buffer for the timed tarn run */
    unsigned char *live_at_end;   /* per id: still allocated after the last operation */
} workload;

static void **slots;
static uint32_t nslots;
static unsigned long fails;

/* ---- deterministic generation ------------------------------------------------------------- */
static uint64_t rs = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}
static uint32_t below(uint32_t n) { return (uint32_t)((rnd() >> 32) % n); }
static double unit(void) { return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0); }

static double sqrt_d(double x)   /* Newton's method: no libm needed */
{
    double r = x > 1.0 ? x : 1.0;
    int i;
    for (i = 0; i < 60; i++) r = 0.5 * (r + x / r);
    return r;
}

static void push(workload *w, uint32_t kind, uint32_t id, uint32_t size)
{
    if (w->nops == w->cap) {
        w->cap = w->cap ? w->cap * 2u : 1u << 16;
        w->ops = (op *)realloc(w->ops, w->cap * sizeof *w->ops);
        if (w->ops == NULL) abort();
    }
    w->ops[w->nops].id = id;
    w->ops[w->nops].size = size;
    w->ops[w->nops].kind = kind;
    w->nops++;
    if (id + 1u > w->nids) w->nids = id + 1u;
}

/* Bytes a live request of n takes in an ideal allocator with a `hdr`-byte header per block
 * and blocks aligned to the granule. */
static size_t ideal_bytes(size_t n, size_t hdr)
{
    if (n == 0u) return 0u;
    return (n + hdr + TARN_HEAP_GRANULE - 1u) / TARN_HEAP_GRANULE * TARN_HEAP_GRANULE;
}

/* peak live requested bytes of a workload, and the same in the two ideal allocators */
static void measure_peak(workload *w)
{
    size_t *sz = (size_t *)calloc(w->nids, sizeof *sz), live = 0, glive = 0, hlive = 0;
    uint32_t i;
    if (sz == NULL) abort();
    w->peak = 0;
    w->gpeak = 0;
    w->hpeak = 0;
    for (i = 0; i < w->nops; i++) {
        const op *o = &w->ops[i];
        live -= sz[o->id];
        glive -= ideal_bytes(sz[o->id], 0u);
        hlive -= ideal_bytes(sz[o->id], 4u);
        sz[o->id] = o->kind == OP_FREE ? 0u : o->size;
        live += sz[o->id];
        glive += ideal_bytes(sz[o->id], 0u);
        hlive += ideal_bytes(sz[o->id], 4u);
        if (live > w->peak) w->peak = live;
        if (glive > w->gpeak) w->gpeak = glive;
        if (hlive > w->hpeak) w->hpeak = hlive;
    }
    w->live_at_end = (unsigned char *)calloc(w->nids, 1);
    if (w->live_at_end == NULL) abort();
    for (i = 0; i < w->nids; i++) w->live_at_end[i] = sz[i] != 0;
    free(sz);
}

/* a: 1000 live 32-byte blocks, then `pairs` free+alloc pairs */
static void gen_fixed(workload *w, int lifo, uint32_t pairs)
{
    uint32_t *live = (uint32_t *)malloc((1000u + 16u) * sizeof *live), nlive = 0, next = 0;
    uint32_t *spare = (uint32_t *)malloc(2000u * sizeof *spare), nspare = 0, done = 0, i;
    if (live == NULL || spare == NULL) abort();
    memset(w, 0, sizeof *w);
    w->name = lifo ? "a. fixed 32 B, LIFO" : "a. fixed 32 B, random";
    rs = lifo ? 11u : 12u;
    for (i = 0; i < 1000u; i++) {
        push(w, OP_ALLOC, next, 32u);
        live[nlive++] = next++;
    }
    w->prefill = w->nops;
    while (done < pairs) {
        uint32_t k = lifo ? 1u + below(16) : 1u;
        if (k > pairs - done) k = pairs - done;
        for (i = 0; i < k; i++) {
            uint32_t j = lifo ? nlive - 1u : below(nlive), id = live[j];
            live[j] = live[--nlive];
            push(w, OP_FREE, id, 0);
            spare[nspare++] = id;
        }
        for (i = 0; i < k; i++) {
            uint32_t id = spare[--nspare];
            push(w, OP_ALLOC, id, 32u);
            live[nlive++] = id;
        }
        done += k;
    }
    free(live);
    free(spare);
    w->arena = 64u * 1024u;
    measure_peak(w);
}

/* b: power-law sizes over [lo, hi], live bytes walking in [0, 60 % of 1 MiB] */
static void gen_mixed(workload *w, uint32_t hi, uint32_t nops, uint32_t seed)
{
    const double lo = 8.0, a = 1.0 / sqrt_d(lo), b = 1.0 / sqrt_d((double)hi);
    const size_t cap = (size_t)(0.6 * 1048576.0);
    uint32_t *live = (uint32_t *)malloc(nops * sizeof *live), nlive = 0;
    uint32_t *free_ids = (uint32_t *)malloc(nops * sizeof *free_ids), nfree = 0, next = 0, i;
    uint32_t *size_of;
    size_t live_bytes = 0, target = 0;
    if (live == NULL || free_ids == NULL) abort();
    size_of = (uint32_t *)calloc(nops, sizeof *size_of);
    if (size_of == NULL) abort();
    memset(w, 0, sizeof *w);
    w->name = hi == 1024u ? "b. mixed 8..1024" : "b. mixed 8..16384";
    rs = 1000u + hi + (uint64_t)seed * 7919u;   /* seed 0: the published figures */
    for (i = 0; i < nops; i++) {
        double t;
        uint32_t size;
        int want_alloc;
        if (i % 10000u == 0u) target = (size_t)(unit() * (double)cap);
        t = a - unit() * (a - b);
        size = (uint32_t)(1.0 / (t * t));
        if (size < 8u) size = 8u;
        if (size > hi) size = hi;
        want_alloc = nlive == 0 || below(100) < (live_bytes < target ? 70u : 30u);
        if (want_alloc && live_bytes + size <= cap) {
            uint32_t id = nfree > 0 ? free_ids[--nfree] : next++;
            push(w, OP_ALLOC, id, size);
            size_of[id] = size;
            live[nlive++] = id;
            live_bytes += size;
        } else {
            uint32_t j = below(nlive), id = live[j];
            live[j] = live[--nlive];
            push(w, OP_FREE, id, 0);
            live_bytes -= size_of[id];
            free_ids[nfree++] = id;
        }
    }
    free(live);
    free(free_ids);
    free(size_of);
    w->arena = 1048576u;
    measure_peak(w);
}

/* d: 8 buffers growing by 1.5x steps among small allocations */
static void gen_realloc(workload *w, uint32_t nops)
{
    uint32_t gs[8] = {0}, *live = (uint32_t *)malloc(nops * sizeof *live), nlive = 0;
    uint32_t *free_ids = (uint32_t *)malloc(nops * sizeof *free_ids), nfree = 0, next = 8, i;
    if (live == NULL || free_ids == NULL) abort();
    memset(w, 0, sizeof *w);
    w->name = "d. realloc growth";
    rs = 4242u;
    for (i = 0; i < nops; i++) {
        uint32_t r = below(100);
        if (r < 30) {
            uint32_t g = below(8);
            if (gs[g] == 0u) {
                gs[g] = 16u + below(49);
                push(w, OP_ALLOC, g, gs[g]);
            } else if (gs[g] * 3u / 2u + 1u > 32768u) {
                push(w, OP_FREE, g, 0);
                gs[g] = 0;
            } else {
                gs[g] = gs[g] * 3u / 2u + 1u;
                push(w, OP_REALLOC, g, gs[g]);
            }
        } else if (r < 66 && nlive < 1500u) {
            uint32_t id = nfree > 0 ? free_ids[--nfree] : next++;
            uint32_t size = 8u + (below(64) == 0 ? below(505) : below(57));
            push(w, OP_ALLOC, id, size);
            live[nlive++] = id;
        } else if (nlive > 0) {
            uint32_t j = below(nlive), id = live[j];
            live[j] = live[--nlive];
            push(w, OP_FREE, id, 0);
            free_ids[nfree++] = id;
        }
    }
    free(live);
    free(free_ids);
    w->arena = 1048576u;
    measure_peak(w);
}

/* c: a trace file */
static int gen_trace(workload *w, const char *path)
{
    FILE *f = fopen(path, "r");
    char line[128];
    memset(w, 0, sizeof *w);
    w->name = "c. trace";
    if (f == NULL) return -1;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long id = 0, size = 0;
        if (line[0] == 'a' && sscanf(line + 1, "%lu %lu", &id, &size) == 2) {
            push(w, OP_ALLOC, (uint32_t)id, (uint32_t)(size ? size : 1u));
        } else if (line[0] == 'r' && sscanf(line + 1, "%lu %lu", &id, &size) == 2) {
            push(w, OP_REALLOC, (uint32_t)id, (uint32_t)(size ? size : 1u));
        } else if (line[0] == 'f' && sscanf(line + 1, "%lu", &id) == 1) {
            push(w, OP_FREE, (uint32_t)id, 0);
        }
    }
    fclose(f);
    measure_peak(w);
    w->arena = w->peak * 2u + 65536u;
    return w->nops > 0 ? 0 : -1;
}

/* ---- replay kernels ---------------------------------------------------------------------- */
static workload *cur;
static tarn_heap *heap;
static unsigned char *arena_mem;
static size_t arena_size;

static volatile uintptr_t sink;   /* what the null loop reads goes here */

static void run_null(void *ctx)
{
    const workload *w = (const workload *)ctx;
    uint32_t i;
    for (i = w->prefill; i < w->nops; i++) {
        const op *o = &w->ops[i];
        if (o->kind == OP_ALLOC) {
            slots[o->id] = (void *)(uintptr_t)(i + 1u);
        } else if (o->kind == OP_FREE) {
            sink ^= (uintptr_t)slots[o->id];
        } else {
            sink ^= (uintptr_t)slots[o->id];
            slots[o->id] = (void *)(uintptr_t)(o->size + 1u);
        }
    }
}

/* A replay kernel: the timed operations of ctx (a workload) through one allocator, the
 * failed allocations left in `fails`.  Expanded once per allocator, so each is called
 * directly (as an application would) rather than through a pointer. */
#define REPLAY_KERNEL(name, ALLOC, FREE, REALLOC)                                         \
    static void name(void *ctx)                                                           \
    {                                                                                     \
        const workload *w = (const workload *)ctx;                                        \
        uint32_t i;                                                                       \
        unsigned long f = 0;                                                              \
        for (i = w->prefill; i < w->nops; i++) {                                          \
            const op *o = &w->ops[i];                                                     \
            if (o->kind == OP_ALLOC) {                                                    \
                void *p = ALLOC(o->size);                                                 \
                slots[o->id] = p;                                                         \
                f += p == NULL;                                                           \
            } else if (o->kind == OP_FREE) {                                              \
                FREE(slots[o->id]);                                                       \
            } else {                                                                      \
                void *q = REALLOC(slots[o->id], o->size);                                 \
                if (q != NULL) slots[o->id] = q;                                          \
                f += q == NULL;                                                           \
            }                                                                             \
        }                                                                                 \
        fails = f;                                                                        \
    }

static rt_heap *ref;

#define TARN_ALLOC(n) tarn_heap_alloc(heap, (n))
#define TARN_FREE(p) (void)tarn_heap_free(heap, (p))
#define TARN_REALLOC(p, n) tarn_heap_realloc(heap, (p), (n))
#define REF_ALLOC(n) rt_alloc(ref, (n))
#define REF_FREE(p) rt_free(ref, (p))
#define REF_REALLOC(p, n) rt_realloc(ref, (p), (n))
REPLAY_KERNEL(run_tarn, TARN_ALLOC, TARN_FREE, TARN_REALLOC)
REPLAY_KERNEL(run_ref, REF_ALLOC, REF_FREE, REF_REALLOC)

static void run_sys(void *ctx)
{
    const bench_sys *a = (const bench_sys *)ctx;
    const workload *w = cur;
    uint32_t i;
    for (i = w->prefill; i < w->nops; i++) {
        const op *o = &w->ops[i];
        if (o->kind == OP_ALLOC) {
            slots[o->id] = a->malloc_fn(o->size);
        } else if (o->kind == OP_FREE) {
            a->free_fn(slots[o->id]);
        } else {
            void *q = a->realloc_fn(slots[o->id], o->size);
            if (q != NULL) slots[o->id] = q;
        }
    }
}

static void ensure_slots(uint32_t n)
{
    if (n > nslots) {
        free(slots);
        slots = (void **)calloc(n, sizeof *slots);
        if (slots == NULL) abort();
        nslots = n;
    }
    memset(slots, 0, (size_t)nslots * sizeof *slots);
}

static void ensure_arena(size_t n)
{
    if (n + 64u > arena_size) {
        free(arena_mem);
        arena_mem = (unsigned char *)malloc(n + 64u);
        if (arena_mem == NULL) abort();
        arena_size = n + 64u;
    }
}

/* Replay the whole workload (prefill included) in a buffer of `bytes`, in tarn's heap
 * (which = 0) or the reference (1): failed allocations. */
static unsigned long replay(const workload *w, size_t bytes, int which)
{
    unsigned long f;
    workload whole = *w;
    ensure_arena(bytes);
    ensure_slots(w->nids);
    whole.prefill = 0;
    if (which == 0) {
        if (tarn_heap_init(&heap, arena_mem, bytes, NULL) != TARN_OK) return 1ul << 30;
        run_tarn(&whole);
        f = fails;
        (void)tarn_heap_destroy(heap);
    } else {
        ref = rt_init(arena_mem, bytes);
        if (ref == NULL) return 1ul << 30;
        run_ref(&whole);
        f = fails;
    }
    return f;
}

/* Growing reallocs of a workload that stay in place, in tarn (which = 0) or the
 * reference (1), replayed whole in a buffer of the workload's arena size; *grows gets
 * the number of growing reallocs. */
static unsigned long count_in_place(const workload *w, int which, unsigned long *grows)
{
    size_t *sz = (size_t *)calloc(w->nids, sizeof *sz);
    unsigned long kept = 0, n = 0;
    uint32_t i;
    if (sz == NULL) abort();
    ensure_arena(w->arena);
    ensure_slots(w->nids);
    if (which == 0) {
        if (tarn_heap_init(&heap, arena_mem, w->arena, NULL) != TARN_OK) abort();
    } else {
        ref = rt_init(arena_mem, w->arena);
        if (ref == NULL) abort();
    }
    for (i = 0; i < w->nops; i++) {
        const op *o = &w->ops[i];
        if (o->kind == OP_ALLOC) {
            slots[o->id] = which == 0 ? tarn_heap_alloc(heap, o->size) : rt_alloc(ref, o->size);
        } else if (o->kind == OP_FREE) {
            if (which == 0) (void)tarn_heap_free(heap, slots[o->id]); else rt_free(ref, slots[o->id]);
            slots[o->id] = NULL;
        } else {
            void *p = slots[o->id], *q;
            q = which == 0 ? tarn_heap_realloc(heap, p, o->size) : rt_realloc(ref, p, o->size);
            if (o->size > sz[o->id]) {
                n++;
                kept += q == p && p != NULL;
            }
            if (q != NULL) slots[o->id] = q;
        }
        sz[o->id] = o->kind == OP_FREE ? 0u : o->size;
    }
    if (which == 0) (void)tarn_heap_destroy(heap);
    free(sz);
    *grows = n;
    return kept;
}

/* Smallest buffer (bytes, to 0.1 %) in which the workload has no failed allocation. */
static size_t smallest_arena(const workload *w, int which)
{
    size_t lo = w->peak, hi = w->peak * 4u + 4096u;
    while (replay(w, hi, which) != 0) hi *= 2u;
    while (hi - lo > hi / 1000u + 8u) {
        size_t mid = lo + (hi - lo) / 2u;
        if (replay(w, mid, which) == 0) hi = mid; else lo = mid;
    }
    return hi;
}

typedef struct row {
    const char *name;
    bench_result r;
    unsigned long fails;
} row;

static void bench_workload(workload *w, bench_sys *sys, int nsys, double *net_tarn_out)
{
    static const char *const cols[] = {"allocator", "ns/op", "instr/op", "net instr/op",
                                       "failed allocs"};
    row rows[10];
    static unsigned char side_mem[3][4096];
    int n = 0, k;
    uint32_t i, timed = w->nops - w->prefill;
    char kname[64];
    cur = w;

    /* null */
    ensure_slots(w->nids);
    snprintf(kname, sizeof kname, "null/%s", w->name);
    rows[n].name = "null (replay loop only)";
    rows[n].r = bench_run(kname, run_null, w);
    rows[n++].fails = 0;

    /* tarn */
    ensure_arena(w->arena);
    ensure_slots(w->nids);
    if (tarn_heap_init(&heap, arena_mem, w->arena, NULL) != TARN_OK) abort();
    for (i = 0; i < w->prefill; i++) slots[w->ops[i].id] = tarn_heap_alloc(heap, w->ops[i].size);
    fails = 0;
    snprintf(kname, sizeof kname, "tarn/%s", w->name);
    rows[n].name = "tarn heap";
    rows[n].r = bench_run(kname, run_tarn, w);
    rows[n++].fails = fails;
    if (!bench_is_child() && tarn_heap_check(heap) != TARN_OK) {
        fprintf(stderr, "bench/heap: heap damaged after %s\n", w->name);
        exit(1);
    }
    (void)tarn_heap_destroy(heap);

    /* tarn over 4 regions: the same buffer cut in quarters, added as regions 1..3 */
    ensure_slots(w->nids);
    if (tarn_heap_init(&heap, arena_mem, w->arena / 4u, NULL) != TARN_OK) abort();
    for (k = 1; k < 4; k++) {
        if (tarn_heap_add_region(heap, arena_mem + (size_t)k * (w->arena / 4u), w->arena / 4u,
                                 0u) != TARN_OK) {
            abort();
        }
    }
    for (i = 0; i < w->prefill; i++) slots[w->ops[i].id] = tarn_heap_alloc(heap, w->ops[i].size);
    fails = 0;
    snprintf(kname, sizeof kname, "tarn4/%s", w->name);
    rows[n].name = "tarn, 4 regions (quarters)";
    rows[n].r = bench_run(kname, run_tarn, w);
    rows[n++].fails = fails;
    if (!bench_is_child() && tarn_heap_check(heap) != TARN_OK) {
        fprintf(stderr, "bench/heap: 4-region heap damaged after %s\n", w->name);
        exit(1);
    }
    (void)tarn_heap_destroy(heap);

    /* tarn with 3 small regions added that the workload does not reach */
    ensure_slots(w->nids);
    if (tarn_heap_init(&heap, arena_mem, w->arena, NULL) != TARN_OK) abort();
    for (k = 0; k < 3; k++) {
        if (tarn_heap_add_region(heap, side_mem[k], sizeof side_mem[k], TARN_CAP_DMA) != TARN_OK) {
            abort();
        }
    }
    for (i = 0; i < w->prefill; i++) slots[w->ops[i].id] = tarn_heap_alloc(heap, w->ops[i].size);
    fails = 0;
    snprintf(kname, sizeof kname, "tarn1+3/%s", w->name);
    rows[n].name = "tarn + 3 unused regions";
    rows[n].r = bench_run(kname, run_tarn, w);
    rows[n++].fails = fails;
    (void)tarn_heap_destroy(heap);

    /* the TLSF-style reference, in a buffer of the same size */
    ensure_slots(w->nids);
    ref = rt_init(arena_mem, w->arena);
    if (ref == NULL) abort();
    for (i = 0; i < w->prefill; i++) slots[w->ops[i].id] = rt_alloc(ref, w->ops[i].size);
    snprintf(kname, sizeof kname, "ref/%s", w->name);
    rows[n].name = "TLSF-style reference";
    rows[n].r = bench_run(kname, run_ref, w);
    rows[n++].fails = fails;
    if (!bench_is_child() && !rt_check(ref, rt_first(ref))) {
        fprintf(stderr, "bench/heap: reference heap damaged after %s\n", w->name);
        exit(1);
    }

    /* system allocators */
    for (k = 0; k < nsys; k++) {
        ensure_slots(w->nids);
        for (i = 0; i < w->prefill; i++) slots[w->ops[i].id] = sys[k].malloc_fn(w->ops[i].size);
        snprintf(kname, sizeof kname, "%s/%s", sys[k].name, w->name);
        rows[n].name = sys[k].name;
        rows[n].r = bench_run(kname, run_sys, &sys[k]);
        rows[n++].fails = 0;
        for (i = 0; i < w->nids; i++) {
            if (w->live_at_end[i]) sys[k].free_fn(slots[i]);
        }
    }
    if (bench_is_child()) return;

    {   /* bench_fmt keeps 63 characters: build the title here */
        static char title[160];
        snprintf(title, sizeof title, "%s: %u timed ops, peak live %lu bytes, tarn buffer %lu bytes",
                 w->name, timed, (unsigned long)w->peak, (unsigned long)w->arena);
        bench_table_begin("heap", title, cols, 5);
    }
    for (k = 0; k < n; k++) {
        const char *cells[5];
        double net = (rows[k].r.instr - rows[0].r.instr) / timed;
        cells[0] = rows[k].name;
        cells[1] = bench_fmt("%.1f", rows[k].r.ns / timed);
        cells[2] = rows[k].r.instr >= 0 ? bench_fmt("%.1f", rows[k].r.instr / timed) : "n/a";
        cells[3] = (k > 0 && rows[k].r.instr >= 0) ? bench_fmt("%.1f", net) : "-";
        cells[4] = (k >= 1 && k <= 4) ? bench_fmt("%lu", rows[k].fails) : "-";
        bench_row(cells);
        if (k == 1 && net_tarn_out != NULL) *net_tarn_out = rows[k].r.instr >= 0 ? net : -1.0;
    }
    bench_table_end();
}

/* bytes of arena one allocation consumes: its block (header included), plus its share of
 * the used-start bitmap (1 bit per granule) */
/* ---- usable_size: the cost of one query --------------------------------------------------
 * 64 live blocks of 8..512 bytes in a 64 KiB heap; each kernel asks for the usable size of
 * each block in turn, USABLE_CALLS times in all, and sums the answers (so no call is
 * dropped).  The null kernel sums the pointers instead.  The TLSF-style reference reads
 * its header word (rt_size); glibc's malloc_usable_size is shown beside them. */
#define USABLE_LIVE 64u
#define USABLE_CALLS 100000u
static void *usable_blk[USABLE_LIVE];
static void *usable_sys[USABLE_LIVE];
static size_t volatile usable_sink;
static void run_usable_null(void *ctx)
{
    size_t i, sum = 0;
    (void)ctx;
    for (i = 0; i < USABLE_CALLS; i++) sum += (size_t)(uintptr_t)usable_blk[i % USABLE_LIVE];
    usable_sink = sum;
}
static void run_usable_tarn(void *ctx)
{
    size_t i, sum = 0;
    (void)ctx;
    for (i = 0; i < USABLE_CALLS; i++) sum += tarn_heap_usable_size(heap, usable_blk[i % USABLE_LIVE]);
    usable_sink = sum;
}
static __attribute__((noinline)) size_t ref_usable(void *p)
{
    return rt_size(rt_of(p)) - RT_W;
}
static void run_usable_ref(void *ctx)
{
    size_t i, sum = 0;
    (void)ctx;
    for (i = 0; i < USABLE_CALLS; i++) sum += ref_usable(usable_sys[i % USABLE_LIVE]);
    usable_sink = sum;
}
static void run_usable_glibc(void *ctx)
{
    size_t i, sum = 0;
    (void)ctx;
#if defined(__GLIBC__)
    for (i = 0; i < USABLE_CALLS; i++) sum += malloc_usable_size(usable_sys[i % USABLE_LIVE]);
#else
    for (i = 0; i < USABLE_CALLS; i++) sum += (size_t)(uintptr_t)usable_sys[i % USABLE_LIVE];
#endif
    usable_sink = sum;
}

static void bench_usable(void)
{
    static const char *const cols[] = {"usable_size", "ns/call", "net instr/call", "target"};
    bench_result r0, r[3];
#if defined(__GLIBC__)
    static const char *const names[3] = {"tarn heap", "TLSF-style reference", "glibc"};
#else
    static const char *const names[3] = {"tarn heap", "TLSF-style reference", "(no glibc)"};
#endif
    rt_heap *rh;
    size_t i;
    int k;
    ensure_arena(2u * 65536u);
    if (tarn_heap_init(&heap, arena_mem, 65536u, NULL) != TARN_OK) abort();
    rh = rt_init(arena_mem + 65536u, 65536u);
    if (rh == NULL) abort();
    for (i = 0; i < USABLE_LIVE; i++) {
        usable_blk[i] = tarn_heap_alloc(heap, 8u + (i * 37u) % 505u);
        usable_sys[i] = rt_alloc(rh, 8u + (i * 37u) % 505u);
        if (usable_blk[i] == NULL || usable_sys[i] == NULL) abort();
    }
    r0 = bench_run("usable-null", run_usable_null, NULL);
    r[0] = bench_run("usable-tarn", run_usable_tarn, NULL);
    r[1] = bench_run("usable-ref", run_usable_ref, NULL);
    for (i = 0; i < USABLE_LIVE; i++) {   /* glibc's own blocks for its query */
        usable_sys[i] = malloc(8u + (i * 37u) % 505u);
        if (usable_sys[i] == NULL) abort();
    }
    r[2] = bench_run("usable-glibc", run_usable_glibc, NULL);
    for (i = 0; i < USABLE_LIVE; i++) free(usable_sys[i]);
    (void)tarn_heap_destroy(heap);
    if (bench_is_child()) return;
    bench_table_begin("heap", "usable_size: one query on a live block", cols, 4);
    for (k = 0; k < 3; k++) {
        const char *cells[4];
        cells[0] = names[k];
        cells[1] = bench_fmt("%.1f", (r[k].ns - r0.ns) / (double)USABLE_CALLS);
        cells[2] = (r[k].instr >= 0 && r0.instr >= 0)
                       ? bench_fmt("%.1f", (r[k].instr - r0.instr) / (double)USABLE_CALLS)
                       : "n/a";
        cells[3] = k == 0 ? "<= 15" : "-";
        bench_row(cells);
    }
    bench_table_end();
}

static void bench_bytes(void)
{
    static const char *const cols[] = {"request", "block bytes", "with bitmap share",
                                       "target", "TLSF-style ref"};
    size_t blk;
    static const size_t req[] = {1, 8, 24, 100, 1000};
    size_t i;
    ensure_arena(65536u);
    bench_table_begin("heap", "arena bytes one allocation consumes", cols, 5);
    for (i = 0; i < sizeof req / sizeof req[0]; i++) {
        tarn_heap_stats before, after;
        const char *cells[5];
        double bits;
        if (tarn_heap_init(&heap, arena_mem, 65536u, NULL) != TARN_OK) abort();
        (void)tarn_heap_stats_get(heap, &before);
        if (tarn_heap_alloc(heap, req[i]) == NULL) abort();
        (void)tarn_heap_stats_get(heap, &after);
        /* the payload (the usable size) and the one-granule header; 1 bit per granule */
        blk = after.used - before.used + TARN_HEAP_GRANULE;
        bits = (double)blk / (double)TARN_HEAP_GRANULE;
        cells[0] = bench_fmt("%lu", (unsigned long)req[i]);
        cells[1] = bench_fmt("%lu", (unsigned long)blk);
        cells[2] = bench_fmt("%.2f", (double)blk + bits / 8.0);
        cells[3] = req[i] <= 8u ? "<= 16" : "-";
        cells[4] = bench_fmt("%lu", (unsigned long)rt_footprint(req[i]));
        bench_row(cells);
        (void)tarn_heap_destroy(heap);
    }
    bench_table_end();
}

int main(int argc, char **argv)
{
    static workload wl[6];
    static const char *const fcols[] = {"workload", "peak live bytes", "smallest buffer",
                                        "fragmentation", "<= ref (target)", "TLSF-style ref",
                                        "granule floor", "floor, 4 B header"};
    const char *trace = "bench/traces/shell.trace";
    bench_sys sys[4];
    int nsys, i, nw = 0, frag_only = 0;
    double net[6];
    uint32_t scale, seed = 0;

    bench_init(argc, argv);
    for (i = 1; i < argc - 1; i++) {
        if (strcmp(argv[i], "--trace") == 0) trace = argv[i + 1];
        if (strcmp(argv[i], "--seed") == 0) seed = (uint32_t)strtoul(argv[i + 1], NULL, 10);
    }
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--frag-only") == 0) frag_only = 1;
    }
    scale = bench_quick ? 10u : 1u;
    gen_fixed(&wl[nw++], 1, 1000000u / scale);
    gen_fixed(&wl[nw++], 0, 1000000u / scale);
    gen_mixed(&wl[nw++], 1024u, 2000000u / scale, seed);
    gen_mixed(&wl[nw++], 16384u, 2000000u / scale, seed);
    gen_realloc(&wl[nw++], 400000u / scale);
    if (gen_trace(&wl[nw], trace) == 0) {
        nw++;
    } else if (!bench_is_child()) {
        bench_note("trace %s not found: workload c skipped (run from the repository root or"
                   " give --trace FILE)", trace);
    }
    nsys = bench_sys_allocators(sys, 4);

    for (i = 0; i < nw && !frag_only; i++) {
        net[i] = -1.0;
        bench_workload(&wl[i], sys, nsys, &net[i]);
    }
    if (!frag_only) bench_usable();
    if (bench_is_child()) return 0;
    if (!frag_only) bench_note("net instr/op = callgrind instructions of the kernel minus the null loop, per"
               " operation (an alloc, a free or a realloc).  Targets for tarn: b. mixed"
               " 8..1024 <= the TLSF-style reference (stretch: <= 60), every other workload"
               " <= 1.1x the reference.  This build: %d-bit, TARN_CHECK_LEVEL %d.",
               (int)(8u * sizeof(void *)), TARN_CHECK_LEVEL);

    bench_table_begin("heap", "fragmentation: smallest tarn buffer with no failed allocation"
                      " / peak live requested bytes", fcols, 8);
    for (i = 0; i < nw; i++) {
        const char *cells[8];
        size_t best = smallest_arena(&wl[i], 0), best_ref = smallest_arena(&wl[i], 1);
        cells[0] = wl[i].name;
        cells[1] = bench_fmt("%lu", (unsigned long)wl[i].peak);
        cells[2] = bench_fmt("%lu", (unsigned long)best);
        cells[3] = bench_fmt("%.3f", (double)best / (double)wl[i].peak);
        cells[4] = best <= best_ref ? "met" : "missed";
        cells[5] = bench_fmt("%.3f", (double)best_ref / (double)wl[i].peak);
        cells[6] = bench_fmt("%.3f", (double)wl[i].gpeak / (double)wl[i].peak);
        cells[7] = bench_fmt("%.3f", (double)wl[i].hpeak / (double)wl[i].peak);
        bench_row(cells);
    }
    bench_table_end();
    bench_note("the buffer includes the heap's control structure, class table and bitmap"
               " (about 1.6 %% of a large buffer).  Floors, for an ideal allocator that packs"
               " the live blocks perfectly at every moment, with blocks aligned to %u bytes:"
               " granule floor = no metadata at all; floor, 4 B header = a 4-byte header per"
               " block (as boundary-tag heaps keep) and no other metadata.  Each is the peak"
               " of the live bytes such an allocator holds / peak live requested bytes: no"
               " allocator of that kind can do better.  The reference aligns its blocks to"
               " %u bytes (bench/ref_tlsf.h RT_ALIGN).", (unsigned)TARN_HEAP_GRANULE,
               (unsigned)RT_ALIGN);
    {
        unsigned long g0 = 0, g1 = 0, k0, k1;
        k0 = count_in_place(&wl[4], 0, &g0);
        k1 = count_in_place(&wl[4], 1, &g1);
        bench_note("d. realloc growth: growing reallocs kept in place: tarn %lu of %lu (%.1f %%),"
                   " TLSF-style reference %lu of %lu (%.1f %%)", k0, g0,
                   g0 ? 100.0 * (double)k0 / (double)g0 : 0.0, k1, g1,
                   g1 ? 100.0 * (double)k1 / (double)g1 : 0.0);
    }
    bench_bytes();
    (void)net;
    free(arena_mem);
    free(slots);
    for (i = 0; i < nw; i++) {
        free(wl[i].ops);
        free(wl[i].live_at_end);
    }
    return 0;
}
