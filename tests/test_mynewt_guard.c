/*
 * tests/test_mynewt_guard.c - Mynewt's OS_MEMPOOL_GUARD in the compat layer, in every
 * build configuration: the layer is compiled here with the guard on (the library's copy
 * follows TARN_GUARD).  Mynewt's rules: OS_MEMPOOL_BLOCK_SZ adds one os_membuf_t to each
 * block in the sizing macros, a non-extended pool's stride includes it and an extended
 * pool's does not; tarn refuses the put of a block whose guard was overwritten (Mynewt
 * asserts) and os_mempool_is_sane reports it.
 */
#define OS_MEMPOOL_GUARD 1
#include "os_mempool.c"   /* the layer itself, with the guard */

#include "check.h"
#include "support/poke.h"

#define NB 5
#define BS 12

static os_membuf_t buf[OS_MEMPOOL_SIZE(NB, BS)];
static struct os_mempool mp;
static struct os_mempool_ext mpe;

int main(void)
{
    size_t ts = OS_ALIGN(BS, OS_ALIGNMENT), stride = ts + sizeof(os_membuf_t);
    unsigned char *b[NB];
    unsigned char junk = 0x11, keep;
    int i;

    /* sizing: Mynewt's formula with the guard */
    CHECK_EQ(OS_MEMPOOL_BLOCK_SZ(BS), BS + sizeof(os_membuf_t));
    CHECK_EQ(OS_MEMPOOL_SIZE(NB, BS), NB * ((BS + sizeof(os_membuf_t) + OS_ALIGNMENT - 1) / OS_ALIGNMENT));
    CHECK_EQ(sizeof buf, (size_t)NB * stride);
    CHECK_EQ(OS_MEMPOOL_BYTES(4, 4), 4u * 2u * OS_ALIGNMENT);

    /* a plain pool: blocks one stride (guard included) apart */
    CHECK_EQ(os_mempool_init(&mp, NB, BS, buf, "guarded"), OS_OK);
    for (i = 0; i < NB; i++) {
        b[i] = (unsigned char *)os_memblock_get(&mp);
        CHECK(b[i] == (unsigned char *)buf + (size_t)i * stride);
        memset(b[i], 0xA5, ts);                  /* all of the usable bytes */
    }
#if defined(__SANITIZE_ADDRESS__)
    CHECK(__asan_address_is_poisoned(b[1] + ts));   /* the guard is closed to ASan */
    CHECK(!__asan_address_is_poisoned(b[1] + ts - 1));
#endif
    CHECK(os_mempool_is_sane(&mp));

    /* an overflow by one byte into the guard: put refused, block still handed out */
    keep = (unsigned char)TARN_GUARD_BYTE;          /* what the guard holds */
    test_poke(b[2] + ts, &junk, 1);
    CHECK(!os_mempool_is_sane(&mp));
    CHECK_EQ(os_memblock_put(&mp, b[2]), OS_INVALID_PARM);
    CHECK_EQ(mp.mp_num_free, 0);
    CHECK(SLIST_FIRST(&mp) == NULL);
    CHECK_EQ(os_memblock_put(&mp, b[3]), OS_OK);    /* its neighbour is fine */
    test_poke(b[2] + ts, &keep, 1);                 /* repaired: accepted */
    CHECK(os_mempool_is_sane(&mp));
    CHECK_EQ(os_memblock_put(&mp, b[2]), OS_OK);
    CHECK_EQ(os_memblock_put(&mp, b[2]), OS_INVALID_PARM);
    CHECK_EQ(mp.mp_num_free, 2);

    /* damage to the last byte of the guard is found as well */
    test_poke(b[4] + stride - 1, &junk, 1);
    CHECK_EQ(os_memblock_put(&mp, b[4]), OS_INVALID_PARM);
    CHECK_EQ(os_mempool_clear(&mp), OS_OK);         /* clear rewrites every guard */
    CHECK(os_mempool_is_sane(&mp));
    CHECK_EQ(mp.mp_num_free, NB);

    /* an extended pool has no guard: Mynewt's stride is the aligned block size */
    CHECK_EQ(os_mempool_unregister(&mp), OS_OK);
    CHECK_EQ(os_mempool_ext_init(&mpe, NB, BS, buf, "ext"), OS_OK);
    {
        unsigned char *x = (unsigned char *)os_memblock_get(&mpe.mpe_mp);
        unsigned char *y = (unsigned char *)os_memblock_get(&mpe.mpe_mp);
        CHECK(x == (unsigned char *)buf);
        CHECK((size_t)(y - x) == ts);
        CHECK_EQ(os_memblock_put(&mpe.mpe_mp, x), OS_OK);
        CHECK_EQ(os_memblock_put(&mpe.mpe_mp, y), OS_OK);
    }
    CHECK(os_mempool_is_sane(&mpe.mpe_mp));

    /* os_mempool_ext_clear makes it a plain pool (mp_flags 0, as Mynewt), but its blocks
     * keep the stride they were laid out with: no guard appears between them */
    {
        unsigned char *x, *y;
        CHECK_EQ(os_mempool_ext_clear(&mpe), OS_OK);
        CHECK_EQ(mpe.mpe_mp.mp_flags, 0);
        CHECK(os_mempool_is_sane(&mpe.mpe_mp));
        x = (unsigned char *)os_memblock_get(&mpe.mpe_mp);
        y = (unsigned char *)os_memblock_get(&mpe.mpe_mp);
        CHECK(x == (unsigned char *)buf);
        CHECK((size_t)(y - x) == ts);
        memset(x, 0xA5, ts);                     /* all of its bytes, up to y */
        CHECK_EQ(os_memblock_put(&mpe.mpe_mp, x), OS_OK);
        CHECK_EQ(os_memblock_put(&mpe.mpe_mp, y), OS_OK);
        CHECK(os_mempool_is_sane(&mpe.mpe_mp));
        CHECK_EQ(mpe.mpe_mp.mp_num_free, NB);
    }
    CHECK_EQ(os_mempool_unregister(&mpe.mpe_mp), OS_OK);
    return check_done();
}
