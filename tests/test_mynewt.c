/*
 * tests/test_mynewt.c - the Mynewt os_mempool compat layer, checked against what Mynewt
 * documents and what its own selftest relies on: the free list headed by SLIST_FIRST is
 * a true list of every free block (address order after init and clear, LIFO after),
 * Mynewt's sizing macros, OS_ALIGNMENT and os_membuf_t, the counters, the list of pools;
 * and tarn's additions: bad puts refused in O(1) and changing nothing, free blocks closed
 * to memory tools except their link word.
 */
#include "check.h"
#include "os/os_mempool.h"

#include <string.h>

#define NB 10
#define BS 40

static os_membuf_t buf1[OS_MEMPOOL_SIZE(NB, BS)];
static os_membuf_t buf2[OS_MEMPOOL_SIZE(3, 4)];
static os_membuf_t buf3[OS_MEMPOOL_SIZE(4, 4)];
static struct os_mempool p1, p2, p3, pz;
static struct os_mempool_ext pe;

/* Mynewt's stride: the block size rounded up to OS_ALIGNMENT (plus the guard). */
static size_t stride_of(const struct os_mempool *mp)
{
    size_t s = ((size_t)mp->mp_block_size + OS_ALIGNMENT - 1u) / OS_ALIGNMENT * OS_ALIGNMENT;
    if (OS_MEMPOOL_GUARD && !(mp->mp_flags & OS_MEMPOOL_F_EXT)) s += sizeof(os_membuf_t);
    return s;
}

/* Walk the free list the way Mynewt code does and check it is a list of exactly
 * mp_num_free distinct block starts. */
static void free_list_matches(struct os_mempool *mp)
{
    struct os_memblock *b;
    unsigned n = 0;
    SLIST_FOREACH(b, mp, mb_next) {
        size_t off = (size_t)((uintptr_t)b - mp->mp_membuf_addr);
        CHECK(off % stride_of(mp) == 0);
        CHECK(off / stride_of(mp) < mp->mp_num_blocks);
        CHECK(os_memblock_from(mp, b) == 1);
        if (++n > mp->mp_num_blocks) break;
    }
    CHECK_EQ(n, mp->mp_num_free);
    CHECK(mp->mp_min_free <= mp->mp_num_free);
    CHECK(os_mempool_is_sane(mp));
}

/* Mynewt's selftest: after init (and after clear) the free list starts at the buffer and
 * each link is the next block, one stride on, through all blocks. */
static void free_list_in_address_order(struct os_mempool *mp, void *membuf)
{
    void **link = (void **)membuf;
    unsigned char *expect = (unsigned char *)membuf;
    unsigned cnt = 1;
    CHECK(SLIST_FIRST(mp) == membuf);
    CHECK_EQ(mp->mp_num_free, mp->mp_num_blocks);
    CHECK_EQ(mp->mp_min_free, mp->mp_num_blocks);
    while (*link != NULL && cnt <= mp->mp_num_blocks) {
        expect += stride_of(mp);
        CHECK(*link == (void *)expect);
        link = (void **)*link;
        cnt++;
    }
    CHECK_EQ(cnt, mp->mp_num_blocks);
}

static int cb_calls, cb_refuse;
static os_error_t put_cb(struct os_mempool_ext *ome, void *data, void *arg)
{
    cb_calls++;
    CHECK(arg == &cb_calls);
    if (cb_refuse) return OS_EBUSY;   /* the application keeps the block */
    return os_memblock_put_from_cb(&ome->mpe_mp, data);
}

/* A put callback that takes and returns a block of its own pool before freeing the one
 * it was given (Mynewt allows it: the callback runs outside the pool's critical section). */
static int nested_calls;
static os_error_t nested_cb(struct os_mempool_ext *ome, void *data, void *arg)
{
    (void)arg;
    if (++nested_calls == 1) {
        void *other = os_memblock_get(&ome->mpe_mp);
        CHECK(other != NULL && other != data);
        CHECK_EQ(os_memblock_put(&ome->mpe_mp, other), OS_OK);   /* re-enters this cb */
    }
    return os_memblock_put_from_cb(&ome->mpe_mp, data);
}

static int locks, unlocks;
static void lk(void *ctx) { CHECK(ctx == &locks); CHECK_EQ(locks, unlocks); locks++; }
static void ulk(void *ctx) { CHECK(ctx == &locks); unlocks++; CHECK_EQ(locks, unlocks); }

static void sizing(void)
{
    /* Mynewt's macros: OS_MEMPOOL_SIZE counts os_membuf_t elements of OS_ALIGNMENT bytes */
    CHECK_EQ(sizeof(os_membuf_t), OS_ALIGNMENT);
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
    CHECK_EQ(_Alignof(os_membuf_t), OS_ALIGNMENT);
#endif
    CHECK_EQ(OS_MEMPOOL_BLOCK_SZ(40), 40u + (OS_MEMPOOL_GUARD ? sizeof(os_membuf_t) : 0u));
    CHECK_EQ(OS_MEMPOOL_SIZE(NB, BS), (size_t)NB * ((OS_MEMPOOL_BLOCK_SZ(BS) + OS_ALIGNMENT - 1) / OS_ALIGNMENT));
    CHECK_EQ(OS_MEMPOOL_BYTES(NB, BS), sizeof(os_membuf_t) * OS_MEMPOOL_SIZE(NB, BS));
    CHECK_EQ(sizeof buf1, OS_MEMPOOL_BYTES(NB, BS));
    if (sizeof(void *) == 4) {
        /* the 32-bit ports: OS_ALIGNMENT 4, a 4-byte block takes 4 bytes (16 for 4) */
        CHECK_EQ(OS_ALIGNMENT, 4);
        if (!OS_MEMPOOL_GUARD) CHECK_EQ(OS_MEMPOOL_BYTES(4, 4), 16u);
    } else {
        CHECK_EQ(OS_ALIGNMENT, 8);
        if (!OS_MEMPOOL_GUARD) CHECK_EQ(OS_MEMPOOL_BYTES(4, 4), 32u);
    }
    CHECK_EQ(OS_ALIGN(13, 4), 16);
}

static void queue_macros(void)
{
    /* the SLIST/STAILQ family of Mynewt's os/queue.h, used as Mynewt code uses them */
    struct item { int v; SLIST_ENTRY(item) sn; STAILQ_ENTRY(item) qn; } it[4];
    SLIST_HEAD(ihead, item) sh = SLIST_HEAD_INITIALIZER(sh);
    STAILQ_HEAD(qhead, item) qh = STAILQ_HEAD_INITIALIZER(qh);
    struct item *p;
    int i, sum = 0;
    for (i = 0; i < 4; i++) it[i].v = i + 1;
    CHECK(SLIST_EMPTY(&sh));
    SLIST_INSERT_HEAD(&sh, &it[0], sn);
    SLIST_INSERT_HEAD(&sh, &it[1], sn);
    SLIST_INSERT_AFTER(&it[0], &it[2], sn);            /* 2 1 3 */
    CHECK(SLIST_FIRST(&sh) == &it[1] && SLIST_NEXT(&it[1], sn) == &it[0]);
    SLIST_REMOVE(&sh, &it[0], item, sn);               /* 2 3 */
    SLIST_FOREACH(p, &sh, sn) sum = sum * 10 + p->v;
    CHECK_EQ(sum, 23);
    SLIST_REMOVE_HEAD(&sh, sn);
    CHECK(SLIST_FIRST(&sh) == &it[2] && SLIST_NEXT(&it[2], sn) == NULL);
    SLIST_INIT(&sh);
    CHECK(SLIST_EMPTY(&sh));

    CHECK(STAILQ_EMPTY(&qh));
    CHECK(STAILQ_LAST(&qh, item, qn) == NULL);
    STAILQ_INSERT_TAIL(&qh, &it[0], qn);
    STAILQ_INSERT_TAIL(&qh, &it[1], qn);
    STAILQ_INSERT_HEAD(&qh, &it[2], qn);
    STAILQ_INSERT_AFTER(&qh, &it[1], &it[3], qn);      /* 3 1 2 4 */
    CHECK(STAILQ_LAST(&qh, item, qn) == &it[3]);
    sum = 0;
    STAILQ_FOREACH(p, &qh, qn) sum = sum * 10 + p->v;
    CHECK_EQ(sum, 3124);
    STAILQ_REMOVE(&qh, &it[3], item, qn);              /* 3 1 2 */
    CHECK(STAILQ_LAST(&qh, item, qn) == &it[1]);
    STAILQ_REMOVE_HEAD(&qh, qn);                       /* 1 2 */
    STAILQ_REMOVE_AFTER(&qh, &it[0], qn);              /* 1 */
    CHECK(STAILQ_FIRST(&qh) == &it[0] && STAILQ_LAST(&qh, item, qn) == &it[0]);
    STAILQ_REMOVE_HEAD_UNTIL(&qh, &it[0], qn);
    CHECK(STAILQ_EMPTY(&qh));
    STAILQ_INSERT_TAIL(&qh, &it[2], qn);
    CHECK(STAILQ_FIRST(&qh) == &it[2]);
    STAILQ_INIT(&qh);
    CHECK(STAILQ_EMPTY(&qh));
}

int main(void)
{
    void *b[NB], *x, *x2;
    int i;
    struct os_mempool_info omi;
    struct os_mempool *mp;

    sizing();
    queue_macros();

    /* init errors */
    CHECK_EQ(os_mempool_init(NULL, NB, BS, buf1, "x"), OS_INVALID_PARM);
    CHECK_EQ(os_mempool_init(&p1, NB, 0, buf1, "x"), OS_INVALID_PARM);
    CHECK_EQ(os_mempool_init(&p1, NB, BS, NULL, "x"), OS_INVALID_PARM);
    CHECK_EQ(os_mempool_init(&p1, NB, BS, (char *)buf1 + 1, "x"), OS_MEM_NOT_ALIGNED);
    CHECK_EQ(os_mempool_ext_init(NULL, NB, BS, buf1, "x"), OS_INVALID_PARM);
    /* a pool that would run past the end of the address space (nothing is written) */
    CHECK_EQ(os_mempool_init(&p1, 0xFFFF, 0xFFFFFFF0u, (void *)(UINTPTR_MAX - 0xFFFFu), "x"),
             OS_INVALID_PARM);

    /* a normal pool: carved at init, as Mynewt's selftest checks */
    CHECK_EQ(os_mempool_init(&p1, NB, BS, buf1, "p1"), OS_OK);
    CHECK_EQ(p1.mp_block_size, BS);
    CHECK_EQ(p1.mp_num_blocks, NB);
    CHECK_EQ(p1.mp_flags, 0);
    CHECK(p1.mp_membuf_addr == (uintptr_t)buf1);
    CHECK(strcmp(p1.name, "p1") == 0);
    free_list_in_address_order(&p1, buf1);
    free_list_matches(&p1);
    for (i = 0; i < NB; i++) {
        x = SLIST_FIRST(&p1);
        b[i] = os_memblock_get(&p1);
        CHECK(b[i] == x);                 /* get takes the first block of the free list */
        CHECK(b[i] == (char *)buf1 + (size_t)i * stride_of(&p1));
        CHECK(os_memblock_from(&p1, b[i]) == 1);
        check_fill(b[i], BS, (uint32_t)i);
        CHECK_EQ(p1.mp_num_free, NB - 1 - i);
        CHECK_EQ(p1.mp_min_free, NB - 1 - i);
        free_list_matches(&p1);
    }
    CHECK(SLIST_FIRST(&p1) == NULL);
    CHECK(os_memblock_get(&p1) == NULL);
    CHECK_EQ(p1.mp_num_free, 0);
    CHECK_EQ(os_memblock_put(&p1, b[2]), OS_OK);
    CHECK_EQ(os_memblock_put(&p1, b[5]), OS_OK);
    CHECK(SLIST_FIRST(&p1) == b[5]);              /* LIFO */
    CHECK(SLIST_NEXT(SLIST_FIRST(&p1), mb_next) == b[2]);
    CHECK_EQ(p1.mp_num_free, 2);
    CHECK_EQ(p1.mp_min_free, 0);
    free_list_matches(&p1);

    /* bad puts: rejected, nothing changes */
    CHECK_EQ(os_memblock_put(&p1, b[2]), OS_INVALID_PARM);          /* double */
    CHECK_EQ(os_memblock_put(&p1, b[5]), OS_INVALID_PARM);          /* double (head) */
    CHECK_EQ(os_memblock_put(&p1, (char *)b[3] + 4), OS_INVALID_PARM); /* interior */
    CHECK_EQ(os_memblock_put(&p1, (char *)b[3] + OS_ALIGNMENT), OS_INVALID_PARM);
    CHECK_EQ(os_memblock_put(&p1, buf2), OS_INVALID_PARM);          /* foreign */
    CHECK_EQ(os_memblock_put(&p1, (char *)buf1 + NB * stride_of(&p1)), OS_INVALID_PARM);
    CHECK_EQ(os_memblock_put(&p1, NULL), OS_INVALID_PARM);
    CHECK_EQ(os_memblock_put(NULL, b[3]), OS_INVALID_PARM);
    CHECK_EQ(os_memblock_put_from_cb(NULL, b[3]), OS_INVALID_PARM);
    CHECK_EQ(os_memblock_put_from_cb(&p1, b[2]), OS_INVALID_PARM);
    CHECK_EQ(p1.mp_num_free, 2);
    CHECK(SLIST_FIRST(&p1) == b[5]);
    CHECK(os_memblock_from(&p1, (char *)b[3] + 4) == 0);
    CHECK(os_memblock_from(&p1, buf2) == 0);
    CHECK(os_memblock_from(NULL, b[3]) == 0);
    for (i = 0; i < NB; i++) if (i != 2 && i != 5) CHECK(check_verify(b[i], BS, (uint32_t)i));
    free_list_matches(&p1);
    CHECK(!os_mempool_is_sane(NULL));
    CHECK(os_memblock_get(NULL) == NULL);
    /* a handed-out block whose second word happens to be any other value is accepted */
    memset(b[3], 0xFF, BS);
    CHECK_EQ(os_memblock_put(&p1, b[3]), OS_OK);
    CHECK_EQ(p1.mp_num_free, 3);

#if defined(__SANITIZE_ADDRESS__)
    /* a free block: the link word readable, the rest closed to AddressSanitizer */
    CHECK(!__asan_address_is_poisoned(b[3]));
    CHECK(__asan_address_is_poisoned((char *)b[3] + sizeof(void *)));
    CHECK(__asan_address_is_poisoned((char *)b[3] + BS - 1));
    CHECK(!__asan_address_is_poisoned(b[4]));   /* handed out */
#endif

    /* clear: every block free again, in address order, and the watermark reset (Mynewt) */
    CHECK_EQ(os_mempool_clear(&p1), OS_OK);
    free_list_in_address_order(&p1, buf1);
    CHECK_EQ(p1.mp_min_free, NB);
    CHECK_EQ(os_mempool_clear(NULL), OS_INVALID_PARM);
    free_list_matches(&p1);
    CHECK_EQ(os_memblock_put(&p1, b[4]), OS_INVALID_PARM);          /* freed by clear */

    /* one-pointer blocks (4 bytes on 32-bit targets, up to 8 on 64-bit hosts): no room
     * for a tag, double puts are still refused */
    CHECK_EQ(os_mempool_init(&p3, 4, 4, buf3, "p3"), OS_OK);
    free_list_in_address_order(&p3, buf3);
    for (i = 0; i < 4; i++) b[i] = os_memblock_get(&p3);
    memcpy(b[0], &b[1], sizeof(void *));      /* user data that looks like a link */
    memset(b[1], 0, sizeof(void *));          /* ... or like the end of the list */
    memset(b[2], 0x5A, sizeof(void *));
    CHECK_EQ(os_memblock_put(&p3, b[2]), OS_OK);
    CHECK_EQ(os_memblock_put(&p3, b[2]), OS_INVALID_PARM);
    CHECK_EQ(os_memblock_put(&p3, b[0]), OS_OK);
    CHECK_EQ(os_memblock_put(&p3, b[1]), OS_OK);
    CHECK_EQ(os_memblock_put(&p3, b[0]), OS_INVALID_PARM);
    CHECK_EQ(os_memblock_put(&p3, b[1]), OS_INVALID_PARM);
    CHECK_EQ(os_memblock_put(&p3, (char *)b[3] + 2), OS_INVALID_PARM);
    CHECK_EQ(p3.mp_num_free, 3);
    free_list_matches(&p3);
    CHECK_EQ(os_memblock_put(&p3, b[3]), OS_OK);
    CHECK_EQ(os_memblock_put(&p3, b[3]), OS_INVALID_PARM);
    CHECK_EQ(p3.mp_num_free, 4);
    free_list_matches(&p3);

    /* weak spots of the original: 0 blocks, NULL name, re-init of a registered pool */
    CHECK_EQ(os_mempool_init(&pz, 0, BS, NULL, NULL), OS_OK);
    CHECK(SLIST_FIRST(&pz) == NULL);
    CHECK(os_memblock_get(&pz) == NULL);
    CHECK_EQ(os_mempool_clear(&pz), OS_OK);
    CHECK_EQ(os_memblock_put(&pz, b[0]), OS_INVALID_PARM);
    CHECK(os_mempool_is_sane(&pz));
    CHECK_EQ(pz.mp_num_free, 0);
    CHECK_EQ(os_mempool_init(&p2, 3, 4, buf2, "p2"), OS_OK);
    CHECK_EQ(os_mempool_init(&p2, 3, 4, buf2, "p2"), OS_OK);   /* again: still listed once */
    {
        int n = 0, seen_p2 = 0, seen_z = 0;
        mp = NULL;
        while ((mp = os_mempool_info_get_next(mp, &omi)) != NULL) {
            n++;
            if (mp == &p2) {
                seen_p2++;
                CHECK(strcmp(omi.omi_name, "p2") == 0);
                CHECK_EQ(omi.omi_block_size, 4);
                CHECK_EQ(omi.omi_num_blocks, 3);
                CHECK_EQ(omi.omi_num_free, 3);
                CHECK_EQ(omi.omi_min_free, 3);
            }
            if (mp == &pz) {
                seen_z++;
                CHECK(omi.omi_name[0] == '\0');   /* NULL name */
            }
        }
        CHECK_EQ(n, 4);
        CHECK_EQ(seen_p2, 1);
        CHECK_EQ(seen_z, 1);
        /* mp_list is Mynewt's STAILQ entry: it links the pools in init order */
        CHECK(STAILQ_NEXT(&p1, mp_list) == &p3);
        CHECK(STAILQ_NEXT(&p3, mp_list) == &pz);
        CHECK(STAILQ_NEXT(&pz, mp_list) == &p2);
        CHECK(STAILQ_NEXT(&p2, mp_list) == NULL);
    }
    CHECK(os_mempool_get("p2", &omi) == &p2);
    CHECK(os_mempool_get("p1", NULL) == &p1);
    CHECK(os_mempool_get("nope", &omi) == NULL);
    CHECK(os_mempool_get(NULL, &omi) == NULL);
    CHECK_EQ(os_mempool_unregister(&p2), OS_OK);
    CHECK_EQ(os_mempool_unregister(&p2), OS_INVALID_PARM);
    CHECK_EQ(os_mempool_unregister(NULL), OS_INVALID_PARM);
    CHECK(os_mempool_get("p2", &omi) == NULL);
    CHECK(os_mempool_info_get_next(&p2, &omi) == NULL);        /* not registered */
    CHECK(STAILQ_NEXT(&pz, mp_list) == NULL);
    {
        /* a long name is truncated and terminated */
        static char longname[] = "a-pool-name-much-longer-than-thirty-two-characters";
        CHECK_EQ(os_mempool_init(&p2, 3, 4, buf2, longname), OS_OK);
        CHECK(os_mempool_get(longname, &omi) == &p2);
        CHECK_EQ(strlen(omi.omi_name), OS_MEMPOOL_INFO_NAME_LEN - 1);
        CHECK(strncmp(omi.omi_name, longname, OS_MEMPOOL_INFO_NAME_LEN - 1) == 0);
    }

    /* extended pool: the application sets mpe_put_cb itself after init (BLE transports) */
    CHECK_EQ(os_mempool_unregister(&p1), OS_OK);                /* buf1 is reused */
    CHECK_EQ(os_mempool_ext_init(&pe, NB, BS, buf1, "ext"), OS_OK);
    CHECK(pe.mpe_mp.mp_flags & OS_MEMPOOL_F_EXT);
    CHECK(pe.mpe_put_cb == NULL);
    free_list_in_address_order(&pe.mpe_mp, buf1);
    x = os_memblock_get(&pe.mpe_mp);
    CHECK_EQ(os_memblock_put(&pe.mpe_mp, x), OS_OK);           /* no callback yet */
    pe.mpe_put_cb = put_cb;
    pe.mpe_put_arg = &cb_calls;
    x = os_memblock_get(&pe.mpe_mp);
    CHECK_EQ(pe.mpe_mp.mp_num_free, NB - 1);
    CHECK_EQ(os_memblock_put(&pe.mpe_mp, x), OS_OK);
    CHECK_EQ(cb_calls, 1);
    CHECK_EQ(pe.mpe_mp.mp_num_free, NB);
    CHECK_EQ(os_memblock_put(&pe.mpe_mp, x), OS_INVALID_PARM);  /* double: never reaches cb */
    CHECK_EQ(cb_calls, 1);
    x = os_memblock_get(&pe.mpe_mp);
    cb_refuse = 1;
    CHECK_EQ(os_memblock_put(&pe.mpe_mp, x), OS_EBUSY);
    CHECK_EQ(pe.mpe_mp.mp_num_free, NB - 1);                   /* still out */
    cb_refuse = 0;
    CHECK_EQ(os_memblock_put(&pe.mpe_mp, x), OS_OK);
    CHECK_EQ(pe.mpe_mp.mp_num_free, NB);
    free_list_matches(&pe.mpe_mp);

    /* the lock hook brackets every call */
    {
        tarn_lock lock = {lk, ulk, &locks};
        os_mempool_set_lock(&lock);
        x = os_memblock_get(&pe.mpe_mp);
        CHECK_EQ(os_memblock_put(&pe.mpe_mp, x), OS_OK);
        CHECK(os_mempool_is_sane(&pe.mpe_mp));
        CHECK(locks >= 3);
        CHECK_EQ(locks, unlocks);
        os_mempool_set_lock(NULL);
        i = locks;
        x = os_memblock_get(&pe.mpe_mp);
        CHECK_EQ(os_memblock_put(&pe.mpe_mp, x), OS_OK);
        CHECK_EQ(locks, i);
    }

    /* the callback may use its pool, with or without a lock hook */
    {
        tarn_lock lock = {lk, ulk, &locks};
        int round;
        pe.mpe_put_cb = nested_cb;
        for (round = 0; round < 2; round++) {
            os_mempool_set_lock(round ? &lock : NULL);
            nested_calls = 0;
            x = os_memblock_get(&pe.mpe_mp);
            CHECK_EQ(os_memblock_put(&pe.mpe_mp, x), OS_OK);
            CHECK_EQ(nested_calls, 2);
            CHECK_EQ(pe.mpe_mp.mp_num_free, NB);
            CHECK(os_mempool_is_sane(&pe.mpe_mp));
            CHECK_EQ(locks, unlocks);
        }
        os_mempool_set_lock(NULL);
        pe.mpe_put_cb = put_cb;
    }

    /* a write after put that damages a link is reported, and get does not follow it */
    x = os_memblock_get(&pe.mpe_mp);
    CHECK_EQ(os_memblock_put(&pe.mpe_mp, x), OS_OK);
    CHECK(SLIST_FIRST(&pe.mpe_mp) == x);
    {
        /* the link word of a free block is readable and writable to memory tools (it is
         * Mynewt's public free list): the stray write lands without a tool report */
        void *bad = (char *)buf1 + 3;
        memcpy(x, &bad, sizeof bad);
    }
    CHECK(!os_mempool_is_sane(&pe.mpe_mp));
    CHECK(os_memblock_get(&pe.mpe_mp) == NULL);
    CHECK_EQ(pe.mpe_mp.mp_num_free, NB);
    CHECK_EQ(os_mempool_clear(&pe.mpe_mp), OS_OK);              /* clear repairs it */
    CHECK(os_mempool_is_sane(&pe.mpe_mp));
    free_list_in_address_order(&pe.mpe_mp, buf1);

    /* os_mempool_ext_clear (NimBLE's transport deinit calls it): every block back, and
     * the pool is a plain one from then on, as in Mynewt (no flag, no callback) */
    CHECK_EQ(os_mempool_ext_clear(NULL), OS_INVALID_PARM);
    pe.mpe_put_cb = put_cb;
    pe.mpe_put_arg = &cb_calls;
    x = os_memblock_get(&pe.mpe_mp);
    x2 = os_memblock_get(&pe.mpe_mp);
    REQUIRE(x != NULL && x2 != NULL);
    CHECK_EQ(os_mempool_ext_clear(&pe), OS_OK);
    CHECK_EQ(pe.mpe_mp.mp_flags, 0);
    CHECK(pe.mpe_put_cb == NULL && pe.mpe_put_arg == NULL);
    CHECK_EQ(pe.mpe_mp.mp_num_free, NB);
    CHECK_EQ(pe.mpe_mp.mp_min_free, NB);
    CHECK(os_mempool_is_sane(&pe.mpe_mp));
    {
        /* the layout the extended pool was given (no guard, in every build): the free
         * list runs through the blocks in address order one aligned block size apart */
        size_t st = ((size_t)BS + OS_ALIGNMENT - 1u) / OS_ALIGNMENT * OS_ALIGNMENT;
        struct os_memblock *fb = SLIST_FIRST(&pe.mpe_mp);
        for (i = 0; i < NB; i++) {
            CHECK(fb == (struct os_memblock *)(void *)((unsigned char *)buf1 + (size_t)i * st));
            if (fb == NULL) break;
            fb = SLIST_NEXT(fb, mb_next);
        }
        CHECK(fb == NULL);
    }
    i = cb_calls;
    x = os_memblock_get(&pe.mpe_mp);
    CHECK(x == (void *)buf1);
    pe.mpe_put_cb = put_cb;                  /* not an extended pool any more: ignored */
    CHECK_EQ(os_memblock_put(&pe.mpe_mp, x), OS_OK);
    CHECK_EQ(cb_calls, i);
    CHECK_EQ(os_memblock_put(&pe.mpe_mp, x), OS_INVALID_PARM);  /* double put still refused */
    pe.mpe_put_cb = NULL;
    CHECK_EQ(os_mempool_ext_init(&pe, NB, BS, buf1, "ext"), OS_OK);   /* extended again */

    /* os_mempool_module_init (a port's start-up call) empties the list of pools, which
     * keep working */
    CHECK(os_mempool_info_get_next(NULL, &omi) != NULL);
    os_mempool_module_init();
    CHECK(os_mempool_info_get_next(NULL, &omi) == NULL);
    CHECK(os_mempool_get("ext", &omi) == NULL);
    x = os_memblock_get(&pe.mpe_mp);
    CHECK(x != NULL);
    CHECK_EQ(os_memblock_put(&pe.mpe_mp, x), OS_OK);
    CHECK_EQ(os_mempool_unregister(&pe.mpe_mp), OS_INVALID_PARM);   /* no longer listed */
    CHECK_EQ(os_mempool_ext_init(&pe, NB, BS, buf1, "ext"), OS_OK);  /* listed again */
    CHECK(os_mempool_get("ext", &omi) == &pe.mpe_mp);
    CHECK(os_mempool_info_get_next(&pe.mpe_mp, &omi) == NULL);

    /* a write after put that stores another live block's address in the freed block's
     * link: get must not follow it and hand that live block out a second time */
    {
        static os_membuf_t wb[OS_MEMPOOL_SIZE(4, BS)];
        struct os_mempool wp;
        void *a, *c, *y;
        REQUIRE(os_mempool_init(&wp, 4, BS, wb, "waf") == OS_OK);
        a = os_memblock_get(&wp);
        c = os_memblock_get(&wp);
        REQUIRE(a != NULL && c != NULL);
        CHECK_EQ(os_memblock_put(&wp, a), OS_OK);
        memcpy(a, &c, sizeof c);                /* the stale write (the link word is open) */
        y = os_memblock_get(&wp);               /* refused: c is not a free block */
        CHECK(y == NULL);
        y = os_memblock_get(&wp);
        CHECK(y == NULL);                       /* never the live block c a second time */
        CHECK(os_mempool_is_sane(&wp) == 0);    /* and the damage is reported */
    }
    return check_done();
}
