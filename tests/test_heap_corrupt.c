/*
 * tests/test_heap_corrupt.c - tarn_heap_check against damaged control data: every field
 * of the control structure the geometry check covers, the bitmap and header sentinels, and (where
 * the quarantine is compiled in) every way the quarantine ring can be damaged.  Each
 * damage alone must give TARN_ECORRUPT, and the heap must check clean again once the
 * field is restored; and each sealed field changed alone, in a low and a high bit, makes
 * alloc, usable_size and free refuse the heap.  Plain C: runs on the host and bare-metal.
 */
#include "check.h"
#include "tarn/heap.h"
#include "internal.h"
#include "support/poke.h"

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
    DAMAGE(ngran, h->ngran + 1u);
    DAMAGE(k, (uint8_t)6u);
    DAMAGE(nclasses, h->nclasses + 1u);
    DAMAGE(heads, h->heads + 1);
    DAMAGE(groups, h->groups + 1);
    DAMAGE(blocks, h->blocks + TARN_HEAP_GRANULE);
    DAMAGE(mem_size, (size_t)100u);
    /* the damage flag itself: a stray bit in it is reported, and (below level 2, whose
     * full check before every call refuses it) does not stop the heap: only the flag's
     * own value, set when damage is found, refuses allocations */
    DAMAGE(broken, (uint8_t)1u);
    DAMAGE(broken, (uint8_t)0x80u);
#if TARN_CHECK_LEVEL < 2
    {
        void *q;
        h->broken = 1u;
        q = tarn_heap_alloc(h, 24);
        CHECK(q != NULL);
        CHECK_EQ(tarn_heap_free(h, q), TARN_OK);
        h->broken = 0u;
        CHECK_EQ(tarn_heap_check(h), TARN_OK);
    }
#endif
    DAMAGE(mem, (void *)(mem + 8));
    /* the sentinel bit of the used-start bitmap (right after the control structure), and
     * a stray bit past it */
    {
        uint32_t *u = (uint32_t *)(void *)((unsigned char *)h + sizeof(tarn_heap)) + h->ngran / 32u;
        uint32_t w = *u;
        *u = w & ~(1u << (h->ngran % 32u));
        CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
        if (h->ngran % 32u != 31u) {
            *u = w | (2u << (h->ngran % 32u));
            CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
        }
        *u = w;
        CHECK_EQ(tarn_heap_check(h), TARN_OK);
    }
    /* the sentinel header: {size of the last block, 0} */
    {
        uint32_t *sent = (uint32_t *)(void *)(h->blocks + (size_t)h->ngran * TARN_HEAP_GRANULE);
        uint32_t w[2], bad[2];
        tarn_san_peek(w, sent, sizeof w);   /* (a header: poisoned for the tools) */
        bad[0] = w[0] + 1u;
        bad[1] = w[1];
        test_poke(sent, bad, sizeof bad);
        CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
        bad[0] = w[0];
        bad[1] = 7u;
        test_poke(sent, bad, sizeof bad);
        CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);
        test_poke(sent, w, sizeof w);
        CHECK_EQ(tarn_heap_check(h), TARN_OK);
    }
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
    DAMAGE(quarantine.slot[i0], h->blocks + (size_t)h->ngran * TARN_HEAP_GRANULE);             /* past the blocks */
    DAMAGE(quarantine.slot[i0], a + 1);                              /* not on a granule */
    DAMAGE(quarantine.slot[i0], a + TARN_HEAP_GRANULE);              /* inside a block */
    DAMAGE(quarantine.slot[i0], c + TARN_HEAP_BLOCK_BYTES(64) + TARN_HEAP_GRANULE); /* free space */
    DAMAGE(quarantine.slot[i0], b);                                  /* held twice */
    CHECK_EQ(tarn_heap_quarantine_flush(h), TARN_OK);
    CHECK_EQ(tarn_heap_free(h, c), TARN_OK);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}
#endif

/* The seal refuses every call once any single sealed field (number or pointer) changes,
 * in any of its bits (on 32-bit hosts too, where a shifted field could lose its high
 * bits).  The buffer's
 * address and size, which no allocation or free uses, have a check word of their own,
 * verified by the calls that use them (check, stats). */
#define SEALED(field, flip)                                                  \
    do {                                                                     \
        __typeof__(h->field) saved_ = h->field;                              \
        h->field = (__typeof__(h->field))((uintptr_t)h->field ^ (flip));     \
        CHECK(tarn_heap_alloc(h, 8) == NULL);                                \
        CHECK_EQ(tarn_heap_usable_size(h, a), 0u);                           \
        CHECK_EQ(tarn_heap_free(h, a), TARN_EINVAL);                         \
        h->field = saved_;                                                   \
        CHECK(tarn_heap_usable_size(h, a) >= 100u);                          \
    } while (0)
/* Changed alone, mem or mem_size makes check and stats report damage. */
#define CHECKED(field, flip)                                                 \
    do {                                                                     \
        tarn_heap_stats st_;                                                 \
        __typeof__(h->field) saved_ = h->field;                              \
        h->field = (__typeof__(h->field))((uintptr_t)h->field ^ (flip));     \
        CHECK_EQ(tarn_heap_check(h), TARN_ECORRUPT);                         \
        CHECK_EQ(tarn_heap_stats_get(h, &st_), TARN_ECORRUPT);               \
        h->field = saved_;                                                   \
        CHECK_EQ(tarn_heap_check(h), TARN_OK);                               \
        CHECK_EQ(tarn_heap_stats_get(h, &st_), TARN_OK);                     \
    } while (0)

static void sealed_fields(void)
{
    void *a;
    REQUIRE(tarn_heap_init(&h, mem, sizeof mem, NULL) == TARN_OK);
    a = tarn_heap_alloc(h, 100);
    REQUIRE(a != NULL);
    SEALED(ngran, 1u);
    SEALED(ngran, 0x04000000u);
    SEALED(nclasses, 1u);
    SEALED(nclasses, 0x00010000u);
    SEALED(nclasses, 0x80000000u);
    SEALED(k, 0x01u);
    SEALED(k, 0x10u);
    SEALED(k, 0x80u);
    SEALED(blocks, (uintptr_t)8u);
    SEALED(blocks, (uintptr_t)1u << (sizeof(uintptr_t) * 8u - 1u));
    SEALED(groups, (uintptr_t)4u);
    SEALED(heads, (uintptr_t)4u << 20);
    CHECKED(mem_size, (size_t)1u << (sizeof(size_t) * 8u - 1u));
    CHECKED(mem_size, (size_t)1u);
    CHECKED(mem, (uintptr_t)16u);
    CHECK_EQ(tarn_heap_free(h, a), TARN_OK);
    CHECK_EQ(tarn_heap_check(h), TARN_OK);
}

int main(void)
{
    control_fields();
    sealed_fields();
#if TARN_QUARANTINE >= 2
    quarantine_ring();
#endif
    return check_done();
}
