/*
 * tests/test_heap_damage.c - damage containment of the heap: a buggy write into the
 * heap's buffer never becomes a write somewhere else.
 *
 * Each trial (fixed seed) builds a heap in a buffer between two guard zones, makes a few
 * dozen random allocations (a shadow copy of every live block is kept), then makes ONE
 * corruption of a given kind, the way buggy firmware does:
 *   overrun    1..64 bytes written past the end of a live block (its request),
 *   underrun   1..64 bytes written before the start of a live block,
 *   uaf        1..64 bytes written into a block after it was freed,
 *   wild       1..8 bytes written at a random place of the buffer (control data too).
 * The bytes the corruption itself wrote into other live blocks become their new
 * contents (the bug did that, not the heap); then about 200 more random calls follow
 * (alloc, calloc, realloc, aligned_alloc, free, usable_size, check, stats, walk), and
 * after each one the harness checks that nothing harmful happened:
 *   - the guard zones on both sides of the buffer are intact (no write outside it);
 *   - every live block still holds its shadow copy (no write into a live block);
 *   - every block handed out lies inside the buffer, is at least as long as asked
 *     (usable_size), and overlaps no live block;
 *   - realloc kept the contents.
 * Crashes and hangs would stop the test itself.  Outcomes are counted per kind: trials,
 * trials where the heap reported TARN_ECORRUPT, and harmful trials (which must be 0).
 * Trials scale with TARN_TEST_SCALE; `--trials N` runs N per kind (make fuzz runs it
 * long).
 */
#include "check.h"
#include "tarn/heap.h"
#include "internal.h"
#include "support/poke.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA 8192u
#define ZONE 256u
#define MAXLIVE 24u
#define MAXREQ 160u
#define ZONE_BYTE 0x5Au

static unsigned char whole[ZONE + ARENA + ZONE] __attribute__((aligned(16)));
static unsigned char *const buf = whole + ZONE;

typedef struct live {
    unsigned char *p;
    size_t n;
    size_t us;         /* usable size: the bytes the memory tools let the user touch */
    unsigned char shadow[MAXREQ];
} live;

static live L[MAXLIVE];
static unsigned nlive;
static tarn_heap *h;
static int harm, seen_corrupt;

enum { K_OVERRUN, K_UNDERRUN, K_UAF, K_WILD, K_COUNT };
static const char *const kind_name[K_COUNT] = {"overrun <= 64 B", "underrun <= 64 B",
                                               "write after free", "wild write"};

static void note_harm(const char *what)
{
    if (harm == 0) fprintf(stderr, "  harmful: %s\n", what);
    harm++;
}

static int zones_intact(void)
{
    size_t i;
    for (i = 0; i < ZONE; i++) {
        if (whole[i] != ZONE_BYTE || whole[ZONE + ARENA + i] != ZONE_BYTE) return 0;
    }
    return 1;
}

/* After every call: nothing outside the buffer, no live block changed. */
static void verify(void)
{
    unsigned i;
    if (!zones_intact()) note_harm("write outside the buffer");
    for (i = 0; i < nlive; i++) {
        if (memcmp(L[i].p, L[i].shadow, L[i].n) != 0) note_harm("a live block changed");
    }
}

/* A block the heap handed out for n bytes: inside the buffer, long enough, disjoint. */
static int new_block_ok(const unsigned char *p, size_t n, const unsigned char *skip)
{
    unsigned i;
    if (p < buf || p > buf + ARENA || n > (size_t)(buf + ARENA - p)) {
        note_harm("a block outside the buffer");
        return 0;
    }
    for (i = 0; i < nlive; i++) {
        if (L[i].p == skip) continue;
        if (p < L[i].p + L[i].n && L[i].p < p + n) {
            note_harm("a block overlapping a live block");
            return 0;
        }
    }
    if (tarn_heap_usable_size(h, p) < n) {
        note_harm("a block shorter than asked");
        return 0;
    }
    return 1;
}

static void add(unsigned char *p, size_t n)
{
    live *b = &L[nlive++];
    b->p = p;
    b->n = n;
    b->us = tarn_heap_usable_size(h, p);
    check_fill(p, n, (uint32_t)check_rand());
    memcpy(b->shadow, p, n);
}

static void drop(unsigned i)
{
    L[i] = L[--nlive];
}

static bool count_walk(void *ctx, void *block, size_t size, bool used)
{
    (void)block;
    (void)size;
    (void)used;
    (*(unsigned long *)ctx)++;
    return true;
}

static void note_status(tarn_status st)
{
    if (st == TARN_ECORRUPT) seen_corrupt = 1;
}

/* One random call, then the checks. */
static void one_call(void)
{
    uint32_t r = check_below(100);
    size_t n = 1u + check_below(MAXREQ);
    unsigned char *p;
    if (r < 30 && nlive < MAXLIVE) {
        p = (unsigned char *)(r < 25 ? tarn_heap_alloc(h, n) : tarn_heap_calloc(h, 1, n));
        if (p == NULL) {
            note_status(tarn_heap_last_error(h));
        } else if (new_block_ok(p, n, NULL)) {
            add(p, n);
        }
    } else if (r < 36 && nlive < MAXLIVE) {
        size_t a = (size_t)16u << check_below(4);
        p = (unsigned char *)tarn_heap_aligned_alloc(h, a, n);
        if (p == NULL) {
            note_status(tarn_heap_last_error(h));
        } else {
            if (((uintptr_t)p & (a - 1u)) != 0u) note_harm("a misaligned block");
            if (new_block_ok(p, n, NULL)) add(p, n);
        }
    } else if (r < 60 && nlive > 0) {
        unsigned i = check_below(nlive);
        note_status(tarn_heap_free(h, L[i].p));
        drop(i);   /* freed or refused: the harness no longer uses it either way */
    } else if (r < 72 && nlive > 0) {
        unsigned i = check_below(nlive);
        size_t keep = n < L[i].n ? n : L[i].n;
        p = (unsigned char *)tarn_heap_realloc(h, L[i].p, n);
        if (p == NULL) {
            note_status(tarn_heap_last_error(h));
        } else if (new_block_ok(p, n, L[i].p)) {
            if (memcmp(p, L[i].shadow, keep) != 0) note_harm("realloc lost the contents");
            drop(i);
            add(p, n);
        } else {
            drop(i);
        }
    } else if (r < 80 && nlive > 0) {
        unsigned i = check_below(nlive);
        size_t us = tarn_heap_usable_size(h, L[i].p);
        if (us == 0u) note_status(tarn_heap_last_error(h));
    } else if (r < 86) {
        note_status(tarn_heap_check(h));
    } else if (r < 93) {
        tarn_heap_stats st;
        (void)tarn_heap_stats_get(h, &st);
        note_status(tarn_heap_sane(h));
    } else {
        unsigned long blocks = 0;
        note_status(tarn_heap_walk(h, count_walk, &blocks));
    }
    verify();
}

/* Write n random bytes at q (inside the buffer), past the memory tools. */
static void corrupt(unsigned char *q, size_t n)
{
    unsigned char v[64], *ctl_end;
    size_t i;
    if (q < buf) {
        n -= (size_t)(buf - q);
        q = buf;
    }
    if (n > (size_t)(buf + ARENA - q)) n = (size_t)(buf + ARENA - q);
    for (i = 0; i < n; i++) v[i] = (unsigned char)(check_rand() >> 24);
    if (check_below(4) == 0) memset(v, 0, n);   /* zeros: the commonest stray write */
    ctl_end = h->blocks;
    for (i = 0; i < n; i++) {
        /* a live block's bytes and the control area are written as they are; the
         * heap's own blocks area (headers, free memory) past the memory tools, leaving
         * it inaccessible.  (The control area's end is read before the first byte is
         * written: the write may be into h->blocks itself.) */
        unsigned j;
        int open = q + i < ctl_end;   /* the control area: ordinary memory */
        for (j = 0; j < nlive; j++) open |= q + i >= L[j].p && q + i < L[j].p + L[j].us;
        if (open) {
            q[i] = v[i];
        } else {
            test_poke8(q + i, v[i]);
        }
    }
}

/* One trial of a kind: 1 if harmful. */
static int trial(int kind, unsigned long seed)
{
    unsigned i;
    check_seed(seed);
    if (h != NULL) (void)tarn_heap_destroy(h);   /* the buffer is ordinary memory again */
    TARN_SAN_DEFINED(buf, ARENA);                 /* (also when the damage refused it) */
    h = NULL;
    memset(whole, ZONE_BYTE, sizeof whole);
    nlive = 0;
    harm = 0;
    seen_corrupt = 0;
    REQUIRE(tarn_heap_init(&h, buf, ARENA, NULL) == TARN_OK);
    for (i = 0; i < 40u; i++) one_call();
    if (nlive == 0) {
        unsigned char *p = (unsigned char *)tarn_heap_alloc(h, 32);
        REQUIRE(p != NULL);
        add(p, 32);
    }
    {
        unsigned j = check_below(nlive);
        size_t n = 1u + check_below(kind == K_WILD ? 8u : 64u);
        switch (kind) {
        case K_OVERRUN:
            corrupt(L[j].p + L[j].n, n);
            break;
        case K_UNDERRUN:
            corrupt(L[j].p - n, n);
            break;
        case K_UAF: {
            unsigned char *p = L[j].p;
            size_t len = L[j].n;
            note_status(tarn_heap_free(h, p));
            drop(j);
            if (n > len) n = len;
            corrupt(p + check_below((uint32_t)(len - n + 1u)), n);
            break;
        }
        default:
            corrupt(buf + check_below(ARENA), n);
            break;
        }
        /* what the bug wrote into live blocks is their content now */
        for (i = 0; i < nlive; i++) memcpy(L[i].shadow, L[i].p, L[i].n);
    }
    for (i = 0; i < 200u && harm == 0; i++) one_call();
    return harm != 0;
}

int main(int argc, char **argv)
{
    long trials = CHECK_ITERS(400L);
    int kind;
    unsigned long total_harm = 0;
    if (argc > 2 && strcmp(argv[1], "--trials") == 0) trials = strtol(argv[2], NULL, 10);
    printf("heap damage containment, %ld trials per kind, %u-byte heap, about 240 calls each\n",
           trials, ARENA);
    printf("  %-18s %8s %10s %8s\n", "corruption", "trials", "ECORRUPT", "harmful");
    for (kind = 0; kind < K_COUNT; kind++) {
        long t;
        unsigned long nharm = 0, ncorrupt = 0;
        for (t = 0; t < trials; t++) {
            nharm += (unsigned long)trial(kind, 0x9E37u + (unsigned long)t * 7919u + (unsigned long)kind);
            ncorrupt += (unsigned long)seen_corrupt;
        }
        printf("  %-18s %8ld %10lu %8lu\n", kind_name[kind], trials, ncorrupt, nharm);
        total_harm += nharm;
    }
    CHECK_EQ(total_harm, 0);
    if (h != NULL) (void)tarn_heap_destroy(h);
    return check_done();
}
