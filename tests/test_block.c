/* tests/test_block.c - block pools: API, every bad input, and a model-based random test. */
#include "check.h"
#include "tarn/block.h"
/* the sanitizer hooks this test calls must match the block pool's own choice (Valgrind
 * annotations are opt-in there, see block.h) */
#ifndef TARN_SANITIZE
#define TARN_SANITIZE TARN_BLOCK_SANITIZE_
#endif
#include "internal.h"
#include "support/lock_hook.h"
#include "support/pool_checks.h"

/* The field holding the head of the free list, a block index (block.h: the ext's head in
 * a pool with a lock hook). */
#define HEAD(p) (*(((p).slow_ & TARN_BLOCK_SLOW_GET_) ? &(p).ext_->head : &(p).head))
/* ... and the other one, TARN_BLOCK_END_ (the pool must have an ext) */
#define OTHER_HEAD(p) (*(((p).slow_ & TARN_BLOCK_SLOW_GET_) ? &(p).head : &(p).ext_->head))
/* A free block's link word (a block index), and the free bit of block i. */
#define LINK(b) (*(uint32_t *)(void *)(b))
#define MAPBIT(p, i) ((p).map[(i) / 32u] & (1u << ((i) % 32u)))
#define MAPFLIP(p, i) ((p).map[(i) / 32u] ^= (1u << ((i) % 32u)))

#define NB 37u
#define BS 24u

/* The pool's block count (not stored in the pool: derived from where the bitmap is). */
static uint32_t pool_count(tarn_block_pool *p)
{
    tarn_block_stats st;
    REQUIRE(tarn_block_stats_get(p, &st) == TARN_OK);
    return st.count;
}

static unsigned char mem[TARN_BLOCK_POOL_BYTES(NB, BS) + 64] TARN_BLOCK_ALIGNED;

TARN_BLOCK_POOL_DEFINE(static_pool, 5, 10);
/* statically defined pools of other sizes: their constant inv_ and rot_ must be init's */
TARN_BLOCK_POOL_DEFINE(static_1, 3, 1);
TARN_BLOCK_POOL_DEFINE(static_12, 40, 12);
TARN_BLOCK_POOL_DEFINE(static_100, 2, 100);
TARN_BLOCK_POOL_DEFINE(static_232, 2, 232);
TARN_BLOCK_POOL_DEFINE(static_big, 1, 65540);
TARN_BLOCK_POOL_DEFINE(static_pow2, 2, 4096);


static void test_sizing(void)
{
    /* a block takes its size rounded up to 4 (at least the 32-bit link of a free block)
     * and is aligned to the largest power of two dividing that, up to TARN_ALIGN */
    CHECK(TARN_BLOCK_USABLE(1) == 4u && TARN_BLOCK_USABLE(4) == 4u && TARN_BLOCK_USABLE(5) == 8u);
    CHECK(TARN_BLOCK_USABLE(12) == 12u && TARN_BLOCK_USABLE(13) == 16u);
    CHECK(TARN_BLOCK_USABLE(BS) % 4u == 0 && TARN_BLOCK_USABLE(BS) >= BS);
    CHECK(TARN_BLOCK_USABLE(TARN_ALIGN * 5u) == TARN_ALIGN * 5u);
    CHECK(TARN_BLOCK_SIZE(BS) % 4u == 0);
    CHECK(TARN_BLOCK_SIZE(BS) % TARN_BLOCK_ALIGN_OF(BS) == 0);
#if !TARN_GUARD
    CHECK(TARN_BLOCK_ALIGN_OF(12) == 4u && TARN_BLOCK_ALIGN_OF(20) == 4u);
    CHECK(TARN_BLOCK_ALIGN_OF(8) == (TARN_ALIGN < 8u ? TARN_ALIGN : 8u));
    CHECK(TARN_BLOCK_ALIGN_OF(64) == TARN_ALIGN);
    CHECK(TARN_BLOCK_POOL_BYTES(4096, 12) == 4096u * 12u + 512u);  /* 12 B a block + 1 bit */
#endif
    /* the free bitmap: whole 32-bit words, one bit per block */
    CHECK(TARN_BLOCK_MAP_BYTES(1) == 4u && TARN_BLOCK_MAP_BYTES(32) == 4u);
    CHECK(TARN_BLOCK_MAP_BYTES(33) == 8u && TARN_BLOCK_MAP_BYTES(0) == 0u);
    /* the stride is the usable bytes plus the guard of canary mode */
    CHECK(TARN_BLOCK_SIZE(BS) == TARN_BLOCK_USABLE(BS) + TARN_BLOCK_GUARD_BYTES);
#if TARN_GUARD
    CHECK(TARN_BLOCK_GUARD_BYTES >= TARN_GUARD_SIZE);
#else
    CHECK(TARN_BLOCK_GUARD_BYTES == 0);
#endif
    CHECK(TARN_BLOCK_POOL_BYTES(NB, BS) == NB * TARN_BLOCK_SIZE(BS) + TARN_BLOCK_MAP_BYTES(NB));
    CHECK(TARN_BLOCK_MIN_SIZE(BS) == TARN_BLOCK_SIZE(BS) + 4u);
}

static void test_init_errors(void)
{
    tarn_block_pool p;
    tarn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ(tarn_block_init(NULL, mem, sizeof mem, BS, NULL), TARN_EINVAL);
    CHECK_EQ(tarn_block_init(&p, NULL, sizeof mem, BS, NULL), TARN_EINVAL);
    CHECK(tarn_block_get(&p) == NULL);                       /* failed init: unusable, safe */
    CHECK_EQ(tarn_block_put(&p, mem), TARN_EFOREIGN);
    CHECK_EQ(tarn_block_clear(&p), TARN_OK);
    CHECK(tarn_block_get(&p) == NULL);
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    {
        /* its statistics: no block; a carve count written into it is damage, refused
         * before the (absent) bitmap would be read */
        tarn_block_stats st;
        CHECK_EQ(tarn_block_stats_get(&p, &st), TARN_OK);
        CHECK_EQ(st.count, 0u);
        CHECK_EQ(st.free, 0u);
        p.carved = 40u;
        CHECK_EQ(tarn_block_stats_get(&p, &st), TARN_ECORRUPT);
        CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
        p.carved = 0u;
    }
    CHECK_EQ(tarn_block_init(&p, mem, sizeof mem, 0, NULL), TARN_EINVAL);
    CHECK_EQ(tarn_block_init(&p, mem + 1, sizeof mem - 1, BS, NULL), TARN_EALIGN);
    CHECK_EQ(tarn_block_last_error(&p), TARN_EALIGN);
    CHECK_EQ(tarn_block_init(&p, mem, TARN_BLOCK_MIN_SIZE(BS) - 1, BS, NULL), TARN_ETOOSMALL);
    CHECK_EQ(tarn_block_init(&p, mem, TARN_BLOCK_SIZE(BS), BS, NULL), TARN_ETOOSMALL); /* no map */
    CHECK_EQ(tarn_block_init(&p, mem, 0, BS, NULL), TARN_ETOOSMALL);
    CHECK_EQ(tarn_block_init(&p, mem, sizeof mem, SIZE_MAX, NULL), TARN_EOVERFLOW);
    /* 2^63 cannot be a block size (> 4 GiB); 2^31 on a 32-bit host can, but does not fit */
    CHECK_EQ(tarn_block_init(&p, mem, sizeof mem, SIZE_MAX / 2, NULL),
             sizeof(size_t) > 4 ? TARN_EOVERFLOW : TARN_ETOOSMALL);
    cfg.lock.lock = t_lock;  /* half a hook */
    CHECK_EQ(tarn_block_init(&p, mem, sizeof mem, BS, &cfg), TARN_EINVAL);
    {
        /* a lock hook or a name needs an ext to live in: refused without one, never
         * dropped (the pool is left unusable) */
        tarn_block_ext ext;
        cfg.lock = LOCK_HOOK;
        CHECK_EQ(tarn_block_init(&p, mem, sizeof mem, BS, &cfg), TARN_EINVAL);
        CHECK(tarn_block_get(&p) == NULL);
        CHECK_EQ(tarn_block_init_ext(&p, NULL, mem, sizeof mem, BS, &cfg), TARN_EINVAL);
        memset(&cfg, 0, sizeof cfg);
        cfg.name = "n";
        CHECK_EQ(tarn_block_init(&p, mem, sizeof mem, BS, &cfg), TARN_EINVAL);
        CHECK(tarn_block_get(&p) == NULL);
        CHECK(tarn_block_name(&p) == NULL);
        CHECK_EQ(tarn_block_init_ext(&p, &ext, mem, sizeof mem, BS, &cfg), TARN_OK);
        CHECK(strcmp(tarn_block_name(&p), "n") == 0);
        /* a half hook is refused with an ext too */
        cfg.lock.lock = t_lock;
        CHECK_EQ(tarn_block_init_ext(&p, &ext, mem, sizeof mem, BS, &cfg), TARN_EINVAL);
        CHECK(tarn_block_get(&p) == NULL);
        /* and so is the other half alone, with an ext and without */
        memset(&cfg, 0, sizeof cfg);
        cfg.lock.unlock = t_unlock;
        CHECK_EQ(tarn_block_init_ext(&p, &ext, mem, sizeof mem, BS, &cfg), TARN_EINVAL);
        CHECK(tarn_block_get(&p) == NULL);
        CHECK_EQ(tarn_block_init(&p, mem, sizeof mem, BS, &cfg), TARN_EINVAL);
        CHECK(tarn_block_get(&p) == NULL);
        CHECK_EQ(tarn_block_init_ext(NULL, &ext, mem, sizeof mem, BS, NULL), TARN_EINVAL);
        /* without cfg an ext is fine too (nothing in it yet) */
        CHECK_EQ(tarn_block_init_ext(&p, &ext, mem, sizeof mem, BS, NULL), TARN_OK);
        CHECK(tarn_block_name(&p) == NULL);
        CHECK(tarn_block_get(&p) != NULL);
        memset(&cfg, 0, sizeof cfg);
        TARN_SAN_DEFINED(mem, sizeof mem);   /* the buffer is the test's again */
    }
    /* exactly one block fits */
    CHECK_EQ(tarn_block_init(&p, mem, TARN_BLOCK_MIN_SIZE(BS), BS, NULL), TARN_OK);
    {
        void *a = tarn_block_get(&p);
        CHECK(a == (void *)mem);
        CHECK(tarn_block_get(&p) == NULL);
        CHECK_EQ(tarn_block_last_error(&p), TARN_ENOMEM);
        CHECK_EQ(tarn_block_put(&p, a), TARN_OK);
        CHECK(tarn_block_get(&p) == a);
    }
    /* garbage in the buffer before init changes nothing */
    memset(mem, 0xA5, sizeof mem);
    CHECK_EQ(tarn_block_init(&p, mem, sizeof mem, BS, NULL), TARN_OK);
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    /* NULL everywhere */
    CHECK(tarn_block_get(NULL) == NULL);
    CHECK_EQ(tarn_block_put(NULL, mem), TARN_EINVAL);
    CHECK_EQ(tarn_block_put(&p, NULL), TARN_EINVAL);
    CHECK_EQ(tarn_block_put_from_cb(NULL, mem), TARN_EINVAL);
    CHECK_EQ(tarn_block_validate(NULL, mem), TARN_EINVAL);
    CHECK_EQ(tarn_block_clear(NULL), TARN_EINVAL);
    CHECK_EQ(tarn_block_check(NULL), TARN_EINVAL);
    CHECK_EQ(tarn_block_stats_get(NULL, NULL), TARN_EINVAL);
    CHECK_EQ(tarn_block_stats_get(&p, NULL), TARN_EINVAL);
    CHECK_EQ(tarn_block_last_error(NULL), TARN_EINVAL);
    CHECK(tarn_block_name(NULL) == NULL && tarn_block_size(NULL) == 0);
    CHECK(!tarn_block_owns(NULL, mem) && !tarn_block_owns(&p, NULL));
    CHECK_EQ(tarn_block_set_put_cb(NULL, NULL, NULL), TARN_EINVAL);
}

static void test_basic(void)
{
    tarn_block_pool p;
    tarn_block_ext ext;
    tarn_block_stats st;
    tarn_config cfg;
    void *b[NB];
    unsigned i;
    memset(&cfg, 0, sizeof cfg);
    memset(&ext, 0xA5, sizeof ext);   /* its old contents do not matter */
    cfg.name = "basic";
    REQUIRE(tarn_block_init_ext(&p, &ext, mem, TARN_BLOCK_POOL_BYTES(NB, BS), BS, &cfg) == TARN_OK);
    CHECK(strcmp(tarn_block_name(&p), "basic") == 0);
#if !TARN_BLOCK_SANITIZE_ && !TARN_GUARD && !TARN_POISON_FREE && TARN_CHECK_LEVEL < 2
    CHECK_EQ(p.slow_, 0);        /* get and put take the inline fast paths */
#else
    CHECK(p.slow_ != 0);         /* this build does more per call: the full path */
#endif
    CHECK_EQ(tarn_block_size(&p), TARN_BLOCK_USABLE(BS));
    for (i = 0; i < NB; i++) {
        b[i] = tarn_block_get(&p);
        REQUIRE(b[i] != NULL);
        CHECK(TARN_IS_ALIGNED(b[i], TARN_BLOCK_ALIGN_OF(BS)));
        CHECK(tarn_block_owns(&p, b[i]));
        CHECK_EQ(tarn_block_index(&p, b[i]), (long)i);  /* carved in order */
        CHECK_EQ(tarn_block_validate(&p, b[i]), TARN_OK);
        check_fill(b[i], BS, i);
    }
    CHECK(tarn_block_get(&p) == NULL);
    CHECK(tarn_block_get(&p) == NULL);
    CHECK_EQ(tarn_block_stats_get(&p, &st), TARN_OK);
    CHECK_EQ(st.count, NB);
    CHECK_EQ(st.free, 0);
    CHECK_EQ(st.min_free, 0);
    CHECK_EQ(st.failed_gets, TARN_STATS ? 2 : 0);
    CHECK_EQ(st.block_size, TARN_BLOCK_USABLE(BS));
    CHECK_EQ(st.held, 0);
    for (i = 0; i < NB; i++) CHECK(check_verify(b[i], BS, i));
    /* put in a scrambled order, get back LIFO */
    for (i = 0; i < NB; i += 2) CHECK_EQ(tarn_block_put(&p, b[i]), TARN_OK);
    for (i = 1; i < NB; i += 2) CHECK(check_verify(b[i], BS, i));
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    CHECK(tarn_block_get(&p) == b[(NB - 1) & ~1u]);
    CHECK_EQ(tarn_block_stats_get(&p, &st), TARN_OK);
    CHECK_EQ(st.free, (NB + 1) / 2 - 1);
    CHECK_EQ(st.min_free, 0);
    /* clear returns everything; pointers are dead, pool is whole again */
    CHECK_EQ(tarn_block_clear(&p), TARN_OK);
    CHECK_EQ(tarn_block_stats_get(&p, &st), TARN_OK);
    CHECK_EQ(st.free, NB);
    CHECK_EQ(tarn_block_put(&p, b[1]), TARN_EDOUBLE);  /* never handed out since clear */
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    for (i = 0; i < NB; i++) CHECK(tarn_block_get(&p) != NULL);
    CHECK(tarn_block_get(&p) == NULL);
}

static void test_bad_puts(void)
{
    tarn_block_pool p, q;
    static unsigned char other[TARN_BLOCK_POOL_BYTES(4, BS)] TARN_BLOCK_ALIGNED;
    unsigned char *a, *b2, *c;
    tarn_block_stats st;
    REQUIRE(tarn_block_init(&p, mem, TARN_BLOCK_POOL_BYTES(NB, BS), BS, NULL) == TARN_OK);
    REQUIRE(tarn_block_init(&q, other, sizeof other, BS, NULL) == TARN_OK);
    POOL_GET3(tarn_block, &p, &q, a, b2, c, BS);
    /* interior pointers */
    POOL_CHECK_INTERIOR_PUTS(tarn_block, &p, a, b2);
    /* foreign: another pool, before/after the buffer, the stack */
    CHECK_EQ(tarn_block_put(&p, c), TARN_EFOREIGN);
    CHECK_EQ(tarn_block_put(&p, mem + sizeof mem), TARN_EFOREIGN);
    CHECK_EQ(tarn_block_put(&p, (unsigned char *)&p), TARN_EFOREIGN);
    CHECK_EQ(tarn_block_put(&p, (void *)((uintptr_t)a - TARN_BLOCK_SIZE(BS))), TARN_EFOREIGN);
    CHECK_EQ(tarn_block_last_error(&p), TARN_EFOREIGN);
    /* never handed out */
    CHECK_EQ(tarn_block_put(&p, b2 + TARN_BLOCK_SIZE(BS)), TARN_EDOUBLE);
    /* double free, also after other traffic */
    POOL_CHECK_DOUBLE_PUTS(tarn_block, &p, &q, a, b2, c, BS);
    CHECK_EQ(tarn_block_stats_get(&p, &st), TARN_OK);
    CHECK_EQ(st.free, NB - 1);
    /* a live block whose user data starts with zeros is not mistaken for a free one */
    memset(b2, 0, BS);
    CHECK_EQ(tarn_block_validate(&p, b2), TARN_OK);
    CHECK_EQ(tarn_block_put(&p, b2), TARN_OK);
    /* reuse after the bad puts works and hands out each block once */
    CHECK(tarn_block_get(&p) == b2);
    CHECK(tarn_block_get(&p) == a);
}

static void test_corruption(void)
{
    tarn_block_pool p;
    unsigned char *a, *b2, *c;
    uint32_t ia, ib, ic, saved;
    REQUIRE(tarn_block_init(&p, mem, sizeof mem, BS, NULL) == TARN_OK);
    a = (unsigned char *)tarn_block_get(&p);
    b2 = (unsigned char *)tarn_block_get(&p);
    c = (unsigned char *)tarn_block_get(&p);
    ia = (uint32_t)tarn_block_index(&p, a);
    ib = (uint32_t)tarn_block_index(&p, b2);
    ic = (uint32_t)tarn_block_index(&p, c);
    REQUIRE(tarn_block_put(&p, a) == TARN_OK);
    REQUIRE(tarn_block_put(&p, b2) == TARN_OK);      /* list: b2 -> a */
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    TARN_SAN_DEFINED(b2, BS);
    saved = LINK(b2);
    CHECK_EQ(saved, ia);
    /* a write-after-free smashes the free list link of b2: the check reports it */
    LINK(b2) = pool_count(&p) + 5u;                   /* out of range */
    CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
    LINK(b2) = p.carved;                              /* past the carve line */
    CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
    LINK(b2) = ib;                                    /* a cycle */
    CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
    LINK(b2) = ic;                                    /* a live block */
    CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
    LINK(b2) = TARN_BLOCK_END_;                       /* list too short */
    CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
    LINK(b2) = saved;
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    /* the bitmap: a free block marked used, a live block marked free */
    MAPFLIP(p, ia);
    CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
    MAPFLIP(p, ia);
    MAPFLIP(p, ic);
    CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
    MAPFLIP(p, ic);
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    /* a stale write into a free block cannot hide a second put: the bitmap decides */
    memset(b2, 0, BS);
    CHECK_EQ(tarn_block_put(&p, b2), TARN_EDOUBLE);
    memset(b2, 0xFF, BS);
    CHECK_EQ(tarn_block_put(&p, b2), TARN_EDOUBLE);
    CHECK_EQ(tarn_block_validate(&p, b2), TARN_EDOUBLE);
    LINK(b2) = saved;
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    /* a live block whose bytes look like anything is still live */
    memset(c, 0, BS);
    CHECK_EQ(tarn_block_validate(&p, c), TARN_OK);
    TARN_SAN_NOACCESS(b2, BS);
}

/* get follows no link it has not validated: a write after free that points the free
 * list at a live block, a foreign address or garbage makes get fail with TARN_ECORRUPT,
 * and the pool refuses every get and put from then on, until clear or init. */
static void test_damaged_link_refused(void)
{
    static const uint32_t bad[] = {0u, 1u, 7u, 36u, 37u, 1000u, 0x7FFFFFFFu, 0xFFFFFFFEu};
    static unsigned char victim[64];
    unsigned k;
    for (k = 0; k < sizeof bad / sizeof bad[0] + 1u; k++) {
        tarn_block_pool p;
        unsigned char *a, *c, *d, *e;
        tarn_block_stats st;
        REQUIRE(tarn_block_init(&p, mem, TARN_BLOCK_POOL_BYTES(NB, BS), BS, NULL) == TARN_OK);
        c = (unsigned char *)tarn_block_get(&p);   /* block 0, live */
        a = (unsigned char *)tarn_block_get(&p);   /* block 1 */
        d = (unsigned char *)tarn_block_get(&p);   /* block 2, live */
        (void)c;
        REQUIRE(tarn_block_put(&p, a) == TARN_OK);
        TARN_SAN_DEFINED(a, BS);
        if (k < sizeof bad / sizeof bad[0]) {
            if (bad[k] == 1u) continue;                 /* block 1 itself: a cycle, below */
            LINK(a) = bad[k];
        } else {
            /* the case: a pointer written over the link */
            void *v = victim;
            memcpy(a, &v, sizeof v);
        }
        TARN_SAN_NOACCESS(a, BS);
        memset(victim, 0x5A, sizeof victim);
#if TARN_CHECK_LEVEL >= 2
        /* level 2: the full check before the get already finds the damaged list */
        CHECK(tarn_block_get(&p) == NULL);
        (void)e;
#else
        CHECK(tarn_block_get(&p) == a);            /* the head itself is sound */
        /* its link is not: a live block (0), a block never carved (7), beyond the pool
         * or the victim's address: caught, never followed */
        e = (unsigned char *)tarn_block_get(&p);
        CHECK(e == NULL);
#endif
        CHECK_EQ(tarn_block_last_error(&p), TARN_ECORRUPT);
        CHECK(tarn_block_get(&p) == NULL);          /* refused until clear */
        CHECK_EQ(tarn_block_put(&p, d), TARN_ECORRUPT);
        CHECK_EQ(tarn_block_validate(&p, d), TARN_OK); /* d is still the caller's */
        CHECK(tarn_block_next_free(&p) == NULL);
        CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
        CHECK_EQ(tarn_block_stats_get(&p, &st), TARN_OK);
        CHECK(victim[0] == 0x5A && victim[63] == 0x5A);   /* nothing written through it */
        CHECK_EQ(tarn_block_clear(&p), TARN_OK);
        CHECK_EQ(tarn_block_check(&p), TARN_OK);
        CHECK(tarn_block_get(&p) == c);
        CHECK_EQ(tarn_block_last_error(&p), TARN_ECORRUPT);   /* last error stays recorded */
    }
    {
        /* a cycle: the link of a free block names itself */
        tarn_block_pool p;
        unsigned char *a;
        REQUIRE(tarn_block_init(&p, mem, TARN_BLOCK_POOL_BYTES(NB, BS), BS, NULL) == TARN_OK);
        a = (unsigned char *)tarn_block_get(&p);
        REQUIRE(tarn_block_put(&p, a) == TARN_OK);
        TARN_SAN_DEFINED(a, BS);
        LINK(a) = 0u;
        TARN_SAN_NOACCESS(a, BS);
#if TARN_CHECK_LEVEL < 2
        CHECK(tarn_block_get(&p) == a);
#endif
        CHECK(tarn_block_get(&p) == NULL);          /* not the same block twice */
        CHECK_EQ(tarn_block_last_error(&p), TARN_ECORRUPT);
    }
}

/* A pool (with its ext, cfg may be NULL) that handed out three blocks and took the first
 * two back: a free list of two and one live block.  Returns the index of the list's last
 * block. */
static uint32_t two_free_one_live(tarn_block_pool *p, tarn_block_ext *ext, const tarn_config *cfg)
{
    void *a, *b2;
    REQUIRE(tarn_block_init_ext(p, ext, mem, TARN_BLOCK_POOL_BYTES(NB, BS), BS, cfg) == TARN_OK);
    a = tarn_block_get(p);
    b2 = tarn_block_get(p);
    (void)tarn_block_get(p);
    REQUIRE(tarn_block_put(p, a) == TARN_OK);
    REQUIRE(tarn_block_put(p, b2) == TARN_OK);
    return (uint32_t)tarn_block_index(p, a);
}

/* Every damaged control field is reported by the full check (and nothing is followed;
 * the statistics, which count the bitmap's bits, read only the pool's own bitmap then too:
 * under AddressSanitizer a read past it would be reported):
 * in a pool on the inline paths the carve count is kept twice (carved and lim_); in one
 * that must take the full path (lock hook, put callback, a build with memory-tool
 * annotations) only level 2 keeps a second record of it (a carve count moved over blocks
 * that are not free, never used or handed out, is not seen otherwise: their bits say "not
 * free" alike). */
static void test_corrupt_fields(void)
{
    tarn_block_pool p, saved;
    tarn_block_ext ext, saved_ext;
    tarn_block_stats st;
    uint32_t ia = two_free_one_live(&p, &ext, NULL);
    saved = p;
    saved_ext = ext;
/* DAMAGE: the statistics still read (what they count may be off); DAMAGE_G: the geometry
 * the bitmap's place is derived from, which the statistics refuse (TARN_ECORRUPT) */
#define DAMAGE_ST(stmt, stats_status)                              \
    do {                                                           \
        p = saved;                                                 \
        ext = saved_ext;                                           \
        stmt;                                                      \
        CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);             \
        CHECK_EQ(tarn_block_stats_get(&p, &st), (stats_status));   \
    } while (0)
#define DAMAGE(stmt) DAMAGE_ST(stmt, TARN_OK)
#define DAMAGE_G(stmt) DAMAGE_ST(stmt, TARN_ECORRUPT)
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    DAMAGE_G(p.carved = UINT32_MAX);
    DAMAGE_G(p.carved = NB + 1);
    if (saved.slow_ == 0u || TARN_CHECK_LEVEL >= 2) {   /* kept twice (see above) */
        DAMAGE(p.carved += 1);                           /* a block never handed out */
        DAMAGE(p.carved -= 1);                           /* a live block above the line */
    }
    DAMAGE_G(p.map -= 1);                                /* the bitmap moved */
    DAMAGE_G(p.map += 1);                                /* not a whole number of blocks */
    DAMAGE_G(p.map = (uint32_t *)(void *)p.base);       /* no block at all */
    DAMAGE(p.base -= TARN_BLOCK_SIZE(BS));               /* one block more, base moved */
    DAMAGE_G(p.block_size += 4u);
    DAMAGE(p.carved = 0);                               /* list longer than carved area */
    DAMAGE(HEAD(p) = p.carved);                          /* past the carve line */
    DAMAGE(HEAD(p) = saved.carved - 1);                  /* live block */
    DAMAGE(HEAD(p) = TARN_BLOCK_END_ - 1u);
    DAMAGE_G((p.map = (uint32_t *)(void *)p.base, HEAD(p) = ia)); /* no block, a list */
    DAMAGE(OTHER_HEAD(p) = ia);                          /* the list in the wrong place */
    DAMAGE(p.lim_ += 1);                                 /* the inline paths' limit */
    DAMAGE_G(p.inv_ ^= 2u);                               /* the block-start test */
    DAMAGE_G(p.rot_ += 1);
    DAMAGE(p.slow_ ^= 8u);                               /* put callback bit, no callback */
    DAMAGE(p.slow_ ^= TARN_BLOCK_SLOW_LOCK_);            /* lock bit, no lock hook */
    DAMAGE(ext.head = ia);                               /* a list in an unlocked pool's ext */
    p = saved;
    ext = saved_ext;
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    /* the same with a lock hook: the list lives in the ext */
    {
        tarn_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.lock = LOCK_HOOK;
        ia = two_free_one_live(&p, &ext, &cfg);
        REQUIRE(tarn_block_set_put_cb(&p, NULL, NULL) == TARN_OK);
        saved = p;
        saved_ext = ext;
    }
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    DAMAGE(HEAD(p) = p.carved);                          /* past the carve line */
    DAMAGE(HEAD(p) = TARN_BLOCK_END_);                   /* the list lost */
    DAMAGE(OTHER_HEAD(p) = ia);                          /* the list in the wrong place */
    DAMAGE(p.lim_ = p.carved);                           /* the inline paths opened */
    DAMAGE(p.slow_ ^= TARN_BLOCK_SLOW_LOCK_);            /* lock bit lost */
    DAMAGE(p.ext_ = NULL);                               /* the list and the hook lost */
#if TARN_CHECK_LEVEL >= 2
    DAMAGE(p.carved += 1);                               /* a block never handed out */
    DAMAGE(p.carved -= 1);                               /* a live block above the line */
#endif
#undef DAMAGE
#undef DAMAGE_G
#undef DAMAGE_ST
    p = saved;
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
}

/* Re-initialising a pool over a buffer whose blocks still carry free tags of the earlier
 * pool must not make fresh blocks look free. */
static void test_reinit_stale_tags(void)
{
    tarn_block_pool p;
    void *b[NB];
    unsigned i;
    REQUIRE(tarn_block_init(&p, mem, TARN_BLOCK_POOL_BYTES(NB, BS), BS, NULL) == TARN_OK);
    for (i = 0; i < NB; i++) b[i] = tarn_block_get(&p);
    for (i = 0; i < NB; i++) CHECK_EQ(tarn_block_put(&p, b[i]), TARN_OK);
    REQUIRE(tarn_block_init(&p, mem, TARN_BLOCK_POOL_BYTES(NB, BS), BS, NULL) == TARN_OK);
    for (i = 0; i < NB; i++) {
        b[i] = tarn_block_get(&p);
        CHECK_EQ(tarn_block_validate(&p, b[i]), TARN_OK);
    }
    for (i = 0; i < NB; i++) CHECK_EQ(tarn_block_put(&p, b[i]), TARN_OK);
    CHECK_EQ(tarn_block_clear(&p), TARN_OK);
    b[0] = tarn_block_get(&p);
    CHECK_EQ(tarn_block_put(&p, b[0]), TARN_OK);
}

static int cb_calls;
static void *cb_last;
static tarn_status put_cb(tarn_block_pool *pool, void *blk, void *arg)
{
    cb_calls++;
    cb_last = blk;
    CHECK(arg == &cb_calls);
    return tarn_block_put_from_cb(pool, blk);
}

static void test_ext_and_lock(void)
{
    tarn_block_pool p;
    tarn_block_ext ext;
    tarn_config cfg;
    void *a;
    /* without an ext there is nowhere to keep a callback: refused, nothing changed */
    REQUIRE(tarn_block_init(&p, mem, sizeof mem, BS, NULL) == TARN_OK);
    CHECK_EQ(tarn_block_set_put_cb(&p, put_cb, &cb_calls), TARN_EINVAL);
    a = tarn_block_get(&p);
    CHECK_EQ(tarn_block_put(&p, a), TARN_OK);
    CHECK_EQ(cb_calls, 0);
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    memset(&cfg, 0, sizeof cfg);
    cfg.lock = LOCK_HOOK;
    REQUIRE(tarn_block_init_ext(&p, &ext, mem, sizeof mem, BS, &cfg) == TARN_OK);
    CHECK_EQ(tarn_block_set_put_cb(&p, put_cb, &cb_calls), TARN_OK);
    a = tarn_block_get(&p);
    REQUIRE(a != NULL);
    CHECK_EQ(tarn_block_put(&p, a), TARN_OK);
    CHECK_EQ(cb_calls, 1);
    CHECK(cb_last == a);
    /* a bad put never reaches the callback */
    CHECK_EQ(tarn_block_put(&p, a), TARN_EDOUBLE);
    CHECK_EQ(tarn_block_put(&p, (char *)a + 1), TARN_EFOREIGN);
    CHECK_EQ(cb_calls, 1);
    CHECK_EQ(tarn_block_set_put_cb(&p, NULL, NULL), TARN_OK);
    a = tarn_block_get(&p);
    CHECK_EQ(tarn_block_put(&p, a), TARN_OK);
    CHECK_EQ(cb_calls, 1);
    {
        tarn_block_stats st;
        int before = lock_calls;
        CHECK_EQ(tarn_block_stats_get(&p, &st), TARN_OK);
        CHECK_EQ(tarn_block_check(&p), TARN_OK);
        CHECK_EQ(tarn_block_clear(&p), TARN_OK);
        CHECK_EQ(tarn_block_validate(&p, a), TARN_EDOUBLE);
        CHECK_EQ(lock_calls - before, 4);
    }
    CHECK_EQ(lock_depth, 0);
    CHECK_EQ(lock_bad, 0);
    CHECK(lock_calls >= 8);
}

/* The bitmap is garbage before init; init and clear zero it, and carving writes no bit.
 * Over a buffer of all ones (every garbage bit says "free"), every block must be carved
 * as handed out, by the inline get and by the full path (a lock hook), before and after
 * a clear, with block counts that end inside a word; a stray bit above the carve line, in
 * its word or in a later one, is damage that check reports. */
static void test_carve_over_garbage(void)
{
    static const uint32_t counts[] = {1u, 31u, 32u, 33u, 70u};
    static unsigned char buf[TARN_BLOCK_POOL_BYTES(70, 8)] TARN_BLOCK_ALIGNED;
    static void *got[70];
    unsigned ci, round, locked;
    for (locked = 0; locked < 2; locked++) {
        for (ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
            tarn_block_pool p;
            tarn_block_ext ext;
            tarn_config cfg;
            uint32_t n = counts[ci], i;
            memset(&cfg, 0, sizeof cfg);
            if (locked) cfg.lock = LOCK_HOOK;
            TARN_SAN_DEFINED(buf, sizeof buf);   /* the buffer is the test's again */
            memset(buf, 0xFF, sizeof buf);
            REQUIRE(tarn_block_init_ext(&p, &ext, buf, TARN_BLOCK_POOL_BYTES(n, 8), 8, &cfg) ==
                    TARN_OK);
            REQUIRE(pool_count(&p) == n);
            for (round = 0; round < 2; round++) {
                for (i = 0; i < n; i++) {
                    got[i] = tarn_block_get(&p);
                    REQUIRE(got[i] == (void *)(buf + (size_t)i * TARN_BLOCK_SIZE(8u)));
                    CHECK(MAPBIT(p, i) == 0u);
                    CHECK_EQ(tarn_block_validate(&p, got[i]), TARN_OK);
                    CHECK_EQ(tarn_block_check(&p), TARN_OK);
                }
                CHECK(tarn_block_get(&p) == NULL);
                for (i = 0; i < n; i++) CHECK_EQ(tarn_block_put(&p, got[i]), TARN_OK);
                CHECK_EQ(tarn_block_check(&p), TARN_OK);
                CHECK_EQ(tarn_block_clear(&p), TARN_OK);
                memset(p.map, 0xFF, TARN_BLOCK_MAP_BYTES(n)); /* clear zeroes them again */
                CHECK_EQ(tarn_block_clear(&p), TARN_OK);
            }
            /* a bit above the carve line in its word is damage; a block above the line
             * (its bit 0, "handed out") is still refused: it never was */
            if (n > 1u) {
                void *a = tarn_block_get(&p);
                REQUIRE(a != NULL);
                CHECK_EQ(tarn_block_put(&p, buf + TARN_BLOCK_SIZE(8u)), TARN_EDOUBLE);
                CHECK_EQ(tarn_block_validate(&p, buf + TARN_BLOCK_SIZE(8u)), TARN_EDOUBLE);
                CHECK_EQ(tarn_block_check(&p), TARN_OK);
                MAPFLIP(p, 1u);
                CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
                MAPFLIP(p, 1u);
                CHECK_EQ(tarn_block_check(&p), TARN_OK);
                MAPFLIP(p, n - 1u);   /* the last block's bit, in a later word if n > 32 */
                CHECK_EQ(tarn_block_check(&p), TARN_ECORRUPT);
                MAPFLIP(p, n - 1u);
                CHECK_EQ(tarn_block_check(&p), TARN_OK);
                CHECK_EQ(tarn_block_put(&p, a), TARN_OK);
            }
        }
    }
    CHECK_EQ(lock_depth, 0);
    CHECK_EQ(lock_bad, 0);
}

static void test_static_pool(void)
{
    void *v[5];
    int i;
    tarn_block_stats st;
    CHECK(tarn_block_name(&static_pool) == NULL);   /* no ext: no name */
    {
        /* every statically defined pool: init's derived fields, then get/put/clear work */
        tarn_block_pool *sp[] = {&static_1, &static_12, &static_100, &static_232, &static_big,
                                 &static_pow2};
        static unsigned char sm[TARN_BLOCK_POOL_BYTES(2, 65540)] TARN_BLOCK_ALIGNED;
        size_t k;
        for (k = 0; k < sizeof sp / sizeof sp[0]; k++) {
            tarn_block_pool ref;
            void *x;
            CHECK_EQ(tarn_block_check(sp[k]), TARN_OK);
            REQUIRE(tarn_block_init(&ref, sm, sizeof sm, tarn_block_size(sp[k]), NULL) == TARN_OK);
            CHECK(ref.inv_ == sp[k]->inv_ && ref.rot_ == sp[k]->rot_ && ref.slow_ == sp[k]->slow_);
            x = tarn_block_get(sp[k]);
            REQUIRE(x != NULL);
            CHECK_EQ(tarn_block_index(sp[k], x), 0);
            CHECK_EQ(tarn_block_put(sp[k], (char *)x + 2), TARN_EFOREIGN);   /* interior */
            CHECK_EQ(tarn_block_put(sp[k], x), TARN_OK);
            CHECK_EQ(tarn_block_put(sp[k], x), TARN_EDOUBLE);
            CHECK_EQ(tarn_block_check(sp[k]), TARN_OK);
        }
        CHECK_EQ(tarn_block_index(&static_12, static_12_mem + 39u * TARN_BLOCK_SIZE(12)), 39);
        CHECK_EQ(tarn_block_index(&static_12, static_12_mem + 40u * TARN_BLOCK_SIZE(12)), -1);
    }
    for (i = 0; i < 5; i++) {
        v[i] = tarn_block_get(&static_pool);
        REQUIRE(v[i] != NULL);
        check_fill(v[i], 10, (uint32_t)i);
    }
    CHECK(tarn_block_get(&static_pool) == NULL);
    for (i = 0; i < 5; i++) CHECK(check_verify(v[i], 10, (uint32_t)i));
    for (i = 4; i >= 0; i--) CHECK_EQ(tarn_block_put(&static_pool, v[i]), TARN_OK);
    CHECK_EQ(tarn_block_put(&static_pool, v[2]), TARN_EDOUBLE);
    CHECK_EQ(tarn_block_stats_get(&static_pool, &st), TARN_OK);
    CHECK_EQ(st.free, 5);
    CHECK_EQ(st.min_free, 0);
    CHECK_EQ(st.failed_gets, TARN_STATS ? 1 : 0);
    CHECK_EQ(tarn_block_check(&static_pool), TARN_OK);
    /* a static pool cannot take a put callback (no ext), and stays as it was */
    CHECK_EQ(tarn_block_set_put_cb(&static_pool, put_cb, &cb_calls), TARN_EINVAL);
    CHECK_EQ(tarn_block_check(&static_pool), TARN_OK);
}

static void test_registry(void)
{
    static tarn_block_pool a, b2, c, d;
    static tarn_block_ext ea, eb, ec;
    static unsigned char ma[64] TARN_BLOCK_ALIGNED, mb[64] TARN_BLOCK_ALIGNED, mc[64] TARN_BLOCK_ALIGNED;
    tarn_block_registry reg = TARN_BLOCK_REGISTRY_INIT;
    tarn_config cfg;
    tarn_lock half;
    memset(&cfg, 0, sizeof cfg);
    cfg.name = "a";
    REQUIRE(tarn_block_init_ext(&a, &ea, ma, sizeof ma, 8, &cfg) == TARN_OK);
    cfg.name = "b";
    REQUIRE(tarn_block_init_ext(&b2, &eb, mb, sizeof mb, 8, &cfg) == TARN_OK);
    REQUIRE(tarn_block_init_ext(&c, &ec, mc, sizeof mc, 8, NULL) == TARN_OK);  /* unnamed */
    REQUIRE(tarn_block_init(&d, mc, sizeof mc, 8, NULL) == TARN_OK);           /* no ext */
    memset(&half, 0, sizeof half);
    half.unlock = t_unlock;
    CHECK_EQ(tarn_block_registry_init(&reg, &half), TARN_EINVAL);
    CHECK_EQ(tarn_block_registry_init(&reg, NULL), TARN_OK);
    CHECK(tarn_block_registry_next(&reg, NULL) == NULL);
    CHECK_EQ(tarn_block_register(&reg, &a), TARN_OK);
    CHECK_EQ(tarn_block_register(&reg, &c), TARN_OK);
    CHECK_EQ(tarn_block_register(&reg, &b2), TARN_OK);
    CHECK_EQ(tarn_block_register(&reg, &b2), TARN_EBUSY);
    CHECK_EQ(tarn_block_register(NULL, &b2), TARN_EINVAL);
    CHECK_EQ(tarn_block_register(&reg, &d), TARN_EINVAL);      /* nowhere to keep the link */
    CHECK_EQ(tarn_block_unregister(&reg, &d), TARN_ENOENT);
    CHECK(tarn_block_registry_next(&reg, &d) == NULL);
    CHECK(tarn_block_registry_next(&reg, NULL) == &a);
    CHECK(tarn_block_registry_next(&reg, &a) == &c);
    CHECK(tarn_block_registry_next(&reg, &c) == &b2);
    CHECK(tarn_block_registry_next(&reg, &b2) == NULL);
    CHECK(tarn_block_find(&reg, "b") == &b2);
    CHECK(tarn_block_find(&reg, "a") == &a);
    CHECK(tarn_block_find(&reg, "") == NULL);
    CHECK(tarn_block_find(&reg, "bb") == NULL);
    CHECK(tarn_block_find(&reg, NULL) == NULL);
    CHECK_EQ(tarn_block_unregister(&reg, &c), TARN_OK);
    CHECK_EQ(tarn_block_unregister(&reg, &c), TARN_ENOENT);
    CHECK(tarn_block_registry_next(&reg, &c) == NULL);   /* no longer registered */
    CHECK(tarn_block_registry_next(&reg, &a) == &b2);
    CHECK_EQ(tarn_block_unregister(&reg, &b2), TARN_OK); /* tail */
    CHECK_EQ(tarn_block_register(&reg, &c), TARN_OK);    /* appended after new tail */
    CHECK(tarn_block_registry_next(&reg, &a) == &c);
    CHECK_EQ(tarn_block_unregister(&reg, &a), TARN_OK);  /* head */
    CHECK(tarn_block_registry_next(&reg, NULL) == &c);
    CHECK_EQ(tarn_block_unregister(NULL, &a), TARN_EINVAL);
    {
        /* with a lock hook every registry operation is bracketed by lock/unlock */
        tarn_lock l;
        int before;
        l = LOCK_HOOK;
        CHECK_EQ(tarn_block_registry_init(&reg, &l), TARN_OK);
        before = lock_calls;
        CHECK_EQ(tarn_block_register(&reg, &a), TARN_OK);
        CHECK(tarn_block_registry_next(&reg, NULL) == &a);
        CHECK(tarn_block_find(&reg, "a") == &a);
        CHECK_EQ(tarn_block_unregister(&reg, &a), TARN_OK);
        CHECK(tarn_block_find(&reg, "a") == NULL);
        CHECK_EQ(lock_calls - before, 5);
        /* re-initialised while registered (a misuse): registering again is refused
         * instead of linking the pool twice into a cycle */
        REQUIRE(tarn_block_init_ext(&c, &ec, mc, sizeof mc, 8, NULL) == TARN_OK);
        CHECK_EQ(tarn_block_register(&reg, &a), TARN_OK);
        CHECK_EQ(tarn_block_register(&reg, &c), TARN_OK);
        REQUIRE(tarn_block_init_ext(&c, &ec, mc, sizeof mc, 8, NULL) == TARN_OK);
        CHECK_EQ(tarn_block_register(&reg, &c), TARN_EBUSY);
        CHECK(tarn_block_registry_next(&reg, &a) == &c);
        CHECK(tarn_block_find(&reg, "zz") == NULL);     /* terminates */
        /* ... and again without its ext: the list ends there, nothing is appended to
         * a pool that has no link any more */
        REQUIRE(tarn_block_init(&c, mc, sizeof mc, 8, NULL) == TARN_OK);
        CHECK(tarn_block_registry_next(&reg, &c) == NULL);
        CHECK(tarn_block_find(&reg, "zz") == NULL);
        CHECK_EQ(tarn_block_register(&reg, &b2), TARN_EBUSY);
        CHECK_EQ(tarn_block_unregister(&reg, &a), TARN_OK);
        CHECK_EQ(lock_depth, 0);
        CHECK_EQ(lock_bad, 0);
    }
}

static unsigned walk_used, walk_free, walk_calls;
static void *walk_prev;
static bool walk_count(void *ctx, void *block, size_t size, bool used)
{
    CHECK(size == TARN_BLOCK_USABLE(BS));
    CHECK(walk_prev == NULL || (char *)block == (char *)walk_prev + TARN_BLOCK_SIZE(BS));
    walk_prev = block;
    walk_calls++;
    if (used) walk_used++; else walk_free++;
    return ctx == NULL || walk_calls < *(unsigned *)ctx;
}

static void test_walk(void)
{
    tarn_block_pool p;
    void *b[NB];
    unsigned i, stop = 3;
    REQUIRE(tarn_block_init(&p, mem, TARN_BLOCK_POOL_BYTES(NB, BS), BS, NULL) == TARN_OK);
    for (i = 0; i < 10; i++) b[i] = tarn_block_get(&p);
    for (i = 0; i < 10; i += 3) CHECK_EQ(tarn_block_put(&p, b[i]), TARN_OK);
    walk_used = walk_free = walk_calls = 0;
    walk_prev = NULL;
    CHECK_EQ(tarn_block_walk(&p, walk_count, NULL), TARN_OK);
    CHECK_EQ(walk_calls, NB);
    CHECK_EQ(walk_used, 6);       /* 10 taken, 4 returned (0, 3, 6, 9) */
    CHECK_EQ(walk_free, NB - 6);
    walk_calls = 0;
    walk_prev = NULL;
    CHECK_EQ(tarn_block_walk(&p, walk_count, &stop), TARN_OK);
    CHECK_EQ(walk_calls, 3);      /* the callback stopped it */
    CHECK_EQ(tarn_block_walk(&p, NULL, NULL), TARN_EINVAL);
    CHECK_EQ(tarn_block_walk(NULL, walk_count, NULL), TARN_EINVAL);
}

/* For many block sizes, every address around and inside the pool: put accepts exactly the
 * starts of blocks handed out, and classifies every other address (the O(1) block-start
 * test, in the inline path too). */
static void test_block_starts(void)
{
    static const size_t sizes[] = {1, 4, 8, 9, 12, 16, 17, 20, 24, 25, 31, 36, 40, 44, 48, 56,
                                   63, 64, 72, 96, 100, 104, 120, 127, 128, 200, 232};
    size_t k;
    for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        tarn_block_pool p;
        size_t stride = TARN_BLOCK_SIZE(sizes[k]), nblk = sizeof mem / stride, taken, i;
        void *b[NB];
        long o;
        if (nblk > NB) nblk = NB;
        if (TARN_BLOCK_POOL_BYTES(nblk, sizes[k]) > sizeof mem) nblk--;
        REQUIRE(tarn_block_init(&p, mem, TARN_BLOCK_POOL_BYTES(nblk, sizes[k]), sizes[k], NULL) ==
                TARN_OK);
        REQUIRE(pool_count(&p) == nblk);
        taken = (nblk + 1) / 2;                       /* the rest is never carved */
        for (i = 0; i < taken; i++) REQUIRE((b[i] = tarn_block_get(&p)) != NULL);
        for (o = -(long)stride - 9; o < (long)(nblk * stride) + (long)stride + 9; o++) {
            void *q = (void *)((uintptr_t)mem + (uintptr_t)o);
            tarn_status want;
            if (o < 0 || o >= (long)(nblk * stride) || (size_t)o % stride != 0) {
                want = TARN_EFOREIGN;
            } else if ((size_t)o / stride >= taken) {
                want = TARN_EDOUBLE;                  /* never handed out */
            } else {
                want = TARN_OK;
            }
            CHECK_EQ(tarn_block_put(&p, q), want);
            if (want == TARN_OK) {
                CHECK_EQ(tarn_block_put(&p, q), TARN_EDOUBLE);
                CHECK(tarn_block_get(&p) == q);
            }
        }
        CHECK_EQ(tarn_block_check(&p), TARN_OK);
    }
}

/* Model-based random test: random get/put/clear plus every invalid put kind. */
static void test_random_model(void)
{
    enum { N = 61, SZ = 20 };
    static unsigned char rmem[TARN_BLOCK_POOL_BYTES(N, SZ)] TARN_BLOCK_ALIGNED;
    static unsigned char *live[N];
    static uint32_t tags[N];
    static unsigned char *freed[N];
    unsigned nlive = 0, nfreed = 0, min_free = N, failed = 0;
    tarn_block_pool p;
    tarn_block_stats st;
    long iters = CHECK_ITERS(1000000L), it;
    uint32_t tag = 1;

    check_seed(2024);
    REQUIRE(tarn_block_init(&p, rmem, sizeof rmem, SZ, NULL) == TARN_OK);
    for (it = 0; it < iters; it++) {
        uint32_t op = check_below(100);
        if (op < 45) {                                   /* get */
            unsigned char *b = (unsigned char *)tarn_block_get(&p);
            if (nlive == N) {
                CHECK(b == NULL);
                failed++;
            } else {
                unsigned k;
                REQUIRE(b != NULL);
                for (k = 0; k < nlive; k++) REQUIRE(live[k] != b);  /* never handed out twice */
                for (k = 0; k < nfreed; k++) {
                    if (freed[k] == b) { freed[k] = freed[--nfreed]; break; }
                }
                live[nlive] = b;
                tags[nlive] = tag;
                check_fill(b, SZ, tag++);
                nlive++;
                if (N - nlive < min_free) min_free = N - nlive;
            }
        } else if (op < 88) {                            /* put a live block */
            if (nlive > 0) {
                unsigned k = check_below(nlive);
                CHECK(check_verify(live[k], SZ, tags[k]));
                CHECK_EQ(tarn_block_put(&p, live[k]), TARN_OK);
                freed[nfreed++] = live[k];
                live[k] = live[nlive - 1];
                tags[k] = tags[nlive - 1];
                nlive--;
            }
        } else if (op < 92) {                            /* double free */
            if (nfreed > 0) CHECK_EQ(tarn_block_put(&p, freed[check_below(nfreed)]), TARN_EDOUBLE);
        } else if (op < 95) {                            /* interior pointer */
            if (nlive > 0) {
                unsigned k = check_below(nlive);
                CHECK_EQ(tarn_block_put(&p, live[k] + 1 + check_below(TARN_BLOCK_SIZE(SZ) - 1)),
                         TARN_EFOREIGN);
            }
        } else if (op < 98) {                            /* foreign pointer */
            uintptr_t base = (uintptr_t)rmem;
            unsigned char *f = (unsigned char *)(check_below(2) ? base + sizeof rmem + check_below(64)
                                                                : base - 1 - check_below(64));
            CHECK_EQ(tarn_block_put(&p, f), TARN_EFOREIGN);
        } else if (op < 99) {                            /* full check */
            CHECK_EQ(tarn_block_check(&p), TARN_OK);
        } else if (check_below(20) == 0) {               /* clear, rarely */
            CHECK_EQ(tarn_block_clear(&p), TARN_OK);
            nlive = 0;
            nfreed = 0;
            min_free = N;                                /* the watermark starts again */
        }
        if ((it & 1023) == 0) {
            unsigned k;
            for (k = 0; k < nlive; k++) CHECK(check_verify(live[k], SZ, tags[k]));
            CHECK_EQ(tarn_block_stats_get(&p, &st), TARN_OK);
            CHECK_EQ(st.free, N - nlive);
            CHECK_EQ(st.min_free, min_free);
            CHECK_EQ(st.failed_gets, failed);
        }
    }
    CHECK_EQ(tarn_block_check(&p), TARN_OK);
    printf("random model: %ld operations\n", iters);
}

int main(void)
{
    test_sizing();
    test_init_errors();
    test_basic();
    test_bad_puts();
    test_corruption();
    test_reinit_stale_tags();
    test_damaged_link_refused();
    test_corrupt_fields();
    test_ext_and_lock();
    test_carve_over_garbage();
    test_static_pool();
    test_registry();
    test_walk();
    test_block_starts();
    test_random_model();
    return check_done();
}
