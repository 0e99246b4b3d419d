/*
 * tests/test_handle_corrupt.c - tarn_handle_check against damaged control data: each
 * counter and bound of the pool struct alone is damaged, the check must return
 * TARN_ECORRUPT, and the pool must check clean again once the field is restored, with
 * every block's contents intact.  Plain C: runs on the host and bare-metal.
 */
#include "check.h"
#include "tarn/handle.h"

#define NH 16u
static unsigned char mem[TARN_HANDLE_BYTES(2048u, NH)] TARN_HANDLE_ALIGNED;
static tarn_handle_pool pool;

/* Damage one field of the pool, expect the check to see it, restore it. */
#define DAMAGE(field, value)                                      \
    do {                                                          \
        __typeof__(pool.field) saved_ = pool.field;               \
        pool.field = (value);                                     \
        CHECK_EQ(tarn_handle_check(&pool), TARN_ECORRUPT);        \
        pool.field = saved_;                                      \
        CHECK_EQ(tarn_handle_check(&pool), TARN_OK);              \
    } while (0)

int main(void)
{
    tarn_handle h[4];
    unsigned i;
    unsigned char *p;
    REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, NULL) == TARN_OK);
    for (i = 0; i < 4; i++) {
        h[i] = tarn_handle_alloc(&pool, 40u + 24u * i);
        REQUIRE(!tarn_handle_is_null(h[i]));
        p = (unsigned char *)tarn_handle_lock(&pool, h[i]);
        REQUIRE(p != NULL);
        check_fill(p, 40u + 24u * i, i);
        CHECK_EQ(tarn_handle_unlock(&pool, h[i]), TARN_OK);
    }
    CHECK_EQ(tarn_handle_free(&pool, h[1]), TARN_OK);      /* a gap and a freed slot */
    p = (unsigned char *)tarn_handle_lock(&pool, h[2]);    /* one pinned block */
    REQUIRE(p != NULL);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);

    DAMAGE(carved, (uint16_t)(pool.capacity + 1u));
    DAMAGE(live, (uint16_t)(pool.carved + 1u));
    DAMAGE(fast, pool.carved + 2u);           /* the inline lock's bound (carved + 1) */
    DAMAGE(fast, pool.carved + 0u);
    DAMAGE(salt, pool.salt ^ (TARN_HANDLE_INDEX_MASK_ + 1u)); /* keys and gens disagree */
    DAMAGE(used, pool.data_size + 1u);
    DAMAGE(data_size, pool.data_size | 1u);
    DAMAGE(live, (uint16_t)(pool.live - 1u));
    DAMAGE(used, pool.used + TARN_ALIGN);
    DAMAGE(requested, pool.requested + 1u);
    DAMAGE(salt, pool.salt ^ 0x80000000u);
    DAMAGE(free_head, (uint16_t)(pool.carved + 1u));
    DAMAGE(free_head, (uint16_t)0u);
    DAMAGE(data_size, pool.data_size - TARN_ALIGN * 64u);  /* blocks beyond the data area */
    DAMAGE(magic, pool.magic ^ 1u); /* a ready pool's fast-path mark disagrees with its setup */

    /* nothing was lost */
    CHECK(check_verify(p, 40u + 24u * 2u, 2));
    CHECK_EQ(tarn_handle_unlock(&pool, h[2]), TARN_OK);
    for (i = 0; i < 4; i++) {
        if (i == 1) continue;
        p = (unsigned char *)tarn_handle_lock(&pool, h[i]);
        REQUIRE(p != NULL);
        CHECK(check_verify(p, 40u + 24u * i, i));
        CHECK_EQ(tarn_handle_unlock(&pool, h[i]), TARN_OK);
        CHECK_EQ(tarn_handle_free(&pool, h[i]), TARN_OK);
    }
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    return check_done();
}
