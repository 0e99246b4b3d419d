/*
 * ports/libc/tarn_malloc.c - the C library's malloc family on one tarn heap.
 *
 * Add this file, tarn's src/heap.c and src/tarn.c and the include paths (include/,
 * ports/libc/) to a program: its malloc, free, calloc, realloc, reallocarray,
 * aligned_alloc, posix_memalign, memalign, valloc, pvalloc and malloc_usable_size are
 * then served by tarn - O(1) worst case per call, an 8-byte header per block - and on newlib
 * so are _malloc_r, _free_r, _calloc_r, _realloc_r, _memalign_r, _valloc_r, _pvalloc_r
 * and _malloc_usable_size_r, which newlib's own code (stdio buffers, strdup, ...) calls.
 * The heap never grows: it is set up once, on the first call, in
 *
 *   - bare metal (newlib, no OS; TARN_MALLOC_HEAP_LINKER 1, the default there): the RAM
 *     between two linker-script symbols, by default `end` (end of .bss) and
 *     `__stack_limit` (bottom of the stack); rename them with
 *     -DTARN_MALLOC_HEAP_START=<sym> -DTARN_MALLOC_HEAP_END=<sym>;
 *   - otherwise: a static array of TARN_MALLOC_HEAP_SIZE bytes (default 256 MiB on a
 *     64-bit host, 1 MiB elsewhere; the host build never calls mmap or the C library's
 *     allocator);
 *   - or the array given to tarn_malloc_use() before the first allocation.
 *
 * Locking (TARN_MALLOC_LOCK): 1 = newlib's __malloc_lock/__malloc_unlock hooks (the
 * default with newlib; an RTOS overrides them to make malloc thread-safe, as it does for
 * newlib's own malloc); 2 = a spinlock on GCC atomics (the default elsewhere: threads of a
 * host program); 0 = none (one thread).  Every call takes the lock once.  A host process
 * that forks while another thread is inside malloc has the usual problem of a locked
 * allocator in the child.
 *
 * Differences from glibc's malloc: the heap has a fixed size (TARN_MALLOC_HEAP_SIZE);
 * malloc(0) returns a unique 8-byte block; realloc(p, 0) frees p and returns NULL (as
 * glibc); a pointer to free/realloc that is not a live block is refused and counted
 * (tarn_malloc_bad_frees), or aborts when built with TARN_MALLOC_ABORT_ON_BAD_FREE 1;
 * aligned_alloc rejects an alignment that is not a power of two (EINVAL), memalign
 * rounds it up to one.  mallinfo, malloc_stats, malloc_trim and mallopt are not
 * provided.
 */
#if !defined(_GNU_SOURCE) && defined(__linux__)
#define _GNU_SOURCE 1   /* reallocarray, valloc, pvalloc, memalign declarations */
#endif
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__) || defined(__NEWLIB__)
#include <malloc.h>
#endif
#if defined(__linux__)
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#endif

#include "tarn_malloc.h"

#if defined(__NEWLIB__) && !defined(__linux__)
#define TARN_MALLOC_NEWLIB_ 1
#else
#define TARN_MALLOC_NEWLIB_ 0
#endif

#ifndef TARN_MALLOC_HEAP_LINKER
#define TARN_MALLOC_HEAP_LINKER TARN_MALLOC_NEWLIB_
#endif
#ifndef TARN_MALLOC_HEAP_START
#define TARN_MALLOC_HEAP_START end
#endif
#ifndef TARN_MALLOC_HEAP_END
#define TARN_MALLOC_HEAP_END __stack_limit
#endif
#ifndef TARN_MALLOC_HEAP_SIZE
#if UINTPTR_MAX > 0xFFFFFFFFu
#define TARN_MALLOC_HEAP_SIZE ((size_t)256 << 20)
#else
#define TARN_MALLOC_HEAP_SIZE ((size_t)1 << 20)
#endif
#endif
#ifndef TARN_MALLOC_LOCK
#if TARN_MALLOC_NEWLIB_
#define TARN_MALLOC_LOCK 1
#else
#define TARN_MALLOC_LOCK 2
#endif
#endif
#ifndef TARN_MALLOC_ABORT_ON_BAD_FREE
#define TARN_MALLOC_ABORT_ON_BAD_FREE 0
#endif
#ifndef TARN_MALLOC_REPORT
/** 1 (host): at exit, when the environment has TARN_MALLOC_STATS=<file>, append one line
 *  of the heap's statistics to that file (how a test sees that a program ran on tarn;
 *  a file, since programs such as coreutils close stderr before exiting). */
#define TARN_MALLOC_REPORT 0
#endif
#ifndef TARN_MALLOC_PAGE
/** Alignment of valloc and pvalloc. */
#define TARN_MALLOC_PAGE 4096u
#endif

/* ---- the lock ------------------------------------------------------------------------ */
#if TARN_MALLOC_LOCK == 1
struct _reent;
extern void __malloc_lock(struct _reent *r);
extern void __malloc_unlock(struct _reent *r);
#define LOCK() __malloc_lock(_REENT)
#define UNLOCK() __malloc_unlock(_REENT)
#elif TARN_MALLOC_LOCK == 2
static volatile char lock_word;
static void spin_lock(void)
{
    while (__atomic_test_and_set(&lock_word, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&lock_word, __ATOMIC_RELAXED)) {
#if defined(__linux__)
            (void)sched_yield();
#endif
        }
    }
}
#define LOCK() spin_lock()
#define UNLOCK() __atomic_clear(&lock_word, __ATOMIC_RELEASE)
#else
#define LOCK() ((void)0)
#define UNLOCK() ((void)0)
#endif

/* ---- the heap ------------------------------------------------------------------------ */
static tarn_heap *heap;            /* NULL until the first call */
static size_t bad_frees;

#if TARN_MALLOC_HEAP_LINKER
extern char TARN_MALLOC_HEAP_START[], TARN_MALLOC_HEAP_END[];
#else
static union {
    long double ld;
    void *p;
    uint64_t u;
    unsigned char b[TARN_MALLOC_HEAP_SIZE];
} heap_mem;
#endif

/* Set the heap up in its default place if it is not yet.  Called with the lock held. */
static tarn_heap *heap_get(void)
{
    if (heap == NULL) {
        tarn_config cfg = {{NULL, NULL, NULL}, "malloc", 0u};
#if TARN_MALLOC_HEAP_LINKER
        (void)tarn_heap_init(&heap, TARN_MALLOC_HEAP_START,
                             (size_t)(TARN_MALLOC_HEAP_END - TARN_MALLOC_HEAP_START), &cfg);
#else
        (void)tarn_heap_init(&heap, heap_mem.b, sizeof heap_mem.b, &cfg);
#endif
    }
    return heap;
}

tarn_status tarn_malloc_use(void *mem, size_t size)
{
    tarn_status st = TARN_EBUSY;
    tarn_config cfg = {{NULL, NULL, NULL}, "malloc", 0u};
    LOCK();
    if (heap == NULL) {
        st = tarn_heap_init(&heap, mem, size, &cfg);
    }
    UNLOCK();
    return st;
}

tarn_status tarn_malloc_add_region(void *mem, size_t size, uint32_t caps)
{
    tarn_status st = TARN_ENOMEM;
    tarn_heap *h;
    LOCK();
    h = heap_get();
    if (h != NULL) {
        st = tarn_heap_add_region(h, mem, size, caps);
    }
    UNLOCK();
    return st;
}

tarn_heap *tarn_malloc_heap(void)
{
    tarn_heap *h;
    LOCK();
    h = heap_get();
    UNLOCK();
    return h;
}

size_t tarn_malloc_bad_frees(void)
{
    return bad_frees;
}

/* A pointer handed back that is not a live block.  Called with the lock held. */
static void bad_pointer(void)
{
    bad_frees++;
#if TARN_MALLOC_ABORT_ON_BAD_FREE
    abort();
#endif
}

/* ---- the functions, each under the lock; errno as the C library sets it ----------------- */
/* alignment 0: the heap's granule.  size 0 is served as 1 (a unique block). */
static void *alloc_locked(size_t alignment, size_t size)
{
    void *p = NULL;
    tarn_heap *h = heap_get();
    if (size == 0u) {
        size = 1u;
    }
    if (h != NULL) {
        p = (alignment <= TARN_HEAP_GRANULE) ? tarn_heap_alloc(h, size)
                                             : tarn_heap_aligned_alloc(h, alignment, size);
    }
    return p;
}

static void *do_alloc(size_t alignment, size_t size)
{
    void *p;
    LOCK();
    p = alloc_locked(alignment, size);
    UNLOCK();
    if (p == NULL) {
        errno = ENOMEM;
    }
    return p;
}

static void do_free(void *p)
{
    if (p == NULL) {
        return;
    }
    LOCK();
    if (heap == NULL || tarn_heap_free(heap, p) != TARN_OK) {
        bad_pointer();
    }
    UNLOCK();
}

static void *do_calloc(size_t nmemb, size_t size)
{
    void *p = NULL;
    if (size != 0u && nmemb > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    LOCK();
    p = alloc_locked(0u, nmemb * size);
    UNLOCK();
    if (p == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    (void)memset(p, 0, nmemb * size);
    return p;
}

static void *do_realloc(void *p, size_t size)
{
    void *q = NULL;
    tarn_status why = TARN_OK;
    if (p == NULL) {
        return do_alloc(0u, size);
    }
    if (size == 0u) {
        do_free(p);
        return NULL;
    }
    LOCK();
    if (heap == NULL) {
        why = TARN_EFOREIGN;
    } else {
        q = tarn_heap_realloc(heap, p, size);
        if (q == NULL) {
            why = tarn_heap_last_error(heap);
        }
    }
    if (q == NULL && why != TARN_ENOMEM) {
        bad_pointer();
    }
    UNLOCK();
    if (q == NULL) {
        errno = (why == TARN_ENOMEM) ? ENOMEM : EINVAL;
    }
    return q;
}

static size_t do_usable_size(void *p)
{
    size_t n = 0u;
    if (p == NULL) {
        return 0u;
    }
    LOCK();
    if (heap != NULL) {
        n = tarn_heap_usable_size(heap, p);
    }
    UNLOCK();
    return n;
}

static int is_pow2(size_t x)
{
    return x != 0u && (x & (x - 1u)) == 0u;
}

void *TARN_MALLOC_NAME(malloc)(size_t size)
{
    return do_alloc(0u, size);
}

void TARN_MALLOC_NAME(free)(void *p)
{
    do_free(p);
}

void *TARN_MALLOC_NAME(calloc)(size_t nmemb, size_t size)
{
    return do_calloc(nmemb, size);
}

void *TARN_MALLOC_NAME(realloc)(void *p, size_t size)
{
    return do_realloc(p, size);
}

void *TARN_MALLOC_NAME(reallocarray)(void *p, size_t nmemb, size_t size)
{
    if (size != 0u && nmemb > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return do_realloc(p, nmemb * size);
}

void *TARN_MALLOC_NAME(aligned_alloc)(size_t alignment, size_t size)
{
    if (!is_pow2(alignment)) {
        errno = EINVAL;
        return NULL;
    }
    return do_alloc(alignment, size);
}

int TARN_MALLOC_NAME(posix_memalign)(void **out, size_t alignment, size_t size)
{
    void *p;
    int saved = errno;
    if (!is_pow2(alignment) || alignment % sizeof(void *) != 0u) {
        return EINVAL;
    }
    p = do_alloc(alignment, size);
    errno = saved;            /* posix_memalign reports through its result only */
    if (p == NULL) {
        return ENOMEM;
    }
    *out = p;
    return 0;
}

void *TARN_MALLOC_NAME(memalign)(size_t alignment, size_t size)
{
    size_t a = 1u;
    if (alignment > (SIZE_MAX >> 1) + 1u) {
        errno = EINVAL;
        return NULL;
    }
    while (a < alignment) {
        a <<= 1;             /* glibc's rule: the next power of two */
    }
    return do_alloc(a, size);
}

void *TARN_MALLOC_NAME(valloc)(size_t size)
{
    return do_alloc(TARN_MALLOC_PAGE, size);
}

void *TARN_MALLOC_NAME(pvalloc)(size_t size)
{
    if (size > SIZE_MAX - (TARN_MALLOC_PAGE - 1u)) {
        errno = ENOMEM;
        return NULL;
    }
    return do_alloc(TARN_MALLOC_PAGE, (size + TARN_MALLOC_PAGE - 1u) & ~(size_t)(TARN_MALLOC_PAGE - 1u));
}

size_t TARN_MALLOC_NAME(malloc_usable_size)(void *p)
{
    return do_usable_size(p);
}

/* ---- newlib's reentrant entry points (what newlib's own code calls) --------------------- */
#if TARN_MALLOC_NEWLIB_ && !defined(TARN_MALLOC_PREFIX)
void *_malloc_r(struct _reent *r, size_t size)
{
    (void)r;
    return do_alloc(0u, size);
}

void _free_r(struct _reent *r, void *p)
{
    (void)r;
    do_free(p);
}

void *_calloc_r(struct _reent *r, size_t nmemb, size_t size)
{
    (void)r;
    return do_calloc(nmemb, size);
}

void *_realloc_r(struct _reent *r, void *p, size_t size)
{
    (void)r;
    return do_realloc(p, size);
}

void *_memalign_r(struct _reent *r, size_t alignment, size_t size)
{
    (void)r;
    return TARN_MALLOC_NAME(memalign)(alignment, size);
}

void *_valloc_r(struct _reent *r, size_t size)
{
    (void)r;
    return do_alloc(TARN_MALLOC_PAGE, size);
}

void *_pvalloc_r(struct _reent *r, size_t size)
{
    (void)r;
    return TARN_MALLOC_NAME(pvalloc)(size);
}

size_t _malloc_usable_size_r(struct _reent *r, void *p)
{
    (void)r;
    return do_usable_size(p);
}
#endif

/* ---- host: statistics at exit, on request -------------------------------------------- */
#if TARN_MALLOC_REPORT && defined(__linux__)
static char *put_num(char *o, size_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10u));
        v /= 10u;
    } while (v != 0u);
    while (n > 0) {
        *o++ = tmp[--n];
    }
    return o;
}

static char *put_str(char *o, const char *s)
{
    while (*s != '\0') {
        *o++ = *s++;
    }
    return o;
}

/* Write the report's line for the statistics st at o, with the number of bad pointers and
 * the result of the heap's full check; returns its end.  Called with the lock held. */
static char *report_line(char *o, const tarn_heap_stats *st)
{
    o = put_str(o, "tarn-malloc: allocs ");
    o = put_num(o, st->total_allocs);
    o = put_str(o, " frees ");
    o = put_num(o, st->total_frees);
    o = put_str(o, " peak ");
    o = put_num(o, st->peak_used);
    o = put_str(o, " failed ");
    o = put_num(o, st->failed_allocs);
    o = put_str(o, " bad ");
    o = put_num(o, bad_frees);
    o = put_str(o, " check ");
    return put_str(o, tarn_heap_check(heap) == TARN_OK ? "ok\n" : "CORRUPT\n");
}

/* The statistics and the full check are read under the lock, like every other call: the
 * process's other threads still run while exit() calls the destructors (a thread the
 * program did not wait for, or one that was joined but has not ended yet, may still free
 * its last memory), and a check that walks the heap while another thread changes it sees
 * a state that is half the old one and half the new (a free list one block short, a size
 * that no longer reaches the sentinel) and reports a sound heap as CORRUPT. */
__attribute__((destructor)) static void tarn_malloc_report(void)
{
    tarn_heap_stats st;
    char line[256], *o = line;
    const char *path = getenv("TARN_MALLOC_STATS");
    int fd;
    bool ok;
    if (path == NULL) {
        return;
    }
    LOCK();
    ok = heap != NULL && tarn_heap_stats_get(heap, &st) == TARN_OK;
    if (ok) {
        o = report_line(o, &st);
    }
    UNLOCK();
    if (!ok) {
        return;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
        (void)!write(fd, line, (size_t)(o - line));   /* one write: whole lines */
        (void)close(fd);
    }
}
#endif
