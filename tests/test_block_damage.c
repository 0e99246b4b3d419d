/* tarn-test: host-only */
/*
 * tests/test_block_damage.c - damage containment of the block pools: a buggy write into a
 * pool's buffer must never become a write somewhere else.
 *
 * Each trial runs in its own process: a pool over a buffer between two guard zones, a few
 * random gets and puts, ONE corruption of the kind under test, then ~200 more random gets
 * and puts.  Every live block has a shadow copy.  After each call the harness looks for a
 * harmful outcome:
 *   ptr    a get returned a pointer that is not a block start of the pool
 *   twice  a get returned a block that is already handed out
 *   live   a live block's bytes changed (other than by the corruption itself)
 *   out    a byte outside the buffer changed (other than by the corruption itself)
 *   served (block pool) a get returned a block after a get had reported TARN_ECORRUPT
 *          (damage to the free list: the pool must refuse gets until it is initialised
 *          again; a put's TARN_ECORRUPT for a damaged guard concerns that block only)
 *   edbl   (kind "stale write, 2nd put") the second put was not TARN_EDOUBLE
 *   crash  the trial died of a signal or hung
 * Kinds: overrun past a live block (1..64 bytes), write after free (the link words of a
 * freed block), a wild write anywhere in the buffer, and a write after free followed by a
 * second put of the same block.  The check, walk and statistics functions run at the end
 * of every trial (they must not crash whatever the buffer holds).
 *
 * Fixed seed; `test_block_damage N` runs N trials per kind (default 120, fewer under
 * TARN_TEST_SCALE).  Prints a table (harmful trials, and trials in which some call
 * reported TARN_ECORRUPT: the damage was seen); fails on any harmful outcome.  This file compiles
 * src/block.c and src/lfblock.c itself with the sanitizer annotations off, so that the
 * harness can write into free blocks as buggy firmware would (the checks, guard and
 * poison options of the build stay as configured).  POSIX hosts only (fork).
 */
#define _DEFAULT_SOURCE 1 /* MAP_ANONYMOUS */
#undef TARN_SANITIZE
#define TARN_SANITIZE 0
#include "block.c"
#include "lfblock.c"

#include "check.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define D_NB 32u
#define D_SZ 16u
#define D_GUARD 256u
#define D_OPS 200
#define D_BUF_BLOCK TARN_BLOCK_POOL_BYTES(D_NB, D_SZ)
#define D_BUF_LF TARN_LFBLOCK_POOL_BYTES(D_NB, D_SZ)
#define D_BUF_MAX (D_BUF_BLOCK > D_BUF_LF ? D_BUF_BLOCK : D_BUF_LF)

enum { K_OVERRUN, K_WAF, K_WILD, K_WAF_PUT, K_KINDS };
static const char *const kind_name[K_KINDS] = {"overrun <= 64 B past a live block",
                                               "write after free", "wild write into buffer",
                                               "write after free, then 2nd put"};
enum { H_PTR = 1, H_TWICE = 2, H_LIVE = 4, H_OUT = 8, H_SERVED = 16, H_EDBL = 32 };
#define H_HARM 63         /* the harmful outcomes above */
#define I_CAUGHT 64       /* not harm: some call reported TARN_ECORRUPT (damage seen) */

/* The arena: guard zone, buffer, guard zone. */
static unsigned char arena[D_GUARD + D_BUF_MAX + D_GUARD] __attribute__((aligned(64)));
static unsigned char arena_snap[sizeof arena];
#define BUF (arena + D_GUARD)

/* ---- the module under test, behind a few function pointers ----------------------------- */
typedef struct dmod {
    const char *name;
    size_t buf_bytes;
    size_t stride;       /* distance between blocks */
    size_t blocks_off;   /* first block's offset in the buffer */
    size_t usable;
    void (*init)(void);
    void *(*get)(void);
    tarn_status (*put)(void *);
    tarn_status (*last)(void);
    void (*debug)(void);   /* check, walk, stats */
    bool sticky;           /* refuses every get after reporting TARN_ECORRUPT */
} dmod;

static tarn_block_pool bp;
static tarn_lfblock_pool lp;

static bool walk_cb(void *ctx, void *block, size_t size, bool used)
{
    (void)ctx; (void)block; (void)size; (void)used;
    return true;
}
static void b_init(void) { REQUIRE(tarn_block_init(&bp, BUF, D_BUF_BLOCK, D_SZ, NULL) == TARN_OK); }
static void *b_get(void) { return tarn_block_get(&bp); }
static tarn_status b_put(void *p) { return tarn_block_put(&bp, p); }
static tarn_status b_last(void) { return tarn_block_last_error(&bp); }
static void b_debug(void)
{
    tarn_block_stats st;
    (void)tarn_block_check(&bp);
    (void)tarn_block_walk(&bp, walk_cb, NULL);
    (void)tarn_block_stats_get(&bp, &st);
    (void)tarn_block_next_free(&bp);
}
static void l_init(void) { REQUIRE(tarn_lfblock_init(&lp, BUF, D_BUF_LF, D_SZ, NULL) == TARN_OK); }
static void *l_get(void) { return tarn_lfblock_get(&lp); }
static tarn_status l_put(void *p) { return tarn_lfblock_put(&lp, p); }
static tarn_status l_last(void) { return tarn_lfblock_last_error(&lp); }
static void l_debug(void)
{
    tarn_lfblock_stats st;
    (void)tarn_lfblock_check(&lp);
    (void)tarn_lfblock_stats_get(&lp, &st);
}

static dmod mods[2];

/* ---- one trial (in a child process) ---------------------------------------------------- */
static uint64_t rs;
static uint32_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)(rs >> 11);
}

static unsigned char *live[D_NB];
static unsigned char shadow[D_NB][D_SZ + 64];
static unsigned nlive;
static volatile int *harm_shared;   /* the child's findings, kept if it crashes */
static int harm;
#define NOTE() (*harm_shared = harm)
static bool corrupt_seen;

static bool is_block(const dmod *m, const unsigned char *p)
{
    size_t off;
    if (p < BUF + m->blocks_off) return false;
    off = (size_t)(p - (BUF + m->blocks_off));
    return off < (size_t)D_NB * m->stride && off % m->stride == 0;
}

static void snap_all(const dmod *m)
{
    unsigned i;
    memcpy(arena_snap, arena, sizeof arena);
    for (i = 0; i < nlive; i++) memcpy(shadow[i], live[i], m->usable);
}

/* After every call: live blocks and the bytes outside the buffer are as they were. */
static void verify(const dmod *m)
{
    unsigned i;
    for (i = 0; i < nlive; i++) {
        if (memcmp(shadow[i], live[i], m->usable) != 0) harm |= H_LIVE;
    }
    if (memcmp(arena_snap, arena, D_GUARD) != 0 ||
        memcmp(arena_snap + D_GUARD + m->buf_bytes, arena + D_GUARD + m->buf_bytes,
               sizeof arena - D_GUARD - m->buf_bytes) != 0) {
        harm |= H_OUT;
    }
    NOTE();
}

static void do_get(const dmod *m)
{
    unsigned char *p = (unsigned char *)m->get();
    unsigned i;
    if (p == NULL) {
        if (m->last() == TARN_ECORRUPT) {
            harm |= I_CAUGHT;
            NOTE();
        }
        /* the block pool refuses gets once a get has found damage (until init or clear);
         * the lock-free pool refuses each damaged link it meets but keeps no such state */
        if (m->last() == TARN_ECORRUPT && m->sticky) corrupt_seen = true;
        verify(m);
        return;
    }
    if (corrupt_seen) harm |= H_SERVED;
    verify(m);
    if (!is_block(m, p)) {
        harm |= H_PTR;
        NOTE();
        return;   /* never write through it */
    }
    for (i = 0; i < nlive; i++) {
        if (live[i] == p) {
            harm |= H_TWICE;
            NOTE();
            return;
        }
    }
    if (nlive == D_NB) {
        harm |= H_TWICE;  /* more blocks than the pool has */
        NOTE();
        return;
    }
    for (i = 0; i < m->usable; i++) p[i] = (unsigned char)rnd();
    live[nlive] = p;
    memcpy(shadow[nlive], p, m->usable);
    nlive++;
}

static tarn_status do_put(const dmod *m, unsigned k)
{
    tarn_status st = m->put(live[k]);
    if (st == TARN_ECORRUPT) harm |= I_CAUGHT;
    if (st != TARN_OK) {
        verify(m);   /* refused: the block stays the caller's */
        return st;
    }
    live[k] = live[nlive - 1];
    memcpy(shadow[k], shadow[nlive - 1], m->usable);
    nlive--;
    verify(m);
    return st;
}

static void random_ops(const dmod *m, int n)
{
    int i;
    for (i = 0; i < n; i++) {
        if (nlive == 0 || (nlive < D_NB && (rnd() & 1u))) {
            do_get(m);
        } else {
            (void)do_put(m, rnd() % nlive);
        }
    }
}

/* A value a buggy program might leave in a word of the pool's memory. */
static uintptr_t bad_value(const dmod *m)
{
    switch (rnd() % 10u) {
    case 0: return (uintptr_t)(arena + 8u * (rnd() % (D_GUARD / 8u)));          /* before */
    case 1: return (uintptr_t)(BUF + m->buf_bytes + 8u * (rnd() % (D_GUARD / 8u - 8u)));
    case 2: return nlive ? (uintptr_t)live[rnd() % nlive] : 0u;                  /* live block */
    case 3: return (uintptr_t)(BUF + m->blocks_off + (rnd() % D_NB) * m->stride); /* any block */
    case 4: return (uintptr_t)(BUF + m->blocks_off + (rnd() % D_NB) * m->stride + 1u + rnd() % 7u);
    case 5: return 0u;
    case 6: return (uintptr_t)(rnd() % (D_NB + 3u));                             /* an index */
    case 7: return (uintptr_t)-1;
    case 8: return (uintptr_t)rnd() * 0x10001u;
    default: return (uintptr_t)rnd();
    }
}

/* Write `n` bytes at p: a bad value's bytes, zeros or random bytes. */
static void scribble(const dmod *m, unsigned char *p, size_t n)
{
    unsigned how = rnd() % 3u;
    size_t i;
    for (i = 0; i < n; i += sizeof(uintptr_t)) {
        uintptr_t v = how == 0 ? bad_value(m) : how == 1 ? 0u : ((uintptr_t)rnd() << 16) ^ rnd();
        size_t c = n - i < sizeof v ? n - i : sizeof v;
        memcpy(p + i, &v, c);
    }
}

static int trial(const dmod *m, int kind, uint64_t seed)
{
    unsigned char *a;
    rs = seed * 0x9E3779B97F4A7C15ull + 1u;
    nlive = 0;
    harm = 0;
    corrupt_seen = false;
    alarm(10);
    memset(arena, 0xA5, sizeof arena);
    m->init();
    snap_all(m);
    random_ops(m, (int)(rnd() % 40u));
    if (nlive == 0) do_get(m);
    snap_all(m);
    switch (kind) {
    case K_OVERRUN: {
        unsigned char *b = live[rnd() % nlive];
        size_t n = 1u + rnd() % 64u;
        unsigned char *end = BUF + m->buf_bytes + D_GUARD;
        if (b + m->usable + n > end) n = (size_t)(end - b - m->usable);
        scribble(m, b + m->usable, n);
        break;
    }
    case K_WAF:
    case K_WAF_PUT: {
        unsigned k = rnd() % nlive;
        a = live[k];
        if (do_put(m, k) != TARN_OK) return harm;  /* put refused: nothing to do */
        scribble(m, a, rnd() % 2u ? D_SZ : sizeof(uintptr_t) * (1u + rnd() % 2u));
        snap_all(m);
        if (kind == K_WAF_PUT) {
            tarn_status st = m->put(a);
            if (st != TARN_EDOUBLE) harm |= H_EDBL;
            NOTE();
            verify(m);
        }
        break;
    }
    default: { /* K_WILD */
        size_t off = rnd() % m->buf_bytes;
        size_t n = 1u + rnd() % 8u;
        if (off + n > m->buf_bytes) n = m->buf_bytes - off;
        scribble(m, BUF + off, n);
        break;
    }
    }
    snap_all(m);
    random_ops(m, D_OPS);
    m->debug();
    verify(m);
    return harm & H_HARM;
}

int main(int argc, char **argv)
{
    static const char *const hname[] = {"ptr", "twice", "live", "out", "served", "edbl"};
    int trials = CHECK_ITERS(120), mi, kind, t, h, total_harm = 0;
    if (argc > 1) trials = atoi(argv[1]);
    harm_shared = (volatile int *)mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
                                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(harm_shared != (volatile int *)MAP_FAILED);
    if (trials < 1) trials = 1;

    mods[0] = (dmod){"block", D_BUF_BLOCK, TARN_BLOCK_SIZE(D_SZ), 0, TARN_BLOCK_USABLE(D_SZ),
                     b_init, b_get, b_put, b_last, b_debug, true};
    mods[1] = (dmod){"lfblock", D_BUF_LF, TARN_LFBLOCK_SIZE(D_SZ), TARN_LFBLOCK_META_BYTES(D_NB),
                     TARN_LFBLOCK_USABLE(D_SZ), l_init, l_get, l_put, l_last, l_debug, false};

    printf("damage containment, %d trials per kind, %u blocks of %u bytes, %d calls after\n",
           trials, D_NB, D_SZ, D_OPS);
    printf("%-8s | %-34s | %8s | %8s | %s\n", "module", "corruption", "harmful", "ECORRUPT",
           "harmful outcomes");
    for (mi = 0; mi < 2; mi++) {
        const dmod *m = &mods[mi];
        for (kind = 0; kind < K_KINDS; kind++) {
            int bad = 0, crash = 0, caught = 0, counts[6] = {0};
            char detail[160];
            size_t dl = 0;
            for (t = 0; t < trials; t++) {
                int status = 0;
                pid_t pid;
                fflush(stdout);
                *harm_shared = 0;
                pid = fork();
                REQUIRE(pid >= 0);
                if (pid == 0) _exit(trial(m, kind, (uint64_t)(mi * 1000003 + kind * 100003 + t)));
                REQUIRE(waitpid(pid, &status, 0) == pid);
                if (*harm_shared & I_CAUGHT) caught++;
                if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0)) {
                    int f = *harm_shared & H_HARM;
                    bad++;
                    if (WIFSIGNALED(status)) crash++;
                    for (h = 0; h < 6; h++) counts[h] += (f >> h) & 1;
                }
            }
            detail[0] = '\0';
            for (h = 0; h < 6; h++) {
                if (counts[h]) dl += (size_t)snprintf(detail + dl, sizeof detail - dl, "%s %d ", hname[h], counts[h]);
            }
            if (crash) (void)snprintf(detail + dl, sizeof detail - dl, "crash %d", crash);
            printf("%-8s | %-34s | %4d/%-4d| %8d | %s\n", m->name, kind_name[kind], bad, trials,
                   caught, bad ? detail : "-");
            total_harm += bad;
        }
    }
    CHECK_EQ(total_harm, 0);
    return check_done();
}
