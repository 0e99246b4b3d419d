/*
 * tests/test_handle_reinit.c - handles never outlive their pool: a handle issued before
 * tarn_handle_deinit is rejected by every later pool initialised over the same table (the
 * generations live in the table and carry on), for the next 65,535 inits; the same when
 * the pool struct itself is wiped between the two, as ckreMM's destroy_t_pool +
 * create_pool_in do (the struct sits in the buffer's first bytes and is zeroed, the table
 * follows it); a buffer of garbage still gives a working pool; and the split table.
 */
#include "check.h"
#include "tarn/handle.h"

#include <string.h>

#define NH 8u
#define DATA 512u
static unsigned char mem[TARN_HANDLE_BYTES(DATA, NH)] TARN_HANDLE_ALIGNED;
static unsigned char table_buf[TARN_HANDLE_TABLE_SIZE(NH)] TARN_HANDLE_ALIGNED;
static unsigned char data_buf[DATA] TARN_HANDLE_ALIGNED;
static tarn_handle_pool pool;

/* h is not a live handle of the pool: every call refuses it and changes nothing. */
static int refused(tarn_handle h, tarn_handle live, uint32_t tag)
{
    int ok = 1;
    unsigned char *p;
    tarn_status s = tarn_handle_validate(&pool, h);
    ok &= s == TARN_ESTALE || s == TARN_EFOREIGN;
    ok &= tarn_handle_lock(&pool, h) == NULL;
    ok &= tarn_handle_unlock(&pool, h) != TARN_OK;
    s = tarn_handle_free(&pool, h);
    ok &= s == TARN_ESTALE || s == TARN_EFOREIGN || s == TARN_EDOUBLE;
    ok &= tarn_handle_size(&pool, h) == 0u;
    ok &= tarn_handle_clear(&pool, h) != TARN_OK;
    ok &= tarn_handle_resize(&pool, h, 4) != TARN_OK;
    p = (unsigned char *)tarn_handle_lock(&pool, live); /* the live block is untouched */
    ok &= p != NULL && check_verify(p, 24, tag);
    ok &= tarn_handle_unlock(&pool, live) == TARN_OK;
    ok &= tarn_handle_validate(&pool, live) == TARN_OK;
    return ok;
}

static tarn_handle make(uint32_t tag)
{
    tarn_handle h = tarn_handle_alloc(&pool, 24);
    unsigned char *p;
    REQUIRE(!tarn_handle_is_null(h));
    p = (unsigned char *)tarn_handle_lock(&pool, h);
    REQUIRE(p != NULL);
    check_fill(p, 24, tag);
    REQUIRE(tarn_handle_unlock(&pool, h) == TARN_OK);
    return h;
}

/* 65,535 re-inits on one buffer, each allocating slot 1 (and leaving it live at deinit):
 * the first pool's handle, and the previous pool's, are refused by every one of them. */
static void test_many_reinits(void)
{
    tarn_handle first, prev, h;
    unsigned long i, bad = 0;
    memset(mem, 0, sizeof mem);
    REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, NULL) == TARN_OK);
    first = make(1);
    prev = first;
    CHECK_EQ(tarn_handle_deinit(&pool), TARN_OK);
    for (i = 1; i < 65536ul; i++) {
        REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, NULL) == TARN_OK);
        h = tarn_handle_alloc(&pool, 24);
        if (tarn_handle_is_null(h) || (h.v & TARN_HANDLE_INDEX_MASK_) != (first.v & TARN_HANDLE_INDEX_MASK_) ||
            tarn_handle_eq(h, first) || tarn_handle_eq(h, prev) ||
            tarn_handle_validate(&pool, first) == TARN_OK || tarn_handle_validate(&pool, prev) == TARN_OK ||
            tarn_handle_free(&pool, first) == TARN_OK || tarn_handle_lock(&pool, prev) != NULL) {
            bad++;
        }
        if (i % 4096u == 0u) { /* now and then, the whole refusal, contents checked */
            unsigned char *p = (unsigned char *)tarn_handle_lock(&pool, h);
            REQUIRE(p != NULL);
            check_fill(p, 24, (uint32_t)i);
            CHECK_EQ(tarn_handle_unlock(&pool, h), TARN_OK);
            CHECK(refused(first, h, (uint32_t)i));
            CHECK(refused(prev, h, (uint32_t)i));
            CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
        }
        prev = h;
        CHECK_EQ(tarn_handle_deinit(&pool), TARN_OK);
    }
    CHECK_EQ(bad, 0);
    /* the documented limit: the 65,536th pool to use the slot issues the first value again */
    REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, NULL) == TARN_OK);
    h = tarn_handle_alloc(&pool, 24);
    CHECK(tarn_handle_eq(h, first));
    CHECK_EQ(tarn_handle_deinit(&pool), TARN_OK);
}

/* Handles freed, live and held at deinit; slots used or not; frees after re-init. */
static void test_mixed_history(void)
{
    tarn_handle old[NH], h[NH];
    unsigned i, round;
    memset(mem, 0xA5, sizeof mem); /* garbage before the first init */
    REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, NULL) == TARN_OK);
    for (i = 0; i < NH; i++) old[i] = make(100u + i);
    CHECK_EQ(tarn_handle_free(&pool, old[2]), TARN_OK);
    CHECK_EQ(tarn_handle_free(&pool, old[5]), TARN_OK);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    CHECK_EQ(tarn_handle_deinit(&pool), TARN_OK);
    for (round = 0; round < 50; round++) {
        REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, NULL) == TARN_OK);
        for (i = 0; i < NH; i++) {
            unsigned j;
            h[i] = make(7u * round + i);
            for (j = 0; j < NH; j++) CHECK(!tarn_handle_eq(h[i], old[j]));
        }
        for (i = 0; i < NH; i++) CHECK(refused(old[i], h[i], 7u * round + i));
        for (i = 0; i < NH; i += 2u) CHECK_EQ(tarn_handle_free(&pool, h[i]), TARN_OK);
        CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
        CHECK_EQ(tarn_handle_deinit(&pool), TARN_OK);
        if (round < 3) {
            for (i = 0; i < NH; i++) old[i] = h[i]; /* the newest ones must be refused next */
        }
    }
}

/* ckreMM's destroy_t_pool + create_pool_in: the pool struct lives in the buffer's first
 * bytes and is wiped by the new create, the table follows it and keeps its generations. */
static void test_struct_wiped(void)
{
    tarn_handle_pool *p = (tarn_handle_pool *)(void *)mem;
    size_t head = TARN_ALIGN_UP(sizeof(tarn_handle_pool), TARN_ALIGN);
    tarn_handle a, b, c;
    unsigned char *q;
    int k;
    memset(mem, 0, sizeof mem);
    memset(p, 0, sizeof *p);
    REQUIRE(tarn_handle_init(p, mem + head, sizeof mem - head, NH, NULL) == TARN_OK);
    a = tarn_handle_alloc(p, 24);
    c = tarn_handle_alloc(p, 40);
    REQUIRE(!tarn_handle_is_null(a) && !tarn_handle_is_null(c));
    CHECK_EQ(tarn_handle_free(p, c), TARN_OK);
    for (k = 0; k < 3; k++) {
        CHECK_EQ(tarn_handle_deinit(p), TARN_OK);
        memset(p, 0, sizeof *p); /* what create_pool_in does to its header */
        REQUIRE(tarn_handle_init(p, mem + head, sizeof mem - head, NH, NULL) == TARN_OK);
        b = tarn_handle_alloc(p, 24);
        REQUIRE(!tarn_handle_is_null(b));
        CHECK(!tarn_handle_eq(a, b) && !tarn_handle_eq(c, b));
        CHECK_EQ(tarn_handle_free(p, a), TARN_ESTALE); /* not the new owner's block */
        CHECK_EQ(tarn_handle_free(p, c), TARN_EFOREIGN); /* its slot is not used yet */
        CHECK(tarn_handle_lock(p, a) == NULL);
        q = (unsigned char *)tarn_handle_lock(p, b);
        REQUIRE(q != NULL);
        CHECK_EQ(tarn_handle_unlock(p, b), TARN_OK);
        CHECK_EQ(tarn_handle_validate(p, b), TARN_OK);
        CHECK_EQ(tarn_handle_check(p), TARN_OK);
        a = b;
    }
    CHECK_EQ(tarn_handle_deinit(p), TARN_OK);
}

/* The split table carries its generations the same way. */
static void test_split(void)
{
    tarn_handle a, b;
    unsigned i;
    REQUIRE(tarn_handle_init_split(&pool, data_buf, sizeof data_buf, table_buf, sizeof table_buf, NH,
                                   NULL) == TARN_OK);
    a = make(9);
    CHECK_EQ(tarn_handle_deinit(&pool), TARN_OK);
    for (i = 0; i < 100; i++) {
        REQUIRE(tarn_handle_init_split(&pool, data_buf, sizeof data_buf, table_buf, sizeof table_buf,
                                       NH, NULL) == TARN_OK);
        b = make(i);
        CHECK(refused(a, b, i));
        CHECK_EQ(tarn_handle_deinit(&pool), TARN_OK);
    }
}

/* The generation a slot continues from, exactly (white-box: the salt and the keys are in the
 * public struct): GSTEP on a zeroed table; one step past the earlier pool's last generation
 * on a table that pool marked; one step past the key's raw high bits on a table whose mark
 * is gone (such a table counts as garbage).  The table's mark and a lock count above 65535
 * are damage that tarn_handle_check reports. */
#define IMASK ((uint32_t)TARN_HANDLE_INDEX_MASK_)
#define GSTEP (IMASK + 1u)
static uint32_t gen_of(uint32_t v) { return (v - pool.salt) & ~IMASK; } /* key: gen + salt */

static void test_generation_carried(void)
{
    uint32_t before[NH + 1u];
    tarn_handle h[NH];
    unsigned i, k;
    memset(mem, 0, sizeof mem);
    REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, NULL) == TARN_OK);
    for (i = 0; i < NH; i++) {
        h[i] = make(i);
        CHECK_EQ(h[i].v & IMASK, i + 1u);
        CHECK_EQ(gen_of(h[i].v), GSTEP); /* a zeroed table: the first generation */
    }
    /* slot i + 1 goes through 300 * i more generations (each free advances it) */
    for (i = 0; i < NH; i++) {
        for (k = 0; k < 300u * i; k++) {
            tarn_handle n;
            CHECK_EQ(tarn_handle_free(&pool, h[i]), TARN_OK);
            n = tarn_handle_alloc(&pool, 24);
            REQUIRE(!tarn_handle_is_null(n));
            CHECK_EQ(n.v & IMASK, i + 1u); /* the only free slot */
            h[i] = n;
        }
        CHECK_EQ(gen_of(h[i].v), GSTEP + 300u * i * GSTEP);
    }
    CHECK_EQ(tarn_handle_free(&pool, h[3]), TARN_OK); /* one slot left free: one more step */
    for (i = 1; i <= NH; i++) before[i] = gen_of(pool.entries[i].key);
    CHECK_EQ(tarn_handle_deinit(&pool), TARN_OK);
    REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, NULL) == TARN_OK);
    for (i = 0; i < NH; i++) {
        tarn_handle n = make(i);
        uint32_t x = n.v & IMASK;
        REQUIRE(x >= 1u && x <= NH);
        CHECK_EQ(gen_of(n.v), before[x] + GSTEP); /* exactly one step on */
        h[i] = n;
    }
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    /* damage: a lock count above 65535, then the table's mark */
    pool.entries[2].lock ^= 0x10000u;
    CHECK_EQ(tarn_handle_check(&pool), TARN_ECORRUPT);
    pool.entries[2].lock ^= 0x10000u;
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    pool.entries[0].lock ^= 0x100u;
    CHECK_EQ(tarn_handle_check(&pool), TARN_ECORRUPT);
    CHECK_EQ(tarn_handle_deinit(&pool), TARN_OK);
    /* an unmarked table: generations from the keys' raw high bits */
    for (i = 1; i <= NH; i++) before[i] = pool.entries[i].key & ~IMASK;
    REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, NULL) == TARN_OK);
    for (i = 0; i < NH; i++) {
        tarn_handle n = make(i);
        uint32_t x = n.v & IMASK;
        REQUIRE(x >= 1u && x <= NH);
        CHECK_EQ(gen_of(n.v), before[x] + GSTEP);
    }
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK); /* init marked the table again */
    CHECK_EQ(tarn_handle_deinit(&pool), TARN_OK);
}

int main(void)
{
    test_generation_carried();
    test_many_reinits();
    test_mixed_history();
    test_struct_wiped();
    test_split();
    return check_done();
}
