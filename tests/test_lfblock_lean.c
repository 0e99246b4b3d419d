/*
 * tests/test_lfblock_lean.c - the lock-free pool in its leanest configuration: no pointer
 * checks (TARN_CHECK_LEVEL 0), no statistics (TARN_STATS 0), no locking hooks, no sanitizer
 * annotations or debug options, portable bit scans.  Valid use must behave exactly as in
 * the default build: a model of random gets and puts predicts every block handed out
 * (the free list as a stack, then never-used blocks in index order), every block's
 * contents are verified, and the full check passes; the free count and the watermark,
 * which need no statistics counters, follow the model.  This file compiles src/lfblock.c
 * itself.
 */
#include "support/lean.h"
#include "lfblock.c"

#include "check.h"

#define L_NB 23u
#define L_SZ 20u

static unsigned char l_mem[TARN_LFBLOCK_POOL_BYTES(L_NB, L_SZ)] TARN_LFBLOCK_ALIGNED;

int main(void)
{
    tarn_lfblock_pool p;
    tarn_lfblock_stats st;
    unsigned char *base;
    uint32_t stack[L_NB], depth = 0, carve = 0, held[L_NB], tags[L_NB], nheld = 0, i;
    uint32_t low = L_NB;
    long it, iters = CHECK_ITERS(200000L);
    size_t stride = TARN_LFBLOCK_SIZE(L_SZ);

    REQUIRE(tarn_lfblock_init(&p, l_mem, sizeof l_mem, L_SZ, NULL) == TARN_OK);
    REQUIRE(tarn_lfblock_count(&p) == L_NB);
    base = l_mem + TARN_LFBLOCK_META_BYTES(L_NB);
    check_seed(0x1ea4);
    for (it = 0; it < iters; it++) {
        if (check_below(100) < 52u) {
            unsigned char *b = (unsigned char *)tarn_lfblock_get(&p);
            if (carve == L_NB && depth == 0) {
                CHECK(b == NULL);
                continue;
            }
            /* the top of the free list, else never-used blocks in order */
            i = depth > 0 ? stack[--depth] : carve++;
            REQUIRE(b == base + (size_t)i * stride);
            CHECK_EQ(tarn_lfblock_validate(&p, b), TARN_OK);
            tags[nheld] = (uint32_t)it;
            held[nheld++] = i;
            check_fill(b, L_SZ, (uint32_t)it);
            if (L_NB - nheld < low) low = L_NB - nheld;
        } else if (nheld > 0) {
            uint32_t k = check_below(nheld);
            unsigned char *b = base + (size_t)held[k] * stride;
            CHECK(check_verify(b, L_SZ, tags[k]));
            CHECK_EQ(tarn_lfblock_put(&p, b), TARN_OK);
            stack[depth++] = held[k];
            held[k] = held[--nheld];
            tags[k] = tags[nheld];
        }
        if (it % 1000 == 0) {
            CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
            CHECK_EQ(tarn_lfblock_stats_get(&p, &st), TARN_OK);
            CHECK_EQ(st.free, L_NB - nheld);
            CHECK_EQ(st.min_free, low);
        }
    }
    for (i = 0; i < nheld; i++) {
        unsigned char *b = base + (size_t)held[i] * stride;
        CHECK(check_verify(b, L_SZ, tags[i]));
        CHECK_EQ(tarn_lfblock_put(&p, b), TARN_OK);
    }
    CHECK_EQ(tarn_lfblock_check(&p), TARN_OK);
    CHECK_EQ(tarn_lfblock_stats_get(&p, &st), TARN_OK);
    CHECK_EQ(st.count, L_NB);
    /* the checks level 0 still makes: NULL, and validate is exact at every level */
    CHECK_EQ(tarn_lfblock_put(&p, NULL), TARN_EINVAL);
    CHECK_EQ(tarn_lfblock_validate(&p, base + 1), TARN_EFOREIGN);
    CHECK_EQ(tarn_lfblock_validate(&p, base), TARN_EDOUBLE);
    return check_done();
}
