/*
 * tests/test_handle_status.c - the handle pool's _status variants: every function that
 * returns a handle, a pointer, a size or a count (alloc, lock, size, lock_count, compact,
 * compact_step) gives the call's own status through its _status variant - TARN_OK on
 * success, the exact reason on failure (the same one the plain call records in
 * last_error), a NULL status pointer allowed - and has the same effects as the plain call.
 * Plain C: runs on the host and bare-metal.
 */
#include "check.h"
#include "tarn/handle.h"

#define NH 8u
#define DATA 1024u
static unsigned char mem[TARN_HANDLE_BYTES(DATA, NH)] TARN_HANDLE_ALIGNED;
static unsigned char mem2[TARN_HANDLE_BYTES(DATA, NH)] TARN_HANDLE_ALIGNED;
static tarn_handle_pool pool, other;

/* A status value no call returns: proves that a call wrote *st. */
#define UNSET ((tarn_status)0x5A)

static void test_alloc_status(void)
{
    tarn_status st = UNSET;
    tarn_handle h, g;
    REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, NULL) == TARN_OK);
    h = tarn_handle_alloc_status(&pool, 100, &st);
    CHECK(!tarn_handle_is_null(h));
    CHECK_EQ(st, TARN_OK);
    CHECK_EQ(tarn_handle_size(&pool, h), 100);
    /* size 0: EINVAL, recorded in last_error as by the plain call */
    st = UNSET;
    CHECK(tarn_handle_is_null(tarn_handle_alloc_status(&pool, 0, &st)));
    CHECK_EQ(st, TARN_EINVAL);
    CHECK_EQ(tarn_handle_last_error(&pool), TARN_EINVAL);
    /* too large: ENOMEM, counted as a failed alloc */
    st = UNSET;
    CHECK(tarn_handle_is_null(tarn_handle_alloc_status(&pool, DATA * 2u, &st)));
    CHECK_EQ(st, TARN_ENOMEM);
    CHECK_EQ(tarn_handle_last_error(&pool), TARN_ENOMEM);
    /* a success does not report an earlier failure */
    st = UNSET;
    g = tarn_handle_alloc_status(&pool, 8, &st);
    CHECK(!tarn_handle_is_null(g));
    CHECK_EQ(st, TARN_OK);
    CHECK_EQ(tarn_handle_last_error(&pool), TARN_ENOMEM); /* last_error keeps the failure */
    /* st may be NULL */
    CHECK(tarn_handle_is_null(tarn_handle_alloc_status(&pool, 0, NULL)));
    CHECK(!tarn_handle_is_null(tarn_handle_alloc_status(&pool, 8, NULL)));
    /* bad pools */
    st = UNSET;
    CHECK(tarn_handle_is_null(tarn_handle_alloc_status(NULL, 8, &st)));
    CHECK_EQ(st, TARN_EINVAL);
    st = UNSET;
    CHECK(tarn_handle_is_null(tarn_handle_alloc_status(&other, 8, &st))); /* never initialised */
    CHECK_EQ(st, TARN_EINVAL);
    /* no free handle: ENOMEM */
    while (!tarn_handle_is_null(tarn_handle_alloc(&pool, 8))) {
    }
    st = UNSET;
    CHECK(tarn_handle_is_null(tarn_handle_alloc_status(&pool, 8, &st)));
    CHECK_EQ(st, TARN_ENOMEM);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    CHECK_EQ(tarn_handle_deinit(&pool), TARN_OK);
    st = UNSET;
    CHECK(tarn_handle_is_null(tarn_handle_alloc_status(&pool, 8, &st))); /* deinitialised */
    CHECK_EQ(st, TARN_EINVAL);
}

static void test_lock_status(void)
{
    tarn_status st = UNSET;
    tarn_handle h, stale, foreign;
    unsigned char *p, *q;
    unsigned long i;
    REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, NULL) == TARN_OK);
    REQUIRE(tarn_handle_init(&other, mem2, sizeof mem2, NH, NULL) == TARN_OK);
    h = tarn_handle_alloc(&pool, 40);
    REQUIRE(!tarn_handle_is_null(h));
    p = (unsigned char *)tarn_handle_lock_status(&pool, h, &st);
    CHECK(p != NULL);
    CHECK_EQ(st, TARN_OK);
    CHECK_EQ(tarn_handle_lock_count(&pool, h), 1);
    q = (unsigned char *)tarn_handle_lock(&pool, h); /* nests with the inline lock */
    CHECK(q == p);
    CHECK_EQ(tarn_handle_lock_count(&pool, h), 2);
    CHECK_EQ(tarn_handle_unlock(&pool, h), TARN_OK);
    CHECK_EQ(tarn_handle_unlock(&pool, h), TARN_OK);
    CHECK_EQ(tarn_handle_lock_count(&pool, h), 0);
    CHECK(tarn_handle_lock_status(&pool, h, NULL) == p);
    CHECK_EQ(tarn_handle_unlock(&pool, h), TARN_OK);
    /* null handle, stale handle, foreign index, bad pool */
    st = UNSET;
    CHECK(tarn_handle_lock_status(&pool, tarn_handle_null(), &st) == NULL);
    CHECK_EQ(st, TARN_EINVAL);
    stale = tarn_handle_alloc(&pool, 16);
    REQUIRE(tarn_handle_free(&pool, stale) == TARN_OK);
    st = UNSET;
    CHECK(tarn_handle_lock_status(&pool, stale, &st) == NULL);
    CHECK_EQ(st, TARN_ESTALE);
    CHECK_EQ(tarn_handle_last_error(&pool), TARN_ESTALE);
    foreign = tarn_handle_from_u32((h.v & ~TARN_HANDLE_INDEX_MASK_) | (NH + 1u));
    st = UNSET;
    CHECK(tarn_handle_lock_status(&pool, foreign, &st) == NULL);
    CHECK_EQ(st, TARN_EFOREIGN);
    st = UNSET;
    CHECK(tarn_handle_lock_status(NULL, h, &st) == NULL);
    CHECK_EQ(st, TARN_EINVAL);
    /* another pool's failure does not touch this call's status */
    st = UNSET;
    CHECK(tarn_handle_is_null(tarn_handle_alloc(&other, 0)));
    CHECK(tarn_handle_lock_status(&pool, h, &st) == p);
    CHECK_EQ(st, TARN_OK);
    CHECK_EQ(tarn_handle_last_error(&other), TARN_EINVAL);
    CHECK_EQ(tarn_handle_unlock(&pool, h), TARN_OK);
    /* the lock count's limit: EOVERFLOW, count unchanged */
    for (i = 0; i < 65535ul; i++) {
        if (tarn_handle_lock(&pool, h) == NULL) break;
    }
    CHECK_EQ(i, 65535ul);
    st = UNSET;
    CHECK(tarn_handle_lock_status(&pool, h, &st) == NULL);
    CHECK_EQ(st, TARN_EOVERFLOW);
    CHECK_EQ(tarn_handle_lock_count(&pool, h), 65535u);
    CHECK(tarn_handle_lock(&pool, h) == NULL); /* the inline path at its limit too */
    CHECK_EQ(tarn_handle_last_error(&pool), TARN_EOVERFLOW);
    CHECK_EQ(tarn_handle_lock_count(&pool, h), 65535u);
    for (i = 0; i < 65535ul; i++) {
        if (tarn_handle_unlock(&pool, h) != TARN_OK) break;
    }
    CHECK_EQ(i, 65535ul);
    CHECK_EQ(tarn_handle_lock_count(&pool, h), 0);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    CHECK_EQ(tarn_handle_deinit(&pool), TARN_OK);
    CHECK_EQ(tarn_handle_deinit(&other), TARN_OK);
}

static void test_size_count_status(void)
{
    tarn_status st = UNSET;
    tarn_handle h, stale;
    REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, NULL) == TARN_OK);
    h = tarn_handle_alloc(&pool, 33);
    REQUIRE(!tarn_handle_is_null(h));
    CHECK_EQ(tarn_handle_size_status(&pool, h, &st), 33);
    CHECK_EQ(st, TARN_OK);
    st = UNSET;
    CHECK_EQ(tarn_handle_lock_count_status(&pool, h, &st), 0); /* 0 here is a success */
    CHECK_EQ(st, TARN_OK);
    REQUIRE(tarn_handle_lock(&pool, h) != NULL);
    st = UNSET;
    CHECK_EQ(tarn_handle_lock_count_status(&pool, h, &st), 1);
    CHECK_EQ(st, TARN_OK);
    CHECK_EQ(tarn_handle_unlock(&pool, h), TARN_OK);
    CHECK_EQ(tarn_handle_size_status(&pool, h, NULL), 33);
    CHECK_EQ(tarn_handle_lock_count_status(&pool, h, NULL), 0);
    stale = tarn_handle_alloc(&pool, 16);
    REQUIRE(tarn_handle_free(&pool, stale) == TARN_OK);
    st = UNSET;
    CHECK_EQ(tarn_handle_size_status(&pool, stale, &st), 0);
    CHECK_EQ(st, TARN_ESTALE);
    st = UNSET;
    CHECK_EQ(tarn_handle_lock_count_status(&pool, stale, &st), 0); /* 0 here is a failure */
    CHECK_EQ(st, TARN_ESTALE);
    st = UNSET;
    CHECK_EQ(tarn_handle_size_status(&pool, tarn_handle_null(), &st), 0);
    CHECK_EQ(st, TARN_EINVAL);
    st = UNSET;
    CHECK_EQ(tarn_handle_lock_count_status(NULL, h, &st), 0);
    CHECK_EQ(st, TARN_EINVAL);
    st = UNSET;
    CHECK_EQ(tarn_handle_size_status(NULL, h, &st), 0);
    CHECK_EQ(st, TARN_EINVAL);
    CHECK_EQ(tarn_handle_deinit(&pool), TARN_OK);
}

static void test_compact_status(void)
{
    tarn_status st = UNSET;
    tarn_handle h[6];
    size_t moved = 1234, total = 0;
    tarn_handle_stats stats;
    unsigned i, calls = 0;
    bool done;
    REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, NULL) == TARN_OK);
    for (i = 0; i < 6; i++) {
        h[i] = tarn_handle_alloc(&pool, 64);
        REQUIRE(!tarn_handle_is_null(h[i]));
    }
    REQUIRE(tarn_handle_free(&pool, h[0]) == TARN_OK);
    REQUIRE(tarn_handle_free(&pool, h[2]) == TARN_OK);
    /* stepwise: TARN_OK while work remains and at the end of the pass */
    do {
        st = UNSET;
        done = tarn_handle_compact_step_status(&pool, 1, &moved, &st);
        CHECK_EQ(st, TARN_OK);
        total += moved;
        calls++;
    } while (!done && calls < 10000u);
    CHECK(done);
    CHECK(calls > 1u);
    CHECK_EQ(tarn_handle_stats_get(&pool, &stats), TARN_OK);
    CHECK(total > 0u);
    CHECK_EQ(stats.bytes_moved, total);
    /* budget 0 does nothing and is no error */
    st = UNSET;
    CHECK(!tarn_handle_compact_step_status(&pool, 0, &moved, &st));
    CHECK_EQ(st, TARN_OK);
    CHECK_EQ(moved, 0);
    /* bad pool: EINVAL, *moved 0 */
    st = UNSET;
    moved = 99;
    CHECK(!tarn_handle_compact_step_status(NULL, 100, &moved, &st));
    CHECK_EQ(st, TARN_EINVAL);
    CHECK_EQ(moved, 0);
    st = UNSET;
    CHECK(!tarn_handle_compact_step_status(&other, 100, NULL, &st));
    CHECK_EQ(st, TARN_EINVAL);
    CHECK(tarn_handle_compact_step_status(&pool, 100000, NULL, NULL)); /* all in place */
    /* whole compaction: 0 bytes with TARN_OK is a pool already packed */
    REQUIRE(tarn_handle_free(&pool, h[1]) == TARN_OK);
    st = UNSET;
    CHECK(tarn_handle_compact_status(&pool, &st) > 0u);
    CHECK_EQ(st, TARN_OK);
    st = UNSET;
    CHECK_EQ(tarn_handle_compact_status(&pool, &st), 0);
    CHECK_EQ(st, TARN_OK);
    st = UNSET;
    CHECK_EQ(tarn_handle_compact_status(NULL, &st), 0);
    CHECK_EQ(st, TARN_EINVAL);
    CHECK_EQ(tarn_handle_compact_status(&pool, NULL), 0);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    CHECK_EQ(tarn_handle_deinit(&pool), TARN_OK);
    st = UNSET;
    CHECK_EQ(tarn_handle_compact_status(&pool, &st), 0); /* deinitialised */
    CHECK_EQ(st, TARN_EINVAL);
}

int main(void)
{
    test_alloc_status();
    test_lock_status();
    test_size_count_status();
    test_compact_status();
    return check_done();
}
