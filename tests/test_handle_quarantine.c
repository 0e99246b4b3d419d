/*
 * tests/test_handle_quarantine.c - the handle pool's debug quarantine (TARN_F_QUARANTINE):
 * a freed block's REGION is held back (its handle is stale at once, as always), oldest
 * released first, released early when a request would otherwise fail, released by a full
 * compaction and by tarn_handle_quarantine_flush, left in place by compact_step and
 * scramble mode; a write into a held region is reported by the check and on release;
 * without the flag the pool behaves as before.
 *
 * Where the build compiles the quarantine in (TARN_QUARANTINE > 0) this tests the library;
 * elsewhere this file compiles the handle pool itself with a quarantine of 4, so it runs in
 * every build.  Some checks look at the pool's private state (the table entry a held region
 * keeps: its offset and generation).  Writes after free go through the sanitizer window
 * (TARN_SAN_OPEN/CLOSE): the memory tools report the real thing at once (test_handle_death).
 */
#if !defined(TARN_QUARANTINE) || TARN_QUARANTINE == 0
#undef TARN_QUARANTINE
#define TARN_QUARANTINE 4
#include "handle.c"
#else
#include "tarn/handle.h"
#include "internal.h"
#endif
#include "check.h"

#define Q TARN_QUARANTINE
#define NH (Q + 24u)
#define DATA 4096u
#define SPAN(n) TARN_HANDLE_SPAN(n)
#define FIT(r) ((size_t)(r) - TARN_HANDLE_GUARD)

static unsigned char mem[TARN_HANDLE_BYTES(DATA, NH)] TARN_HANDLE_ALIGNED;
static tarn_handle_pool pool;
static tarn_handle h[NH];

static void init_n(uint32_t flags, size_t handles, size_t data)
{
    tarn_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = flags;
    REQUIRE(tarn_handle_init(&pool, mem, TARN_HANDLE_BYTES(data, handles), handles, &cfg) == TARN_OK);
}
static void init(uint32_t flags)
{
    init_n(flags, NH, DATA);
}

static tarn_handle make(size_t n)
{
    tarn_handle x = tarn_handle_alloc(&pool, n);
    REQUIRE(!tarn_handle_is_null(x));
    return x;
}

/* The pool's private table: entry x after the control part; its offset is its first
 * field, its key (salted generation above the index bits, state in the index bits; a
 * live block's key is its handle) the 32 bits at byte 8. */
static void *entry(uint32_t x)
{
    return (unsigned char *)pool.table + TARN_HANDLE_CTL_SIZE + x * TARN_HANDLE_ENTRY_SIZE;
}
static uint32_t off_of(tarn_handle of)
{
    uint32_t off;
    memcpy(&off, entry(of.v & 0xFFFFu), sizeof off);
    return off;
}
static uint32_t key_of(uint32_t x)
{
    uint32_t key;
    memcpy(&key, (unsigned char *)entry(x) + 8, sizeof key);
    return key;
}
#define NO_TRANSIT 0xFFFFu /* pool.transit when no block is in transit */

static unsigned char *at(tarn_handle x)
{
    unsigned char *p = (unsigned char *)tarn_handle_lock(&pool, x);
    REQUIRE(p != NULL);
    CHECK_EQ(tarn_handle_unlock(&pool, x), TARN_OK);
    return p;
}

static void stats(tarn_handle_stats *st)
{
    REQUIRE(tarn_handle_stats_get(&pool, st) == TARN_OK);
}

/* Nothing is held any more and the pool is sound; returns the statistics. */
static tarn_handle_stats none_held(void)
{
    tarn_handle_stats st;
    stats(&st);
    CHECK_EQ(st.quarantined, 0);
    CHECK_EQ(st.quarantined_bytes, 0);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    return st;
}

/* A store into freed memory through the sanitizer window (see the top). */
static void write_after_free(unsigned char *p, unsigned char v)
{
    TARN_SAN_OPEN(p, 1);
    *p = v;
    TARN_SAN_CLOSE(p, 1);
}

static bool count_cb(const tarn_handle_block *b, void *ctx)
{
    (void)b;
    (*(unsigned *)ctx)++;
    return true;
}

/* Without the flag nothing is held: the next block of that size takes the freed place (a
 * span of 64 bytes is a size class's lower bound, so the good-fit search takes it). */
static void test_off_as_before(void)
{
    tarn_handle a, b;
    tarn_handle_stats st;
    unsigned char *p;
    init(0);
    a = make(FIT(64));
    (void)make(16);
    p = at(a);
    CHECK_EQ(tarn_handle_free(&pool, a), TARN_OK);
    stats(&st);
    CHECK_EQ(st.quarantined, 0);
    CHECK_EQ(st.quarantined_bytes, 0);
    CHECK_EQ(st.used, SPAN(16));
    b = make(FIT(64));
    CHECK(at(b) == p);
    CHECK_EQ(tarn_handle_free(&pool, a), TARN_EDOUBLE); /* b has a never-used slot */
    CHECK_EQ(tarn_handle_quarantine_flush(&pool), TARN_OK);
    CHECK_EQ(tarn_handle_quarantine_flush(NULL), TARN_EINVAL);
}

/* A freed region is held: counted as used, out of every gap, the handle stale at once. */
static void test_hold(void)
{
    tarn_handle a, b, c;
    tarn_handle_stats st;
    unsigned char *p;
    unsigned blocks = 0;
    init(TARN_F_QUARANTINE);
    a = make(48);
    c = make(16);
    p = at(a);
    CHECK_EQ(tarn_handle_free(&pool, a), TARN_OK);
    stats(&st);
    CHECK_EQ(st.quarantined, 1);
    CHECK_EQ(st.quarantined_bytes, SPAN(48));
    CHECK_EQ(st.used, SPAN(48) + SPAN(16));
    CHECK_EQ(st.free, DATA - st.used);
    CHECK_EQ(st.handles_used, 1);
    CHECK_EQ(st.requested, 16);
    CHECK_EQ(st.largest_free, st.free);
    /* the handle: a second free is a double free, every other use stale */
    CHECK_EQ(tarn_handle_free(&pool, a), TARN_EDOUBLE);
    CHECK_EQ(tarn_handle_validate(&pool, a), TARN_ESTALE);
    CHECK(tarn_handle_lock(&pool, a) == NULL);
    CHECK_EQ(tarn_handle_last_error(&pool), TARN_ESTALE);
    CHECK_EQ(tarn_handle_resize(&pool, a, 8), TARN_ESTALE);
    CHECK_EQ(tarn_handle_clear(&pool, a), TARN_ESTALE);
    /* the generation the slot gets next was never issued */
    CHECK_EQ(tarn_handle_validate(&pool, tarn_handle_from_u32((key_of(a.v & 0xFFFFu) & 0xFFFF0000u) |
                                                              (a.v & 0xFFFFu))),
             TARN_EFOREIGN);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    /* the same size again lands elsewhere, not over the held bytes */
    b = make(48);
    CHECK(at(b) >= p + SPAN(48));
    CHECK_EQ(tarn_handle_walk(&pool, count_cb, &blocks), TARN_OK);
    CHECK_EQ(blocks, 2); /* c and b: a held region is no block */
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    {
        /* a handle carrying the held entry's own key (generation and held state) or its
         * generation with the slot's index is not taken for a live block */
        uint32_t x = a.v & 0xFFFFu;
        tarn_handle forged = tarn_handle_from_u32(key_of(x));
        CHECK_EQ(key_of(x) & 0xFFFFu, 0xFFFFu); /* the held state */
        CHECK_EQ(tarn_handle_free(&pool, forged), TARN_EFOREIGN);
        CHECK_EQ(tarn_handle_validate(&pool, forged), TARN_EFOREIGN);
        CHECK(tarn_handle_lock(&pool, forged) == NULL);
        forged = tarn_handle_from_u32((key_of(x) & 0xFFFF0000u) | x);
        CHECK_EQ(tarn_handle_free(&pool, forged), TARN_EFOREIGN);
        CHECK_EQ(tarn_handle_validate(&pool, forged), TARN_EFOREIGN);
        CHECK(tarn_handle_lock(&pool, forged) == NULL);
        CHECK_EQ(tarn_handle_unlock(&pool, forged), TARN_EFOREIGN);
        stats(&st);
        CHECK_EQ(st.quarantined, 1);
        CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    }
    /* released: the slot is free again, the handle still a double free until reused */
    CHECK_EQ(tarn_handle_quarantine_flush(&pool), TARN_OK);
    stats(&st);
    CHECK_EQ(st.quarantined, 0);
    CHECK_EQ(st.used, SPAN(48) + SPAN(16));
    CHECK_EQ(tarn_handle_free(&pool, a), TARN_EDOUBLE);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    (void)c;
}

/* At most Q regions are held; the oldest goes first. */
static void test_ring(void)
{
    tarn_handle_stats st;
    unsigned i;
    init(TARN_F_QUARANTINE);
    for (i = 0; i < Q + 3u; i++) h[i] = make(32u + i);
    for (i = 0; i < Q + 2u; i++) {
        CHECK_EQ(tarn_handle_free(&pool, h[i]), TARN_OK);
        stats(&st);
        CHECK_EQ(st.quarantined, i < Q ? i + 1u : Q);
    }
    /* held: h[2] .. h[Q+1], oldest first */
    for (i = 0; i < Q; i++) {
        CHECK(tarn_q_at(&pool.quarantine, i) == entry(h[i + 2u].v & 0xFFFFu));
    }
    stats(&st);
    {
        size_t bytes = 0;
        for (i = 2; i < Q + 2u; i++) bytes += SPAN(32u + i);
        CHECK_EQ(st.quarantined_bytes, bytes);
        CHECK_EQ(st.used, bytes + SPAN(32u + Q + 2u));
    }
    CHECK_EQ(tarn_handle_free(&pool, h[0]), TARN_EDOUBLE); /* released, slot not reused */
    CHECK_EQ(tarn_handle_free(&pool, h[5 % (Q + 2u)]), TARN_EDOUBLE);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    CHECK_EQ(tarn_handle_quarantine_flush(&pool), TARN_OK);
    stats(&st);
    CHECK_EQ(st.quarantined, 0);
    CHECK_EQ(st.used, SPAN(32u + Q + 2u));
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
}

/* A request that would fail for lack of space releases held regions (oldest first) until
 * it succeeds: the quarantine makes nothing fail that would succeed without it. */
static void test_release_for_space(void)
{
    tarn_handle_stats st;
    unsigned i, n = 8;
    uint32_t flags[2] = {0, TARN_F_QUARANTINE};
    unsigned k;
    for (k = 0; k < 2; k++) {
        init_n(flags[k], NH, n * SPAN(100));
        for (i = 0; i < n; i++) h[i] = make(100);  /* full */
        CHECK(tarn_handle_is_null(tarn_handle_alloc(&pool, 1)));
        CHECK_EQ(tarn_handle_free(&pool, h[3]), TARN_OK);
        CHECK_EQ(tarn_handle_free(&pool, h[4]), TARN_OK);
        CHECK_EQ(tarn_handle_free(&pool, h[6]), TARN_OK);
        /* two neighbours' worth: needs both h[3] and h[4] back */
        h[3] = tarn_handle_alloc(&pool, FIT(2u * SPAN(100)));
        CHECK(!tarn_handle_is_null(h[3]));
        stats(&st);
        CHECK_EQ(st.quarantined, k == 1 ? 1u : 0u);     /* h[6] is still held */
        CHECK_EQ(st.failed_allocs, 1);
        h[4] = tarn_handle_alloc(&pool, 100);          /* h[6]'s place */
        CHECK(!tarn_handle_is_null(h[4]));
        st = none_held();
        CHECK_EQ(st.free, 0);
    }
}

/* A held region keeps its slot; with no free slot left an alloc releases one. */
static void test_release_for_slot(void)
{
    tarn_handle_stats st;
    tarn_handle x;
    unsigned i;
    init_n(TARN_F_QUARANTINE, 4, DATA);
    for (i = 0; i < 4; i++) h[i] = make(40);
    CHECK_EQ(tarn_handle_free(&pool, h[1]), TARN_OK);
    CHECK_EQ(tarn_handle_free(&pool, h[2]), TARN_OK);
    stats(&st);
    CHECK_EQ(st.handles_used, 2);
    CHECK_EQ(st.quarantined, Q >= 2 ? 2 : 1);
    x = make(40); /* no slot is free (Q >= 2): the oldest held region gives its slot back */
    CHECK_EQ(x.v & 0xFFFFu, h[1].v & 0xFFFFu);
    CHECK_EQ(tarn_handle_free(&pool, h[1]), TARN_ESTALE);
    stats(&st);
    CHECK_EQ(st.quarantined, 1);
    CHECK_EQ(st.handles_used, 3);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
}

/* A resize blocked by a held region releases it: pinned in place, and unpinned. */
static void test_release_for_resize(void)
{
    tarn_handle a, b, c, f;
    tarn_handle_stats st;
    unsigned char *p;
    init(TARN_F_QUARANTINE);
    a = make(32);
    b = make(32);
    c = make(32);
    stats(&st);
    f = make(FIT(st.free)); /* nothing free at the end */
    p = (unsigned char *)tarn_handle_lock(&pool, a);
    CHECK_EQ(tarn_handle_free(&pool, b), TARN_OK);
    CHECK_EQ(tarn_handle_resize(&pool, a, FIT(2u * SPAN(32))), TARN_OK); /* into b's place */
    CHECK(tarn_handle_lock(&pool, a) == p);
    CHECK_EQ(tarn_handle_unlock(&pool, a), TARN_OK);
    CHECK_EQ(tarn_handle_unlock(&pool, a), TARN_OK);
    stats(&st);
    CHECK_EQ(st.quarantined, 0);
    CHECK_EQ(tarn_handle_resize(&pool, a, FIT(2u * SPAN(32)) + 1u), TARN_ENOMEM);
    /* unpinned and alone: grows into the held region after it */
    CHECK_EQ(tarn_handle_free(&pool, f), TARN_OK);
    stats(&st);
    CHECK_EQ(st.free, 0);
    CHECK_EQ(tarn_handle_resize(&pool, c, FIT(SPAN(32) + st.quarantined_bytes)), TARN_OK);
    CHECK(at(c) == at(a) + 2u * SPAN(32));
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
}

/* A full compaction releases every held region first and packs everything. */
static void test_compact_releases(void)
{
    tarn_handle_stats st;
    unsigned i;
    init(TARN_F_QUARANTINE);
    for (i = 0; i < 6; i++) h[i] = make(64);
    CHECK_EQ(tarn_handle_free(&pool, h[0]), TARN_OK);
    CHECK_EQ(tarn_handle_free(&pool, h[2]), TARN_OK);
    CHECK_EQ(tarn_handle_free(&pool, h[4]), TARN_OK);
    CHECK_EQ(tarn_handle_compact(&pool), 3u * (TARN_GUARD ? SPAN(64) : 64u));
    stats(&st);
    CHECK_EQ(st.quarantined, 0);
    CHECK_EQ(st.largest_free, st.free);
    CHECK_EQ(st.used, 3u * SPAN(64));
    CHECK(at(h[1]) == mem + TARN_HANDLE_TABLE_SPACE(NH));
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    /* automatic compaction too */
    init(TARN_F_QUARANTINE | TARN_HANDLE_F_AUTOCOMPACT);
    for (i = 0; i < 6; i++) h[i] = make(600);
    CHECK_EQ(tarn_handle_free(&pool, h[1]), TARN_OK);
    CHECK_EQ(tarn_handle_free(&pool, h[3]), TARN_OK);
    CHECK(DATA - 6u * SPAN(600) < 2u * SPAN(600)); /* no free region is large enough... */
    CHECK(!tarn_handle_is_null(tarn_handle_alloc(&pool, FIT(2u * SPAN(600))))); /* ...together */
    st = none_held();
    CHECK_EQ(st.compactions, 1);
}

/* compact_step passes over held regions as over pinned blocks; a flush lets the next pass
 * close the hole. */
static void test_step_skips_held(void)
{
    tarn_handle_stats st;
    uint32_t held_off, d_off;
    unsigned guard = 0;
    init(TARN_F_QUARANTINE);
    h[0] = make(64);
    h[1] = make(64);
    h[2] = make(64);
    h[3] = make(64);
    CHECK_EQ(tarn_handle_free(&pool, h[0]), TARN_OK);
    CHECK_EQ(tarn_handle_quarantine_flush(&pool), TARN_OK); /* a hole at the start */
    CHECK_EQ(tarn_handle_free(&pool, h[2]), TARN_OK);        /* held, between 1 and 3 */
    held_off = off_of(h[2]);
    d_off = off_of(h[3]);
    while (!tarn_handle_compact_step(&pool, 16, NULL)) REQUIRE(++guard < 1000u);
    CHECK_EQ(off_of(h[1]), 0);             /* moved down */
    CHECK_EQ(off_of(h[2]), held_off);      /* the held region stayed */
    CHECK_EQ(off_of(h[3]), d_off);         /* right after it: nothing to do */
    stats(&st);
    CHECK_EQ(st.quarantined, 1);
    CHECK(st.largest_free < st.free);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    CHECK_EQ(tarn_handle_quarantine_flush(&pool), TARN_OK);
    while (!tarn_handle_compact_step(&pool, 16, NULL)) REQUIRE(++guard < 2000u);
    CHECK_EQ(off_of(h[3]), SPAN(64));
    stats(&st);
    CHECK_EQ(st.largest_free, st.free);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
}

/* A block in transit that is freed is held where its move ends (the move is finished). */
static void test_free_in_transit(void)
{
    tarn_handle_stats st;
    size_t moved;
    init(TARN_F_QUARANTINE);
    h[0] = make(128);
    h[1] = make(100);
    CHECK_EQ(tarn_handle_free(&pool, h[0]), TARN_OK);
    CHECK_EQ(tarn_handle_quarantine_flush(&pool), TARN_OK);
    CHECK(!tarn_handle_compact_step(&pool, 8, &moved));
    REQUIRE(pool.transit != NO_TRANSIT);
    CHECK_EQ(tarn_handle_free(&pool, h[1]), TARN_OK);
    CHECK(pool.transit == NO_TRANSIT);
    CHECK_EQ(off_of(h[1]), 0);
    stats(&st);
    CHECK_EQ(st.quarantined, 1);
    CHECK_EQ(st.quarantined_bytes, SPAN(100));
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    CHECK_EQ(tarn_handle_quarantine_flush(&pool), TARN_OK);
    stats(&st);
    CHECK_EQ(st.used, 0);
    CHECK_EQ(st.largest_free, DATA);
}

/* A held region right after the block in transit, with a free region after it: an alloc
 * that must release the held region for a slot merges that free region into the space
 * after the block in transit, which is listed only when its move ends; the alloc finishes
 * the move and finds it (found by fuzz/fuzz_handle: the alloc failed though largest_free
 * promised it). */
static void test_release_after_transit(void)
{
    tarn_handle_stats st;
    tarn_handle a, b, c, x, y;
    size_t moved;
    init_n(TARN_F_QUARANTINE, 3, DATA);
    a = make(FIT(128));                      /* [0, 128) */
    b = make(FIT(104));                      /* [128, 232) */
    c = make(FIT(DATA - 232u - 256u));       /* up to 256 bytes before the end */
    CHECK_EQ(tarn_handle_free(&pool, a), TARN_OK);
    CHECK_EQ(tarn_handle_quarantine_flush(&pool), TARN_OK);
    x = make(1);                             /* a's slot, at 0: no slot is free now */
    CHECK_EQ(off_of(x), 0);
    {   /* small steps until b is moving down to SPAN(1) (the first may only visit x) */
        unsigned k = 0;
        while (pool.transit == NO_TRANSIT && k++ < 4u) {
            CHECK(!tarn_handle_compact_step(&pool, 8, &moved));
        }
    }
    REQUIRE(pool.transit != NO_TRANSIT);
    CHECK_EQ(tarn_handle_free(&pool, c), TARN_OK);  /* held, with its slot */
    stats(&st);
    CHECK_EQ(st.largest_free, 256);
    CHECK(tarn_handle_fit_bound(FIT(256)) <= st.largest_free);
    y = tarn_handle_alloc(&pool, FIT(256));
    REQUIRE(!tarn_handle_is_null(y));
    CHECK(pool.transit == NO_TRANSIT);
    CHECK_EQ(off_of(b), SPAN(1));
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
}

/* Scramble mode moves every block but no held region, and poisons freed bytes, so a write
 * after free is found: by the check while held, on release by the releasing call (which
 * still succeeds), by the flush. */
static void test_scramble_and_write_after_free(void)
{
    tarn_handle_stats st;
    uint32_t off;
    unsigned i;
    init(TARN_F_QUARANTINE | TARN_HANDLE_F_SCRAMBLE);
    h[0] = make(40);
    h[1] = make(56);
    h[2] = make(24);
    CHECK_EQ(tarn_handle_free(&pool, h[1]), TARN_OK);
    off = off_of(h[1]);
    for (i = 0; i < 6; i++) {       /* every unlock scrambles */
        CHECK(at(h[0]) != NULL);
        CHECK(at(h[2]) != NULL);
        CHECK_EQ(off_of(h[1]), off);
    }
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);          /* the poison is intact */
    /* a write after free into the held region */
    write_after_free(pool.data + off + 7, 0x11);
    CHECK_EQ(tarn_handle_check(&pool), TARN_ECORRUPT);
    stats(&st);                                            /* nothing else is wrong */
    CHECK_EQ(st.quarantined, 1);
    CHECK_EQ(tarn_handle_quarantine_flush(&pool), TARN_ECORRUPT);
    CHECK_EQ(tarn_handle_last_error(&pool), TARN_ECORRUPT);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);          /* released: the bytes are free */
    /* found when the ring pushes it out: the free that does so still succeeds */
    for (i = 3; i < Q + 4u; i++) h[i] = make(16);
    CHECK_EQ(tarn_handle_free(&pool, h[3]), TARN_OK);
    write_after_free(pool.data + off_of(h[3]), 0x22);
    CHECK(tarn_handle_lock(&pool, tarn_handle_null()) == NULL); /* last error: TARN_EINVAL */
    for (i = 4; i < Q + 3u; i++) {
        CHECK_EQ(tarn_handle_free(&pool, h[i]), TARN_OK);
        CHECK_EQ(tarn_handle_last_error(&pool), TARN_EINVAL);
    }
    CHECK_EQ(tarn_handle_free(&pool, h[Q + 3u]), TARN_OK);  /* pushes h[3]'s region out */
    CHECK_EQ(tarn_handle_last_error(&pool), TARN_ECORRUPT);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    /* found when an alloc needs its space */
    (void)tarn_handle_compact(&pool); /* releases all held regions, packs: one free region */
    stats(&st);
    h[3] = make(FIT(st.free - SPAN(8)));
    h[4] = make(8);
    CHECK_EQ(tarn_handle_free(&pool, h[4]), TARN_OK);
    write_after_free(pool.data + off_of(h[4]) + 3, 0x33);
    CHECK(tarn_handle_lock(&pool, tarn_handle_null()) == NULL);
    CHECK_EQ(tarn_handle_last_error(&pool), TARN_EINVAL);
    h[4] = tarn_handle_alloc(&pool, 8);
    CHECK(!tarn_handle_is_null(h[4]));
    CHECK_EQ(tarn_handle_last_error(&pool), TARN_ECORRUPT);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
}

static int lock_calls;
static void t_lock(void *ctx)
{
    (void)ctx;
    lock_calls++;
}
static void t_unlock(void *ctx)
{
    (void)ctx;
}

static void test_flush_lock_and_reinit(void)
{
    tarn_config cfg;
    tarn_handle_stats st;
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = TARN_F_QUARANTINE;
    cfg.lock.lock = t_lock;
    cfg.lock.unlock = t_unlock;
    REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, &cfg) == TARN_OK);
    h[0] = make(20);
    CHECK_EQ(tarn_handle_free(&pool, h[0]), TARN_OK);
    lock_calls = 0;
    CHECK_EQ(tarn_handle_quarantine_flush(&pool), TARN_OK);
    CHECK_EQ(lock_calls, TARN_LOCKING ? 1 : 0);
    /* a new init starts with an empty ring */
    h[0] = make(20);
    CHECK_EQ(tarn_handle_free(&pool, h[0]), TARN_OK);
    CHECK_EQ(tarn_handle_deinit(&pool), TARN_OK);
    init(TARN_F_QUARANTINE);
    stats(&st);
    CHECK_EQ(st.quarantined, 0);
    CHECK_EQ(st.used, 0);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
}

/* Damage to the ring or to a held entry is found by the check. */
static void test_check_ring(void)
{
    void *saved;
    init(TARN_F_QUARANTINE);
    h[0] = make(20);
    h[1] = make(20);
    CHECK_EQ(tarn_handle_free(&pool, h[0]), TARN_OK);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    saved = pool.quarantine.slot[pool.quarantine.first];
    pool.quarantine.slot[pool.quarantine.first] = entry(h[1].v & 0xFFFFu); /* a live block */
    CHECK_EQ(tarn_handle_check(&pool), TARN_ECORRUPT);
    pool.quarantine.slot[pool.quarantine.first] = (unsigned char *)saved + 1;
    CHECK_EQ(tarn_handle_check(&pool), TARN_ECORRUPT);
    pool.quarantine.slot[pool.quarantine.first] = saved;
    pool.quarantine.count = 0;                                      /* a held entry not in it */
    CHECK_EQ(tarn_handle_check(&pool), TARN_ECORRUPT);
    pool.quarantine.count = 1;
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
}

int main(void)
{
    test_off_as_before();
    test_hold();
    test_ring();
    test_release_for_space();
    test_release_for_slot();
    test_release_for_resize();
    test_compact_releases();
    test_step_skips_held();
    test_free_in_transit();
    test_release_after_transit();
    test_scramble_and_write_after_free();
    test_flush_lock_and_reinit();
    test_check_ring();
    return check_done();
}
