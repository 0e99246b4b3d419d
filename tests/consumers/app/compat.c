/*
 * tests/consumers/app/compat.c - a consumer of a compatibility layer: code written for
 * Apache Mynewt's os_mempool API, built against tarn's compat library.  Exit status 0
 * means every check passed.
 */
#include <stdio.h>

#include "os/os_mempool.h"

#ifndef CONSUMER
#define CONSUMER "compat consumer"
#endif

#include "expect.h"

static os_membuf_t membuf[OS_MEMPOOL_SIZE(3, 40)];

int main(void)
{
    struct os_mempool mp;
    void *a, *b, *c;

    EXPECT(os_mempool_init(&mp, 3, 40, membuf, "consumer") == OS_OK);
    a = os_memblock_get(&mp);
    b = os_memblock_get(&mp);
    c = os_memblock_get(&mp);
    EXPECT(a != NULL && b != NULL && c != NULL && a != b && b != c && a != c);
    EXPECT(os_memblock_get(&mp) == NULL);
    EXPECT(mp.mp_num_free == 0);
    EXPECT(os_memblock_from(&mp, b) == 1);
    EXPECT(os_memblock_put(&mp, b) == OS_OK);
    EXPECT(os_memblock_put(&mp, b) == OS_INVALID_PARM);   /* double free rejected */
    EXPECT(mp.mp_num_free == 1);
    EXPECT(os_mempool_is_sane(&mp));
    EXPECT(os_mempool_unregister(&mp) == OS_OK);

    if (expect_failed()) return 1;
    printf("%s: ok\n", CONSUMER);
    return 0;
}
