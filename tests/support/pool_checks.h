/*
 * tests/support/pool_checks.h - checks every pool of fixed-size blocks must pass alike
 * (the block pool and the lock-free block pool), written once for both APIs: `api` is the
 * prefix of the pool's functions (tarn_block, tarn_lfblock), p and q point to two pools of
 * that kind, bs is the block size asked for.  Header-only, plain C: usable bare-metal.
 * Include check.h first.
 */
#ifndef TARN_TESTS_POOL_CHECKS_H
#define TARN_TESTS_POOL_CHECKS_H

/* Get a and b2 from p and c from q (unsigned char pointers), all required, and fill them
 * with the check patterns 1, 2 and 3. */
#define POOL_GET3(api, p, q, a, b2, c, bs)            \
    do {                                              \
        (a) = (unsigned char *)api##_get(p);          \
        (b2) = (unsigned char *)api##_get(p);         \
        (c) = (unsigned char *)api##_get(q);          \
        REQUIRE((a) && (b2) && (c));                  \
        check_fill((a), (bs), 1);                     \
        check_fill((b2), (bs), 2);                    \
        check_fill((c), (bs), 3);                     \
    } while (0)

/* Pointers inside the live blocks a and b2 of p are not blocks of p: refused, foreign. */
#define POOL_CHECK_INTERIOR_PUTS(api, p, a, b2)                      \
    do {                                                             \
        CHECK_EQ(api##_put((p), (a) + 1), TARN_EFOREIGN);            \
        CHECK_EQ(api##_put((p), (a) + TARN_ALIGN), TARN_EFOREIGN);   \
        CHECK_EQ(api##_put((p), (b2) - 1), TARN_EFOREIGN);           \
    } while (0)

/* A double put of a (live in p) is refused, also after other traffic, and so is one of c
 * (live in q); then nothing was lost: b2 (live in p) keeps pattern 2 and both pools check
 * out. */
#define POOL_CHECK_DOUBLE_PUTS(api, p, q, a, b2, c, bs)              \
    do {                                                             \
        CHECK_EQ(api##_put((p), (a)), TARN_OK);                      \
        CHECK_EQ(api##_put((p), (a)), TARN_EDOUBLE);                 \
        CHECK_EQ(api##_validate((p), (a)), TARN_EDOUBLE);            \
        CHECK_EQ(api##_last_error(p), TARN_EDOUBLE);                 \
        CHECK_EQ(api##_put((q), (c)), TARN_OK);                      \
        CHECK_EQ(api##_put((q), (c)), TARN_EDOUBLE);                 \
        CHECK(check_verify((b2), (bs), 2));                          \
        CHECK_EQ(api##_check(p), TARN_OK);                           \
        CHECK_EQ(api##_check(q), TARN_OK);                           \
    } while (0)

#endif
