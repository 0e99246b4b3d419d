/* tests/test_mynewt.c - the Mynewt os_mempool compat layer: API, fields, weak spots. */
#include "check.h"
#include "os/os_mempool.h"
#include "internal.h"

#define NB 6
#define BS 40

static os_membuf_t buf1[OS_MEMPOOL_SIZE(NB, BS)];
static os_membuf_t buf2[OS_MEMPOOL_SIZE(3, 4)];
static struct os_mempool p1, p2, pz;
static struct os_mempool_ext pe;

static void fields_match(struct os_mempool *mp)
{
    tarn_block_stats st;
    REQUIRE(tarn_block_stats_get(&mp->tarn_pool_, &st) == TARN_OK);
    CHECK_EQ(mp->mp_num_free, st.free);
    CHECK_EQ(mp->mp_min_free, st.min_free);
    CHECK(SLIST_FIRST(mp) == (struct os_memblock *)tarn_block_next_free(&mp->tarn_pool_));
}

static int cb_calls, cb_refuse;
static os_error_t put_cb(struct os_mempool_ext *ome, void *data, void *arg)
{
    cb_calls++;
    CHECK(arg == &cb_calls);
    if (cb_refuse) return OS_EBUSY;   /* the application keeps the block */
    return os_memblock_put_from_cb(&ome->mpe_mp, data);
}

int main(void)
{
    void *b[NB], *x;
    int i;
    struct os_mempool_info omi;
    struct os_mempool *mp;

    /* sizing */
    CHECK(sizeof(os_membuf_t) == OS_ALIGNMENT);
    CHECK(OS_MEMPOOL_BYTES(NB, BS) >= (size_t)NB * BS);
    CHECK(OS_MEMPOOL_BYTES(NB, BS) % OS_ALIGNMENT == 0);
    CHECK(OS_MEMPOOL_BYTES(3, 4) >= 3 * 4 + 4);  /* tiny blocks hold a link; the bitmap */
    CHECK(OS_MEMPOOL_BYTES(NB, BS) >= TARN_BLOCK_POOL_BYTES(NB, BS));

    /* init errors */
    CHECK_EQ(os_mempool_init(NULL, NB, BS, buf1, "x"), OS_INVALID_PARM);
    CHECK_EQ(os_mempool_init(&p1, NB, 0, buf1, "x"), OS_INVALID_PARM);
    CHECK_EQ(os_mempool_init(&p1, NB, BS, NULL, "x"), OS_INVALID_PARM);
    CHECK_EQ(os_mempool_init(&p1, NB, BS, (char *)buf1 + 1, "x"), OS_MEM_NOT_ALIGNED);
    CHECK_EQ(os_mempool_ext_init(NULL, NB, BS, buf1, "x"), OS_INVALID_PARM);
    if (sizeof(size_t) > 4) {
        /* 2 blocks of 2 GiB: tarn pools span less than 4 GiB, so this is refused rather
         * than silently giving fewer blocks (the buffer is never touched) */
        CHECK_EQ(os_mempool_init(&p1, 2, 0x80000000u, buf1, "big"), OS_INVALID_PARM);
    }

    /* a normal pool; fields true after every call */
    CHECK_EQ(os_mempool_init(&p1, NB, BS, buf1, "p1"), OS_OK);
    CHECK_EQ(p1.mp_block_size, BS);
    CHECK_EQ(p1.mp_num_blocks, NB);
    CHECK_EQ(p1.mp_num_free, NB);
    CHECK_EQ(p1.mp_min_free, NB);
    CHECK(p1.mp_membuf_addr == (uintptr_t)buf1);
    CHECK(strcmp(p1.name, "p1") == 0);
    CHECK(SLIST_FIRST(&p1) == (struct os_memblock *)(void *)buf1);
    for (i = 0; i < NB; i++) {
        x = SLIST_FIRST(&p1);
        b[i] = os_memblock_get(&p1);
        CHECK(b[i] == x);               /* SLIST_FIRST is the block get returns */
        CHECK(os_memblock_from(&p1, b[i]) == 1);
        check_fill(b[i], BS, (uint32_t)i);
        fields_match(&p1);
    }
    CHECK(SLIST_FIRST(&p1) == NULL);
    CHECK(os_memblock_get(&p1) == NULL);
    CHECK_EQ(p1.mp_num_free, 0);
    CHECK_EQ(os_memblock_put(&p1, b[2]), OS_OK);
    CHECK(SLIST_FIRST(&p1) == b[2]);
    CHECK_EQ(p1.mp_num_free, 1);
    CHECK_EQ(p1.mp_min_free, 0);

    /* bad puts: rejected, nothing changes */
    CHECK_EQ(os_memblock_put(&p1, b[2]), OS_INVALID_PARM);          /* double */
    CHECK_EQ(os_memblock_put(&p1, (char *)b[3] + 4), OS_INVALID_PARM); /* interior */
    CHECK_EQ(os_memblock_put(&p1, buf2), OS_INVALID_PARM);          /* foreign */
    CHECK_EQ(os_memblock_put(&p1, NULL), OS_INVALID_PARM);
    CHECK_EQ(os_memblock_put(NULL, b[3]), OS_INVALID_PARM);
    CHECK_EQ(os_memblock_put_from_cb(NULL, b[3]), OS_INVALID_PARM);
    CHECK_EQ(p1.mp_num_free, 1);
    CHECK(os_memblock_from(&p1, (char *)b[3] + 4) == 0);
    CHECK(os_memblock_from(&p1, buf2) == 0);
    CHECK(os_memblock_from(NULL, b[3]) == 0);
    for (i = 0; i < NB; i++) if (i != 2) CHECK(check_verify(b[i], BS, (uint32_t)i));
    CHECK(os_mempool_is_sane(&p1));
    CHECK(!os_mempool_is_sane(NULL));
    CHECK(os_memblock_get(NULL) == NULL);

    /* clear */
    CHECK_EQ(os_mempool_clear(&p1), OS_OK);
    CHECK_EQ(p1.mp_num_free, NB);
    CHECK_EQ(os_mempool_clear(NULL), OS_INVALID_PARM);
    fields_match(&p1);

    /* weak spots of the original: 0 blocks, NULL name, re-init of a registered pool */
    CHECK_EQ(os_mempool_init(&pz, 0, BS, NULL, NULL), OS_OK);
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
        CHECK_EQ(n, 3);
        CHECK_EQ(seen_p2, 1);
        CHECK_EQ(seen_z, 1);
    }
    CHECK(os_mempool_get("p2", &omi) == &p2);
    CHECK(os_mempool_get("p1", NULL) == &p1);
    CHECK(os_mempool_get("nope", &omi) == NULL);
    CHECK(os_mempool_get(NULL, &omi) == NULL);
    CHECK_EQ(os_mempool_unregister(&p2), OS_OK);
    CHECK_EQ(os_mempool_unregister(&p2), OS_INVALID_PARM);
    CHECK_EQ(os_mempool_unregister(NULL), OS_INVALID_PARM);
    CHECK(os_mempool_get("p2", &omi) == NULL);
    {
        /* a long name is truncated and terminated */
        static char longname[] = "a-pool-name-much-longer-than-thirty-two-characters";
        CHECK_EQ(os_mempool_init(&p2, 3, 4, buf2, longname), OS_OK);
        CHECK(os_mempool_get(longname, &omi) == &p2);
        CHECK_EQ(strlen(omi.omi_name), OS_MEMPOOL_INFO_NAME_LEN - 1);
        CHECK(strncmp(omi.omi_name, longname, OS_MEMPOOL_INFO_NAME_LEN - 1) == 0);
    }

    /* extended pool: the application sets mpe_put_cb itself after init (BLE transports) */
    CHECK_EQ(os_mempool_ext_init(&pe, NB, BS, buf1, "ext"), OS_OK);
    CHECK(pe.mpe_mp.mp_flags & OS_MEMPOOL_F_EXT);
    CHECK(pe.mpe_put_cb == NULL);
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
    fields_match(&pe.mpe_mp);

    /* corruption is reported by os_mempool_is_sane */
    x = os_memblock_get(&pe.mpe_mp);
    CHECK_EQ(os_memblock_put(&pe.mpe_mp, x), OS_OK);
    TARN_SAN_DEFINED(x, sizeof(void *));
    *(void **)x = (char *)buf1 + 3;                              /* write after free */
    CHECK(!os_mempool_is_sane(&pe.mpe_mp));
    return check_done();
}
