/*
 * tests/test_heap_sizing.c - the worst-case sizing formula of the heap, against
 * adversarial sequences.
 *
 * A workload is bounded by (M, n, L): at every moment at most M live requested bytes and
 * at most L live blocks, counting the request being served, and no request above n
 * bytes.  tarn_heap_size_for(M, n, L) claims a buffer on which such a workload never sees
 * a failed allocation (proof at the top of src/heap.c).
 *   A. In heaps of exactly that size, four adversarial strategies (random greedy, hole
 *      pinning with growing sizes, sizes just past class boundaries, realloc growth)
 *      never fail.
 *   B. In smaller heaps (40 % of the size), every failure satisfies the premises of
 *      the proof: no free block is as long as the smallest block of the class the
 *      request is served from, and the heap is no larger than the used granules plus
 *      (live + 1) such blocks.
 *   C. The bound is nearly tight: a pinning sequence fails with 88 % of the formula's
 *      granules (less its class rounding term, which such holes cannot reach).
 *   D. aligned_alloc, counted as the header says, never fails in a heap of the bound;
 *      near SIZE_MAX the sizing refuses (0).
 */
#include "check.h"
#include "tarn/heap.h"

#define GR TARN_HEAP_GRANULE
#define BUF (256u * 1024u)
#define MAXLIVE 1200u

static unsigned char buf[BUF];

typedef struct wl {
    size_t M, n, L;              /* the workload's bounds */
    tarn_heap *h;
    int must_succeed;            /* A: heap of the formula's size */
    void *p[MAXLIVE];
    size_t sz[MAXLIVE];
    size_t nlive, live_bytes;
    unsigned long allocs, fails, checked;
} wl;

/* Class arithmetic of the heap, for the failure premises (k from the heap itself). */
static uint32_t log2u(uint32_t x)
{
    uint32_t r = 0;
    while (x >>= 1) r++;
    return r;
}
/* Smallest size of the class a request of u granules is served from. */
static uint32_t lb_up(uint32_t u, unsigned k)
{
    uint32_t e;
    if (u < (2u << k)) return u;
    e = log2u(u) - k;
    return ((u + (1u << e) - 1u) >> e) << e;
}

/* Granules of the block for a request (header, guard and trailer in canary mode). */
static size_t gran(size_t bytes)
{
    return (bytes + TARN_HEAP_EXTRA + GR - 1u) / GR + 1u;
}

typedef struct walk_free {
    uint32_t limit;               /* free blocks must be shorter (granules) */
    size_t nfree, too_long;
} walk_free;

static bool on_block(void *ctx, void *block, size_t size, bool used)
{
    walk_free *w = (walk_free *)ctx;
    (void)block;
    if (!used) {
        w->nfree++;
        if (size / GR + 1u >= w->limit) w->too_long++;   /* payload + header granule */
    }
    return true;
}

/* B: a failure of a request of `bytes` must satisfy the proof's premises. */
static void check_failure(wl *w, size_t bytes)
{
    tarn_heap_stats st;
    walk_free f;
    uint32_t u = (uint32_t)gran(bytes), R = lb_up(u, w->h->k);
    CHECK_EQ(tarn_heap_last_error(w->h), TARN_ENOMEM);
    CHECK_EQ(tarn_heap_stats_get(w->h, &st), TARN_OK);
    CHECK(st.max_alloc + TARN_HEAP_EXTRA < (u - 1u) * GR);
    memset(&f, 0, sizeof f);
    f.limit = R;
    CHECK_EQ(tarn_heap_walk(w->h, on_block, &f), TARN_OK);
    CHECK_EQ(f.too_long, 0);                    /* no free block of R granules or more */
    CHECK(f.nfree <= st.live_blocks + 1u);      /* free blocks never adjacent */
    /* the live blocks: their usable bytes, a header each, and in canary mode the guard,
     * the trailer and up to one granule more each */
    CHECK(st.capacity / GR <= st.used / GR +
                                  st.live_blocks * (TARN_GUARD ? 3u + (TARN_HEAP_EXTRA + GR - 1u) / GR : 1u) +
                                  (st.live_blocks + 1u) * (R - 1u));
    w->checked++;
}

static int can_alloc(const wl *w, size_t bytes)
{
    return w->nlive < MAXLIVE && w->nlive + 1u <= w->L && w->live_bytes + bytes <= w->M;
}

static int do_alloc(wl *w, size_t bytes)
{
    void *p = tarn_heap_alloc(w->h, bytes);
    if (p == NULL) {
        w->fails++;
        if (w->must_succeed) {
            CHECK(p != NULL);
            fprintf(stderr, "  failed: %lu bytes with %lu live blocks, %lu live bytes (M %lu n %lu L %lu)\n",
                    (unsigned long)bytes, (unsigned long)w->nlive, (unsigned long)w->live_bytes,
                    (unsigned long)w->M, (unsigned long)w->n, (unsigned long)w->L);
        } else {
            check_failure(w, bytes);
        }
        return 0;
    }
    w->p[w->nlive] = p;
    w->sz[w->nlive] = bytes;
    w->nlive++;
    w->live_bytes += bytes;
    w->allocs++;
    return 1;
}

static void do_free(wl *w, size_t i)
{
    CHECK_EQ(tarn_heap_free(w->h, w->p[i]), TARN_OK);
    w->live_bytes -= w->sz[i];
    w->nlive--;
    w->p[i] = w->p[w->nlive];
    w->sz[i] = w->sz[w->nlive];
}

static void free_all(wl *w)
{
    while (w->nlive > 0) do_free(w, w->nlive - 1u);
}

static size_t rnd_size(const wl *w)
{
    uint32_t r = check_below(4);
    if (r == 0) return 1u + check_below(8);
    if (r == 1) return w->n - check_below((uint32_t)(w->n < 16u ? w->n : 16u));
    return 1u + check_below((uint32_t)w->n);
}

/* 1. random greedy: allocate whenever the bounds allow, else free at random */
static void s_random(wl *w, long ops)
{
    long i;
    for (i = 0; i < ops; i++) {
        size_t s = rnd_size(w);
        if (can_alloc(w, s) && check_below(8) != 0) {
            (void)do_alloc(w, s);
        } else if (w->nlive > 0) {
            do_free(w, check_below((uint32_t)w->nlive));
        }
    }
    free_all(w);
}

/* 2. hole pinning: blocks of growing sizes (too large for the holes made so far) are
 * shrunk in place to 1 byte, leaving a hole pinned against the rest of the heap */
static void s_pinning(wl *w, long ops)
{
    long i = 0;
    while (i < ops) {
        size_t s = w->n / 2u + check_below((uint32_t)(w->n / 4u + 1u)), round;
        for (round = 0; i < ops && round < 256u; round++, i++) {
            size_t big = s + round * GR;
            if (big > w->n) break;
            if (!can_alloc(w, big)) {
                /* release some pins to stay within L and M */
                size_t k = w->nlive / 4u + 1u;
                while (k-- > 0 && w->nlive > 0) do_free(w, check_below((uint32_t)w->nlive));
                continue;
            }
            if (do_alloc(w, big)) {
                size_t bi = w->nlive - 1u;
                CHECK_EQ(tarn_heap_resize(w->h, w->p[bi], 1), TARN_OK);
                w->live_bytes -= w->sz[bi] - 1u;
                w->sz[bi] = 1u;
            }
        }
        if (check_below(4) == 0) free_all(w);
    }
    free_all(w);
}

/* 3. sizes one byte past a class's smallest size (the most rounding), LIFO and FIFO */
static void s_boundaries(wl *w, long ops)
{
    long i;
    unsigned k = w->h->k;
    for (i = 0; i < ops; i++) {
        uint32_t u = 1u + check_below((uint32_t)gran(w->n));
        size_t s;
        u = lb_up(u, k);
        s = (size_t)(u - 1u) * GR + 1u;   /* a block of u + 1 granules */
        if (s > w->n) s = w->n;
        if (can_alloc(w, s) && check_below(3) != 0) {
            (void)do_alloc(w, s);
        } else if (w->nlive > 0) {
            do_free(w, (i & 1) ? w->nlive - 1u : 0u);
        }
    }
    free_all(w);
}

/* 4. realloc growth, counted as alloc + free (both blocks live during the move) */
static void s_realloc(wl *w, long ops)
{
    long i;
    for (i = 0; i < ops; i++) {
        if (w->nlive > 0 && check_below(2) == 0) {
            size_t j = check_below((uint32_t)w->nlive);
            size_t s = w->sz[j] + 1u + check_below(64);
            void *q;
            if (s > w->n) s = w->n;
            if (!can_alloc(w, s)) {
                do_free(w, j);
                continue;
            }
            q = tarn_heap_realloc(w->h, w->p[j], s);
            if (q == NULL) {
                w->fails++;
                if (w->must_succeed) CHECK(q != NULL);
                else check_failure(w, s);
                continue;
            }
            w->live_bytes += s - w->sz[j];
            w->p[j] = q;
            w->sz[j] = s;
        } else {
            size_t s = 1u + check_below((uint32_t)(w->n < 32u ? w->n : 32u));
            if (can_alloc(w, s)) {
                (void)do_alloc(w, s);
            } else if (w->nlive > 0) {
                do_free(w, check_below((uint32_t)w->nlive));
            }
        }
    }
    free_all(w);
}

static void run_all(wl *w, size_t heap_bytes, long ops)
{
    REQUIRE(heap_bytes + GR <= BUF);
    /* the formula holds for any alignment of the buffer */
    REQUIRE(tarn_heap_init(&w->h, buf + check_below(GR), heap_bytes, NULL) == TARN_OK);
    w->nlive = 0;
    w->live_bytes = 0;
    s_random(w, ops);
    s_pinning(w, ops);
    s_boundaries(w, ops);
    s_realloc(w, ops);
    CHECK_EQ(tarn_heap_check(w->h), TARN_OK);
    CHECK_EQ(tarn_heap_destroy(w->h), TARN_OK);
}

/* C: K holes of growing sizes u-K .. u-1 granules, too small for a request of r G bytes
 * (a block of u = r + 1 granules), each between two 1-byte pins (2 granules each), then
 * that request.  Built front to back: block B_j (its hole plus a pin) is allocated, then
 * B_(j+1), then B_j is shrunk in place to 1 byte: its front stays as the pin, its tail
 * is the hole between it and B_(j+1) (each B is larger than every hole so far, so it
 * comes from the rest).  The last B is shrunk too (its tail joins the rest).  Live
 * bytes never exceed K + 1 + 2 r G, live blocks K + 2 (with the request).  The bound
 * has a part this sequence cannot reach with holes below u: the class rounding
 * L s G, s = 2^e - 1 (see heap.c), and the second large block live while a hole is
 * made and the holes' growing sizes cost it some more: the sequence fails in a heap
 * within 15 % of the rest of the bound. */
static void test_tightness(void)
{
    const uint32_t r = 255u, K = 40u, u = r + 1u;   /* u: the smallest size of a class */
    uint32_t j, fail_gran, e, sl = 0;
    size_t M = K + 1u + 2u * (size_t)r * GR, bound, lo, hi, reach;
    unsigned long sum = 0;
    tarn_heap *h;
    tarn_heap_stats st;
    int run;
    for (j = 1; j <= K; j++) sum += (u - K + j - 1u) + 2u;   /* hole + its pin */
    sum += 2u;                                               /* the last pin */
    fail_gran = (uint32_t)sum + u - 1u;   /* with at most this many granules the request fails */
    bound = tarn_heap_size_for(M, (size_t)r * GR, K + 2u);
    REQUIRE(bound > 0u && bound <= BUF);
    /* the largest buffer whose heap has at most fail_gran granules */
    lo = TARN_HEAP_MIN_SIZE;
    hi = bound;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1u) / 2u;
        REQUIRE(tarn_heap_init(&h, buf, mid, NULL) == TARN_OK);
        CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
        CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
        if ((st.capacity + TARN_HEAP_EXTRA) / GR + 1u <= fail_gran) lo = mid; else hi = mid - 1u;
    }
    for (run = 0; run < 2; run++) {
        void *last, *prev = NULL;
        REQUIRE(tarn_heap_init(&h, buf, run == 0 ? lo : bound, NULL) == TARN_OK);
        if (run == 1 && u >= (2u << h->k)) {
            e = log2u(u) - h->k;
            sl = (1u << e) - 1u;
        }
        for (j = 1; j <= K + 1u; j++) {
            /* B_j: hole (u - K + j - 1 granules) plus a pin (the last one's hole joins
             * the rest when it is shrunk) */
            void *b = tarn_heap_alloc(h, (size_t)(j <= K ? u - K + j : u - 1u) * GR - TARN_HEAP_EXTRA);
            CHECK(b != NULL);
            if (prev != NULL) CHECK_EQ(tarn_heap_resize(h, prev, 1), TARN_OK);
            prev = b;
        }
        CHECK_EQ(tarn_heap_resize(h, prev, 1), TARN_OK);
        CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
        CHECK_EQ(st.free_blocks, K + 1u);
        CHECK_EQ(st.live_blocks, K + 1u);
        last = tarn_heap_alloc(h, (size_t)r * GR - TARN_HEAP_EXTRA);
        if (run == 0) {
            CHECK(last == NULL);                  /* fails at fail_gran granules... */
        } else {
            CHECK(last != NULL);                  /* ...and not with the bound */
        }
        CHECK_EQ(tarn_heap_check(h), TARN_OK);
        CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    }
    /* the formula's granules without the class rounding term: Mg + (L - 1)(r - 1) */
    {
        size_t L = K + 2u, rg = ((size_t)r * GR - TARN_HEAP_EXTRA + TARN_HEAP_EXTRA + GR - 1u) / GR + 1u;
        reach = (M + L * (TARN_HEAP_EXTRA + GR - 1u)) / GR + 2u * L + (L - 1u) * (rg - 1u);
    }
    printf("tightness: u = %u granules, %u pins: fails in %lu bytes (%lu granules), bound %lu "
           "bytes (%.1f %%); %.1f %% of the formula's granules less its class rounding term\n",
           (unsigned)u, (unsigned)K, (unsigned long)lo, (unsigned long)fail_gran,
           (unsigned long)bound, 100.0 * (double)lo / (double)bound,
           100.0 * (double)fail_gran / (double)reach);
    (void)sl;
    (void)e;
    CHECK((size_t)fail_gran * 100u >= reach * 85u);
}

/* D: aligned_alloc within the bound: each aligned request of b bytes at alignment A is
 * counted as b + A + G bytes (in the peak and the largest request), as heap.h says; a
 * random mix of aligned and plain allocations and frees in a heap of exactly that size,
 * at every alignment of the buffer, never fails.  And the sizing refuses rather than
 * overflows near SIZE_MAX. */
static void test_aligned_bound(void)
{
    const size_t A = 64u, n = 200u, L = 20u, M = 2000u;
    size_t bound = tarn_heap_size_for(M + L * (A + GR), n + A + GR, L), live_b = 0;
    void *p[20];
    size_t sz[20];
    unsigned nl = 0;
    long i, ops = CHECK_ITERS(200000L);
    tarn_heap *h;
    REQUIRE(bound > 0u && bound + GR <= BUF);
    REQUIRE(tarn_heap_init(&h, buf + check_below(GR), bound, NULL) == TARN_OK);
    for (i = 0; i < ops; i++) {
        size_t b = 1u + check_below((uint32_t)n);
        int al = check_below(3) != 0;
        if (nl < L && live_b + b + (al ? A + GR : 0u) <= M + L * (A + GR) && check_below(3) != 0) {
            void *q = al ? tarn_heap_aligned_alloc(h, A, b) : tarn_heap_alloc(h, b);
            CHECK(q != NULL);
            if (q == NULL) break;
            if (al) CHECK(((uintptr_t)q & (A - 1u)) == 0u);
            p[nl] = q;
            sz[nl] = b + (al ? A + GR : 0u);
            live_b += sz[nl];
            nl++;
        } else if (nl > 0) {
            unsigned j = check_below(nl);
            CHECK_EQ(tarn_heap_free(h, p[j]), TARN_OK);
            live_b -= sz[j];
            p[j] = p[--nl];
            sz[j] = sz[nl];
        }
    }
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    /* near SIZE_MAX: refused (0), never a buffer smaller than a feasible one's */
    CHECK_EQ(tarn_heap_size_for(SIZE_MAX - 3u, (size_t)1 << 20, 4), 0);
    CHECK(tarn_heap_size_for((size_t)4 << 20, (size_t)1 << 20, 4) > ((size_t)4 << 20));
    CHECK_EQ(tarn_heap_size_for(SIZE_MAX, 8, 4), 0);
    CHECK_EQ(tarn_heap_size_for(8, SIZE_MAX, 4), 0);
    CHECK_EQ(tarn_heap_size_for(SIZE_MAX / 2u, SIZE_MAX / 2u, SIZE_MAX / 2u), 0);
    printf("aligned: %lu-byte heap for M %lu, n %lu, L %lu at alignment %lu: no failure\n",
           (unsigned long)bound, (unsigned long)M, (unsigned long)n, (unsigned long)L,
           (unsigned long)A);
}

/* TARN_HEAP_BYTES(usable): a buffer of that size, at any alignment, gives a heap whose
 * capacity is at least `usable` and in which one request of `usable` bytes succeeds.
 * Sizes around the step where the class table may grow to 1/128 of the buffer (about
 * 14 KiB) and up to 4 MiB, where its cap of about 3 KB holds. */
static void test_heap_bytes(void)
{
    static const size_t usable[] = {1u, 8u, 100u, 1000u, 4000u, 8000u, 12000u, 13000u,
                                    13311u, 13312u, 13800u, 14000u, 14500u, 16000u, 30000u,
                                    65536u, 100000u, 250000u, 262144u, 393216u, 500000u,
                                    1048576u, 3000000u, 4194304u};
    size_t i, off;
    for (i = 0; i < sizeof usable / sizeof usable[0]; i++) {
        size_t bytes = TARN_HEAP_BYTES(usable[i]);
        unsigned char *raw = (unsigned char *)malloc(bytes + 64u);
        if (raw == NULL && usable[i] > 65536u) {   /* a small target (QEMU): not there */
            printf("TARN_HEAP_BYTES(%lu): no memory for it here, skipped\n",
                   (unsigned long)usable[i]);
            continue;
        }
        REQUIRE(raw != NULL);
        for (off = 0; off < 64u; off += 4u) {
            tarn_heap *h = NULL;
            tarn_heap_stats st;
            void *p;
            REQUIRE(tarn_heap_init(&h, raw + off, bytes, NULL) == TARN_OK);
            REQUIRE(tarn_heap_stats_get(h, &st) == TARN_OK);
            CHECK(st.capacity >= usable[i]);
            p = tarn_heap_alloc(h, usable[i]);
            CHECK(p != NULL);
            CHECK_EQ(tarn_heap_free(h, p), TARN_OK);
        }
        free(raw);
    }
}

int main(void)
{
    static const size_t params[][3] = {
        /* M, n, L */
        {4000, 64, 100},   {8000, 500, 50},   {20000, 2000, 30}, {3000, 1000, 5},
        {50000, 100, 1000}, {12000, 24, 1000}, {30000, 4000, 12}, {600, 300, 3},
    };
    static wl w;
    size_t i;
    unsigned long total_small = 0;
    long ops = CHECK_ITERS(40000L);
    check_seed(20240611u);
    test_heap_bytes();
    for (i = 0; i < sizeof params / sizeof params[0]; i++) {
        size_t bound = tarn_heap_size_for(params[i][0], params[i][1], params[i][2]);
        unsigned long fails_small;
        memset(&w, 0, sizeof w);
        w.M = params[i][0];
        w.n = params[i][1];
        w.L = params[i][2];
        REQUIRE(bound > 0u);
        /* A: the formula's heap never fails */
        w.must_succeed = 1;
        run_all(&w, bound, ops);
        CHECK_EQ(w.fails, 0);
        /* B: a heap of 40 % of it fails sometimes, always for the proof's reasons */
        w.must_succeed = 0;
        w.fails = 0;
        run_all(&w, bound * 4u / 10u + TARN_HEAP_MIN_SIZE, ops);
        fails_small = w.fails;
        total_small += fails_small;
        CHECK_EQ(w.checked, fails_small);
        printf("M %6lu n %5lu L %5lu: bound %7lu bytes, %lu allocs; at 40 %%: %lu failures, all"
               " explained\n", (unsigned long)w.M, (unsigned long)w.n, (unsigned long)w.L,
               (unsigned long)bound, w.allocs, fails_small);
    }
    CHECK(total_small > 10u);    /* the smaller heaps did fail: part B was exercised */
    test_tightness();
    test_aligned_bound();
    return check_done();
}
