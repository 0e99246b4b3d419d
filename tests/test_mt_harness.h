/*
 * tests/test_mt_harness.h - shared rig of the multi-thread stress tests (test_mt_*.c;
 * host only: pthreads and C11 atomics).
 *
 * A module is described by an mt_model (allocate, free, fill/verify an object with a
 * pattern, and which "units" of its address space an object covers).  mt_run() starts N
 * threads on a barrier; each owns `slots` slots and performs `ops` operations: pick a
 * random slot, allocate into it if empty (random size), otherwise verify its pattern and
 * free it.  It proves, for every operation:
 *   - no object is handed out twice: every unit an object covers is claimed in a shared
 *     ownership map with a CAS (0 -> thread+1) right after the allocation returns and
 *     released (thread+1 -> 0) right before the free; a claim that finds the unit taken
 *     is a double hand-out;
 *   - every object keeps its owner's pattern (written after the allocation, verified
 *     before the free; the tag names the thread and the allocation);
 *   - every free of a live object succeeds.
 * Each thread counts operations, failures (allocation returned nothing) and the most
 * objects it held at once, so the test can compare the module's statistics exactly.
 * CHECK() is not thread-safe: threads only count; main() checks the sums.
 */
#ifndef TARN_TESTS_MT_HARNESS_H
#define TARN_TESTS_MT_HARNESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define MT_THREADS 4
#define MT_MAX_THREADS 8

typedef struct mt_model {
    const char *name;
    void *ctx;
    size_t min_size, max_size;  /* request sizes, inclusive */
    /* allocate `size` bytes; 0 when the module has nothing (a counted failure) */
    uintptr_t (*alloc)(void *ctx, size_t size);
    /* free; 0 when the module accepted it, anything else counts as an error */
    int (*release)(void *ctx, uintptr_t obj, size_t size);
    /* write / check the pattern `tag` over the object; NULL = the object is a pointer to
     * `size` bytes of ordinary memory (check_fill / check_verify) */
    void (*fill)(void *ctx, uintptr_t obj, size_t size, uint32_t tag);
    int (*verify)(void *ctx, uintptr_t obj, size_t size, uint32_t tag);
    /* the units [*first, *first + *n) of [0, units) the object covers */
    void (*units_of)(void *ctx, uintptr_t obj, size_t size, size_t *first, size_t *n);
    size_t units;
} mt_model;

typedef struct mt_result {
    unsigned long ops;          /* allocations + frees attempted */
    unsigned long allocs;       /* allocations that returned an object */
    unsigned long failed;       /* allocations that returned nothing */
    unsigned long frees;        /* frees that succeeded */
    unsigned long double_handout;
    unsigned long bad_pattern;
    unsigned long bad_free;     /* a free of a live object refused, or a unit release failed */
    unsigned long bad_unit;     /* units_of gave a range outside [0, units) */
    unsigned long max_held;     /* most objects one thread held at once */
} mt_result;

typedef struct mt_slot {
    uintptr_t obj;
    size_t size;
    uint32_t tag;
} mt_slot;

typedef struct mt_thread {
    const mt_model *m;
    atomic_uchar *owner;
    pthread_barrier_t *start;
    int id;
    long ops;
    int nslots;
    uint64_t rng;
    mt_result r;
} mt_thread;

/* The threads' generator: check_rand_r on a state of their own. */
static inline uint64_t mt_rand(uint64_t *s) { return check_rand_r(s); }

static int mt_claim(mt_thread *t, uintptr_t obj, size_t size, int take)
{
    size_t first = 0, n = 0, u;
    unsigned char me = (unsigned char)(t->id + 1);
    t->m->units_of(t->m->ctx, obj, size, &first, &n);
    if (n == 0 || first >= t->m->units || n > t->m->units - first) {
        t->r.bad_unit++;
        return 0;
    }
    for (u = first; u < first + n; u++) {
        unsigned char expect = take ? 0 : me;
        if (!atomic_compare_exchange_strong_explicit(&t->owner[u], &expect, take ? me : 0,
                                                     memory_order_relaxed, memory_order_relaxed)) {
            if (take) {
                t->r.double_handout++;
                while (u-- > first) atomic_store_explicit(&t->owner[u], 0, memory_order_relaxed);
            } else {
                t->r.bad_free++;
            }
            return 0;
        }
    }
    return 1;
}

static void mt_free_slot(mt_thread *t, mt_slot *s, unsigned long *held)
{
    const mt_model *m = t->m;
    int ok = m->verify ? m->verify(m->ctx, s->obj, s->size, s->tag)
                       : check_verify((void *)s->obj, s->size, s->tag);
    if (!ok) t->r.bad_pattern++;
    (void)mt_claim(t, s->obj, s->size, 0);
    t->r.ops++;
    if (m->release(m->ctx, s->obj, s->size) != 0) {
        t->r.bad_free++;
    } else {
        t->r.frees++;
    }
    s->obj = 0;
    (*held)--;
}

static void *mt_thread_main(void *arg)
{
    mt_thread *t = (mt_thread *)arg;
    const mt_model *m = t->m;
    mt_slot slots[64];
    unsigned long held = 0;
    uint32_t seq = 0;
    long i;
    int k;
    memset(slots, 0, sizeof slots);
    pthread_barrier_wait(t->start);
    for (i = 0; i < t->ops; i++) {
        mt_slot *s = &slots[mt_rand(&t->rng) % (uint64_t)t->nslots];
        if (s->obj == 0) {
            size_t size = m->min_size;
            if (m->max_size > m->min_size) {
                size += (size_t)(mt_rand(&t->rng) % (m->max_size - m->min_size + 1));
            }
            t->r.ops++;
            s->obj = m->alloc(m->ctx, size);
            if (s->obj == 0) {
                t->r.failed++;
                continue;
            }
            t->r.allocs++;
            if (!mt_claim(t, s->obj, size, 1)) {
                s->obj = 0; /* reported; leave the object (it belongs to someone else) */
                continue;
            }
            s->size = size;
            s->tag = ((uint32_t)(t->id + 1) << 24) ^ (seq++ & 0xFFFFFFu);
            if (m->fill) {
                m->fill(m->ctx, s->obj, size, s->tag);
            } else {
                check_fill((void *)s->obj, size, s->tag);
            }
            if (++held > t->r.max_held) t->r.max_held = held;
        } else {
            mt_free_slot(t, s, &held);
        }
    }
    for (k = 0; k < t->nslots; k++) {
        if (slots[k].obj != 0) mt_free_slot(t, &slots[k], &held);
    }
    return NULL;
}

/**
 * Run `threads` threads of `ops` operations each over `slots` slots (<= 64) each.
 * Sums the per-thread results into *out (max_held = the largest of any thread).
 * Returns 0, or -1 if the threads could not be started.
 */
static int mt_run(const mt_model *m, int threads, long ops, int slots, uint64_t seed,
                  mt_result *out)
{
    pthread_t tid[MT_MAX_THREADS];
    mt_thread th[MT_MAX_THREADS];
    pthread_barrier_t start;
    atomic_uchar *owner;
    size_t u;
    int i, rc = 0;

    memset(out, 0, sizeof *out);
    if (threads < 1 || threads > MT_MAX_THREADS || slots < 1 || slots > 64) return -1;
    owner = (atomic_uchar *)malloc(m->units * sizeof *owner);
    if (owner == NULL) return -1;
    for (u = 0; u < m->units; u++) atomic_init(&owner[u], 0);
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    for (i = 0; i < threads; i++) {
        memset(&th[i], 0, sizeof th[i]);
        th[i].m = m;
        th[i].owner = owner;
        th[i].start = &start;
        th[i].id = i;
        th[i].ops = ops;
        th[i].nslots = slots;
        th[i].rng = seed * 0x9E3779B97F4A7C15ull + (uint64_t)i * 0xD1B54A32D192ED03ull + 1u;
        if (pthread_create(&tid[i], NULL, mt_thread_main, &th[i]) != 0) {
            fprintf(stderr, "mt_run: pthread_create failed\n");
            exit(1); /* the others wait on the barrier forever: give up */
        }
    }
    for (i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        out->ops += th[i].r.ops;
        out->allocs += th[i].r.allocs;
        out->failed += th[i].r.failed;
        out->frees += th[i].r.frees;
        out->double_handout += th[i].r.double_handout;
        out->bad_pattern += th[i].r.bad_pattern;
        out->bad_free += th[i].r.bad_free;
        out->bad_unit += th[i].r.bad_unit;
        if (th[i].r.max_held > out->max_held) out->max_held = th[i].r.max_held;
    }
    for (u = 0; u < m->units; u++) {
        if (atomic_load(&owner[u]) != 0) rc = -1; /* a unit still claimed: a lost release */
    }
    pthread_barrier_destroy(&start);
    free(owner);
    printf("%s: %d threads, %lu ops (%lu allocations, %lu failed, %lu frees), most held by "
           "one thread %lu\n", m->name, threads, out->ops, out->allocs, out->failed, out->frees,
           out->max_held);
    return rc;
}

/** CHECK every invariant mt_run proves, for a run that must have allocated and failed. */
#define MT_CHECK_RESULT(r)                                \
    do {                                                  \
        CHECK_EQ((r).double_handout, 0);                  \
        CHECK_EQ((r).bad_pattern, 0);                     \
        CHECK_EQ((r).bad_free, 0);                        \
        CHECK_EQ((r).bad_unit, 0);                        \
        CHECK_EQ((r).allocs, (r).frees);                  \
        CHECK_EQ((r).ops, (r).allocs + (r).failed + (r).frees); \
        CHECK((r).allocs > 0);                            \
    } while (0)

#endif /* TARN_TESTS_MT_HARNESS_H */
