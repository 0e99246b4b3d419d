/* tarn-test: host-only */
/*
 * tests/test_heap_big.c - a heap over a 1 GiB buffer (64-bit hosts; skipped where the
 * buffer cannot be had): capacity, huge and tiny blocks side by side, aligned blocks,
 * realloc in place, merging back to one block, and the full check.
 */
#include "check.h"
#include "tarn/heap.h"

#define GIB ((size_t)1 << 30)

int main(void)
{
    unsigned char *mem;
    tarn_heap *h;
    tarn_heap_stats st;
    unsigned char *big, *big2, *al, *small[1000];
    size_t i;
    if (sizeof(size_t) < 8) {
        printf("skipped: 32-bit host\n");
        return 77;
    }
    mem = (unsigned char *)malloc(GIB + 64u);
    if (mem == NULL) {
        printf("skipped: no 1 GiB buffer\n");
        return 77;
    }
    REQUIRE(tarn_heap_init(&h, mem + 3, GIB, NULL) == TARN_OK);
    CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
    printf("1 GiB heap: capacity %lu bytes, overhead %lu (%.2f %%)\n", (unsigned long)st.capacity,
           (unsigned long)st.overhead, 100.0 * (double)st.overhead / (double)GIB);
    CHECK(st.capacity >= GIB / 100u * 96u && st.capacity + st.overhead == GIB);
    CHECK_EQ(st.largest_free, st.capacity);

    big = (unsigned char *)tarn_heap_alloc(h, 512u << 20);           /* 512 MiB */
    REQUIRE(big != NULL);
    big[0] = 1;
    big[(512u << 20) - 1u] = 2;
    for (i = 0; i < 1000; i++) {
        small[i] = (unsigned char *)tarn_heap_alloc(h, 1u + i % 100u);
        REQUIRE(small[i] != NULL);
        small[i][0] = (unsigned char)i;
    }
    big2 = (unsigned char *)tarn_heap_alloc(h, 300u << 20);          /* 300 MiB */
    REQUIRE(big2 != NULL);
    al = (unsigned char *)tarn_heap_aligned_alloc(h, (size_t)1 << 20, 5000);   /* 1 MiB aligned */
    REQUIRE(al != NULL);
    CHECK(((uintptr_t)al & ((1u << 20) - 1u)) == 0u);
    CHECK(tarn_heap_alloc(h, 400u << 20) == NULL);                   /* does not fit */
    CHECK_EQ(tarn_heap_last_error(h), TARN_ENOMEM);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);

    /* free every other small block, then grow big2 in place into what follows it */
    for (i = 0; i < 1000; i += 2) CHECK_EQ(tarn_heap_free(h, small[i]), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, big), TARN_OK);
    CHECK_EQ(tarn_heap_usable_size(h, big2), (size_t)300 << 20);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    for (i = 1; i < 1000; i += 2) {
        CHECK(small[i][0] == (unsigned char)i);
        CHECK_EQ(tarn_heap_free(h, small[i]), TARN_OK);
    }
    CHECK_EQ(tarn_heap_free(h, al), TARN_OK);
    /* big2 grows in place to the right (into al's room and the rest); big's room, in
     * front of it, is not reached */
    CHECK_EQ(tarn_heap_resize(h, big2, (size_t)700 << 20), TARN_ENOMEM);
    CHECK_EQ(tarn_heap_usable_size(h, big2), (size_t)300 << 20);
    CHECK_EQ(tarn_heap_resize(h, big2, (size_t)450 << 20), TARN_OK);  /* in place */
    CHECK_EQ(tarn_heap_usable_size(h, big2), (size_t)450 << 20);
    CHECK_EQ(tarn_heap_free(h, big2), TARN_OK);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    CHECK_EQ(tarn_heap_stats_get(h, &st), TARN_OK);
    CHECK_EQ(st.used, 0);
    CHECK_EQ(st.free_blocks, 1);
    CHECK(tarn_heap_alloc(h, st.capacity - TARN_HEAP_EXTRA) != NULL);  /* all of it */
    CHECK_EQ(tarn_heap_destroy(h), TARN_OK);
    free(mem);
    return check_done();
}
