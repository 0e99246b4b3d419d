/* tarn-test: host-only */
/*
 * tests/test_mt_mix.c - every public call of every module, mixed, from 4 threads at once.
 *
 * One block pool (with a put callback switched on and off while the others get and put),
 * one lock-free pool, one heap, one handle pool (lock/unlock, incremental compaction) and
 * one external-memory manager over a device in RAM.  The four pools that have one are
 * given the debug quarantine (TARN_F_QUARANTINE; it takes effect in builds that compile
 * it in, TARN_QUARANTINE > 0, e.g. `make test-tsan-mix` and the ASan build) and every
 * thread flushes it now and then.  Each locked module has its own pthread-mutex lock hook wrapped
 * in a counting hook that records, per thread, the lock depth: it must be 1 inside the
 * hook and 0 after every public call returns (no nested or unbalanced locking), and at
 * most one thread may hold a module's lock at a time.  Every thread also hands every
 * module bad pointers, handles and addresses (NULL, foreign, interior, stale) and each
 * must get the error its header names.  Walks, checks, statistics, last_error and dumps
 * run from the same threads while the others change the pools.
 *
 * The functional checks hold in any build.  The point of the test is ThreadSanitizer
 * (`make test-tsan`): a data race between any two of these calls is a report there.
 * Operation counts are printed per call.  TARN_TEST_SCALE divides the length.
 * Also compiled by test_mt_mix_fallback.c (the lock-free pool's lock-hook fallback build).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tarn/block.h"
#include "tarn/dump.h"
#include "tarn/ext.h"
#include "tarn/handle.h"
#include "tarn/heap.h"
#include "tarn/lfblock.h"
#include "support/ramdev.h"

#define MT_THREADS 4

/* ---- counting lock hook -------------------------------------------------------------- */
typedef struct cl {
    pthread_mutex_t mutex;
    atomic_int holders;   /* threads inside the lock now (must never exceed 1) */
    atomic_long calls;    /* lock() calls */
    atomic_long overlaps; /* lock() found another holder */
} cl;

static _Thread_local int depth; /* locks this thread holds, over every module */
static atomic_long nested;      /* lock() by a thread that already held a tarn lock */
static atomic_long unbalanced;  /* a public call returned with a lock still held */

static void cl_lock(void *ctx)
{
    cl *l = (cl *)ctx;
    if (pthread_mutex_lock(&l->mutex) != 0) abort();
    if (depth++ != 0) atomic_fetch_add(&nested, 1);
    if (atomic_fetch_add(&l->holders, 1) != 0) atomic_fetch_add(&l->overlaps, 1);
    atomic_fetch_add(&l->calls, 1);
}
static void cl_unlock(void *ctx)
{
    cl *l = (cl *)ctx;
    atomic_fetch_sub(&l->holders, 1);
    depth--;
    if (pthread_mutex_unlock(&l->mutex) != 0) abort();
}

#define CL_INIT {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0}
static cl lk_block = CL_INIT, lk_lf = CL_INIT, lk_heap = CL_INIT, lk_handle = CL_INIT, lk_ext = CL_INIT;

static void cfg_for(tarn_config *c, cl *l, const char *name, uint32_t flags)
{
    memset(c, 0, sizeof *c);
    c->lock.lock = cl_lock;
    c->lock.unlock = cl_unlock;
    c->lock.ctx = l;
    c->name = name;
    c->flags = flags;
}

/* ---- the pools ------------------------------------------------------------------------- */
#define NBLK 20u
#define BSZ 32u
#define NLF 20u
#define LFSZ 24u
#define HEAPSZ 6144u
#define HDATA 4096u
#define NHANDLES 64u
#define EBASE 0x100u
#define EREGION 2048u
#define ESZ 64u
#define SLOTS 6

static unsigned char bmem[TARN_BLOCK_POOL_BYTES(NBLK, BSZ)] TARN_BLOCK_ALIGNED;
static tarn_block_pool bp;
static tarn_block_ext bp_ext;
static unsigned char lfmem[TARN_LFBLOCK_POOL_BYTES(NLF, LFSZ)] TARN_LFBLOCK_ALIGNED;
static tarn_lfblock_pool lp;
static unsigned char hmem[HEAPSZ] TARN_BLOCK_ALIGNED;
static tarn_heap *hp;
static unsigned char hdmem[TARN_HANDLE_BYTES(HDATA, NHANDLES)] TARN_HANDLE_ALIGNED;
static tarn_handle_pool hd;
static unsigned char dev[EBASE + EREGION];
static tarn_ext ext;

static unsigned char foreign[64] TARN_BLOCK_ALIGNED; /* memory no pool owns */

/* The device: plain memory, called by the manager with its lock held. */
static ramdev rd = {dev, EBASE, sizeof dev, 0};
static const tarn_ext_io io = RAMDEV_IO(&rd);

/* ---- operations ------------------------------------------------------------------------ */
#define OPS(X)                                                                             \
    X(block_get) X(block_put) X(block_set_put_cb) X(block_validate) X(block_owns)          \
    X(block_index) X(block_next_free) X(block_stats) X(block_check) X(block_walk)         \
    X(block_last_error) X(block_name_size) X(block_qflush) X(block_bad)                   \
    X(lf_get) X(lf_put) X(lf_validate) X(lf_owns_index) X(lf_stats) X(lf_qflush)           \
    X(lf_last_error) X(lf_name_size) X(lf_bad)                                             \
    X(heap_alloc) X(heap_calloc) X(heap_aligned) X(heap_realloc) X(heap_resize)           \
    X(heap_free) X(heap_usable_size) X(heap_validate) X(heap_stats) X(heap_walk)          \
    X(heap_check) X(heap_sane) X(heap_qflush) X(heap_last_error) X(heap_name) X(heap_bad)   \
    X(handle_alloc) X(handle_free) X(handle_lock_unlock) X(handle_resize) X(handle_copy)   \
    X(handle_clear) X(handle_size) X(handle_compact_step) X(handle_compact)               \
    X(handle_stats) X(handle_walk) X(handle_check) X(handle_qflush) X(handle_last_error)  \
    X(handle_name) X(handle_bad)                                                           \
    X(ext_alloc) X(ext_free) X(ext_rw) X(ext_size) X(ext_root) X(ext_walk) X(ext_stats)   \
    X(ext_check) X(ext_last_error) X(ext_bad)                                              \
    X(dump)
#define X_ENUM(n) OP_##n,
#define X_NAME(n) #n,
enum { OPS(X_ENUM) OP_COUNT };
static const char *const op_name[OP_COUNT] = {OPS(X_NAME)};

static atomic_long op_count[OP_COUNT];
static atomic_long bad[OP_COUNT]; /* a call that answered what its header rules out */
static atomic_long cb_calls;      /* block pool put callback */
static atomic_long heap_traces;

typedef struct obj {
    uintptr_t p;   /* pointer, handle value or device address; 0 = empty */
    size_t size;
    uint32_t tag;
} obj;

typedef struct worker {
    int id;
    long ops;
    uint64_t rng;
    pthread_barrier_t *start;
    obj blk[SLOTS], lf[SLOTS], heap[SLOTS], hnd[SLOTS], ex[SLOTS];
    uint32_t seq;
} worker;

static uint32_t next_tag(worker *w) { return ((uint32_t)(w->id + 1) << 24) ^ (w->seq++ & 0xFFFFFFu); }

static atomic_int first_bad_line;
#define EXPECT(op, cond)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            int zero_ = 0;                                                \
            atomic_fetch_add(&bad[op], 1);                                \
            atomic_compare_exchange_strong(&first_bad_line, &zero_, __LINE__); \
        }                                                                 \
    } while (0)

/* Put callback: count and really return the block. */
static tarn_status put_cb(tarn_block_pool *pool, void *block, void *arg)
{
    (void)arg;
    atomic_fetch_add(&cb_calls, 1);
    return tarn_block_put_from_cb(pool, block);
}

static bool count_walk(void *ctx, void *block, size_t size, bool used)
{
    (void)block;
    (void)size;
    if (used) (*(unsigned long *)ctx)++;
    return true;
}
static bool count_hwalk(const tarn_handle_block *b, void *ctx)
{
    (void)b;
    (*(unsigned long *)ctx)++;
    return true;
}
static bool count_ewalk(void *ctx, uint32_t addr, size_t size, bool used)
{
    (void)addr;
    (void)size;
    if (used) (*(unsigned long *)ctx)++;
    return true;
}
#if TARN_HEAP_TRACE
static void trace(void *ctx, tarn_heap_event ev, const void *ptr, size_t size, tarn_status st)
{
    (void)ctx;
    (void)ev;
    (void)ptr;
    (void)size;
    (void)st;
    atomic_fetch_add(&heap_traces, 1);
}
#endif

static obj *pick_used(worker *w, obj *arr)
{
    int k, s = (int)(check_rand_r(&w->rng) % SLOTS);
    for (k = 0; k < SLOTS; k++) {
        obj *o = &arr[(s + k) % SLOTS];
        if (o->p != 0) return o;
    }
    return NULL;
}
static obj *pick_free(worker *w, obj *arr)
{
    int k, s = (int)(check_rand_r(&w->rng) % SLOTS);
    for (k = 0; k < SLOTS; k++) {
        obj *o = &arr[(s + k) % SLOTS];
        if (o->p == 0) return o;
    }
    return NULL;
}

/* ---- per-module steps ------------------------------------------------------------------ */
/* An allocation's own status (the _status variants): TARN_OK with an object, TARN_ENOMEM
 * without one; another thread's failure at the same moment must not show here. */
static bool own_status(bool got, tarn_status s)
{
    return got ? s == TARN_OK : s == TARN_ENOMEM;
}

/* o now holds p, of size bytes, filled with a fresh tag's pattern. */
static void obj_take(worker *w, obj *o, void *p, size_t size)
{
    o->p = (uintptr_t)p;
    o->size = size;
    o->tag = next_tag(w);
    check_fill(p, size, o->tag);
}

static void do_block(worker *w, int op)
{
    obj *o;
    void *p;
    tarn_block_stats st;
    unsigned long used = 0;
    switch (op) {
    case OP_block_get:
        if ((o = pick_free(w, w->blk)) == NULL) break;
        if (check_rand_r(&w->rng) & 1u) {
            tarn_status s = TARN_EINVAL;
            p = tarn_block_get_status(&bp, &s);
            EXPECT(op, own_status(p != NULL, s));
        } else {
            p = tarn_block_get(&bp);
        }
        if (p == NULL) break;
        EXPECT(op, tarn_block_owns(&bp, p));
        obj_take(w, o, p, BSZ);
        break;
    case OP_block_put:
        if ((o = pick_used(w, w->blk)) == NULL) break;
        EXPECT(op, check_verify((void *)o->p, BSZ, o->tag));
        EXPECT(op, tarn_block_put(&bp, (void *)o->p) == TARN_OK);
        o->p = 0;
        break;
    case OP_block_set_put_cb:
        if (check_rand_r(&w->rng) & 1u) {
            tarn_block_set_put_cb(&bp, put_cb, NULL);
        } else {
            tarn_block_set_put_cb(&bp, NULL, NULL);
        }
        break;
    case OP_block_validate:
        if ((o = pick_used(w, w->blk)) == NULL) break;
        EXPECT(op, tarn_block_validate(&bp, (void *)o->p) == TARN_OK);
        break;
    case OP_block_owns:
        if ((o = pick_used(w, w->blk)) == NULL) break;
        EXPECT(op, tarn_block_owns(&bp, (void *)o->p) && !tarn_block_owns(&bp, foreign));
        break;
    case OP_block_index:
        if ((o = pick_used(w, w->blk)) == NULL) break;
        EXPECT(op, tarn_block_index(&bp, (void *)o->p) >= 0 &&
                   tarn_block_index(&bp, (void *)(o->p + 1u)) == -1);
        break;
    case OP_block_next_free:
        p = tarn_block_next_free(&bp);
        EXPECT(op, p == NULL || tarn_block_owns(&bp, p));
        break;
    case OP_block_stats:
        EXPECT(op, tarn_block_stats_get(&bp, &st) == TARN_OK && st.count == NBLK &&
                   st.free <= NBLK && st.min_free <= st.free);
        break;
    case OP_block_check:
        EXPECT(op, tarn_block_check(&bp) == TARN_OK);
        break;
    case OP_block_walk:
        EXPECT(op, tarn_block_walk(&bp, count_walk, &used) == TARN_OK && used <= NBLK);
        break;
    case OP_block_last_error:
        (void)tarn_block_last_error(&bp);
        break;
    case OP_block_name_size:
        EXPECT(op, strcmp(tarn_block_name(&bp), "mix-block") == 0 && tarn_block_size(&bp) >= BSZ);
        break;
    case OP_block_qflush:
        EXPECT(op, tarn_block_quarantine_flush(&bp) == TARN_OK);
        break;
    case OP_block_bad:
        EXPECT(op, tarn_block_put(&bp, NULL) == TARN_EINVAL);
        EXPECT(op, tarn_block_put(&bp, foreign) == TARN_EFOREIGN);
        EXPECT(op, tarn_block_validate(&bp, foreign) == TARN_EFOREIGN);
        if ((o = pick_used(w, w->blk)) != NULL) {
            EXPECT(op, tarn_block_put(&bp, (void *)(o->p + 8u)) == TARN_EFOREIGN);
        }
        break;
    default:
        break;
    }
}

static void do_lf(worker *w, int op)
{
    obj *o;
    void *p;
    tarn_lfblock_stats st;
    switch (op) {
    case OP_lf_get:
        if ((o = pick_free(w, w->lf)) == NULL) break;
        if (check_rand_r(&w->rng) & 1u) {
            tarn_status s = TARN_EINVAL;
            p = tarn_lfblock_get_status(&lp, &s);
            EXPECT(op, own_status(p != NULL, s));
        } else {
            p = tarn_lfblock_get(&lp);
        }
        if (p == NULL) break;
        obj_take(w, o, p, LFSZ);
        break;
    case OP_lf_put:
        if ((o = pick_used(w, w->lf)) == NULL) break;
        EXPECT(op, check_verify((void *)o->p, LFSZ, o->tag));
        EXPECT(op, tarn_lfblock_put(&lp, (void *)o->p) == TARN_OK);
        o->p = 0;
        break;
    case OP_lf_validate:
        if ((o = pick_used(w, w->lf)) == NULL) break;
        EXPECT(op, tarn_lfblock_validate(&lp, (void *)o->p) == TARN_OK);
        break;
    case OP_lf_owns_index:
        if ((o = pick_used(w, w->lf)) == NULL) break;
        EXPECT(op, tarn_lfblock_owns(&lp, (void *)o->p) && tarn_lfblock_index(&lp, (void *)o->p) >= 0);
        break;
    case OP_lf_stats:
        EXPECT(op, tarn_lfblock_stats_get(&lp, &st) == TARN_OK);
        break;
    case OP_lf_qflush:
        EXPECT(op, tarn_lfblock_quarantine_flush(&lp) == TARN_OK);
        break;
    case OP_lf_last_error:
        (void)tarn_lfblock_last_error(&lp);
        break;
    case OP_lf_name_size:
        EXPECT(op, strcmp(tarn_lfblock_name(&lp), "mix-lf") == 0 && tarn_lfblock_size(&lp) >= LFSZ &&
                   tarn_lfblock_count(&lp) == NLF);
        break;
    case OP_lf_bad:
        EXPECT(op, tarn_lfblock_put(&lp, NULL) == TARN_EINVAL);
        EXPECT(op, tarn_lfblock_put(&lp, foreign) == TARN_EFOREIGN);
        if ((o = pick_used(w, w->lf)) != NULL) {
            EXPECT(op, tarn_lfblock_put(&lp, (void *)(o->p + 8u)) == TARN_EFOREIGN);
        }
        break;
    default:
        break;
    }
}

static void do_heap(worker *w, int op)
{
    obj *o;
    void *p;
    size_t size = 1u + (size_t)(check_rand_r(&w->rng) % 300u);
    tarn_heap_stats st;
    unsigned long used = 0;
    tarn_status s;
    switch (op) {
    case OP_heap_alloc:
    case OP_heap_calloc:
    case OP_heap_aligned:
        if ((o = pick_free(w, w->heap)) == NULL) break;
        if (check_rand_r(&w->rng) & 1u) {   /* the same, each call with its own status */
            s = TARN_EINVAL;
            if (op == OP_heap_alloc) p = tarn_heap_alloc_status(hp, size, &s);
            else if (op == OP_heap_calloc) p = tarn_heap_calloc_status(hp, 1, size, &s);
            else p = tarn_heap_aligned_alloc_status(hp, 64, size, &s);
            EXPECT(op, own_status(p != NULL, s));
            EXPECT(op, ((uintptr_t)p & (op == OP_heap_aligned ? 63u : 0u)) == 0);
        } else if (op == OP_heap_alloc) {
            p = tarn_heap_alloc(hp, size);
        } else if (op == OP_heap_calloc) {
            p = tarn_heap_calloc(hp, 1, size);
            if (p != NULL) {
                size_t i;
                for (i = 0; i < size; i++) EXPECT(op, ((unsigned char *)p)[i] == 0);
            }
        } else {
            p = tarn_heap_aligned_alloc(hp, 64, size);
            EXPECT(op, ((uintptr_t)p & 63u) == 0);
        }
        if (p != NULL) obj_take(w, o, p, size);
        break;
    case OP_heap_realloc:
        if ((o = pick_used(w, w->heap)) == NULL) break;
        EXPECT(op, check_verify((void *)o->p, o->size, o->tag));
        s = TARN_EINVAL;
        p = tarn_heap_realloc_status(hp, (void *)o->p, size, &s);
        EXPECT(op, own_status(p != NULL, s));
        if (p != NULL) {
            /* the kept bytes are the old pattern's prefix; refill the new size */
            obj_take(w, o, p, size);
        }
        break;
    case OP_heap_resize:
        if ((o = pick_used(w, w->heap)) == NULL) break;
        if (tarn_heap_resize(hp, (void *)o->p, size) == TARN_OK) {
            obj_take(w, o, (void *)o->p, size);
        }
        break;
    case OP_heap_free:
        if ((o = pick_used(w, w->heap)) == NULL) break;
        EXPECT(op, check_verify((void *)o->p, o->size, o->tag));
        EXPECT(op, tarn_heap_free(hp, (void *)o->p) == TARN_OK);
        o->p = 0;
        break;
    case OP_heap_usable_size:
        if ((o = pick_used(w, w->heap)) == NULL) break;
        EXPECT(op, tarn_heap_usable_size(hp, (void *)o->p) >= o->size);
        break;
    case OP_heap_validate:
        if ((o = pick_used(w, w->heap)) == NULL) break;
        EXPECT(op, tarn_heap_validate(hp, (void *)o->p) == TARN_OK);
        break;
    case OP_heap_stats:
        EXPECT(op, tarn_heap_stats_get(hp, &st) == TARN_OK);
        break;
    case OP_heap_walk:
        EXPECT(op, tarn_heap_walk(hp, count_walk, &used) == TARN_OK);
        break;
    case OP_heap_check:
        EXPECT(op, tarn_heap_check(hp) == TARN_OK);
        break;
    case OP_heap_sane:
        EXPECT(op, tarn_heap_sane(hp) == TARN_OK);
        break;
    case OP_heap_qflush:
        EXPECT(op, tarn_heap_quarantine_flush(hp) == TARN_OK);
        break;
    case OP_heap_last_error:
        (void)tarn_heap_last_error(hp);
        break;
    case OP_heap_name:
        EXPECT(op, strcmp(tarn_heap_name(hp), "mix-heap") == 0);
        break;
    case OP_heap_bad:
        EXPECT(op, tarn_heap_free(hp, foreign) == TARN_EFOREIGN);
        EXPECT(op, tarn_heap_realloc(hp, foreign, 16) == NULL);
        EXPECT(op, tarn_heap_realloc_status(hp, foreign, 16, &s) == NULL && s == TARN_EFOREIGN);
        EXPECT(op, tarn_heap_usable_size(hp, foreign) == 0);
        EXPECT(op, tarn_heap_validate(hp, foreign) == TARN_EFOREIGN);
        EXPECT(op, tarn_heap_resize(hp, NULL, 8) == TARN_EINVAL);
        /* a pointer inside one of our blocks (not at p + small: a small block's end may
         * be the next block's start) */
        if ((o = pick_used(w, w->heap)) != NULL && o->size >= 16u) {
            EXPECT(op, tarn_heap_free(hp, (void *)(o->p + 8u)) == TARN_EFOREIGN);
        }
        break;
    default:
        break;
    }
}

/* Handle blocks are read and written under tarn_handle_lock only. */
static int hnd_fill(obj *o)
{
    tarn_handle h = tarn_handle_from_u32((uint32_t)o->p);
    void *p = tarn_handle_lock(&hd, h);
    if (p == NULL) return 0;
    check_fill(p, o->size, o->tag);
    return tarn_handle_unlock(&hd, h) == TARN_OK;
}
/* (with the _status variants: each call's own status must be TARN_OK) */
static int hnd_verify(obj *o)
{
    tarn_handle h = tarn_handle_from_u32((uint32_t)o->p);
    tarn_status s1 = TARN_EINVAL, s2 = TARN_EINVAL;
    void *p = tarn_handle_lock_status(&hd, h, &s1);
    int ok;
    if (p == NULL || s1 != TARN_OK) return 0;
    ok = check_verify(p, o->size, o->tag) && tarn_handle_lock_count_status(&hd, h, &s2) >= 1u &&
         s2 == TARN_OK;
    return tarn_handle_unlock(&hd, h) == TARN_OK && ok;
}

static void do_handle(worker *w, int op)
{
    obj *o, *o2;
    tarn_handle h;
    size_t size = 1u + (size_t)(check_rand_r(&w->rng) % 200u), moved = 0;
    tarn_handle_stats st;
    unsigned long n = 0;
    switch (op) {
    case OP_handle_alloc:
        if ((o = pick_free(w, w->hnd)) == NULL) break;
        if (check_rand_r(&w->rng) & 1u) {
            tarn_status s = TARN_EINVAL;
            h = tarn_handle_alloc_status(&hd, size, &s);
            EXPECT(op, own_status(!tarn_handle_is_null(h), s));
        } else {
            h = tarn_handle_alloc(&hd, size);
        }
        if (tarn_handle_is_null(h)) break;
        o->p = tarn_handle_to_u32(h);
        o->size = size;
        o->tag = next_tag(w);
        EXPECT(op, hnd_fill(o));
        break;
    case OP_handle_free:
        if ((o = pick_used(w, w->hnd)) == NULL) break;
        EXPECT(op, hnd_verify(o));
        h = tarn_handle_from_u32((uint32_t)o->p);
        EXPECT(op, tarn_handle_free(&hd, h) == TARN_OK);
        /* stale from now on, whoever gets the slot next */
        EXPECT(op, tarn_handle_validate(&hd, h) != TARN_OK);
        EXPECT(op, tarn_handle_free(&hd, h) != TARN_OK);
        o->p = 0;
        break;
    case OP_handle_lock_unlock:
        if ((o = pick_used(w, w->hnd)) == NULL) break;
        EXPECT(op, hnd_verify(o));
        break;
    case OP_handle_resize:
        if ((o = pick_used(w, w->hnd)) == NULL) break;
        EXPECT(op, hnd_verify(o));
        if (tarn_handle_resize(&hd, tarn_handle_from_u32((uint32_t)o->p), size) == TARN_OK) {
            o->size = size;
            o->tag = next_tag(w);
            EXPECT(op, hnd_fill(o));
        }
        break;
    case OP_handle_copy:
        if ((o = pick_used(w, w->hnd)) == NULL || (o2 = pick_used(w, w->hnd)) == NULL) break;
        if (o == o2 || o2->size < o->size) break;
        EXPECT(op, tarn_handle_copy(&hd, tarn_handle_from_u32((uint32_t)o2->p),
                                    tarn_handle_from_u32((uint32_t)o->p)) == TARN_OK);
        o2->tag = next_tag(w);
        EXPECT(op, hnd_fill(o2));
        break;
    case OP_handle_clear:
        if ((o = pick_used(w, w->hnd)) == NULL) break;
        EXPECT(op, tarn_handle_clear(&hd, tarn_handle_from_u32((uint32_t)o->p)) == TARN_OK);
        EXPECT(op, hnd_fill(o));
        break;
    case OP_handle_size:
        if ((o = pick_used(w, w->hnd)) == NULL) break;
        EXPECT(op, tarn_handle_size(&hd, tarn_handle_from_u32((uint32_t)o->p)) == o->size);
        {
            tarn_status s = TARN_EINVAL;
            EXPECT(op, tarn_handle_size_status(&hd, tarn_handle_from_u32((uint32_t)o->p), &s) ==
                           o->size && s == TARN_OK);
        }
        break;
    case OP_handle_compact_step:
        (void)tarn_handle_compact_step(&hd, 256, &moved);
        EXPECT(op, moved <= 256u);
        break;
    case OP_handle_compact:
        {
            tarn_status s = TARN_EINVAL;
            (void)tarn_handle_compact_status(&hd, &s);
            EXPECT(op, s == TARN_OK);
        }
        break;
    case OP_handle_stats:
        EXPECT(op, tarn_handle_stats_get(&hd, &st) == TARN_OK);
        break;
    case OP_handle_walk:
        EXPECT(op, tarn_handle_walk(&hd, count_hwalk, &n) == TARN_OK && n <= NHANDLES);
        break;
    case OP_handle_check:
        EXPECT(op, tarn_handle_check(&hd) == TARN_OK);
        break;
    case OP_handle_qflush:
        EXPECT(op, tarn_handle_quarantine_flush(&hd) == TARN_OK);
        break;
    case OP_handle_last_error:
        (void)tarn_handle_last_error(&hd);
        break;
    case OP_handle_name:
        EXPECT(op, strcmp(tarn_handle_name(&hd), "mix-handle") == 0);
        break;
    case OP_handle_bad:
        h = tarn_handle_null();
        EXPECT(op, tarn_handle_free(&hd, h) != TARN_OK);
        EXPECT(op, tarn_handle_lock(&hd, h) == NULL);
        {
            tarn_status s = TARN_OK;
            EXPECT(op, tarn_handle_lock_status(&hd, h, &s) == NULL && s != TARN_OK);
        }
        EXPECT(op, tarn_handle_unlock(&hd, h) != TARN_OK);
        EXPECT(op, tarn_handle_size(&hd, h) == 0);
        if ((o = pick_used(w, w->hnd)) != NULL) { /* not locked: unlock is refused */
            EXPECT(op, tarn_handle_unlock(&hd, tarn_handle_from_u32((uint32_t)o->p)) == TARN_EINVAL);
        }
        break;
    default:
        break;
    }
}

static void do_ext(worker *w, int op)
{
    obj *o;
    uint32_t a = 0;
    size_t size = 1u + (size_t)(check_rand_r(&w->rng) % ESZ), got = 0;
    unsigned char buf[ESZ];
    tarn_ext_stats st;
    unsigned long n = 0;
    tarn_status s;
    switch (op) {
    case OP_ext_alloc:
        if ((o = pick_free(w, w->ex)) == NULL) break;
        s = tarn_ext_alloc(&ext, size, &a);
        EXPECT(op, s == TARN_OK || s == TARN_ENOMEM);
        if (s != TARN_OK) break;
        o->p = a;
        o->size = size;
        o->tag = next_tag(w);
        check_fill(buf, size, o->tag);
        EXPECT(op, tarn_ext_write(&ext, a, 0, buf, size) == TARN_OK);
        break;
    case OP_ext_free:
        if ((o = pick_used(w, w->ex)) == NULL) break;
        (void)tarn_ext_root_set(&ext, (unsigned)w->id, 0); /* a root would pin it */
        EXPECT(op, tarn_ext_free(&ext, (uint32_t)o->p) == TARN_OK);
        o->p = 0;
        break;
    case OP_ext_rw:
        if ((o = pick_used(w, w->ex)) == NULL) break;
        EXPECT(op, tarn_ext_read(&ext, (uint32_t)o->p, 0, buf, o->size) == TARN_OK &&
                   check_verify(buf, o->size, o->tag));
        break;
    case OP_ext_size:
        if ((o = pick_used(w, w->ex)) == NULL) break;
        EXPECT(op, tarn_ext_size(&ext, (uint32_t)o->p, &got) == TARN_OK && got >= o->size);
        break;
    case OP_ext_root:
        if ((o = pick_used(w, w->ex)) == NULL) break;
        EXPECT(op, tarn_ext_root_set(&ext, (unsigned)w->id, (uint32_t)o->p) == TARN_OK);
        EXPECT(op, tarn_ext_root_get(&ext, (unsigned)w->id, &a) == TARN_OK && a == o->p);
        EXPECT(op, tarn_ext_free(&ext, (uint32_t)o->p) == TARN_EBUSY);
        EXPECT(op, tarn_ext_root_set(&ext, (unsigned)w->id, 0) == TARN_OK);
        break;
    case OP_ext_walk:
        EXPECT(op, tarn_ext_walk(&ext, count_ewalk, &n) == TARN_OK);
        break;
    case OP_ext_stats:
        EXPECT(op, tarn_ext_stats_get(&ext, &st) == TARN_OK);
        break;
    case OP_ext_check:
        EXPECT(op, tarn_ext_check(&ext) == TARN_OK);
        break;
    case OP_ext_last_error:
        (void)tarn_ext_last_error(&ext);
        break;
    case OP_ext_bad:
        EXPECT(op, tarn_ext_free(&ext, 0) != TARN_OK);
        EXPECT(op, tarn_ext_free(&ext, EBASE + 3u) != TARN_OK);
        EXPECT(op, tarn_ext_read(&ext, EBASE + 3u, 0, buf, 4) != TARN_OK);
        EXPECT(op, tarn_ext_root_set(&ext, 99u, 0) == TARN_EINVAL);
        if ((o = pick_used(w, w->ex)) != NULL) {
            EXPECT(op, tarn_ext_read(&ext, (uint32_t)o->p, 0, NULL, 4) == TARN_EINVAL);
            EXPECT(op, tarn_ext_write(&ext, (uint32_t)o->p, ESZ * 4u, buf, 4) == TARN_ERANGE);
        }
        break;
    default:
        break;
    }
}

static int null_writer(void *ctx, const void *data, size_t n)
{
    (void)data;
    *(size_t *)ctx += n;
    return 0;
}

static void do_dump(worker *w, int op)
{
    char buf[4096];
    tarn_dump d;
    size_t len = 0, total = 0;
    tarn_block_stats st;
    (void)w;
    if (check_rand_r(&w->rng) & 1u) {
        EXPECT(op, tarn_dump_to_buffer(&d, buf, sizeof buf) == TARN_OK);
    } else {
        EXPECT(op, tarn_dump_to_writer(&d, null_writer, &total) == TARN_OK);
    }
    tarn_dump_pool(&d, "block", tarn_block_name(&bp), bmem, sizeof bmem);
    EXPECT(op, tarn_block_walk(&bp, tarn_dump_walk_cb, &d) == TARN_OK);
    EXPECT(op, tarn_heap_walk(hp, tarn_dump_walk_cb, &d) == TARN_OK);
    tarn_dump_region(&d, 0, 16, TARN_DUMP_FREE);
    tarn_dump_region_at(&d, bmem, 16, TARN_DUMP_USED);
    if (tarn_block_stats_get(&bp, &st) == TARN_OK) tarn_dump_stat(&d, "free", st.free);
    EXPECT(op, tarn_dump_end(&d, &len) == TARN_OK);
}

static void step(worker *w, int op)
{
    if (op <= OP_block_bad) {
        do_block(w, op);
    } else if (op <= OP_lf_bad) {
        do_lf(w, op);
    } else if (op <= OP_heap_bad) {
        do_heap(w, op);
    } else if (op <= OP_handle_bad) {
        do_handle(w, op);
    } else if (op <= OP_ext_bad) {
        do_ext(w, op);
    } else {
        do_dump(w, op);
    }
}

static void drain(worker *w)
{
    int k;
    for (k = 0; k < SLOTS; k++) {
        if (w->blk[k].p) {
            EXPECT(OP_block_put, check_verify((void *)w->blk[k].p, BSZ, w->blk[k].tag));
            EXPECT(OP_block_put, tarn_block_put(&bp, (void *)w->blk[k].p) == TARN_OK);
        }
        if (w->lf[k].p) {
            EXPECT(OP_lf_put, check_verify((void *)w->lf[k].p, LFSZ, w->lf[k].tag));
            EXPECT(OP_lf_put, tarn_lfblock_put(&lp, (void *)w->lf[k].p) == TARN_OK);
        }
        if (w->heap[k].p) {
            EXPECT(OP_heap_free, check_verify((void *)w->heap[k].p, w->heap[k].size, w->heap[k].tag));
            EXPECT(OP_heap_free, tarn_heap_free(hp, (void *)w->heap[k].p) == TARN_OK);
        }
        if (w->hnd[k].p) {
            EXPECT(OP_handle_free, hnd_verify(&w->hnd[k]));
            EXPECT(OP_handle_free, tarn_handle_free(&hd, tarn_handle_from_u32((uint32_t)w->hnd[k].p)) == TARN_OK);
        }
        if (w->ex[k].p) {
            EXPECT(OP_ext_free, tarn_ext_free(&ext, (uint32_t)w->ex[k].p) == TARN_OK);
        }
    }
}

static void *worker_main(void *arg)
{
    worker *w = (worker *)arg;
    long i;
    pthread_barrier_wait(w->start);
    for (i = 0; i < w->ops; i++) {
        int op = (int)(check_rand_r(&w->rng) % OP_COUNT);
        step(w, op);
        atomic_fetch_add_explicit(&op_count[op], 1, memory_order_relaxed);
        if (depth != 0) {
            atomic_fetch_add(&unbalanced, 1);
            depth = 0;
        }
    }
    drain(w);
    if (depth != 0) atomic_fetch_add(&unbalanced, 1);
    return NULL;
}

int main(void)
{
    tarn_config c;
    pthread_t tid[MT_THREADS];
    worker *w;
    pthread_barrier_t start;
    long total = 0, ops = CHECK_ITERS(100000L);
    int i;
    tarn_block_stats bst;
    tarn_lfblock_stats lst;
    tarn_heap_stats hst;
    tarn_handle_stats dst;
    tarn_ext_stats est;

    cfg_for(&c, &lk_block, "mix-block", TARN_F_QUARANTINE);
    REQUIRE(tarn_block_init_ext(&bp, &bp_ext, bmem, sizeof bmem, BSZ, &c) == TARN_OK);
    memset(&c, 0, sizeof c);
    c.name = "mix-lf";
    c.flags = TARN_F_QUARANTINE;
#if !TARN_LFBLOCK_LOCK_FREE
    c.lock.lock = cl_lock; /* the fallback build needs one */
    c.lock.unlock = cl_unlock;
    c.lock.ctx = &lk_lf;
#endif
    REQUIRE(tarn_lfblock_init(&lp, lfmem, sizeof lfmem, LFSZ, &c) == TARN_OK);
    cfg_for(&c, &lk_heap, "mix-heap", TARN_F_QUARANTINE);
    REQUIRE(tarn_heap_init(&hp, hmem, sizeof hmem, &c) == TARN_OK);
#if TARN_HEAP_TRACE
    REQUIRE(tarn_heap_set_trace(hp, trace, NULL) == TARN_OK);
#endif
    cfg_for(&c, &lk_handle, "mix-handle", TARN_F_QUARANTINE);
    REQUIRE(tarn_handle_init(&hd, hdmem, sizeof hdmem, NHANDLES, &c) == TARN_OK);
    cfg_for(&c, &lk_ext, "mix-ext", 0);
    REQUIRE(tarn_ext_format(&ext, &io, EBASE, EREGION, MT_THREADS, &c) == TARN_OK);

    w = (worker *)calloc(MT_THREADS, sizeof *w);
    REQUIRE(w != NULL);
    pthread_barrier_init(&start, NULL, MT_THREADS);
    for (i = 0; i < MT_THREADS; i++) {
        w[i].id = i;
        w[i].ops = ops;
        w[i].start = &start;
        w[i].rng = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1) + 77u;
        REQUIRE(pthread_create(&tid[i], NULL, worker_main, &w[i]) == 0);
    }
    for (i = 0; i < MT_THREADS; i++) pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&start);

    /* per-call counts, and which calls answered wrongly */
    for (i = 0; i < OP_COUNT; i++) {
        long n = atomic_load(&op_count[i]), b = atomic_load(&bad[i]);
        total += n;
        printf("  %-20s %8ld%s", op_name[i], n, (i % 3 == 2) ? "\n" : "");
        if (b != 0) printf("\n  ** %s: %ld wrong answers\n", op_name[i], b);
        CHECK_EQ(b, 0);
        if (ops >= 10000) CHECK(n > 0); /* every call ran (not at very high scale divisors) */
    }
    printf("\nmix: %d threads, %ld operations (%ld per thread), %ld put callbacks, %ld heap "
           "trace events\n", MT_THREADS, total, ops, atomic_load(&cb_calls),
           atomic_load(&heap_traces));
    printf("lock hook calls: block %ld, lock-free pool %ld (fallback build only), heap %ld, "
           "handle %ld, ext %ld\n", atomic_load(&lk_block.calls), atomic_load(&lk_lf.calls),
           atomic_load(&lk_heap.calls),
           atomic_load(&lk_handle.calls), atomic_load(&lk_ext.calls));
    if (atomic_load(&first_bad_line) != 0) {
        printf("first wrong answer: line %d\n", atomic_load(&first_bad_line));
    }
    CHECK_EQ(atomic_load(&nested), 0);
    CHECK_EQ(atomic_load(&unbalanced), 0);
    CHECK_EQ(atomic_load(&lk_block.overlaps), 0);
    CHECK_EQ(atomic_load(&lk_lf.overlaps), 0);
    CHECK_EQ(atomic_load(&lk_heap.overlaps), 0);
    CHECK_EQ(atomic_load(&lk_handle.overlaps), 0);
    CHECK_EQ(atomic_load(&lk_ext.overlaps), 0);
    CHECK_EQ(atomic_load(&rd.bad), 0);

    /* quiescent: everything handed back, every check passes, nothing lost */
    tarn_block_set_put_cb(&bp, NULL, NULL);
    CHECK_EQ(tarn_block_quarantine_flush(&bp), TARN_OK);
    CHECK_EQ(tarn_block_check(&bp), TARN_OK);
    CHECK_EQ(tarn_block_stats_get(&bp, &bst), TARN_OK);
    CHECK_EQ(bst.free, NBLK);
    CHECK_EQ(tarn_block_clear(&bp), TARN_OK);
    CHECK_EQ(tarn_lfblock_quarantine_flush(&lp), TARN_OK);
    CHECK_EQ(tarn_lfblock_check(&lp), TARN_OK);
    CHECK_EQ(tarn_lfblock_stats_get(&lp, &lst), TARN_OK);
    CHECK_EQ(lst.free, NLF);
    CHECK_EQ(tarn_heap_quarantine_flush(hp), TARN_OK);
    CHECK_EQ(tarn_heap_check(hp), TARN_OK);
    CHECK_EQ(tarn_heap_stats_get(hp, &hst), TARN_OK);
    CHECK_EQ(hst.live_blocks, 0);
    CHECK_EQ(tarn_heap_destroy(hp), TARN_OK);
    CHECK_EQ(tarn_handle_quarantine_flush(&hd), TARN_OK);
    CHECK_EQ(tarn_handle_check(&hd), TARN_OK);
    CHECK_EQ(tarn_handle_stats_get(&hd, &dst), TARN_OK);
    CHECK_EQ(dst.handles_used, 0);
    CHECK_EQ(tarn_handle_deinit(&hd), TARN_OK);
    CHECK_EQ(tarn_ext_check(&ext), TARN_OK);
    CHECK_EQ(tarn_ext_stats_get(&ext, &est), TARN_OK);
    CHECK_EQ(est.live_blocks, 0);
    CHECK_EQ(tarn_ext_mount(&ext, &io, EBASE, EREGION, NULL), TARN_OK);
    CHECK_EQ(tarn_ext_check(&ext), TARN_OK);
    printf("end: block free %u, lf free %u, heap used %u, handles used %u, ext used %u\n",
           bst.free, lst.free, (unsigned)hst.live_blocks, (unsigned)dst.handles_used,
           (unsigned)est.live_blocks);
    printf("failed (pool empty/full): block gets %u, heap allocs %u, handle allocs %u, "
           "ext %u\n", (unsigned)bst.failed_gets, (unsigned)hst.failed_allocs,
           (unsigned)dst.failed_allocs, (unsigned)est.failed);
    free(w);
    return check_done();
}
