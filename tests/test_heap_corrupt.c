/*
 * tests/test_heap_corrupt.c - tarn_heap_check against damaged control data: every field
 * of the control structure the geometry check covers, the bitmap sentinels, and (where
 * the quarantine is compiled in) every way the quarantine ring can be damaged.  Each
 * damage alone must give TARN_ECORRUPT, and the heap must check clean again once the
 * field is restored.  Plain C: runs on the host and bare-metal.
 */
#include "check.h"
#include "tarn/heap.h"
#include "internal.h"

#define ARENA 16384u
static unsigned char mem[ARENA] __attribute__((aligned(16)));
static tarn_heap *h;

/* Damage one field of *h, expect the check to see it, restore it. */
#define DAMAGE(field, value)                                   \
    do {                                                       \
        __typeof__(h->field) saved_ = h->field;                \
        h->field = (value);                                    \
        CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);           \
        h->field = saved_;                                     \
        CHECK_EQ(tarn_heap_check(h), TARN_OK);                 \
    } while (0)

static void control_fields(void)
{
    void *a, *b;
    REQUIRE(tarn_heap_init(&h, mem, sizeof mem, NULL) == TARN_OK);
    a = tarn_heap_alloc(h, 100);
    b = tarn_heap_alloc(h, 300);
    REQUIRE(a != NULL && b != NULL);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    DAMAGE(ngran, 0u);
    DAMAGE(ngran, 1u << 30);
    DAMAGE(k, (uint8_t)6u);
    DAMAGE(depth, (uint8_t)0u);
    DAMAGE(depth, (uint8_t)(TARN_HEAP_TREE_MAX + 1u));
    DAMAGE(lmask, h->lmask ^ 1u);
    DAMAGE(nbytes, h->nbytes + TARN_HEAP_GRANULE);
    DAMAGE(nclasses, h->nclasses + 1u);
    DAMAGE(heads, h->heads + 1);
    DAMAGE(groups, h->groups + 1);
    DAMAGE(fmap, h->fmap + 1);
    DAMAGE(smap, h->smap + 1);
    DAMAGE(s1, h->s1 + 1);
    DAMAGE(blocks, h->blocks + TARN_HEAP_GRANULE);
    DAMAGE(lvl[0], h->lvl[0] + 1u);
    /* the start and end sentinels of the bitmaps */
    DAMAGE(smap[0], h->smap[0] & ~1u);
    DAMAGE(smap[h->ngran / 32u], h->smap[h->ngran / 32u] & ~(1u << (h->ngran % 32u)));
    DAMAGE(fmap[h->ngran / 32u], h->fmap[h->ngran / 32u] | (1u << (h->ngran % 32u)));
    /* nothing was lost: both blocks are intact and go back */
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}

#if TARN_QUARANTINE >= 2
static void quarantine_ring(void)
{
    tarn_config cfg;
    unsigned char *a, *b, *c;
    uint16_t i0;
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = TARN_F_QUARANTINE;
    REQUIRE(tarn_heap_init(&h, mem, sizeof mem, &cfg) == TARN_OK);
    a = (unsigned char *)tarn_heap_alloc(h, 64);
    b = (unsigned char *)tarn_heap_alloc(h, 64);
    c = (unsigned char *)tarn_heap_alloc(h, 64);
    REQUIRE(a != NULL && b != NULL && c != NULL);
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, b), TARN_OK);      /* two held blocks */
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
    i0 = h->quarantine.first;
    DAMAGE(quarantine.count, (uint16_t)(TARN_QUARANTINE + 1u));
    DAMAGE(quarantine.first, (uint16_t)TARN_QUARANTINE);
    DAMAGE(quarantine.on, (uint16_t)0u);
    DAMAGE(quarantine.slot[i0], NULL);
    DAMAGE(quarantine.slot[i0], h->blocks + h->nbytes);             /* past the blocks */
    DAMAGE(quarantine.slot[i0], a + 1);                              /* not on a granule */
    DAMAGE(quarantine.slot[i0], a + TARN_HEAP_GRANULE);              /* inside a block */
    DAMAGE(quarantine.slot[i0], c + 64 + 4 * TARN_HEAP_GRANULE + TARN_HEAP_EXTRA); /* free space */
    DAMAGE(quarantine.slot[i0], b);                                  /* held twice */
    CHECK_EQ(tarn_heap_quarantine_flush(h), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, c), TARN_OK);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}
#endif

int main(void)
{
    control_fields();
#if TARN_QUARANTINE >= 2
    quarantine_ring();
#endif
    return check_done();
}
