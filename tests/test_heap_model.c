/*
 * tests/test_heap_model.c - model-based random test of the heap.
 *
 * 2,000,000 random operations (alloc, calloc, realloc, aligned_alloc, resize, free and
 * every kind of invalid pointer) against a model that knows every live block: its
 * pointer, requested size, alignment and a pattern tag.  Sizes run from 1 byte to a
 * quarter of the arena.  Every live block is filled with its pattern and verified when
 * it is freed or reallocated and, every 20,000 operations, all of them are; the full
 * integrity check runs every 5,000 operations.  The good-fit guarantee is checked
 * on every 8th allocation: n bytes rounded up to the granule must succeed when at most
 * stats.max_alloc, and must fail when more than stats.largest_free.
 */
#include "check.h"
#include "tarn/heap.h"

#define ARENA (256u * 1024u)
#define MAXLIVE 1500u
#define GR TARN_HEAP_GRANULE

static unsigned char arena[ARENA];
static unsigned char foreign_buf[64];

typedef struct slot {
    unsigned char *p;
    size_t size;      /* bytes requested (and filled with the pattern) */
    size_t usable;
    size_t bytes;     /* bytes of blocks it consumes */
    size_t align;     /* alignment asked for (GR for plain allocations) */
    uint32_t tag;
} slot;

static slot live[MAXLIVE];
static uint32_t nlive;
static size_t live_usable;  /* usable bytes of the live blocks: stats.used */
static size_t live_bytes;   /* bytes of the live blocks */
static uint32_t next_tag = 1;
static unsigned char *stale[64];   /* recently freed pointers */
static unsigned nstale;

static tarn_heap *h;
static unsigned long n_ok_alloc, n_nomem, n_bad, n_inplace, n_moved, n_near;

static size_t pick_size(void)
{
    uint32_t r = check_below(100);
    if (r < 55) return 1u + check_below(64);
    if (r < 85) return 1u + check_below(512);
    if (r < 97) return 1u + check_below(4096);
    return 1u + check_below(ARENA / 4u);
}

static size_t round_gr(size_t n)
{
    return (n + GR - 1u) & ~(GR - 1u);
}

/* Payload bytes a request of n bytes takes: whole granules (guard and trailer included
 * in canary mode). */
static size_t payload_of(size_t n)
{
    return round_gr(n + TARN_HEAP_EXTRA);
}

/* Bytes of blocks it takes: the payload and the one-granule header. */
static size_t block_bytes(size_t n, size_t align)
{
    (void)align;
    return payload_of(n) + GR;
}

/* Usable size: the whole payload, or in canary mode exactly the request. */
static size_t usable_of(size_t n, size_t align)
{
    (void)align;
    return TARN_GUARD ? n : payload_of(n);
}

/* The usable size the heap reports is exact: the payload, or one granule more when the
 * rest of the free block it was cut from would have been a single granule (which no
 * free block can be); in canary mode exactly the request.  Returns the block's bytes. */
static size_t check_usable(size_t got, size_t n, size_t align)
{
    if (TARN_GUARD || got == usable_of(n, align)) {
        CHECK_EQ(got, usable_of(n, align));
        return block_bytes(n, align);
    }
    CHECK_EQ(got, usable_of(n, align) + GR);
    return block_bytes(n, align) + GR;
}

static void add_live(unsigned char *p, size_t size, size_t align)
{
    slot *s = &live[nlive++];
    s->p = p;
    s->size = size;
    s->align = align;
    s->tag = next_tag++;
    s->usable = tarn_heap_usable_size(h, p);
    s->bytes = check_usable(s->usable, size, align);
    CHECK(((uintptr_t)p & (align - 1u)) == 0u);
    live_bytes += s->bytes;
    live_usable += s->usable;
    check_fill(p, size, s->tag);
}

static void remember_stale(unsigned char *p)
{
    stale[nstale++ % 64u] = p;
}

static void drop_live(uint32_t i)
{
    live_bytes -= live[i].bytes;
    live_usable -= live[i].usable;
    live[i] = live[--nlive];
}

/* The whole heap must look exactly like the model. */
static void verify_all(void)
{
    uint32_t i;
    tarn_heap_stats st;
    for (i = 0; i < nlive; i++) {
        CHECK(check_verify(live[i].p, live[i].size, live[i].tag));
        CHECK_EQ(tarn_heap_usable_size(h, live[i].p), live[i].usable);
    }
    CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
    CHECK_EQ(st.used, live_usable);
    CHECK_EQ(st.live_blocks, nlive);
    CHECK_EQ(st.used + st.free, st.capacity);
    CHECK(st.peak_used >= st.used);
    CHECK(st.max_alloc <= st.largest_free && st.largest_free <= st.free);
}

/* Predicts success exactly (good fit): n fits iff n <= max_alloc (rounding its block,
 * minus guard and trailer in canary mode). */
static void *checked_alloc(size_t n, int zero)
{
    tarn_heap_stats st;
    int predict = check_below(8) == 0;
    unsigned char *p;
    size_t i;
    if (predict) CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
    if (zero) {
        size_t a = 1u + check_below(8);
        size_t b = (n + a - 1u) / a;
        n = a * b;
        p = (unsigned char *)tarn_heap_calloc(h, a, b);
    } else {
        p = (unsigned char *)tarn_heap_alloc(h, n);
    }
    if (predict) {   /* good fit: guaranteed up to max_alloc, impossible past largest_free */
        if (payload_of(n) - TARN_HEAP_EXTRA <= st.max_alloc) CHECK(p != NULL);
        if (payload_of(n) - TARN_HEAP_EXTRA > st.largest_free) CHECK(p == NULL);
        if (p == NULL && payload_of(n) - TARN_HEAP_EXTRA <= st.largest_free) n_near++;
    }
    if (p == NULL) {
        CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
        n_nomem++;
        return NULL;
    }
    if (zero) {
        for (i = 0; i < n; i++) {
            if (p[i] != 0) {
                CHECK(p[i] == 0);
                break;
            }
        }
    }
    n_ok_alloc++;
    add_live(p, n, GR);
    return p;
}

static void op_free(void)
{
    uint32_t i = check_below(nlive);
    slot s = live[i];
    CHECK(check_verify(s.p, s.size, s.tag));
    CHECK_EQ(tarn_heap_free(h, s.p), TARN_OK);
    drop_live(i);
    remember_stale(s.p);
}

static void op_realloc(void)
{
    uint32_t i = check_below(nlive);
    slot *s = &live[i];
    size_t n = check_below(2) ? pick_size() : s->size + check_below(64);
    unsigned char *q;
    size_t keep = n < s->size ? n : s->size;
    CHECK(check_verify(s->p, s->size, s->tag));
    q = (unsigned char *)tarn_heap_realloc(h, s->p, n);
    if (q == NULL) {
        CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
        CHECK(check_verify(s->p, s->size, s->tag));   /* untouched */
        n_nomem++;
        return;
    }
    CHECK(check_verify(q, keep, s->tag));
    CHECK(((uintptr_t)q & (s->align - 1u)) == 0u);
    if (q == s->p) {
        n_inplace++;
    } else {
        n_moved++;
        remember_stale(s->p);
    }
    live_bytes -= s->bytes;
    live_usable -= s->usable;
    s->p = q;
    s->size = n;
    s->usable = tarn_heap_usable_size(h, q);
    s->bytes = check_usable(s->usable, n, s->align);
    live_bytes += s->bytes;
    live_usable += s->usable;
    check_fill(q, n, s->tag);
}

static void op_resize(void)
{
    uint32_t i = check_below(nlive);
    slot *s = &live[i];
    size_t n = 1u + check_below((uint32_t)(s->size * 2u + 16u));
    tarn_status st = tarn_heap_resize(h, s->p, n);
    size_t keep = n < s->size ? n : s->size;
    if (st != TARN_OK) {
        CHECK_EQ(st, TARN_ENOMEM);
        CHECK(n > s->usable);
        CHECK(check_verify(s->p, s->size, s->tag));
        return;
    }
    CHECK(check_verify(s->p, keep, s->tag));
    live_bytes -= s->bytes;
    live_usable -= s->usable;
    s->size = n;
    s->usable = tarn_heap_usable_size(h, s->p);
    s->bytes = check_usable(s->usable, n, s->align);   /* exact */
    live_bytes += s->bytes;
    live_usable += s->usable;
    check_fill(s->p, n, s->tag);
}

static void op_aligned(void)
{
    size_t a = (size_t)1u << (1u + check_below(12));   /* 2 .. 4096 */
    size_t n = check_below(4) ? 1u + check_below(300) : pick_size();
    unsigned char *p = (unsigned char *)tarn_heap_aligned_alloc(h, a, n);
    if (p == NULL) {
        CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
        n_nomem++;
        return;
    }
    n_ok_alloc++;
    add_live(p, n, a < GR ? GR : a);
}

/* Every invalid pointer kind: rejected with the right status, nothing changes. */
static void op_bad(void)
{
    tarn_heap_stats before, after;
    unsigned char *p = NULL;
    tarn_status expect = TARN_EFOREIGN, got;
    uint32_t kind = check_below(8);
    int stale_kind = 0;
    CHECK_EQ(tarn_heap_stats_get(h, &before), TARN_OK);
    switch (kind) {
    case 0: p = NULL; expect = TARN_EINVAL; break;
    case 1: p = foreign_buf + check_below(16) * 4u; break;
    case 2: p = arena; break;                                   /* the control structure */
    case 3: p = (unsigned char *)h + check_below(256); break;
    case 4: p = arena + ARENA + GR * check_below(4); break;     /* past the end */
    case 5:                                                     /* inside a live block */
        if (nlive == 0) return;
        {
            slot *s = &live[check_below(nlive)];
            p = s->p + 1u + check_below((uint32_t)s->bytes - 1u);
        }
        break;
    case 6:                                                     /* misaligned */
        if (nlive == 0) return;
        p = live[check_below(nlive)].p + 1u + check_below(GR - 1u);
        break;
    default:                                                    /* freed earlier */
        {
            uint32_t i;
            if (nstale == 0) return;
            p = stale[check_below(nstale < 64u ? nstale : 64u)];
            for (i = 0; i < nlive; i++) {
                if (live[i].p == p) return;       /* reused since: a valid pointer now */
            }
            stale_kind = 1;
        }
        break;
    }
    switch (check_below(4)) {
    case 0: got = tarn_heap_free(h, p); break;
    case 1:
        if (p == NULL) {           /* realloc(NULL, n) is an allocation, by definition */
            got = tarn_heap_free(h, p);
            break;
        }
        CHECK(tarn_heap_realloc(h, p, 1u + check_below(100)) == NULL);
        got = tarn_heap_last_error(h);
        before.failed_allocs++;    /* a realloc that returns NULL counts as a failed allocation */
        break;
    case 2:
        CHECK_EQ(tarn_heap_usable_size(h, p), 0);
        got = tarn_heap_last_error(h);
        break;
    default: got = tarn_heap_validate(h, p); break;
    }
    if (stale_kind) {
        CHECK(got == TARN_EDOUBLE || got == TARN_EFOREIGN);
    } else {
        CHECK_EQ(got, expect);
    }
    CHECK_EQ(tarn_heap_stats_get(h, &after), TARN_OK);
    CHECK(memcmp(&before, &after, sizeof before) == 0);
    n_bad++;
}

int main(void)
{
    long i, iters = CHECK_ITERS(2000000L);
    tarn_heap_stats st;
    check_seed(0xC0FFEEu);
    memset(arena, 0xA5, sizeof arena);   /* garbage before init */
    REQUIRE(tarn_heap_init(&h, arena, sizeof arena, NULL) == TARN_OK);
    for (i = 0; i < iters; i++) {
        uint32_t r = check_below(100);
        /* fill up to ~80 % of the arena, then hover there (large requests fail) */
        int full = nlive >= MAXLIVE - 1u || live_bytes > ARENA / 10u * 8u;
        if (nlive > 0 && (full ? r < 55 : r < 22)) {
            op_free();
        } else if (r < 40 && nlive < MAXLIVE) {
            (void)checked_alloc(pick_size(), 0);
        } else if (r < 48 && nlive < MAXLIVE) {
            (void)checked_alloc(pick_size(), 1);
        } else if (r < 60 && nlive > 0) {
            op_realloc();
        } else if (r < 66 && nlive > 0) {
            op_resize();
        } else if (r < 74 && nlive < MAXLIVE) {
            op_aligned();
        } else if (r < 84) {
#if TARN_CHECK_LEVEL >= 1
            op_bad();   /* level 0 trusts every pointer handed back */
#endif
        } else if (nlive < MAXLIVE) {
            (void)checked_alloc(pick_size(), 0);
        }
        if (i % 5000 == 4999) CHECK_EQ(tarn_heap_check(h), TARN_OK);
        if (i % 20000 == 19999) verify_all();
        if (check_failures_ > 0) {
            fprintf(stderr, "first failure at op %ld\n", i);
            break;
        }
    }
    verify_all();
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_sane(h), TARN_OK);
    while (nlive > 0) op_free();
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
    CHECK_EQ(st.used, 0);
    CHECK_EQ(st.free_blocks, 1);                 /* everything merged back */
    CHECK_EQ(st.largest_free, st.capacity);
    printf("ops %ld: %lu allocs, %lu ENOMEM (%lu between max_alloc and largest_free), %lu bad"
           " pointers, realloc %lu in place / %lu moved, peak %lu of %lu bytes\n",
           iters, n_ok_alloc, n_nomem, n_near, n_bad, n_inplace, n_moved, (unsigned long)st.peak_used,
           (unsigned long)st.capacity);
    CHECK(n_ok_alloc > (unsigned long)iters / 5 && n_nomem > 0);
#if TARN_CHECK_LEVEL >= 1
    CHECK(n_bad > (unsigned long)iters / 20);
#endif
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    return check_done();
}
