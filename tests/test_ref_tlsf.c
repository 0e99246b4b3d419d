/* tarn-test: host-only */
/*
 * tests/test_ref_tlsf.c - the TLSF-style reference heap that bench/heap.c measures
 * against (bench/ref_tlsf.h) must be a correct allocator, or its figures mean nothing:
 * random alloc/realloc/free with every live block filled and verified, user pointers
 * aligned, contents kept by realloc, the structure checked (rt_check) as it goes, and a
 * single free block once everything is freed.  Also: a buffer too small is refused.
 */
#include "check.h"
#include "../bench/ref_tlsf.h"

#define NSLOTS 4000
static size_t mem_words[(1u << 20) / sizeof(size_t)];
static unsigned char *ptr[NSLOTS];
static size_t len[NSLOTS];

static size_t free_blocks(const rt_heap *h)
{
    size_t n = 0;
    unsigned fl, sl;
    const rt_block *x;
    for (fl = 0; fl < RT_FL; fl++) {
        for (sl = 0; sl < RT_SL; sl++) {
            for (x = h->heads[fl][sl]; x != NULL; x = x->next_free) n++;
        }
    }
    return n;
}

int main(void)
{
    unsigned char *mem = (unsigned char *)mem_words + 3;   /* a misaligned buffer */
    rt_heap *h;
    long it, iters = (long)CHECK_ITERS(2000000);
    unsigned long fails = 0;
    uint32_t i;

    CHECK(rt_init(mem, sizeof(rt_heap)) == NULL);
    h = rt_init(mem, sizeof mem_words - 3);
    REQUIRE(h != NULL);
    REQUIRE(rt_check(h, rt_first(h)));
    CHECK(rt_alloc(h, 0) == NULL);
    CHECK(rt_alloc(h, sizeof mem_words) == NULL);
    CHECK_EQ(rt_footprint(1), 4u * RT_W);   /* header word + the smallest payload */
    {   /* realloc's edge cases: NULL is alloc, 0 is free, a huge size fails and keeps p */
        unsigned char *p = (unsigned char *)rt_realloc(h, NULL, 40);
        REQUIRE(p != NULL);
        check_fill(p, 40, 7u);
        CHECK(rt_realloc(h, p, sizeof mem_words) == NULL);
        CHECK(rt_realloc(h, p, SIZE_MAX) == NULL);
        CHECK(check_verify(p, 40, 7u));
        CHECK(rt_realloc(h, p, 0) == NULL);
        CHECK_EQ(free_blocks(h), 1);          /* freed: the heap is one block again */
        REQUIRE(rt_check(h, rt_first(h)));
    }

    for (it = 0; it < iters; it++) {
        uint32_t r = check_below(100);
        size_t n = 1u + check_below((check_rand() & 7u) != 0u ? 200u : 20000u);
        i = check_below(NSLOTS);
        if (ptr[i] == NULL) {
            ptr[i] = (unsigned char *)rt_alloc(h, n);
            if (ptr[i] == NULL) {
                fails++;
                continue;
            }
            len[i] = n;
            CHECK((uintptr_t)ptr[i] % RT_ALIGN == 0u);
            check_fill(ptr[i], n, i);
        } else if (r < 50u) {
            CHECK(check_verify(ptr[i], len[i], i));
            rt_free(h, ptr[i]);
            ptr[i] = NULL;
        } else {
            unsigned char *q;
            CHECK(check_verify(ptr[i], len[i], i));
            q = (unsigned char *)rt_realloc(h, ptr[i], n);
            if (q == NULL) {
                fails++;
                CHECK(check_verify(ptr[i], len[i], i));   /* kept on failure */
                continue;
            }
            CHECK((uintptr_t)q % RT_ALIGN == 0u);
            CHECK(check_verify(q, n < len[i] ? n : len[i], i));  /* the common prefix moved */
            ptr[i] = q;
            len[i] = n;
            check_fill(q, n, i);
        }
        if (it % 20000 == 0) REQUIRE(rt_check(h, rt_first(h)));
    }
    for (i = 0; i < NSLOTS; i++) {
        if (ptr[i] != NULL) {
            CHECK(check_verify(ptr[i], len[i], i));
            rt_free(h, ptr[i]);
        }
    }
    CHECK(rt_check(h, rt_first(h)));
    CHECK_EQ(free_blocks(h), 1);
    CHECK(fails > 0u);   /* the heap was driven full, so the failure paths ran */
    printf("%ld operations, %lu failed for lack of room\n", iters, fails);
    return check_done();
}
