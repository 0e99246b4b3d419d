/*
 * tests/test_lfblock.c - lock-free block pool, single context: API, every bad input,
 * integrity check against corruption, the ABA tag, and a model-based random test.
 *
 * Also compiled by test_lfblock_word32.c and test_lfblock_fallback.c with another
 * TARN_LFBLOCK_WORD_BITS (they include src/lfblock.c first, then this file).
 */
#include "check.h"
#include "tarn/lfblock.h"
#include "internal.h"
#include "support/lock_hook.h"
#include "support/pool_checks.h"

#define NB 37u
#define BS 20u

static unsigned char mem[TARN_LFBLOCK_POOL_BYTES(NB, BS) + 64] TARN_LFBLOCK_ALIGNED;

/* A config with the counting lock hook (support/lock_hook.h).  The lock-free build must
 * never call it from get/put; the fallback build must call it exactly once per call. */
static tarn_config hook_cfg(const char *name)
{
    tarn_config c;
    memset(&c, 0, sizeof c);
    c.lock = LOCK_HOOK;
    c.name = name;
    return c;
}
/* Lock calls one get or put costs in this build. */
#define CALLS_PER_OP (TARN_LFBLOCK_LOCK_FREE ? 0 : 1)
#define WORD_BITS (TARN_LFBLOCK_WORD_BITS == 64 ? 64u : 32u)

static void test_sizing(void)
{
    /* G = guard bytes in canary mode, else 0 */
    CHECK(TARN_LFBLOCK_SIZE(1) == TARN_ALIGN_UP(1u + TARN_LFBLOCK_GUARD, 4u));
    CHECK(TARN_LFBLOCK_SIZE(0) == TARN_LFBLOCK_SIZE(1));
    CHECK(TARN_LFBLOCK_SIZE(BS) % 4u == 0 && TARN_LFBLOCK_USABLE(BS) >= BS);
    CHECK(TARN_LFBLOCK_SIZE(TARN_ALIGN * 3u) == TARN_ALIGN_UP(TARN_ALIGN * 3u + TARN_LFBLOCK_GUARD, 4u));
    /* blocks take what their size needs: 12-byte blocks 12 bytes, 4-aligned */
    CHECK(TARN_LFBLOCK_SIZE(12) == 12u + TARN_LFBLOCK_GUARD || TARN_LFBLOCK_GUARD % 4u != 0);
    CHECK(TARN_LFBLOCK_GUARD != 0 || (TARN_LFBLOCK_ALIGN_OF(12) == 4u && TARN_LFBLOCK_ALIGN_OF(3) == 4u));
    CHECK(TARN_LFBLOCK_ALIGN_OF(TARN_ALIGN * 3u) == TARN_ALIGN || TARN_LFBLOCK_GUARD != 0);
    CHECK(TARN_LFBLOCK_ALIGN_OF(BS) <= TARN_ALIGN && TARN_LFBLOCK_SIZE(BS) % TARN_LFBLOCK_ALIGN_OF(BS) == 0);
    CHECK(TARN_LFBLOCK_USABLE(BS) + TARN_LFBLOCK_GUARD == TARN_LFBLOCK_SIZE(BS));
    CHECK(TARN_LFBLOCK_META_BYTES(1) == TARN_ALIGN_UP(4u, TARN_ALIGN));
    CHECK(TARN_LFBLOCK_POOL_BYTES(NB, BS) ==
          TARN_ALIGN_UP(NB * 4u, TARN_ALIGN) + NB * TARN_LFBLOCK_SIZE(BS));
    CHECK(TARN_LFBLOCK_MIN_SIZE(BS) == TARN_LFBLOCK_POOL_BYTES(1, BS));
#if TARN_LFBLOCK_WORD_BITS == 64
    CHECK(TARN_LFBLOCK_LOCK_FREE == 1 && sizeof(tarn_lfblock_word) == 8);
#elif TARN_LFBLOCK_WORD_BITS == 32
    CHECK(TARN_LFBLOCK_LOCK_FREE == 1 && sizeof(tarn_lfblock_word) == 4);
#else
    CHECK(TARN_LFBLOCK_LOCK_FREE == 0);
#endif
}

/* Init fits exactly POOL_BYTES(n, size) to n blocks (one byte less: n - 1) for sizes whose
 * stride is below TARN_ALIGN too (the state words round up to TARN_ALIGN), every block
 * aligned to TARN_LFBLOCK_ALIGN_OF(size) and inside the buffer. */
static void test_fit(void)
{
    static const size_t sizes[] = {1u, 3u, 4u, 6u, 12u, 20u, 24u, 100u};
    static unsigned char fit_mem[TARN_LFBLOCK_POOL_BYTES(40, 100)] TARN_LFBLOCK_ALIGNED;
    unsigned si, n, i;
    for (si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        size_t sz = sizes[si];
        for (n = 1; n <= 40u; n++) {
            tarn_lfblock_pool p;
            tarn_config cfg = hook_cfg("fit");
            size_t bytes = TARN_LFBLOCK_POOL_BYTES(n, sz);
            REQUIRE(tarn_lfblock_init(&p, fit_mem, bytes, sz, &cfg) == TARN_OK);
            CHECK_EQ(tarn_lfblock_count(&p), n);
            for (i = 0; i < n; i++) {
                unsigned char *b = (unsigned char *)tarn_lfblock_get(&p);
                REQUIRE(b != NULL);
                CHECK(TARN_IS_ALIGNED(b, TARN_LFBLOCK_ALIGN_OF(sz)));
                CHECK(b >= fit_mem + TARN_LFBLOCK_META_BYTES(n) &&
                      b + TARN_LFBLOCK_SIZE(sz) <= fit_mem + bytes);
            }
            CHECK(tarn_lfblock_get(&p) == NULL);
            if (n > 1u) {
                REQUIRE(tarn_lfblock_init(&p, fit_mem, bytes - 1u, sz, &cfg) == TARN_OK);
                CHECK_EQ(tarn_lfblock_count(&p), n - 1u);
            } else {
                CHECK_EQ(tarn_lfblock_init(&p, fit_mem, bytes - 1u, sz, &cfg), TARN_ETOOSMALL);
            }
        }
    }
}

static void test_init_errors(void)
{
    tarn_lfblock_pool p;
    tarn_config cfg = hook_cfg(NULL);
    unsigned n;
    CHECK_EQ(tarn_lfblock_init(NULL, mem, sizeof mem, BS, &cfg), TARN_EINVAL);
    CHECK_EQ(tarn_lfblock_init(&p, NULL, sizeof mem, BS, &cfg), TARN_EINVAL);
    CHECK_EQ(tarn_lfblock_last_error(&p), TARN_EINVAL);
    /* a failed init leaves an empty pool on which every call fails cleanly */
    CHECK(tarn_lfblock_get(&p) == NULL);
    CHECK_EQ(tarn_lfblock_put(&p, mem), TARN_EFOREIGN);
    CHECK_EQ(tarn_lfblock_validate(&p, mem), TARN_EFOREIGN);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    CHECK_EQ(tarn_lfblock_count(&p), 0);
    CHECK_EQ(tarn_lfblock_index(&p, mem), -1);
    CHECK_EQ(tarn_lfblock_init(&p, mem, sizeof mem, 0, &cfg), TARN_EINVAL);
    CHECK_EQ(tarn_lfblock_init(&p, mem + 1, sizeof mem - 1, BS, &cfg), TARN_EALIGN);
    CHECK_EQ(tarn_lfblock_last_error(&p), TARN_EALIGN);
    CHECK_EQ(tarn_lfblock_init(&p, mem + TARN_ALIGN / 2, sizeof mem - 8, BS, &cfg), TARN_EALIGN);
    CHECK_EQ(tarn_lfblock_init(&p, mem, TARN_LFBLOCK_MIN_SIZE(BS) - 1, BS, &cfg), TARN_ETOOSMALL);
    CHECK_EQ(tarn_lfblock_last_error(&p), TARN_ETOOSMALL);
    CHECK_EQ(tarn_lfblock_init(&p, mem, 0, BS, &cfg), TARN_ETOOSMALL);
    CHECK_EQ(tarn_lfblock_init(&p, mem, sizeof mem, SIZE_MAX, &cfg), TARN_EOVERFLOW);
    CHECK_EQ(tarn_lfblock_init(&p, mem, sizeof mem, (size_t)UINT32_MAX, &cfg), TARN_EOVERFLOW);
    cfg.lock.unlock = NULL; /* half a hook */
    CHECK_EQ(tarn_lfblock_init(&p, mem, sizeof mem, BS, &cfg), TARN_EINVAL);
    cfg = hook_cfg(NULL);
    cfg.lock.lock = NULL;
    CHECK_EQ(tarn_lfblock_init(&p, mem, sizeof mem, BS, &cfg), TARN_EINVAL);
    /* no hook at all: fine when lock-free, refused by the fallback */
    CHECK_EQ(tarn_lfblock_init(&p, mem, sizeof mem, BS, NULL),
             (TARN_LFBLOCK_LOCK_FREE || !TARN_LOCKING) ? TARN_OK : TARN_EINVAL);
    cfg = hook_cfg(NULL);
    /* exactly one block fits in MIN_SIZE */
    CHECK_EQ(tarn_lfblock_init(&p, mem, TARN_LFBLOCK_MIN_SIZE(BS), BS, &cfg), TARN_OK);
    CHECK_EQ(tarn_lfblock_count(&p), 1);
    {
        void *a = tarn_lfblock_get(&p);
        CHECK(a == (void *)(mem + TARN_LFBLOCK_META_BYTES(1)));
        CHECK(tarn_lfblock_get(&p) == NULL);
        CHECK_EQ(tarn_lfblock_last_error(&p), TARN_ENOMEM);
        CHECK_EQ(tarn_lfblock_put(&p, a), TARN_OK);
        CHECK(tarn_lfblock_get(&p) == a);
        CHECK_EQ(tarn_lfblock_put(&p, a), TARN_OK);
    }
    /* the buffer size gives exactly the count the sizing macro promises, for many n */
    for (n = 1; n <= NB; n++) {
        CHECK_EQ(tarn_lfblock_init(&p, mem, TARN_LFBLOCK_POOL_BYTES(n, BS), BS, &cfg), TARN_OK);
        CHECK_EQ(tarn_lfblock_count(&p), n);
        CHECK_EQ(tarn_lfblock_init(&p, mem, TARN_LFBLOCK_POOL_BYTES(n, BS) - 1, BS, &cfg),
                 n == 1 ? TARN_ETOOSMALL : TARN_OK);
        CHECK_EQ(tarn_lfblock_count(&p), n - 1);
    }
    /* garbage in the buffer before init changes nothing */
    TARN_SAN_DEFINED(mem, sizeof mem); /* the last pool made its free blocks NOACCESS */
    memset(mem, 0xA5, sizeof mem);
    CHECK_EQ(tarn_lfblock_init(&p, mem, sizeof mem, BS, &cfg), TARN_OK);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    memset(mem, 0xFF, TARN_LFBLOCK_META_BYTES(NB)); /* state words that look "handed out" */
    CHECK_EQ(tarn_lfblock_init(&p, mem, sizeof mem, BS, &cfg), TARN_OK);
    CHECK_EQ(tarn_lfblock_put(&p, mem + TARN_LFBLOCK_META_BYTES(tarn_lfblock_count(&p))),
             TARN_EDOUBLE); /* never carved: free, whatever its state word says */
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    /* NULL everywhere */
    CHECK(tarn_lfblock_get(NULL) == NULL);
    CHECK_EQ(tarn_lfblock_put(NULL, mem), TARN_EINVAL);
    CHECK_EQ(tarn_lfblock_put(&p, NULL), TARN_EINVAL);
    CHECK_EQ(tarn_lfblock_last_error(&p), TARN_EINVAL);
    CHECK_EQ(tarn_lfblock_validate(NULL, mem), TARN_EINVAL);
    CHECK_EQ(tarn_lfblock_validate(&p, NULL), TARN_EINVAL);
    CHECK_EQ(tarn_lfblock_check(NULL), TARN_EINVAL);
    CHECK_EQ(tarn_lfblock_stats_get(NULL, NULL), TARN_EINVAL);
    CHECK_EQ(tarn_lfblock_stats_get(&p, NULL), TARN_EINVAL);
    CHECK_EQ(tarn_lfblock_last_error(NULL), TARN_EINVAL);
    CHECK(tarn_lfblock_name(NULL) == NULL && tarn_lfblock_size(NULL) == 0);
    CHECK(tarn_lfblock_count(NULL) == 0 && tarn_lfblock_index(NULL, mem) == -1);
    CHECK(!tarn_lfblock_owns(NULL, mem) && !tarn_lfblock_owns(&p, NULL));
    CHECK_EQ(lock_bad, 0);
}

static void test_basic(void)
{
    tarn_lfblock_pool p;
    tarn_lfblock_stats st;
    tarn_config cfg = hook_cfg("basic");
    void *b[NB];
    unsigned i;
    int calls;
    unsigned char *base = mem + TARN_LFBLOCK_META_BYTES(NB);

    REQUIRE(tarn_lfblock_init(&p, mem, TARN_LFBLOCK_POOL_BYTES(NB, BS), BS, &cfg) == TARN_OK);
    CHECK(strcmp(tarn_lfblock_name(&p), "basic") == 0);
    CHECK_EQ(tarn_lfblock_size(&p), TARN_LFBLOCK_USABLE(BS));
    CHECK_EQ(tarn_lfblock_count(&p), NB);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    calls = lock_calls;
    for (i = 0; i < NB; i++) {
        b[i] = tarn_lfblock_get(&p);
        REQUIRE(b[i] != NULL);
        CHECK(b[i] == (void *)(base + i * TARN_LFBLOCK_SIZE(BS))); /* carved in order */
        CHECK(TARN_IS_ALIGNED(b[i], TARN_LFBLOCK_ALIGN_OF(BS)));
        CHECK(tarn_lfblock_owns(&p, b[i]));
        CHECK_EQ(tarn_lfblock_index(&p, b[i]), (long)i);
        check_fill(b[i], BS, i);
    }
    CHECK_EQ(lock_calls - calls, NB * CALLS_PER_OP);
    for (i = 0; i < NB; i++) CHECK_EQ(tarn_lfblock_validate(&p, b[i]), TARN_OK);
    CHECK(tarn_lfblock_get(&p) == NULL);
    CHECK(tarn_lfblock_get(&p) == NULL);
    CHECK_EQ(tarn_lfblock_last_error(&p), TARN_ENOMEM);
    CHECK_EQ(tarn_lfblock_stats_get(&p, &st), TARN_OK);
    CHECK_EQ(st.count, NB);
    CHECK_EQ(st.block_size, TARN_LFBLOCK_USABLE(BS));
#if TARN_STATS
    CHECK_EQ(st.free, 0);
    CHECK_EQ(st.min_free, 0);
    CHECK_EQ(st.failed_gets, 2);
    CHECK_EQ(st.retries, 0); /* one context: no CAS can fail */
#endif
    CHECK_EQ(st.lock_free, TARN_LFBLOCK_LOCK_FREE);
    /* 37 blocks: index 0..37 needs 6 bits */
    CHECK_EQ(st.tag_bits, TARN_LFBLOCK_LOCK_FREE ? WORD_BITS - 6u : 0u);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    for (i = 0; i < NB; i++) CHECK(check_verify(b[i], BS, i));
    /* put in a scrambled order, get back LIFO */
    calls = lock_calls;
    for (i = 0; i < NB; i += 2) CHECK_EQ(tarn_lfblock_put(&p, b[i]), TARN_OK);
    CHECK_EQ(lock_calls - calls, ((NB + 1) / 2) * CALLS_PER_OP);
    for (i = 1; i < NB; i += 2) CHECK(check_verify(b[i], BS, i));
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    CHECK(tarn_lfblock_get(&p) == b[(NB - 1) & ~1u]);
    CHECK(tarn_lfblock_get(&p) == b[((NB - 1) & ~1u) - 2]);
#if TARN_STATS
    CHECK_EQ(tarn_lfblock_stats_get(&p, &st), TARN_OK);
    CHECK_EQ(st.free, (NB + 1) / 2 - 2);
    CHECK_EQ(st.min_free, 0);
#endif
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    CHECK_EQ(lock_bad, 0);
    CHECK_EQ(lock_depth, 0);
}

/* Watermark and free count follow a known sequence exactly. */
static void test_stats_exact(void)
{
#if TARN_STATS
    tarn_lfblock_pool p;
    tarn_lfblock_stats st;
    tarn_config cfg = hook_cfg(NULL);
    void *b[NB];
    unsigned i;
    REQUIRE(tarn_lfblock_init(&p, mem, sizeof mem, BS, &cfg) == TARN_OK);
    REQUIRE(tarn_lfblock_count(&p) >= 10);
    for (i = 0; i < 7; i++) b[i] = tarn_lfblock_get(&p);
    for (i = 0; i < 4; i++) CHECK_EQ(tarn_lfblock_put(&p, b[i]), TARN_OK);
    for (i = 0; i < 2; i++) b[i] = tarn_lfblock_get(&p);
    CHECK_EQ(tarn_lfblock_stats_get(&p, &st), TARN_OK);
    CHECK_EQ(st.free, st.count - 5);
    CHECK_EQ(st.min_free, st.count - 7);
    CHECK_EQ(st.failed_gets, 0);
#endif
}

static void test_bad_puts(void)
{
    tarn_lfblock_pool p, q;
    static unsigned char other[TARN_LFBLOCK_POOL_BYTES(4, BS)] TARN_LFBLOCK_ALIGNED;
    tarn_config cfg = hook_cfg(NULL);
    unsigned char *a, *b2, *c;
    tarn_lfblock_stats st;
    REQUIRE(tarn_lfblock_init(&p, mem, TARN_LFBLOCK_POOL_BYTES(3, BS), BS, &cfg) == TARN_OK);
    REQUIRE(tarn_lfblock_init(&q, other, sizeof other, BS, &cfg) == TARN_OK);
    POOL_GET3(tarn_lfblock, &p, &q, a, b2, c, BS);
    /* interior pointers */
    POOL_CHECK_INTERIOR_PUTS(tarn_lfblock, &p, a, b2);
    CHECK_EQ(tarn_lfblock_validate(&p, a + 1), TARN_EFOREIGN);
    CHECK_EQ(tarn_lfblock_index(&p, a + 1), -1);
    CHECK(!tarn_lfblock_owns(&p, b2 + 3));
    /* foreign: another pool, the state words, past the end, the stack */
    CHECK_EQ(tarn_lfblock_put(&p, c), TARN_EFOREIGN);
    CHECK_EQ(tarn_lfblock_put(&p, mem), TARN_EFOREIGN);
    CHECK_EQ(tarn_lfblock_put(&p, a - TARN_ALIGN), TARN_EFOREIGN);
    CHECK_EQ(tarn_lfblock_put(&p, mem + TARN_LFBLOCK_POOL_BYTES(3, BS)), TARN_EFOREIGN);
    CHECK_EQ(tarn_lfblock_put(&p, (unsigned char *)&p), TARN_EFOREIGN);
    CHECK_EQ(tarn_lfblock_last_error(&p), TARN_EFOREIGN);
    /* never handed out */
    CHECK_EQ(tarn_lfblock_put(&p, b2 + TARN_LFBLOCK_SIZE(BS)), TARN_EDOUBLE);
    CHECK_EQ(tarn_lfblock_validate(&p, b2 + TARN_LFBLOCK_SIZE(BS)), TARN_EDOUBLE);
    /* double put, also after other traffic */
    POOL_CHECK_DOUBLE_PUTS(tarn_lfblock, &p, &q, a, b2, c, BS);
    CHECK_EQ(tarn_lfblock_stats_get(&p, &st), TARN_OK);
    CHECK_EQ(st.free, 2);
    /* user data that looks like pool state is not mistaken for it (state is not inside) */
    memset(b2, 0xFF, BS);
    CHECK_EQ(tarn_lfblock_validate(&p, b2), TARN_OK);
    CHECK_EQ(tarn_lfblock_put(&p, b2), TARN_OK);
    /* after the bad puts each block is handed out once: the returned ones LIFO, then the
     * never-used one */
    CHECK(tarn_lfblock_get(&p) == b2);
    CHECK(tarn_lfblock_get(&p) == a);
    CHECK(tarn_lfblock_get(&p) == b2 + TARN_LFBLOCK_SIZE(BS));
    CHECK(tarn_lfblock_get(&p) == NULL);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
}

static void test_corruption(void)
{
    tarn_lfblock_pool p;
    tarn_config cfg = hook_cfg(NULL);
    unsigned char *a, *b2, *c;
    uint32_t save;
    long ia, ib;
    REQUIRE(tarn_lfblock_init(&p, mem, TARN_LFBLOCK_POOL_BYTES(NB, BS), BS, &cfg) == TARN_OK);
    a = (unsigned char *)tarn_lfblock_get(&p);
    b2 = (unsigned char *)tarn_lfblock_get(&p);
    c = (unsigned char *)tarn_lfblock_get(&p);
    REQUIRE(a && b2 && c);
    REQUIRE(tarn_lfblock_put(&p, a) == TARN_OK);
    REQUIRE(tarn_lfblock_put(&p, b2) == TARN_OK);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    ia = tarn_lfblock_index(&p, a);
    ib = tarn_lfblock_index(&p, b2);
    save = p.state[ib];
    CHECK_EQ(save, (uint32_t)ia); /* list: b2 -> a -> end */
    p.state[ib] = (uint32_t)ib;   /* a cycle */
    CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
    p.state[ib] = 30u;            /* a link to a never-carved block */
    CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
    p.state[ib] = 0xFFFFFFFFu;    /* a free block marked handed out */
    CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
    p.state[ib] = NB;             /* list cut short: a is lost */
    CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
    p.state[ib] = save;
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    p.state[tarn_lfblock_index(&p, c)] = NB; /* a handed-out block that looks free */
    CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
    p.state[tarn_lfblock_index(&p, c)] = 0xFFFFFFFFu;
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    p.carve = NB + 1;             /* carve index past the end */
    CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
    p.carve = 3;
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    {
        /* the layout fields the statistics and the check read the state words through:
         * a damaged one is refused by both before a state word is read through it (under
         * AddressSanitizer a read past the state words would be reported) */
        tarn_lfblock_pool saved = p;
        tarn_lfblock_stats st, st0;
        CHECK_EQ(tarn_lfblock_stats_get(&p, &st0), TARN_OK);
        CHECK_EQ(st0.free, NB - 1u);
        CHECK_EQ(st0.min_free, NB - 3u);
        p.count = NB * 64u;                           /* count grown: state words of more */
        CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
        st = st0;
        st.free = 12345u;
        CHECK_EQ(tarn_lfblock_stats_get(&p, &st), TARN_ECORRUPT);
        CHECK_EQ(st.free, 12345u);                    /* left as it was */
        p = saved;
        p.state += 2;                                 /* state words moved */
        CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
        CHECK_EQ(tarn_lfblock_stats_get(&p, &st), TARN_ECORRUPT);
        p = saved;
        p.base += TARN_LFBLOCK_SIZE(BS);              /* first block moved */
        CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
        CHECK_EQ(tarn_lfblock_stats_get(&p, &st), TARN_ECORRUPT);
        p = saved;
        p.state = NULL;
        CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
        CHECK_EQ(tarn_lfblock_stats_get(&p, &st), TARN_ECORRUPT);
        p = saved;
        p.carve = NB + 7u;                            /* read as count: the state words only */
        CHECK_EQ(tarn_lfblock_stats_get(&p, &st), TARN_OK);
        CHECK_EQ(st.min_free, 0u);
        p = saved;
        CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
        CHECK_EQ(tarn_lfblock_stats_get(&p, &st), TARN_OK);
        CHECK_EQ(st.free, st0.free);
    }
}

/* A get that meets a damaged link refuses it, and the pool stays refused (sticky) until
 * init, even after the damage is undone; puts still work. */
static void test_sticky_corrupt(void)
{
#if TARN_CHECK_LEVEL >= 1
    tarn_lfblock_pool p;
    tarn_config cfg = hook_cfg(NULL);
    void *a, *b2, *c, *all[NB];
    uint32_t save, k;
    long ib;
    tarn_status st = TARN_OK;
    REQUIRE(tarn_lfblock_init(&p, mem, TARN_LFBLOCK_POOL_BYTES(NB, BS), BS, &cfg) == TARN_OK);
    for (k = 0; k < NB; k++) REQUIRE((all[k] = tarn_lfblock_get(&p)) != NULL);
    a = all[0];
    b2 = all[1];
    c = all[2];
    REQUIRE(tarn_lfblock_put(&p, a) == TARN_OK);
    REQUIRE(tarn_lfblock_put(&p, b2) == TARN_OK); /* list: b2 -> a -> end */
    ib = tarn_lfblock_index(&p, b2);
    save = p.state[ib];
    p.state[ib] = (uint32_t)tarn_lfblock_index(&p, c); /* link to a handed-out block */
    CHECK(tarn_lfblock_get_status(&p, &st) == NULL);
    CHECK_EQ(st, TARN_ECORRUPT);
    CHECK_EQ(tarn_lfblock_last_error(&p), TARN_ECORRUPT);
    CHECK_EQ(p.state[tarn_lfblock_index(&p, c)], 0xFFFFFFFFu); /* nothing changed */
    p.state[ib] = save;             /* the damage undone: still refused */
    CHECK(tarn_lfblock_get_status(&p, &st) == NULL);
    CHECK_EQ(st, TARN_ECORRUPT);
    CHECK(tarn_lfblock_get(&p) == NULL);
    CHECK_EQ(tarn_lfblock_last_error(&p), TARN_ECORRUPT);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_ECORRUPT);
    CHECK_EQ(tarn_lfblock_put(&p, c), TARN_OK); /* puts still accepted */
    CHECK(tarn_lfblock_get(&p) == NULL);
    /* init clears it */
    REQUIRE(tarn_lfblock_init(&p, mem, TARN_LFBLOCK_POOL_BYTES(NB, BS), BS, &cfg) == TARN_OK);
    CHECK(tarn_lfblock_get_status(&p, &st) != NULL);
    CHECK_EQ(st, TARN_OK);
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
#endif
}

/* The head word carries a tag that every successful list change bumps. */
static void test_tag(void)
{
#if TARN_LFBLOCK_LOCK_FREE
    tarn_lfblock_pool p;
    tarn_lfblock_stats st;
    tarn_config cfg = hook_cfg(NULL);
    void *a, *b2;
    tarn_lfblock_word t0;
    REQUIRE(tarn_lfblock_init(&p, mem, TARN_LFBLOCK_POOL_BYTES(2, BS), BS, &cfg) == TARN_OK);
    REQUIRE(tarn_lfblock_stats_get(&p, &st) == TARN_OK);
    CHECK_EQ(st.tag_bits, WORD_BITS - 2u); /* 2 blocks: indices 0..2 need 2 bits */
    t0 = p.head >> (WORD_BITS - st.tag_bits);
    CHECK_EQ(t0, 0);
    a = tarn_lfblock_get(&p);  /* carved: no list change */
    b2 = tarn_lfblock_get(&p);
    CHECK_EQ(p.head >> (WORD_BITS - st.tag_bits), 0);
    CHECK_EQ(tarn_lfblock_put(&p, a), TARN_OK);
    CHECK_EQ(tarn_lfblock_put(&p, b2), TARN_OK);
    CHECK(tarn_lfblock_get(&p) == b2);
    /* same top block as two operations ago (a), different word */
    CHECK_EQ(p.head >> (WORD_BITS - st.tag_bits), 3);
    CHECK_EQ(p.head & 3u, (tarn_lfblock_word)tarn_lfblock_index(&p, a));
    CHECK(tarn_lfblock_get(&p) == a);
    CHECK_EQ(p.head, ((tarn_lfblock_word)4u << 2) | 2u); /* tag 4, empty (top == count) */
#endif
}

/* The tag wraps around harmlessly (white-box: start it just below its maximum). */
static void test_tag_wrap(void)
{
#if TARN_LFBLOCK_LOCK_FREE
    tarn_lfblock_pool p;
    tarn_config cfg = hook_cfg(NULL);
    void *a, *b2;
    unsigned i;
    const tarn_lfblock_word top_tag = (tarn_lfblock_word)0 - 4u; /* idx 2 bits: tag max-0 */
    REQUIRE(tarn_lfblock_init(&p, mem, TARN_LFBLOCK_POOL_BYTES(2, BS), BS, &cfg) == TARN_OK);
    a = tarn_lfblock_get(&p);
    b2 = tarn_lfblock_get(&p);
    CHECK_EQ(tarn_lfblock_put(&p, a), TARN_OK);
    CHECK_EQ(tarn_lfblock_put(&p, b2), TARN_OK);
    p.head = (top_tag - 4u * 2u) | (p.head & 3u); /* tag = max - 2, same top */
    for (i = 0; i < 6; i++) {
        void *x = tarn_lfblock_get(&p);
        void *y = tarn_lfblock_get(&p);
        CHECK(x == b2 && y == a);
        CHECK(tarn_lfblock_get(&p) == NULL);
        CHECK_EQ(tarn_lfblock_put(&p, y), TARN_OK);
        CHECK_EQ(tarn_lfblock_put(&p, x), TARN_OK);
        CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    }
    /* 24 list changes from max - 2: the tag wrapped to 21 */
    CHECK_EQ(p.head >> 2, 21u);
#endif
}

/* Random operations against a model of which blocks are out. */
static void test_model(void)
{
    enum { N = 29 };
    tarn_lfblock_pool p;
    tarn_config cfg = hook_cfg(NULL);
    void *held[N];
    uint32_t tags[N];
    unsigned nheld = 0, fails = 0, i, low = N;
    long it, iters = CHECK_ITERS(300000L);
    tarn_lfblock_stats st;
    unsigned char *base;

    check_seed(0x1fb10c);
    REQUIRE(tarn_lfblock_init(&p, mem, TARN_LFBLOCK_POOL_BYTES(N, BS), BS, &cfg) == TARN_OK);
    base = mem + TARN_LFBLOCK_META_BYTES(N);
    for (it = 0; it < iters; it++) {
        uint32_t r = check_below(100);
        if (r < 48) {
            void *b = tarn_lfblock_get(&p);
            if (nheld == N) {
                CHECK(b == NULL);
                fails++;
            } else {
                REQUIRE(b != NULL);
                for (i = 0; i < nheld; i++) REQUIRE(held[i] != b); /* never handed out twice */
                tags[nheld] = (uint32_t)it;
                check_fill(b, BS, tags[nheld]);
                held[nheld++] = b;
                if (N - nheld < low) low = N - nheld;
            }
        } else if (r < 94) {
            if (nheld > 0) {
                unsigned k = check_below(nheld);
                CHECK(check_verify(held[k], BS, tags[k]));
                CHECK_EQ(tarn_lfblock_put(&p, held[k]), TARN_OK);
                held[k] = held[--nheld];
                tags[k] = tags[nheld];
            }
        } else if (r < 97) {
            /* a bad put of some kind: must be refused and change nothing */
            unsigned char *q = base + check_below(N) * TARN_LFBLOCK_SIZE(BS);
            bool out = false;
            for (i = 0; i < nheld; i++) out = out || (held[i] == q);
            if (check_below(2)) {
                CHECK_EQ(tarn_lfblock_put(&p, q + 1 + check_below(TARN_LFBLOCK_SIZE(BS) - 1)),
                         TARN_EFOREIGN);
            } else if (!out) {
                CHECK_EQ(tarn_lfblock_put(&p, q), TARN_EDOUBLE);
            } else {
                CHECK_EQ(tarn_lfblock_validate(&p, q), TARN_OK);
            }
        } else {
            CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
        }
    }
    for (i = 0; i < nheld; i++) {
        CHECK(check_verify(held[i], BS, tags[i]));
        CHECK_EQ(tarn_lfblock_put(&p, held[i]), TARN_OK);
    }
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    CHECK_EQ(tarn_lfblock_stats_get(&p, &st), TARN_OK);
#if TARN_STATS
    CHECK_EQ(st.free, N);
    CHECK_EQ(st.min_free, low);
    CHECK_EQ(st.failed_gets, fails);
#endif
    CHECK_EQ(lock_bad, 0);
}

int main(void)
{
    test_sizing();
    test_fit();
    test_init_errors();
    test_basic();
    test_stats_exact();
    test_bad_puts();
    test_corruption();
    test_sticky_corrupt();
    test_tag();
    test_tag_wrap();
    test_model();
#ifdef TEST_LFBLOCK_EXTRA
    TEST_LFBLOCK_EXTRA();
#endif
    return check_done();
}
