/*
 * bench/ref_tlsf.h - a two-level segregated-fit heap with boundary tags, written for
 * bench/heap.c as a reference: the scheme TLSF uses (good fit over 32 classes per power of
 * two, a header word per block, the previous block's address kept only while that block
 * is free), measured on the same operation arrays as tarn's heap.  It checks nothing:
 * a bad pointer corrupts it, as in TLSF.  Not part of the library.
 *
 * Layout: [control: bitmaps and list heads][block][block]...[end marker]
 *
 *   block:  | prev (only valid when the previous block is free; it lies in the last
 *           |       word of that block) | size + flags | payload ............ |
 *                                                       ^ user pointer
 *   A free block keeps its list links at the start of its payload.  The payload size is
 *   chosen so that every user pointer is aligned to RT_ALIGN: size + RT_W is a multiple of
 *   RT_ALIGN.  Flags: bit 0 = this block is free, bit 1 = the previous block is free.
 *
 * Classes: payloads below RT_SMALL bytes have exact classes, one per RT_ALIGN bytes;
 * above, each power of two [2^f, 2^(f+1)) is cut into RT_SL classes.  A request is rounded
 * up to the next class boundary before the search, so any block found fits.
 */
#ifndef TARN_BENCH_REF_TLSF_H
#define TARN_BENCH_REF_TLSF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RT_W (sizeof(size_t))
#ifndef RT_ALIGN
#define RT_ALIGN RT_W   /* TLSF's own choice: 4 bytes on 32-bit parts, 8 on 64-bit */
#endif                  /* (-DRT_ALIGN=8 on 32-bit: tarn's alignment, for comparison) */
#define RT_SL_LOG2 5u
#define RT_SL (1u << RT_SL_LOG2)
#define RT_ALIGN_LOG2 (RT_ALIGN == 8u ? 3u : 2u)
#define RT_SMALL_LOG2 (RT_SL_LOG2 + RT_ALIGN_LOG2)  /* below: one class per RT_ALIGN bytes */
#define RT_SMALL (1u << RT_SMALL_LOG2)
#define RT_FL_MAX 30u                          /* payloads < 2^30 */
#define RT_FL (RT_FL_MAX - RT_SMALL_LOG2 + 1u) /* class rows: row 0 = the small ones */
#define RT_FREE ((size_t)1)
#define RT_PREV_FREE ((size_t)2)
#define RT_FLAGS ((size_t)3)
#define RT_MIN (3u * RT_W)                     /* links + the next block's prev word */

typedef struct rt_block {
    struct rt_block *prev;         /* in the previous block's last word */
    size_t size;                   /* payload bytes | flags */
    struct rt_block *next_free;    /* free blocks only: start of the payload */
    struct rt_block *prev_free;
} rt_block;

typedef struct rt_heap {
    uint32_t fl_map;
    uint32_t sl_map[RT_FL];
    rt_block *heads[RT_FL][RT_SL];
} rt_heap;

#if defined(__GNUC__) || defined(__clang__)
static unsigned rt_log2(size_t x)
{
    return (unsigned)(8u * sizeof(unsigned long) - 1u) - (unsigned)__builtin_clzl((unsigned long)x);
}
static unsigned rt_ctz(uint32_t x) { return (unsigned)__builtin_ctz(x); }
#else
static unsigned rt_log2(size_t x)
{
    unsigned r = 0;
    while (x >>= 1) r++;
    return r;
}
static unsigned rt_ctz(uint32_t x)
{
    unsigned r = 0;
    while ((x & 1u) == 0u) {
        x >>= 1;
        r++;
    }
    return r;
}
#endif

static size_t rt_size(const rt_block *b) { return b->size & ~RT_FLAGS; }
static unsigned char *rt_ptr(rt_block *b) { return (unsigned char *)b + 2u * RT_W; }
static rt_block *rt_of(void *p) { return (rt_block *)(void *)((unsigned char *)p - 2u * RT_W); }
static rt_block *rt_next(rt_block *b)
{
    return (rt_block *)(void *)(rt_ptr(b) + rt_size(b) - RT_W);
}

static void rt_map(size_t s, unsigned *fl, unsigned *sl)
{
    if (s < RT_SMALL) {
        *fl = 0;
        *sl = (unsigned)(s / (RT_SMALL / RT_SL));
    } else {
        unsigned f = rt_log2(s);
        *sl = (unsigned)(s >> (f - RT_SL_LOG2)) ^ RT_SL;
        *fl = f - RT_SMALL_LOG2 + 1u;
    }
}

static void rt_insert(rt_heap *h, rt_block *b)
{
    unsigned fl, sl;
    rt_block *old;
    rt_map(rt_size(b), &fl, &sl);
    old = h->heads[fl][sl];
    b->next_free = old;
    b->prev_free = NULL;
    if (old != NULL) old->prev_free = b;
    h->heads[fl][sl] = b;
    h->fl_map |= 1u << fl;
    h->sl_map[fl] |= 1u << sl;
}

static void rt_remove(rt_heap *h, rt_block *b)
{
    unsigned fl, sl;
    rt_map(rt_size(b), &fl, &sl);
    if (b->next_free != NULL) b->next_free->prev_free = b->prev_free;
    if (b->prev_free != NULL) {
        b->prev_free->next_free = b->next_free;
    } else {
        h->heads[fl][sl] = b->next_free;
        if (b->next_free == NULL) {
            h->sl_map[fl] &= ~(1u << sl);
            if (h->sl_map[fl] == 0u) h->fl_map &= ~(1u << fl);
        }
    }
}

/* Payload size for a request: at least RT_MIN, and size + RT_W a multiple of RT_ALIGN. */
static size_t rt_adjust(size_t n)
{
    if (n < RT_MIN) n = RT_MIN;
    return ((n + RT_W + RT_ALIGN - 1u) & ~(size_t)(RT_ALIGN - 1u)) - RT_W;
}

/* Mark the block after b as having a free (or used) predecessor. */
static void rt_link_next(rt_block *b, int free_)
{
    rt_block *n = rt_next(b);
    if (free_) {
        n->prev = b;
        n->size |= RT_PREV_FREE;
    } else {
        n->size &= ~RT_PREV_FREE;
    }
}

/* b was just made free (its flag set): absorb a free successor, tell the block after it
 * that its predecessor is free, and list it. */
static void rt_release(rt_heap *h, rt_block *b)
{
    rt_block *n = rt_next(b);
    if (n->size & RT_FREE) {
        rt_remove(h, n);
        b->size += rt_size(n) + RT_W;
    }
    rt_link_next(b, 1);
    rt_insert(h, b);
}

/* Cut b (used or being handed out) to payload s; the tail becomes a free block, merged
 * with a free successor. */
static void rt_trim(rt_heap *h, rt_block *b, size_t s)
{
    size_t have = rt_size(b);
    rt_block *rest;
    if (have < s + RT_MIN + RT_W) return;
    rest = (rt_block *)(void *)(rt_ptr(b) + s - RT_W);
    rest->size = (have - s - RT_W) | RT_FREE;
    b->size = s | (b->size & RT_FLAGS);
    rt_release(h, rest);
}

/* The first user pointer of a heap made by rt_init. */
static void *rt_first(rt_heap *h)
{
    uintptr_t first = (uintptr_t)h + sizeof(rt_heap) + 2u * RT_W;
    return (void *)((first + RT_ALIGN - 1u) & ~(uintptr_t)(RT_ALIGN - 1u));
}

static rt_heap *rt_init(void *mem, size_t bytes)
{
    uintptr_t a = ((uintptr_t)mem + RT_ALIGN - 1u) & ~(uintptr_t)(RT_ALIGN - 1u);
    uintptr_t end = (uintptr_t)mem + bytes, first;
    rt_heap *h = (rt_heap *)a;
    rt_block *b, *last;
    size_t span;
    first = (uintptr_t)rt_first(h);
    if (first > end) return NULL;
    span = (size_t)(end - first) & ~(size_t)(RT_ALIGN - 1u);   /* payload + RT_W */
    if (span < RT_MIN + RT_W) return NULL;
    memset(h, 0, sizeof *h);
    b = rt_of((void *)first);
    b->size = (span - RT_W) | RT_FREE;   /* b->prev is never read: no free predecessor */
    last = rt_next(b);                   /* end marker: a used block of size 0 */
    last->size = 0;
    rt_link_next(b, 1);
    rt_insert(h, b);
    return h;
}

static void *rt_alloc(rt_heap *h, size_t n)
{
    size_t s;
    unsigned fl, sl;
    uint32_t m;
    rt_block *b;
    if (n == 0u || n > ((size_t)1 << (RT_FL_MAX - 1u))) return NULL;
    s = rt_adjust(n);
    if (s >= RT_SMALL) {
        size_t round = ((size_t)1 << (rt_log2(s) - RT_SL_LOG2)) - 1u;
        rt_map(s + round, &fl, &sl);
    } else {
        rt_map(s, &fl, &sl);
    }
    if (fl >= RT_FL) return NULL;
    m = h->sl_map[fl] & (~0u << sl);
    if (m == 0u) {
        uint32_t f = fl + 1u < 32u ? h->fl_map & (~0u << (fl + 1u)) : 0u;
        if (f == 0u) return NULL;
        fl = rt_ctz(f);
        m = h->sl_map[fl];
    }
    b = h->heads[fl][rt_ctz(m)];
    rt_remove(h, b);
    b->size &= ~RT_FREE;
    rt_link_next(b, 0);
    rt_trim(h, b, s);
    return rt_ptr(b);
}

static void rt_free(rt_heap *h, void *p)
{
    rt_block *b;
    if (p == NULL) return;
    b = rt_of(p);
    if (b->size & RT_PREV_FREE) {
        rt_block *pv = b->prev;
        rt_remove(h, pv);
        pv->size += rt_size(b) + RT_W;
        b = pv;
    } else {
        b->size |= RT_FREE;
    }
    rt_release(h, b);
}

static void *rt_realloc(rt_heap *h, void *p, size_t n)
{
    rt_block *b, *nx;
    size_t s, have;
    void *q;
    if (p == NULL) return rt_alloc(h, n);
    if (n == 0u) {
        rt_free(h, p);
        return NULL;
    }
    if (n > ((size_t)1 << (RT_FL_MAX - 1u))) return NULL;
    b = rt_of(p);
    s = rt_adjust(n);
    have = rt_size(b);
    nx = rt_next(b);
    if (s > have && (nx->size & RT_FREE) && have + rt_size(nx) + RT_W >= s) {
        rt_remove(h, nx);                 /* grow into the free successor */
        b->size += rt_size(nx) + RT_W;
        rt_link_next(b, 0);
        have = rt_size(b);
    }
    if (s <= have) {
        rt_trim(h, b, s);
        return p;
    }
    q = rt_alloc(h, n);
    if (q == NULL) return NULL;
    memcpy(q, p, have);
    rt_free(h, p);
    return q;
}

/* Consistency of the whole heap (the bench runs it after every replay): walks the blocks
 * from `first` (the user pointer rt_init placed) to the end marker, checks the flags
 * against the neighbours, that no two free blocks touch, and that every free block is
 * on the list of its class.  1 if consistent. */
static int rt_check(rt_heap *h, void *first)
{
    rt_block *b = rt_of(first), *x;
    size_t nfree = 0, listed = 0;
    unsigned fl, sl;
    int prev_free = 0;
    for (;;) {
        size_t sz = rt_size(b);
        int f = (b->size & RT_FREE) != 0;
        if (((b->size & RT_PREV_FREE) != 0) != prev_free) return 0;
        if (prev_free && (f || b->prev == NULL || rt_next(b->prev) != b)) return 0;
        if (sz == 0u) break;                       /* the end marker */
        if ((sz + RT_W) % RT_ALIGN != 0u || sz < RT_MIN) return 0;
        nfree += (size_t)f;
        prev_free = f;
        b = rt_next(b);
    }
    if (b->size & RT_FREE) return 0;
    for (fl = 0; fl < RT_FL; fl++) {
        for (sl = 0; sl < RT_SL; sl++) {
            unsigned f2, s2;
            int marked = (h->sl_map[fl] >> sl) & 1u;
            if (marked != (h->heads[fl][sl] != NULL)) return 0;
            for (x = h->heads[fl][sl]; x != NULL; x = x->next_free) {
                if ((x->size & RT_FREE) == 0u) return 0;
                rt_map(rt_size(x), &f2, &s2);
                if (f2 != fl || s2 != sl) return 0;
                if (++listed > nfree) return 0;
            }
        }
        if (((h->fl_map >> fl) & 1u) != (h->sl_map[fl] != 0u)) return 0;
    }
    return listed == nfree;
}

/* Arena bytes a live block of request n occupies (payload + header word). */
static size_t rt_footprint(size_t n) { return rt_adjust(n) + RT_W; }

#endif
