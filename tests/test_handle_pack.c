/*
 * tests/test_handle_pack.c - tarn_handle_compact against a model of what it must do.
 * Random pools mix runs of blocks that lie back to back (which compaction moves together,
 * by one copy) with gaps, pinned blocks and sizes on both sides of 64 bytes; before each
 * compaction a walk predicts every block's new offset (each unpinned block at the end of
 * the block before it, pinned blocks where they are) and the bytes moved (the bodies of
 * the blocks whose offset changes).  After it, the offsets, the returned count, the
 * statistics' bytes_moved, every block's contents and the integrity check must agree.
 * Plain C: runs on the host and bare-metal.
 */
#include "check.h"
#include "tarn/handle.h"

#define NH 96u
#define DATA 8192u
#define ROUNDS 400
static unsigned char mem[TARN_HANDLE_BYTES(DATA, NH)] TARN_HANDLE_ALIGNED;
static tarn_handle_pool pool;

typedef struct slot {
    tarn_handle h;
    size_t size;
    unsigned tag;
    int pinned;
    unsigned char *pin; /* address while pinned */
} slot;
static slot s[NH];

/* bytes a move of a block of n bytes copies: its data, and its guard in canary mode */
static size_t body(size_t n)
{
    return TARN_GUARD ? TARN_HANDLE_SPAN(n) : n;
}

typedef struct plan {
    size_t dest, moved, count;
    size_t want[NH]; /* new offset of each block, in address order */
    uint32_t handle[NH];
} plan;

static bool plan_cb(const tarn_handle_block *b, void *ctx)
{
    plan *p = (plan *)ctx;
    size_t to = b->locks != 0u ? b->offset : p->dest;
    if (b->offset != to) p->moved += body(b->size);
    p->want[p->count] = to;
    p->handle[p->count] = tarn_handle_to_u32(b->handle);
    p->count++;
    p->dest = to + TARN_HANDLE_SPAN(b->size);
    return true;
}

typedef struct verify {
    const plan *p;
    size_t i;
    unsigned bad;
} verify;

static bool verify_cb(const tarn_handle_block *b, void *ctx)
{
    verify *v = (verify *)ctx;
    if (v->i >= v->p->count || v->p->handle[v->i] != tarn_handle_to_u32(b->handle) ||
        v->p->want[v->i] != b->offset) {
        v->bad++;
    }
    v->i++;
    return true;
}

static size_t pick_size(void)
{
    switch (check_below(4u)) {
    case 0: return 1u + check_below(16u);    /* tiny */
    case 1: return 17u + check_below(48u);   /* up to 64 */
    case 2: return 65u + check_below(200u);  /* above the inline copy */
    default: return 1u + check_below(700u);  /* anything */
    }
}

int main(void)
{
    int round;
    unsigned i;
    tarn_handle_stats st;
    uint64_t moved_total = 0;
    REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, NULL) == TARN_OK);
    for (round = 0; round < CHECK_ITERS(ROUNDS); round++) {
        plan pl;
        verify v;
        size_t moved;
        /* fill: runs of back-to-back blocks (allocated in a row into the free tail) */
        for (i = 0; i < NH; i++) {
            if (!tarn_handle_is_null(s[i].h)) continue;
            s[i].size = pick_size();
            s[i].h = tarn_handle_alloc(&pool, s[i].size);
            if (tarn_handle_is_null(s[i].h)) break;
            s[i].tag = check_below(0x7FFFFFFFu);
            {
                unsigned char *p = (unsigned char *)tarn_handle_lock(&pool, s[i].h);
                REQUIRE(p != NULL);
                check_fill(p, s[i].size, s[i].tag);
                CHECK_EQ(tarn_handle_unlock(&pool, s[i].h), TARN_OK);
            }
        }
        /* holes: free about a third, single blocks and whole stretches */
        for (i = 0; i < NH; i++) {
            if (tarn_handle_is_null(s[i].h) || s[i].pinned) continue;
            if (check_below(3u) == 0u) {
                CHECK_EQ(tarn_handle_free(&pool, s[i].h), TARN_OK);
                s[i].h = tarn_handle_null();
            }
        }
        /* pins: a few blocks stay where they are (and split the runs) */
        for (i = 0; i < NH; i++) {
            if (tarn_handle_is_null(s[i].h)) continue;
            if (s[i].pinned && check_below(2u) == 0u) {
                CHECK(check_verify(s[i].pin, s[i].size, s[i].tag));
                CHECK_EQ(tarn_handle_unlock(&pool, s[i].h), TARN_OK);
                s[i].pinned = 0;
            } else if (!s[i].pinned && check_below(12u) == 0u) {
                s[i].pin = (unsigned char *)tarn_handle_lock(&pool, s[i].h);
                REQUIRE(s[i].pin != NULL);
                s[i].pinned = 1;
            }
        }
        memset(&pl, 0, sizeof pl);
        CHECK_EQ(tarn_handle_walk(&pool, plan_cb, &pl), TARN_OK);
        moved = tarn_handle_compact(&pool);
        CHECK_EQ(moved, pl.moved);
        moved_total += moved;
        v.p = &pl;
        v.i = 0;
        v.bad = 0;
        CHECK_EQ(tarn_handle_walk(&pool, verify_cb, &v), TARN_OK);
        CHECK_EQ(v.i, pl.count);
        CHECK_EQ(v.bad, 0);
        CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
        for (i = 0; i < NH; i++) {
            unsigned char *p;
            if (tarn_handle_is_null(s[i].h)) continue;
            if (s[i].pinned) {
                CHECK(check_verify(s[i].pin, s[i].size, s[i].tag)); /* pinned: never moved */
                continue;
            }
            p = (unsigned char *)tarn_handle_lock(&pool, s[i].h);
            REQUIRE(p != NULL);
            CHECK(check_verify(p, s[i].size, s[i].tag));
            CHECK_EQ(tarn_handle_unlock(&pool, s[i].h), TARN_OK);
        }
    }
    CHECK_EQ(tarn_handle_stats_get(&pool, &st), TARN_OK);
    CHECK_EQ(st.bytes_moved, moved_total);
    CHECK(moved_total > 0u);
    for (i = 0; i < NH; i++) {
        if (tarn_handle_is_null(s[i].h)) continue;
        if (s[i].pinned) CHECK_EQ(tarn_handle_unlock(&pool, s[i].h), TARN_OK);
        CHECK_EQ(tarn_handle_free(&pool, s[i].h), TARN_OK);
    }
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    return check_done();
}
