/* tests/test_common.c - common header: status names, version, bit tricks, divisibility. */
#include "check.h"
#include "tarn/tarn.h"
#include "internal.h"

int main(void)
{
    int i;
    uint32_t d, n;

    /* every status has a distinct name starting with its identifier */
    for (i = 0; i < (int)TARN_STATUS_COUNT_; i++) {
        const char *s = tarn_strerror((tarn_status)i);
        int j;
        CHECK(s != NULL && strncmp(s, "TARN_", 5) == 0);
        for (j = 0; j < i; j++) CHECK(strcmp(s, tarn_strerror((tarn_status)j)) != 0);
    }
    CHECK(strstr(tarn_strerror(TARN_EDOUBLE), "TARN_EDOUBLE") != NULL);
    CHECK(strcmp(tarn_strerror((tarn_status)999), "TARN_?: unknown status") == 0);
    CHECK(strcmp(tarn_strerror((tarn_status)-1), "TARN_?: unknown status") == 0);
    CHECK(TARN_VERSION_NUMBER == ((TARN_VERSION_MAJOR << 16) | (TARN_VERSION_MINOR << 8) | TARN_VERSION_PATCH));

    /* alignment macros */
    CHECK_EQ(TARN_ALIGN_UP(13u, 8u), 16);
    CHECK_EQ(TARN_ALIGN_UP(16u, 8u), 16);
    CHECK_EQ(TARN_ALIGN_DOWN(15u, 8u), 8);
    CHECK(TARN_IS_POW2(64u) && !TARN_IS_POW2(0u) && !TARN_IS_POW2(12u));

    /* bit scans against a naive reference */
    for (i = 0; i < 32; i++) {
        uint32_t b = (uint32_t)1u << i;
        CHECK_EQ(tarn_log2_u32(b), i);
        CHECK_EQ(tarn_log2_u32(b | (b >> 1) | 1u), i);
        CHECK_EQ(tarn_ctz_u32(b), i);
        CHECK_EQ(tarn_ctz_u32(b | 0x80000000u), i);
    }
    CHECK_EQ(tarn_pow2_ceil_u32(1u), 1);
    CHECK_EQ(tarn_pow2_ceil_u32(5u), 8);
    CHECK_EQ(tarn_pow2_ceil_u32(1024u), 1024);
    CHECK_EQ(tarn_pow2_ceil_u32(0x80000000u), 0x80000000u);

    /* divide-free divisibility matches % over random divisors and numerators */
    check_seed(7);
    for (i = 0; i < CHECK_ITERS(200000); i++) {
        uint64_t m;
        d = (uint32_t)(check_rand() >> (32 + check_below(32))) | 1u;
        if (check_below(2)) d &= ~1u;
        if (d == 0) d = 3;
        m = tarn_divmagic(d);
        n = (uint32_t)check_rand();
        if (check_below(2)) n = (n / d) * d;
        CHECK_EQ(tarn_divisible(n, m), (n % d) == 0);
    }
    return check_done();
}
