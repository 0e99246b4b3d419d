/* tarn-test: host-only */
/*
 * tests/test_heap_regions_death.c - memory errors at a region's boundary are reported by
 * AddressSanitizer or Valgrind memcheck as for malloc'd memory: a write one byte past the
 * last block of a region (into its sentinel), a read of a block freed in an added region,
 * and a write into an added region's free memory.  Each error runs in a child process;
 * skipped (77) when no tool watches this process.  A control shows that correct use of
 * every region is not reported.  (test_heap_regions.c shows that the heap itself detects
 * such an overrun when the memory tools do not watch.)
 */
#include "check.h"
#include "support/death.h"
#include "tarn/heap.h"

#include <string.h>

#if TARN_HEAP_MAX_REGIONS >= 2

static unsigned char mem0[4096] __attribute__((aligned(16)));
static unsigned char mem1[2048] __attribute__((aligned(16)));
static tarn_heap *h;
static unsigned char *last;     /* the last block of region 1, ending at its sentinel */
static size_t lastn;

static bool last_cb(void *ctx, void *block, size_t size, bool used)
{
    (void)ctx;
    if (used) {
        last = (unsigned char *)block;
        lastn = size;
    }
    return true;
}

static void write_past_region_end(void *arg)
{
    volatile unsigned char *p = last;
    (void)arg;
    p[lastn] = 1;                            /* the bug: one byte past the region's last block */
}

static void read_after_free_in_region(void *arg)
{
    volatile unsigned char *p = (volatile unsigned char *)tarn_heap_alloc_caps(h, 24, TARN_CAP_DMA);
    unsigned char v;
    (void)arg;
    p[3] = 7;
    (void)tarn_heap_free(h, (void *)p);
    v = p[3];                                /* the bug */
    (void)v;
}

static void write_region_free_memory(void *arg)
{
    volatile unsigned char *p = (volatile unsigned char *)tarn_heap_alloc_caps(h, 24, TARN_CAP_DMA);
    (void)arg;
    (void)tarn_heap_free(h, (void *)p);
    p[40] = 1;                               /* the bug: into free memory of region 1 */
}

static void correct_use(void *arg)
{
    unsigned char *p = (unsigned char *)tarn_heap_alloc_caps(h, 24, TARN_CAP_DMA);
    unsigned char *q = (unsigned char *)tarn_heap_alloc(h, 100);
    (void)arg;
    memset(p, 1, 24);
    memset(q, 2, 100);
    last[0] = 3;
    last[lastn - 1u] = 3;
    (void)tarn_heap_free(h, p);
    (void)tarn_heap_free(h, q);
}

int main(void)
{
    int r;
    if (death_active_tool() == DEATH_TOOL_NONE) {
        printf("skipped: no memory tool watches this process\n");
        return 77;
    }
    REQUIRE(tarn_heap_init(&h, mem0, sizeof mem0, NULL) == TARN_OK);
    REQUIRE(tarn_heap_add_region(h, mem1, sizeof mem1, TARN_CAP_DMA) == TARN_OK);
    /* fill region 1 so that its last block ends at its sentinel, then free a hole at its
     * start for the other cases */
    {
        void *first = tarn_heap_alloc_caps(h, 64, TARN_CAP_DMA);
        REQUIRE(first != NULL);
        while (tarn_heap_alloc_caps(h, 8, TARN_CAP_DMA) != NULL) {
        }
        REQUIRE(tarn_heap_region_walk(h, 1, last_cb, NULL) == TARN_OK);
        REQUIRE(last != NULL && lastn > 0u);
        CHECK_EQ(tarn_heap_free(h, first), TARN_OK);
    }
    r = death_expect_report(write_past_region_end, NULL, "use-after-poison");
    CHECK_EQ(r, 1);
    r = death_expect_report(read_after_free_in_region, NULL, "use-after-poison");
    CHECK_EQ(r, 1);
    r = death_expect_report(write_region_free_memory, NULL, "use-after-poison");
    CHECK_EQ(r, 1);
    r = death_expect_report(correct_use, NULL, NULL);
    CHECK_EQ(r, 0);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    return check_done();
}

#else
int main(void)
{
    printf("skipped: regions compiled out\n");
    return 77;
}
#endif
