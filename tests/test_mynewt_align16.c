/*
 * tests/test_mynewt_align16.c - Mynewt's OS_ALIGNMENT 16 in the compat layer (the layer
 * compiled here with it): os_membuf_t is 16 bytes with 16-byte alignment, so a pool
 * buffer declared as Mynewt code declares it is aligned for init, and blocks are carved
 * 16 bytes apart at least.
 */
#define OS_ALIGNMENT 16
#include "os_mempool.c"   /* the layer itself, with OS_ALIGNMENT 16 */

#include "check.h"

static os_membuf_t buf[OS_MEMPOOL_SIZE(5, 20)];
/* (a plain pool inside an extended one: this test compiles the layer into itself, and GCC
 * would otherwise warn about the extended-pool branch of put on a plain pool object) */
static struct os_mempool_ext mpx;
#define mp (mpx.mpe_mp)

int main(void)
{
    unsigned char *b[5];
    size_t stride = 32u + (OS_MEMPOOL_GUARD ? 16u : 0u);
    int i;
    CHECK_EQ(sizeof(os_membuf_t), 16);
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
    CHECK_EQ(_Alignof(os_membuf_t), 16);
#endif
    CHECK_EQ(((uintptr_t)buf) % 16u, 0);
    CHECK_EQ(OS_MEMPOOL_BYTES(5, 20), 5u * stride);
    CHECK_EQ(os_mempool_init(&mp, 5, 20, buf, "a16"), OS_OK);
    CHECK_EQ(os_mempool_init(&mp, 5, 20, (char *)buf + 8, "a16"), OS_MEM_NOT_ALIGNED);
    CHECK_EQ(os_mempool_init(&mp, 5, 20, buf, "a16"), OS_OK);
    for (i = 0; i < 5; i++) {
        b[i] = (unsigned char *)os_memblock_get(&mp);
        CHECK(b[i] == (unsigned char *)buf + (size_t)i * stride);
        CHECK_EQ(((uintptr_t)b[i]) % 16u, 0);
    }
    CHECK(os_memblock_get(&mp) == NULL);
    for (i = 0; i < 5; i++) CHECK_EQ(os_memblock_put(&mp, b[i]), OS_OK);
    CHECK_EQ(os_memblock_put(&mp, b[0]), OS_INVALID_PARM);
    CHECK_EQ(os_memblock_put(&mp, b[1] + 8), OS_INVALID_PARM);
    CHECK(os_mempool_is_sane(&mp));
    CHECK_EQ(os_mempool_unregister(&mp), OS_OK);
    return check_done();
}
