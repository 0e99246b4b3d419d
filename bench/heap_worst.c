/*
 * bench/heap_worst.c - the most instructions a single heap call takes, measured exactly.
 *
 * Run it with `make bench-heap-worst` (mk/worst.mk): that builds the icount Valgrind tool
 * (tools/icount), checks it against a loop of known length and against callgrind, builds
 * this program (gcc -O3, Release, as bench/heap) and runs it under the tool:
 *
 *     VALGRIND_LIB=build/icount valgrind -q --tool=icount build/bench/bench_heap_worst
 *
 * Run natively (as `make bench` does), it prints that it needs the tool and exits 0.
 *
 * Method.  Every heap call of the sequences below is wrapped in two ICOUNT_READ() client
 * requests; the difference minus the count of an empty pair of reads is that call's exact
 * instruction count: the function with everything it calls, plus the 1-4 instructions of
 * the call site (argument moves, call, result move).  Per arena size and per operation
 * (alloc, free, realloc, aligned_alloc) the largest count is kept with the sequence and
 * request that produced it.  Failed calls count too (a real-time caller waits for them
 * as well) and are marked "failed".  Only the public API is used (tarn/heap.h: init,
 * alloc, free, realloc, aligned_alloc, usable_size, check), default configuration; so the
 * bench runs unchanged whatever the heap's internals are.  calloc is alloc plus a memset
 * of the block and is not measured separately.
 *
 * realloc without the copy: when realloc moves a block, the count includes a memcpy of
 * the old contents.  The bench then counts, right after, one memcpy of the same length
 * (min(old usable size, new size), the amount both heaps copy) between two scratch buffers
 * at the same offsets within a page as the old and the new block, and subtracts it.  This
 * assumes the heap copies with the C library's memcpy (both heaps measured here do).
 * As a cross-check the bench also prints the largest moving realloc whose copy is at most
 * 64 bytes, copy included: the subtracted maxima should not lie far above it.
 * The scratch buffers are half the arena each (a moved block is smaller); if malloc
 * refuses that, 1 MiB, and longer moves are left out of the maxima (the bench says so).
 *
 * The same sequences run on the TLSF-style reference (bench/ref_tlsf.h: good fit, boundary
 * tags, no checks), called through non-inlined wrappers so that each call is one call as
 * for tarn.  The reference has no aligned_alloc of its own: ref_aligned below adds one
 * the way TLSF does (over-allocate by the alignment plus a minimum free block, give the
 * front back as a free block, trim the tail).  The reference does not fit in an arena
 * smaller than its control structure (5,984 bytes on 64-bit: "-" in the 4 KiB row) and
 * refuses requests above 512 MiB (such calls fail at once in it).
 *
 * Arenas: 4 KiB, 16 KiB, 64 KiB, ... 1 GiB (every power of four), each taken from malloc;
 * a size malloc refuses is skipped and reported.  Every sequence starts from a freshly
 * initialised heap; tarn_heap_check / rt_check verify the heap after each sequence.
 *
 * Sequences (s ranges over 1, 8, 24, 100, 1000, 4096, 65536 bytes and arena/64, arena/8,
 * where they fit; fills stop at 16,384 blocks, the rest of the arena is then taken by
 * halving requests, so every fill covers the whole arena):
 *   alternate s       fill with blocks of s, free every other block, request 2s+1 (fits
 *                     no hole) and s (fits every hole) once each, then free the rest:
 *                     every one of those frees merges three blocks;
 *   classes           free blocks in every size class the arena holds at once: one per
 *                     power of two up to arena/4, then the 32 sub-ranges 2^k + j*2^k/32
 *                     of every k, smallest first, while they fit (each block kept apart
 *                     by a 1-byte used block, so that none merges when freed), then
 *                     requests at every class boundary: 2^k + j*2^(k-5) and that -1, +1,
 *                     -8, +8, -16, +16 bytes (covering the rounding to granules and
 *                     headers), each freed again; then the separators are freed (merges);
 *   boundary/empty    the same requests in an empty heap;
 *   merge             a block freed beside a free left (then right) neighbour of every
 *                     boundary size up to arena/2;
 *   random            50,000 operations: sizes log-uniform over 1 .. arena/16, the live
 *                     count random-walking (at most 4,096), frees and reallocs (to a new
 *                     random size) of random live blocks; the same stream for both heaps;
 *   huge              the largest request that succeeds (binary search over every size
 *                     up to the arena, each try measured), in an empty heap and after one
 *                     small block; its free; a three-way merge of two huge neighbours;
 *   realloc grow      one block grown by steps of 1.5x into the free rest of the arena;
 *   realloc neighbour a block grown into its free right neighbour (partly, exactly, and
 *                     beyond it: then it moves);
 *   realloc move      in the alternate state, every used block grown to 3s: no room in
 *                     place, so it moves, and the old block merges with both neighbours;
 *   realloc shrink    a block shrunk by halves down to 1 byte, with a used and with a free
 *                     right neighbour;
 *   aligned           aligned_alloc with every alignment 16 .. arena/2 and sizes 1, 100,
 *                     alignment/2, in an empty heap, after one 24-byte block, and in the
 *                     alternate state of 100-byte blocks; each freed.
 * Options: --quick (arenas up to 1 MiB), --json (rows as JSON objects), --native (run
 * the sequences without the tool: every count is 0; for checking the sequences and both
 * heaps' consistency after each, e.g. under ASan).
 */
#include "bench_common.h"
#include "../tools/icount/icount.h"
#include "ref_tlsf.h"
#include "tarn/heap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BLOCKS 16384u          /* blocks of one fill before the halving tail */
#define SCRATCH_MIN (1024u * 1024u)   /* scratch when arena/2 cannot be had */

enum { OP_ALLOC, OP_FREE, OP_REALLOC, OP_ALIGNED, OP_N };
static const char *const op_name[OP_N] = {"alloc", "free", "realloc", "aligned_alloc"};

typedef struct worst {
    unsigned long long n[OP_N];     /* largest count so far */
    char where[OP_N][96];           /* the sequence and request that gave it */
    unsigned long calls[OP_N];
    int skipped;                    /* the heap does not fit in this arena */
    unsigned long long small_move;  /* cross-check: largest moving realloc whose copy is at
                                       most 64 bytes, copy not subtracted */
} worst;

/* One heap under test: tarn's or the reference, in `mem` of `arena` bytes. */
typedef struct hx {
    int ref;
    tarn_heap *t;
    rt_heap *r;
    void *rfirst;
    unsigned char *mem;
    size_t arena;
    worst *w;
    const char *seq;               /* the running sequence's name (in seqbuf or static) */
    char seqbuf[64];
} hx;

static unsigned long long ovh;     /* count of an empty pair of reads */
static unsigned char *scratch_src, *scratch_dst;   /* page-aligned, in scratch_mem */
static unsigned char *scratch_mem[2];
static size_t scratch_cap;         /* the longest copy that can be counted */
static unsigned long uncounted;    /* moving reallocs too long to count the copy of */
static void **blk;                 /* the blocks of the running sequence */
static size_t nblk;

/* The reference through non-inlined calls: one call per operation, as for tarn. */
__attribute__((noinline)) static void *ref_alloc(rt_heap *h, size_t n) { return rt_alloc(h, n); }
__attribute__((noinline)) static void ref_free(rt_heap *h, void *p) { rt_free(h, p); }
__attribute__((noinline)) static void *ref_realloc(rt_heap *h, void *p, size_t n)
{
    return rt_realloc(h, p, n);
}

/* aligned_alloc for the reference, the way TLSF does it (the reference itself has none):
 * over-allocate by the alignment plus room for a free block in front, give the front
 * back as a free block, trim the tail.  Uses only the reference's own helpers. */
__attribute__((noinline)) static void *ref_aligned(rt_heap *h, size_t al, size_t n)
{
    const size_t front = RT_MIN + RT_W;   /* the smallest free block in front */
    unsigned char *p, *q;
    rt_block *b, *b2;
    size_t have, lead, s;
    if (al <= RT_ALIGN) return rt_alloc(h, n);
    if (n == 0u || n > ((size_t)1 << (RT_FL_MAX - 1u)) || al > ((size_t)1 << (RT_FL_MAX - 1u)))
        return NULL;
    s = rt_adjust(n);
    p = rt_alloc(h, s + al + front);
    if (p == NULL) return NULL;
    if (((uintptr_t)p & (al - 1u)) == 0u) {
        rt_trim(h, rt_of(p), s);
        return p;
    }
    q = (unsigned char *)(((uintptr_t)p + front + al - 1u) & ~(uintptr_t)(al - 1u));
    b = rt_of(p);
    have = rt_size(b);
    lead = (size_t)(q - p) - RT_W;         /* payload of the free block in front */
    b2 = rt_of(q);
    b2->size = have - lead - RT_W;         /* used; its predecessor is marked free below */
    b->size = lead | RT_FREE;              /* b's predecessor is used: b was allocated */
    rt_release(h, b);                      /* lists b, tells b2 its predecessor is free */
    rt_trim(h, b2, s);
    return q;
}

static void note(hx *h, int op, unsigned long long raw, const char *req, int failed)
{
    unsigned long long n = raw >= ovh ? raw - ovh : 0u;
    worst *w = h->w;
    w->calls[op]++;
    if (n > w->n[op]) {
        w->n[op] = n;
        snprintf(w->where[op], sizeof w->where[op], "%s: %s%s", h->seq, req,
                 failed ? " failed" : "");
    }
}

static const char *sz(size_t n)   /* a readable size */
{
    if (n >= 1024u * 1024u * 1024u && n % (1024u * 1024u * 1024u) == 0u)
        return bench_fmt("%zu GiB", n >> 30);
    if (n >= 1024u * 1024u && n % (1024u * 1024u) == 0u) return bench_fmt("%zu MiB", n >> 20);
    if (n >= 1024u && n % 1024u == 0u) return bench_fmt("%zu KiB", n >> 10);
    return bench_fmt("%zu", n);
}

static void *h_alloc(hx *h, size_t n)
{
    unsigned long long a, b;
    void *p;
    if (h->ref) {
        a = ICOUNT_READ();
        p = ref_alloc(h->r, n);
        b = ICOUNT_READ();
    } else {
        a = ICOUNT_READ();
        p = tarn_heap_alloc(h->t, n);
        b = ICOUNT_READ();
    }
    note(h, OP_ALLOC, b - a, bench_fmt("alloc(%s)", sz(n)), p == NULL);
    return p;
}

static void h_free(hx *h, void *p)
{
    unsigned long long a, b;
    int bad = 0;
    if (p == NULL) return;
    if (h->ref) {
        a = ICOUNT_READ();
        ref_free(h->r, p);
        b = ICOUNT_READ();
    } else {
        tarn_status st;
        a = ICOUNT_READ();
        st = tarn_heap_free(h->t, p);
        b = ICOUNT_READ();
        bad = st != TARN_OK;
    }
    note(h, OP_FREE, b - a, "free", bad);
    if (bad) {
        fprintf(stderr, "heap_worst: free refused a live block in %s\n", h->seq);
        exit(1);
    }
}

static size_t h_usable(hx *h, void *p)
{
    return h->ref ? rt_size(rt_of(p)) : tarn_heap_usable_size(h->t, p);
}

static void *h_realloc(hx *h, void *p, size_t n)
{
    unsigned long long a, b, copy = 0;
    size_t old = h_usable(h, p), ncopy = old < n ? old : n;
    void *q;
    if (h->ref) {
        a = ICOUNT_READ();
        q = ref_realloc(h->r, p, n);
        b = ICOUNT_READ();
    } else {
        a = ICOUNT_READ();
        q = tarn_heap_realloc(h->t, p, n);
        b = ICOUNT_READ();
    }
    if (q != NULL && q != p) {
        /* it moved: count a memcpy of the same length at the same page offsets */
        unsigned char *d = scratch_dst + ((uintptr_t)q & 4095u);
        unsigned char *s = scratch_src + ((uintptr_t)p & 4095u);
        unsigned long long c0, c1;
        if (ncopy > scratch_cap) {   /* cannot count the copy: leave this call out */
            uncounted++;
            return q;
        }
        c0 = ICOUNT_READ();
        memcpy(d, s, ncopy);
        c1 = ICOUNT_READ();
        copy = c1 - c0 >= ovh ? c1 - c0 - ovh : 0u;
        if (ncopy <= 64u && b - a - ovh > h->w->small_move) h->w->small_move = b - a - ovh;
    }
    note(h, OP_REALLOC, b - a - copy,
         bench_fmt("realloc(%s -> %s)%s", sz(old), sz(n), q == p ? " in place" :
                   q != NULL ? " moved" : ""), q == NULL);
    return q;
}

static void *h_aligned(hx *h, size_t al, size_t n)
{
    unsigned long long a, b;
    void *p;
    if (h->ref) {
        a = ICOUNT_READ();
        p = ref_aligned(h->r, al, n);
        b = ICOUNT_READ();
    } else {
        a = ICOUNT_READ();
        p = tarn_heap_aligned_alloc(h->t, al, n);
        b = ICOUNT_READ();
    }
    note(h, OP_ALIGNED, b - a, bench_fmt("aligned_alloc(%s, %s)", sz(al), sz(n)), p == NULL);
    if (p != NULL && ((uintptr_t)p & (al - 1u)) != 0u) {
        fprintf(stderr, "heap_worst: aligned_alloc(%zu) returned %p\n", al, p);
        exit(1);
    }
    return p;
}

/* ---- set-up (not measured) ------------------------------------------------------------ */
static void begin(hx *h, const char *seq)
{
    snprintf(h->seqbuf, sizeof h->seqbuf, "%s", seq);
    h->seq = h->seqbuf;
    nblk = 0;
    if (h->ref) {
        h->r = rt_init(h->mem, h->arena);
        h->rfirst = h->r != NULL ? rt_first(h->r) : NULL;
        if (h->r == NULL) {
            fprintf(stderr, "heap_worst: rt_init refused %zu bytes\n", h->arena);
            exit(1);
        }
    } else if (tarn_heap_init(&h->t, h->mem, h->arena, NULL) != TARN_OK) {
        fprintf(stderr, "heap_worst: tarn_heap_init refused %zu bytes\n", h->arena);
        exit(1);
    }
}

static void end(hx *h)
{
    int ok = h->ref ? rt_check(h->r, h->rfirst) : tarn_heap_check(h->t) == TARN_OK;
    if (!ok) {
        fprintf(stderr, "heap_worst: %s heap inconsistent after %s\n",
                h->ref ? "reference" : "tarn", h->seq);
        exit(1);
    }
    if (!h->ref) tarn_heap_destroy(h->t);
}

static void keep(void *p)
{
    if (p != NULL) blk[nblk++] = p;
}

/* Take the rest of the arena: requests halving from the arena size down to 8 bytes, each
 * repeated while it succeeds. */
static void fill_rest(hx *h)
{
    size_t n;
    for (n = h->arena; n >= 8u; n /= 2u) {
        void *p;
        while (nblk < MAX_BLOCKS * 2u && (p = h_alloc(h, n)) != NULL) keep(p);
    }
}

/* Blocks of s until the arena is full (at most MAX_BLOCKS, then fill_rest). */
static size_t fill(hx *h, size_t s)
{
    void *p;
    while (nblk < MAX_BLOCKS && (p = h_alloc(h, s)) != NULL) keep(p);
    return nblk;
}

/* ---- the sequences -------------------------------------------------------------------- */
static void seq_alternate(hx *h, size_t s)
{
    size_t i, nfill;
    begin(h, bench_fmt("alternate s=%s", sz(s)));
    nfill = fill(h, s);
    fill_rest(h);
    for (i = 0; i < nfill; i += 2u) {
        h_free(h, blk[i]);
        blk[i] = NULL;
    }
    h_free(h, h_alloc(h, 2u * s + 1u));
    h_free(h, h_alloc(h, s));
    for (i = 1; i < nblk; i += 2u) {                           /* three-way merges */
        h_free(h, blk[i]);
        blk[i] = NULL;
    }
    for (i = 0; i < nblk; i++) h_free(h, blk[i]);
    end(h);
}

/* The boundary requests: 2^k + j*2^(k-5) (j < 32, whole bytes), and -1, +1, -8, +8,
 * -16, +16 around each, up to the arena size. */
static size_t boundaries(size_t arena, size_t *out, size_t max)
{
    static const long d[] = {0, -1, 1, -8, 8, -16, 16};
    size_t n = 0, k, j, i;
    for (k = 3; ((size_t)1 << k) <= arena; k++) {
        size_t step = k >= 5u ? (size_t)1 << (k - 5u) : 1u;
        for (j = 0; j < 32u && j * step < ((size_t)1 << k); j++) {
            size_t b = ((size_t)1 << k) + j * step;
            for (i = 0; i < sizeof d / sizeof d[0]; i++) {
                long v = (long)b + d[i];
                if (v >= 1 && (size_t)v <= arena && n < max) out[n++] = (size_t)v;
            }
        }
    }
    return n;
}

static size_t *breq;
static size_t nbreq;

static void seq_boundary_empty(hx *h)
{
    size_t i;
    begin(h, "boundary/empty");
    for (i = 0; i < nbreq; i++) h_free(h, h_alloc(h, breq[i]));
    end(h);
}

static void seq_classes(hx *h)
{
    size_t i, k, j, nclass = 0;
    void *cls[4096];
    begin(h, "classes");
    /* one block per power of two up to arena/4, then every sub-range 2^k + j*2^k/32
     * (smallest first) while the arena holds them; each block is followed by a 1-byte
     * separator so that none merges when they are freed */
    for (j = 0; j < 32u; j++) {
        for (k = 3; ((size_t)1 << k) <= h->arena / 4u && nclass < 4096u; k++) {
            size_t step = k >= 5u ? (size_t)1 << (k - 5u) : 1u;
            void *p, *sep;
            if (j * step >= ((size_t)1 << k)) continue;
            p = h_alloc(h, ((size_t)1 << k) + j * step);
            if (p == NULL) continue;
            sep = h_alloc(h, 1);
            if (sep == NULL) {
                h_free(h, p);
                continue;
            }
            cls[nclass++] = p;
            keep(sep);
        }
    }
    for (i = 0; i < nclass; i++) h_free(h, cls[i]);
    h->seq = "classes: boundary";
    for (i = 0; i < nbreq; i++) h_free(h, h_alloc(h, breq[i]));
    h->seq = "classes: separators";
    for (i = 0; i < nblk; i++) h_free(h, blk[i]);
    end(h);
}

/* The largest request that succeeds now, each try measured (and freed again). */
static size_t largest(hx *h)
{
    size_t lo = 0, hi = h->arena + 1u;   /* lo succeeds (or 0), hi fails */
    while (hi - lo > 1u) {
        size_t mid = lo + (hi - lo) / 2u;
        void *p = h_alloc(h, mid);
        if (p != NULL) {
            h_free(h, p);
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* Merges with neighbours of every boundary size L (up to arena/2): a free block of L
 * bytes to the left (then to the right) of the block being freed; each round leaves the
 * heap empty again. */
static void seq_merge_sizes(hx *h)
{
    size_t i;
    begin(h, "merge with a free left block of L");
    for (i = 0; i < nbreq; i++) {
        void *a, *b, *c;
        if (breq[i] > h->arena / 2u) continue;
        a = h_alloc(h, breq[i]);
        b = h_alloc(h, 8);
        c = h_alloc(h, 8);
        h_free(h, a);
        h_free(h, b);
        h_free(h, c);
    }
    end(h);
    begin(h, "merge with a free right block of L");
    for (i = 0; i < nbreq; i++) {
        void *a, *b, *c;
        if (breq[i] > h->arena / 2u) continue;
        a = h_alloc(h, 8);
        b = h_alloc(h, breq[i]);
        c = h_alloc(h, 8);
        h_free(h, b);
        h_free(h, a);
        h_free(h, c);
    }
    end(h);
}

/* A random mix (the same for both heaps): sizes log-uniform over 1 .. arena/16, the live
 * count random-walking, frees and reallocs of random live blocks. */
static uint64_t rs;
static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

static void seq_random(hx *h, unsigned nops)
{
    unsigned i, maxlog = 0;
    size_t target = 64;
    begin(h, "random");
    rs = 0x9E3779B97F4A7C15ull;
    while (((size_t)16 << maxlog) < h->arena) maxlog++;
    for (i = 0; i < nops; i++) {
        uint64_t r = rnd();
        size_t n = ((size_t)1 << (r % maxlog)), at;
        n += (size_t)(r >> 32) % n;
        if (i % 1000u == 0u) target = 1u + (size_t)(rnd() % (MAX_BLOCKS / 4u));
        if (nblk > 0u && (nblk >= target || (r >> 8) % 4u == 0u)) {
            at = (size_t)(rnd() % nblk);
            if ((r >> 16) % 4u == 0u) {
                void *q = h_realloc(h, blk[at], n);
                if (q != NULL && q != blk[at]) blk[at] = q;
                continue;
            }
            h_free(h, blk[at]);
            blk[at] = blk[--nblk];
        } else {
            void *p = h_alloc(h, n);
            if (p != NULL) keep(p);
            else if (nblk > 0u) target = nblk / 2u;
        }
    }
    while (nblk > 0u) h_free(h, blk[--nblk]);
    end(h);
}

static void seq_huge(hx *h)
{
    size_t big;
    void *p, *a, *b, *c;
    begin(h, "huge/empty");
    big = largest(h);
    p = h_alloc(h, big);
    h_free(h, h_alloc(h, 1));
    h_free(h, p);
    end(h);

    begin(h, "huge/after one block");
    a = h_alloc(h, 24);
    big = largest(h);
    p = h_alloc(h, big);
    h_free(h, a);
    h_free(h, p);
    end(h);

    begin(h, "huge/three-way merge");
    a = h_alloc(h, h->arena / 3u);
    b = h_alloc(h, 16);
    big = largest(h);
    c = h_alloc(h, big);
    h_free(h, a);
    h_free(h, c);
    h_free(h, b);
    end(h);
}

static void seq_realloc_grow(hx *h)
{
    void *p, *q;
    size_t n = 16;
    begin(h, "realloc grow");
    p = h_alloc(h, n);
    while (p != NULL && n < h->arena) {
        n += n / 2u;
        q = h_realloc(h, p, n);
        if (q == NULL) break;
        p = q;
    }
    h_free(h, p);
    end(h);
}

static void seq_realloc_neighbour(hx *h, size_t s)
{
    void *a, *b, *c, *q;
    static const int how[] = {1, 2, 3, 4};   /* grow into part of b, all of it, beyond */
    size_t i;
    for (i = 0; i < sizeof how / sizeof how[0]; i++) {
        begin(h, bench_fmt("realloc neighbour s=%s", sz(s)));
        a = h_alloc(h, s);
        b = h_alloc(h, s);
        c = h_alloc(h, 16);
        if (a == NULL || b == NULL || c == NULL) {
            h_free(h, a); h_free(h, b); h_free(h, c);
            end(h);
            return;
        }
        h_free(h, b);
        switch (how[i]) {
        case 1: q = h_realloc(h, a, s + s / 2u); break;         /* part of b */
        case 2: q = h_realloc(h, a, h_usable(h, a) + s); break;  /* about all of b */
        case 3: q = h_realloc(h, a, 2u * s + 64u); break;        /* beyond: moves */
        default: q = h_realloc(h, a, 3u * s); break;            /* beyond: moves */
        }
        h_free(h, q != NULL ? q : a);
        h_free(h, c);
        end(h);
    }
}

static void seq_realloc_move(hx *h, size_t s)
{
    size_t i, nfill;
    begin(h, bench_fmt("realloc move s=%s", sz(s)));
    nfill = fill(h, s);
    fill_rest(h);
    for (i = 0; i < nfill; i += 2u) {
        h_free(h, blk[i]);
        blk[i] = NULL;
    }
    /* the rest of the arena (fill_rest's blocks) stays taken: a block at an even index
     * could grow in place into the hole after it, so grow the odd ones to 3s: neither
     * hole beside them can take that, so they move, if anything is free */
    for (i = 1; i < nfill; i += 2u) {
        void *q = h_realloc(h, blk[i], 3u * s);
        if (q != NULL) blk[i] = q;
    }
    for (i = 0; i < nblk; i++) h_free(h, blk[i]);
    end(h);
}

static void seq_realloc_shrink(hx *h, size_t s)
{
    int freeright;
    for (freeright = 0; freeright < 2; freeright++) {
        void *a, *b, *c;
        size_t n;
        begin(h, bench_fmt("realloc shrink s=%s%s", sz(s), freeright ? ", free right" : ""));
        a = h_alloc(h, s);
        b = h_alloc(h, 64);
        c = h_alloc(h, 16);
        if (a == NULL || b == NULL || c == NULL) {
            h_free(h, a); h_free(h, b); h_free(h, c);
            end(h);
            return;
        }
        if (freeright) {
            h_free(h, b);
            b = NULL;
        }
        for (n = s; n >= 1u; n /= 2u) {
            void *q = h_realloc(h, a, n);
            if (q != NULL) a = q;
            q = h_realloc(h, a, n > 1u ? n - 1u : 1u);
            if (q != NULL) a = q;
        }
        h_free(h, a);
        h_free(h, b);
        h_free(h, c);
        end(h);
    }
}

static void aligned_all(hx *h)
{
    size_t al;
    for (al = 16; al <= h->arena / 2u; al *= 2u) {
        h_free(h, h_aligned(h, al, 1));
        h_free(h, h_aligned(h, al, 100));
        h_free(h, h_aligned(h, al, al / 2u));
    }
}

static void seq_aligned(hx *h)
{
    size_t i, nfill;
    void *a;
    begin(h, "aligned/empty");
    aligned_all(h);
    end(h);
    begin(h, "aligned/after 24 B");
    a = h_alloc(h, 24);
    aligned_all(h);
    h_free(h, a);
    end(h);
    begin(h, "aligned/alternate s=100");
    nfill = fill(h, 100);
    for (i = 0; i < nfill; i += 2u) h_free(h, blk[i]);
    aligned_all(h);
    for (i = 1; i < nblk; i += 2u) h_free(h, blk[i]);
    end(h);
}

/* Two scratch buffers of scratch_cap bytes plus a page, each starting on a page boundary
 * (memcpy's path depends on the page offsets of its operands, which are matched).  */
static int scratch_get(void)
{
    int i;
    for (i = 0; i < 2; i++) {
        scratch_mem[i] = malloc(scratch_cap + 8192u);
        if (scratch_mem[i] == NULL) {
            if (i == 1) free(scratch_mem[0]);
            return 0;
        }
        memset(scratch_mem[i], 0x5a, scratch_cap + 8192u);
    }
    scratch_src = (unsigned char *)(((uintptr_t)scratch_mem[0] + 4095u) & ~(uintptr_t)4095u);
    scratch_dst = (unsigned char *)(((uintptr_t)scratch_mem[1] + 4095u) & ~(uintptr_t)4095u);
    return 1;
}

static void run_all(hx *h)
{
    static const size_t fixed[] = {1, 8, 24, 100, 1000, 4096, 65536};
    size_t sizes[16], ns = 0, i;
    for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i] <= h->arena / 8u) sizes[ns++] = fixed[i];
    if (h->arena / 64u > 65536u) sizes[ns++] = h->arena / 64u;
    if (h->arena / 8u > 65536u) sizes[ns++] = h->arena / 8u;

    for (i = 0; i < ns; i++) seq_alternate(h, sizes[i]);
    seq_classes(h);
    seq_boundary_empty(h);
    seq_merge_sizes(h);
    seq_random(h, 50000u);
    seq_huge(h);
    seq_realloc_grow(h);
    for (i = 0; i < ns; i++) {
        seq_realloc_neighbour(h, sizes[i]);
        seq_realloc_move(h, sizes[i]);
        seq_realloc_shrink(h, sizes[i]);
    }
    seq_aligned(h);
}

int main(int argc, char **argv)
{
    static const char *const cols[] = {"arena", "alloc tarn", "alloc ref", "free tarn",
                                       "free ref", "realloc tarn", "realloc ref",
                                       "aligned tarn", "aligned ref"};
    static const char *const xcols[] = {"arena", "realloc tarn", "realloc ref"};
    static const char *const wcols[] = {"arena", "operation", "count", "sequence: request"};
    enum { NARENA = 10 };
    size_t arena = 4096u;
    worst w[NARENA][2];
    size_t arenas[NARENA];
    int ok[NARENA], na = 0, last = 0, i, r, quick = 0, native = 0;

    (void)rt_footprint;   /* the reference's helper for bench/heap, unused here */
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) bench_json = 1;
        else if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else if (strcmp(argv[i], "--native") == 0) native = 1;
    }
    if (!ICOUNT_ACTIVE() && !native) {
        printf("heap_worst: needs the icount Valgrind tool for exact per-call counts; run "
               "`make bench-heap-worst` (skipped)\n");
        return 0;
    }
    ovh = icount_overhead();
    blk = malloc(sizeof *blk * (MAX_BLOCKS * 2u + 64u));
    breq = malloc(sizeof *breq * 16384u);
    if (blk == NULL || breq == NULL) return 1;
    memset(w, 0, sizeof w);

    for (na = 0; na < NARENA; na++, arena *= 4u) {
        hx h;
        arenas[na] = arena;
        ok[na] = 0;
        if (quick && arena > 1024u * 1024u) break;
        memset(&h, 0, sizeof h);
        h.arena = arena;
        h.mem = malloc(arena);
        if (h.mem == NULL) {
            bench_note("arena %s: malloc refused it, skipped", sz(arena));
            continue;
        }
        /* scratch for counting copies: a moved block is at most half the arena */
        scratch_cap = arena / 2u;
        if (!scratch_get()) {
            scratch_cap = SCRATCH_MIN;
            if (!scratch_get()) return 1;
        }
        nbreq = boundaries(arena, breq, 16384u);
        for (r = 0; r < 2; r++) {
            h.ref = r;
            h.w = &w[na][r];
            if (r && rt_init(h.mem, arena) == NULL) {
                w[na][r].skipped = 1;   /* its control structure alone is larger */
                continue;
            }
            run_all(&h);
        }
        free(h.mem);
        free(scratch_mem[0]);
        free(scratch_mem[1]);
        ok[na] = 1;
        last = na;
    }

    bench_table_begin("heap_worst",
                      "most instructions in one call (icount, exact; realloc without the copy)",
                      cols, 9);
    for (i = 0; i < na; i++) {
        const char *cells[9];
        int op;
        if (!ok[i]) continue;
        cells[0] = sz(arenas[i]);
        for (op = 0; op < OP_N; op++) {
            cells[1 + 2 * op] = bench_fmt("%llu", w[i][0].n[op]);
            cells[2 + 2 * op] = w[i][1].skipped ? "-" : bench_fmt("%llu", w[i][1].n[op]);
        }
        bench_row(cells);
    }
    bench_table_end();
    for (r = 0; r < 2; r++) {
        bench_table_begin("heap_worst", r ? "where the reference's maxima come from"
                                          : "where tarn's maxima come from", wcols, 4);
        for (i = 0; i < na; i++) {
            int op;
            if (!ok[i]) continue;
            for (op = 0; op < OP_N; op++) {
                const char *cells[4];
                if (r && w[i][r].skipped) continue;
                cells[0] = sz(arenas[i]);
                cells[1] = op_name[op];
                cells[2] = bench_fmt("%llu", w[i][r].n[op]);
                cells[3] = w[i][r].where[op];
                bench_row(cells);
            }
        }
        bench_table_end();
    }
    bench_note("reference \"-\": the arena is smaller than its control structure (%zu "
               "bytes); its aligned_alloc is the bench's, TLSF's method", sizeof(rt_heap));
    bench_note("counts exclude the %llu instructions of a pair of reads and include the "
               "call site (1-4 instructions); calls per arena (tarn): alloc %lu, free %lu, "
               "realloc %lu, aligned %lu in the largest arena run",
               ovh, w[last][0].calls[0], w[last][0].calls[1], w[last][0].calls[2],
               w[last][0].calls[3]);
    bench_table_begin("heap_worst", "cross-check of the copy subtraction: the largest moving "
                      "realloc that copies at most 64 bytes, copy included", xcols, 3);
    for (i = 0; i < na; i++) {
        const char *cells[3];
        if (!ok[i]) continue;
        cells[0] = sz(arenas[i]);
        cells[1] = bench_fmt("%llu", w[i][0].small_move);
        cells[2] = w[i][1].skipped ? "-" : bench_fmt("%llu", w[i][1].small_move);
        bench_row(cells);
    }
    bench_table_end();
    if (uncounted != 0u)
        bench_note("%lu moving reallocs left out: no scratch to count their copy", uncounted);
    free(blk);
    free(breq);
    return 0;
}
