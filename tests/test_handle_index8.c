/*
 * tests/test_handle_index8.c - the handle pool built with TARN_HANDLE_INDEX_BITS 8: 8 bits
 * of slot index (at most 254 handles) and 24 of generation, so a stale handle stays
 * rejected for 2^24 - 1 reuses of its slot (the default build: 65,535, test_handle).  This
 * file compiles src/handle.c itself with the option, checks the limits and the window
 * (every one of the 16.7 million reuses on the host; a part of them, then the end of the
 * window, under Valgrind), then runs the whole model test (test_handle_model.c) in this
 * configuration.
 */
#define TARN_HANDLE_INDEX_BITS 8
#include "handle.c"
#include "check.h"

#define main handle_model_main
#include "test_handle_model.c"
#undef main

static unsigned char mem8[TARN_HANDLE_BYTES(254u * TARN_HANDLE_SPAN(1u), 254u)] TARN_HANDLE_ALIGNED;
static tarn_handle_pool p8;

static void test_limits(void)
{
    tarn_handle h[254];
    unsigned i;
    CHECK_EQ(TARN_HANDLE_MAX_COUNT, 254u);
    CHECK_EQ(tarn_handle_init(&p8, mem8, sizeof mem8, 255u, NULL), TARN_EINVAL);
    REQUIRE(tarn_handle_init(&p8, mem8, sizeof mem8, 254u, NULL) == TARN_OK);
    for (i = 0; i < 254u; i++) {
        h[i] = tarn_handle_alloc(&p8, 1);
        REQUIRE(!tarn_handle_is_null(h[i]));
        CHECK_EQ(h[i].v & 0xFFu, i + 1u);
    }
    CHECK(tarn_handle_is_null(tarn_handle_alloc(&p8, 1))); /* no free handle */
    CHECK_EQ(tarn_handle_validate(&p8, tarn_handle_from_u32(h[0].v | 0xFFu)), TARN_EFOREIGN);
    for (i = 0; i < 254u; i++) {
        CHECK(tarn_handle_lock(&p8, h[i]) != NULL);
        CHECK_EQ(tarn_handle_unlock(&p8, h[i]), TARN_OK);
        CHECK_EQ(tarn_handle_free(&p8, h[i]), TARN_OK);
        CHECK_EQ(tarn_handle_free(&p8, h[i]), TARN_EDOUBLE);
    }
    CHECK_EQ(tarn_handle_check(&p8), TARN_OK);
    CHECK_EQ(tarn_handle_deinit(&p8), TARN_OK);
}

static void test_window(void)
{
    unsigned long n = (unsigned long)CHECK_ITERS((1ul << 24) - 1u), i, bad = 0;
    tarn_handle first, h;
    REQUIRE(tarn_handle_init(&p8, mem8, sizeof mem8, 1u, NULL) == TARN_OK);
    first = tarn_handle_alloc(&p8, 8);
    REQUIRE(!tarn_handle_is_null(first));
    CHECK_EQ(tarn_handle_free(&p8, first), TARN_OK);
    for (i = 1; i <= n; i++) {
        h = tarn_handle_alloc(&p8, 8);
        if (tarn_handle_eq(h, first) || tarn_handle_lock(&p8, first) != NULL ||
            (i % 4096u == 0u && tarn_handle_validate(&p8, first) != TARN_ESTALE)) {
            bad++;
        }
        if (tarn_handle_free(&p8, h) != TARN_OK) bad++;
    }
    CHECK_EQ(bad, 0);
    if (n < (1ul << 24) - 1u) {
        /* scaled run: move the slot's generation on to where the loop would have left it */
        hp_entry *e = &hp_t(&p8)[1];
        hp_set_gen(&p8, e, hp_gen_of(&p8, e->key) + (uint32_t)((1ul << 24) - 2u - n) * HP_GSTEP, 0u);
        CHECK_EQ(tarn_handle_check(&p8), TARN_OK);
        h = tarn_handle_alloc(&p8, 8); /* the last value of the window: still not first */
        CHECK(!tarn_handle_eq(h, first));
        CHECK_EQ(tarn_handle_validate(&p8, first), TARN_ESTALE);
        CHECK_EQ(tarn_handle_free(&p8, h), TARN_OK);
    }
    h = tarn_handle_alloc(&p8, 8);
    CHECK(tarn_handle_eq(h, first)); /* 2^24 uses of the slot: the documented limit */
    CHECK_EQ(tarn_handle_deinit(&p8), TARN_OK);
}

int main(void)
{
    test_limits();
    test_window();
    return handle_model_main();
}
