/*
 * tests/port_libc_api.c - ports/libc/tarn_malloc.c built with a name prefix (tl_malloc,
 * tl_free, ...) so that it runs next to the C library's own malloc (and under ASan and
 * Valgrind): the contract of every function - sizes, zeroing, alignment, errno and return
 * codes, realloc's cases, overflow, exhaustion, bad pointers refused and counted with
 * nothing changed - the heap placed by tarn_malloc_use, the spinlock under threads, and
 * (Linux) the statistics line written at exit, which reads the heap under the lock.
 */
#include "check.h"

#define TARN_MALLOC_PREFIX tl_
#if defined(__linux__)
#define TARN_MALLOC_REPORT 1   /* the report is called directly below, not at exit */
#endif
#define TARN_MALLOC_HEAP_SIZE 4096u   /* unused: main hands over its own array first */
#include "../ports/libc/tarn_malloc.c"

#include <pthread.h>

static union { uint64_t u; unsigned char b[1u << 20]; } arena;

static tarn_heap_stats stats(void)
{
    tarn_heap_stats s;
    REQUIRE(tarn_heap_stats_get(tarn_malloc_heap(), &s) == TARN_OK);
    REQUIRE(tarn_heap_check(tarn_malloc_heap()) == TARN_OK);
    return s;
}

static int in_arena(const void *p)
{
    return (const unsigned char *)p >= arena.b && (const unsigned char *)p < arena.b + sizeof arena.b;
}

static void test_malloc_free(void)
{
    tarn_heap_stats s0 = stats(), s;
    char *a = (char *)tl_malloc(100), *z1, *z2;
    REQUIRE(a != NULL);
    CHECK(in_arena(a));
    CHECK(((uintptr_t)a % 8u) == 0);
    CHECK(tl_malloc_usable_size(a) >= 100);
    memset(a, 1, tl_malloc_usable_size(a));
    z1 = (char *)tl_malloc(0);               /* malloc(0): a unique block */
    z2 = (char *)tl_malloc(0);
    CHECK(z1 != NULL && z2 != NULL && z1 != z2);
    s = stats();
    CHECK_EQ(s.live_blocks, s0.live_blocks + 3);
    tl_free(a);
    tl_free(z1);
    tl_free(z2);
    tl_free(NULL);
    CHECK_EQ(tl_malloc_usable_size(NULL), 0);
    s = stats();
    CHECK_EQ(s.live_blocks, s0.live_blocks);
    CHECK_EQ(s.used, s0.used);
    CHECK_EQ(tarn_malloc_bad_frees(), 0);
}

static void test_calloc(void)
{
    unsigned char *p;
    size_t i;
    int zero = 1;
    p = (unsigned char *)tl_malloc(3000);
    REQUIRE(p != NULL);
    memset(p, 0xEE, 3000);
    tl_free(p);
    p = (unsigned char *)tl_calloc(300, 10);   /* the same memory, cleared */
    REQUIRE(p != NULL);
    for (i = 0; i < 3000; i++) zero &= p[i] == 0;
    CHECK(zero);
    tl_free(p);
    errno = 0;
    CHECK(tl_calloc(SIZE_MAX / 2u + 2u, 2) == NULL);   /* the product overflows */
    CHECK_EQ(errno, ENOMEM);
    errno = 0;
    CHECK(tl_calloc((size_t)1 << (sizeof(size_t) * 4), (size_t)1 << (sizeof(size_t) * 4)) == NULL);
    CHECK_EQ(errno, ENOMEM);
    p = (unsigned char *)tl_calloc(0, 5);
    CHECK(p != NULL);
    tl_free(p);
}

static void test_realloc(void)
{
    unsigned char *p, *q;
    tarn_heap_stats s0 = stats();
    p = (unsigned char *)tl_realloc(NULL, 50);      /* NULL: malloc */
    REQUIRE(p != NULL);
    check_fill(p, 50, 1u);
    q = (unsigned char *)tl_realloc(p, 20);         /* shrink: in place */
    CHECK(q == p);
    CHECK(check_verify(q, 20, 1u));
    p = (unsigned char *)tl_realloc(q, 5000);       /* grow: contents kept */
    REQUIRE(p != NULL);
    CHECK(check_verify(p, 20, 1u));
    check_fill(p, 5000, 2u);
    errno = 0;
    q = (unsigned char *)tl_realloc(p, sizeof arena.b);   /* too large: p untouched */
    CHECK(q == NULL);
    CHECK_EQ(errno, ENOMEM);
    CHECK(check_verify(p, 5000, 2u));
    q = (unsigned char *)tl_reallocarray(p, SIZE_MAX / 4u, 8);   /* overflow */
    CHECK(q == NULL);
    CHECK_EQ(errno, ENOMEM);
    q = (unsigned char *)tl_reallocarray(p, 100, 60);
    REQUIRE(q != NULL);
    CHECK(check_verify(q, 5000, 2u));
    CHECK(tl_realloc(q, 0) == NULL);                /* size 0: frees */
    CHECK_EQ(stats().live_blocks, s0.live_blocks);
    CHECK_EQ(tarn_malloc_bad_frees(), 0);
}

static void test_alignment(void)
{
    size_t a;
    void *p;
    int rc;
    for (a = 1; a <= 8192; a <<= 1) {
        p = tl_aligned_alloc(a, 100);
        REQUIRE(p != NULL);
        CHECK(((uintptr_t)p % a) == 0);
        CHECK(tl_malloc_usable_size(p) >= 100);
        memset(p, 3, 100);
        tl_free(p);
        p = tl_memalign(a, 10);
        REQUIRE(p != NULL);
        CHECK(((uintptr_t)p % a) == 0);
        tl_free(p);
    }
    errno = 0;
    CHECK(tl_aligned_alloc(24, 100) == NULL);       /* not a power of two */
    CHECK_EQ(errno, EINVAL);
    CHECK(tl_aligned_alloc(0, 100) == NULL);
    p = tl_memalign(24, 100);                       /* memalign rounds up to 32 */
    REQUIRE(p != NULL);
    CHECK(((uintptr_t)p % 32u) == 0);
    tl_free(p);

    p = (void *)&p;
    CHECK_EQ(tl_posix_memalign(&p, 64, 200), 0);
    CHECK(p != (void *)&p && ((uintptr_t)p % 64u) == 0);
    tl_free(p);
    p = NULL;
    CHECK_EQ(tl_posix_memalign(&p, 24, 8), EINVAL);
    CHECK_EQ(tl_posix_memalign(&p, sizeof(void *) / 2u, 8), EINVAL);  /* below void * */
    CHECK(p == NULL);
    errno = 0;
    rc = tl_posix_memalign(&p, 64, sizeof arena.b);
    CHECK_EQ(rc, ENOMEM);
    CHECK(p == NULL);                               /* *out untouched on failure */
    CHECK_EQ(errno, 0);                             /* reported by the result only */

    p = tl_valloc(10);
    REQUIRE(p != NULL);
    CHECK(((uintptr_t)p % TARN_MALLOC_PAGE) == 0);
    tl_free(p);
    p = tl_pvalloc(10);                             /* size rounded up to a page */
    REQUIRE(p != NULL);
    CHECK(((uintptr_t)p % TARN_MALLOC_PAGE) == 0);
    CHECK(tl_malloc_usable_size(p) >= TARN_MALLOC_PAGE);
    tl_free(p);
    CHECK(tl_pvalloc(SIZE_MAX - 10) == NULL);
}

static void test_bad_pointers(void)
{
    tarn_heap_stats before, after;
    int local;
    char *a = (char *)tl_malloc(64), *b = (char *)tl_malloc(64);
    REQUIRE(a != NULL && b != NULL);
    check_fill(b, 64, 9u);
    tl_free(a);
    before = stats();
    tl_free(a);                     /* double free */
    tl_free(b + 8);                 /* interior */
    tl_free(&local);                /* foreign */
    CHECK(tl_realloc(b + 16, 10) == NULL);   /* realloc of an interior pointer */
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(tl_malloc_usable_size(b + 8), 0);
    CHECK_EQ(tarn_malloc_bad_frees(), 4);
    after = stats();
    CHECK_EQ(after.used, before.used);
    CHECK_EQ(after.live_blocks, before.live_blocks);
    CHECK_EQ(after.total_frees, before.total_frees);
    CHECK(check_verify(b, 64, 9u));
    tl_free(b);
    CHECK_EQ(tarn_malloc_bad_frees(), 4);
    bad_frees = 0;
}

static void test_exhaustion(void)
{
    static void *blk[(1u << 20) / 1024];
    size_t n = 0, i;
    tarn_heap_stats s0 = stats();
    errno = 0;
    while (n < sizeof blk / sizeof blk[0] && (blk[n] = tl_malloc(1000)) != NULL) n++;
    CHECK(n < sizeof blk / sizeof blk[0]);
    CHECK(n > 900);                 /* no header: 1000-byte blocks fill 1 MiB ~1000 times */
    CHECK_EQ(errno, ENOMEM);
    /* more memory, added as a region after allocations: malloc goes on there */
    {
        static union { uint64_t a; unsigned char b[64 * 1024]; } extra;
        void *q, *r;
        unsigned region = 9;
        CHECK_EQ(tarn_malloc_add_region(NULL, 4096, 0u), TARN_EINVAL);
        CHECK_EQ(tarn_malloc_add_region(extra.b, sizeof extra.b, TARN_CAP_EXTERNAL), TARN_OK);
        CHECK_EQ(tarn_malloc_add_region(extra.b, 4096, 0u), TARN_EINVAL);   /* overlaps */
        q = tl_malloc(1000);
        REQUIRE(q != NULL);
        CHECK((unsigned char *)q >= extra.b && (unsigned char *)q < extra.b + sizeof extra.b);
        CHECK(tarn_heap_region_of(tarn_malloc_heap(), q, &region) == TARN_OK && region == 1u);
        r = tl_realloc(blk[0], 3000);        /* region 0 is full: moves to the new region */
        REQUIRE(r != NULL);
        CHECK((unsigned char *)r >= extra.b && (unsigned char *)r < extra.b + sizeof extra.b);
        blk[0] = r;
        tl_free(q);
        CHECK_EQ(tarn_heap_check(tarn_malloc_heap()), TARN_OK);
    }
    for (i = 0; i < n; i++) tl_free(blk[i]);
    CHECK_EQ(stats().used, s0.used);
}

/* Four threads of random malloc/realloc/free on the shared heap, through the spinlock. */
static void *worker(void *arg)
{
    enum { SLOTS = 64 };
    void *slot[SLOTS] = {0};
    size_t len[SLOTS] = {0};
    uint32_t seed = (uint32_t)(uintptr_t)arg * 2654435761u + 1u;
    size_t i, iters = CHECK_ITERS(50000);
    long bad = 0;
    for (i = 0; i < iters; i++) {
        uint32_t k;
        seed ^= seed << 13; seed ^= seed >> 17; seed ^= seed << 5;
        k = seed % SLOTS;
        if (slot[k] != NULL && !check_verify(slot[k], len[k], k + (uint32_t)(uintptr_t)arg)) bad++;
        if (slot[k] != NULL && (seed & 0x100u) != 0u) {
            tl_free(slot[k]);
            slot[k] = NULL;
        } else {
            void *q;
            size_t n = 1u + (seed >> 20) % 700u;
            q = tl_realloc(slot[k], n);
            if (q != NULL) {
                slot[k] = q;
                len[k] = n;
                check_fill(q, n, k + (uint32_t)(uintptr_t)arg);
            }
        }
    }
    for (i = 0; i < SLOTS; i++) tl_free(slot[i]);
    return (void *)bad;
}

static void test_threads(void)
{
    pthread_t t[4];
    void *bad;
    uintptr_t i;
    tarn_heap_stats s0 = stats();
    for (i = 0; i < 4; i++) REQUIRE(pthread_create(&t[i], NULL, worker, (void *)(i + 1)) == 0);
    for (i = 0; i < 4; i++) {
        REQUIRE(pthread_join(t[i], &bad) == 0);
        CHECK(bad == NULL);
    }
    CHECK_EQ(stats().used, s0.used);
    CHECK_EQ(tarn_malloc_bad_frees(), 0);
}

#if TARN_MALLOC_REPORT && defined(__linux__) && TARN_MALLOC_LOCK == 2
#include <stdio.h>
#include <time.h>

static int report_started, report_done;

static void *reporter(void *arg)
{
    (void)arg;
    __atomic_store_n(&report_started, 1, __ATOMIC_RELEASE);
    tarn_malloc_report();
    __atomic_store_n(&report_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* The report at exit (TARN_MALLOC_STATS) reads the statistics and runs the full check
 * under the lock: while another thread is inside a call (here: this one, holding the lock
 * until its free is done) it waits, and its line counts that call.  It used to read the
 * heap without the lock, so a thread still calling malloc or free while exit() ran the
 * destructors made the check walk a heap in the middle of a change and report CORRUPT
 * (now and then in port_libc_preload's Python part, four threads). */
static void test_report_locked(void)
{
    const char *dir = getenv("TMPDIR");
    char path[512], line[256];
    struct timespec pause = {0, 200000000L};
    tarn_heap_stats s;
    pthread_t t;
    FILE *f;
    int fd, n;
    size_t allocs = 0, frees = 0, len;
    void *a = tl_malloc(100);
    REQUIRE(a != NULL);
    if (dir == NULL || *dir == '\0') dir = "/tmp";
    n = snprintf(path, sizeof path, "%s/tarn_report_XXXXXX", dir);
    REQUIRE(n > 0 && (size_t)n < sizeof path);
    fd = mkstemp(path);
    REQUIRE(fd >= 0);
    (void)close(fd);
    REQUIRE(setenv("TARN_MALLOC_STATS", path, 1) == 0);

    spin_lock();                    /* another thread is inside malloc */
    REQUIRE(pthread_create(&t, NULL, reporter, NULL) == 0);
    while (!__atomic_load_n(&report_started, __ATOMIC_ACQUIRE)) (void)sched_yield();
    (void)nanosleep(&pause, NULL);
    CHECK(!__atomic_load_n(&report_done, __ATOMIC_ACQUIRE));   /* it waits for the lock */
    CHECK_EQ(tarn_heap_free(heap, a), TARN_OK);                 /* that call's own work */
    UNLOCK();
    REQUIRE(pthread_join(t, NULL) == 0);
    CHECK(__atomic_load_n(&report_done, __ATOMIC_ACQUIRE));

    /* one line, taken after the free */
    s = stats();
    f = fopen(path, "r");
    REQUIRE(f != NULL);
    REQUIRE(fgets(line, sizeof line, f) != NULL);
    CHECK(fgetc(f) == EOF);
    (void)fclose(f);
    (void)remove(path);
    CHECK_EQ(sscanf(line, "tarn-malloc: allocs %zu frees %zu", &allocs, &frees), 2);
    CHECK_EQ(allocs, s.total_allocs);
    CHECK_EQ(frees, s.total_frees);
    len = strlen(line);
    CHECK(len > 10 && strcmp(line + len - 10, " check ok\n") == 0);
    REQUIRE(unsetenv("TARN_MALLOC_STATS") == 0);   /* no line at this program's exit */
}
#endif

int main(void)
{
    /* the heap goes where it is told, once */
    CHECK_EQ(tarn_malloc_use(NULL, 100), TARN_EINVAL);
    CHECK_EQ(tarn_malloc_use(arena.b, 16), TARN_ETOOSMALL);
    REQUIRE(tarn_malloc_use(arena.b, sizeof arena.b) == TARN_OK);
    CHECK_EQ(tarn_malloc_use(arena.b, sizeof arena.b), TARN_EBUSY);
    test_malloc_free();
    test_calloc();
    test_realloc();
    test_alignment();
    test_bad_pointers();
    test_exhaustion();
    test_threads();
#if TARN_MALLOC_REPORT && defined(__linux__) && TARN_MALLOC_LOCK == 2
    test_report_locked();
#endif
    return check_done();
}
