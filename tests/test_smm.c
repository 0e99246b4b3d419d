/* tests/test_smm.c - the SMM compat layer: the seed's usage, callback directions, device
 * addresses, bad input, rebuild after a reset and after power cuts, roots, callback errors. */
#include "check.h"
#include "smm.h"
#include "support/emudev.h"

#define BASE 0x10000u
#define SIZE 8192u

static uint8_t cells[SIZE];
static emudev dev;

/* what the callbacks saw */
static unsigned long n_read, n_write, bad_dir;
static int fail_next;

static bool in_device(const u8 *p, u32 n)
{
    uintptr_t a = (uintptr_t)p;
    return a >= BASE && a + n <= BASE + SIZE;
}

static int dev_read(u8 *dst_addr, u8 *src_addr, u32 size)
{
    n_read++;
    if (!in_device(src_addr, size) || in_device(dst_addr, size)) bad_dir++;
    if (fail_next > 0 && --fail_next == 0) return 5;
    return emudev_read(&dev, (uint32_t)(uintptr_t)src_addr, dst_addr, size);
}

static int dev_write(u8 *dst_addr, u8 *src_addr, u32 size)
{
    n_write++;
    if (!in_device(dst_addr, size) || in_device(src_addr, size)) bad_dir++;
    if (fail_next > 0 && --fail_next == 0) return -7;
    return emudev_write(&dev, (uint32_t)(uintptr_t)dst_addr, src_addr, size);
}

static void seed_usage(void)
{
    /* the seed's example, with its designated initializer */
    struct smm_mem_info mem_mgr = {
        .base_addr = BASE,
        .size = SIZE,
        .read = dev_read,
        .write = dev_write,
    };
    void *ptr;
    CHECK_EQ(smm_memory_create(&mem_mgr), 0);
    ptr = smm_malloc(&mem_mgr, 128);
    CHECK(ptr != NULL);
    CHECK((uintptr_t)ptr >= BASE && (uintptr_t)ptr + 128 <= BASE + SIZE);
    CHECK_EQ(smm_free(&mem_mgr, ptr), 0);
    CHECK_EQ(smm_last_error(&mem_mgr), 0);
    CHECK(n_read > 0 && n_write > 0);
    CHECK_EQ(bad_dir, 0);
}

static void api(void)
{
    static struct smm_mem_info m, m2, zero;
    void *p[64], *q;
    unsigned i, n = 0;
    size_t sz;
    u8 buf[32], back[32];

    memset(cells, 0xFF, sizeof cells);           /* an erased device */
    m = zero;
    m.base_addr = BASE;
    m.size = SIZE;
    m.read = dev_read;
    m.write = dev_write;
    /* nothing to rebuild on a blank device */
    CHECK_EQ(smm_memory_rebuild(&m), TARN_ENOENT);
    CHECK(smm_malloc(&m, 8) == NULL);
    CHECK_EQ(smm_last_error(&m), TARN_EINVAL);   /* not created */
    CHECK_EQ(smm_memory_create(&m), 0);

    /* bad input */
    CHECK_EQ(smm_memory_create(NULL), TARN_EINVAL);
    CHECK_EQ(smm_memory_rebuild(NULL), TARN_EINVAL);
    CHECK(smm_malloc(NULL, 8) == NULL);
    CHECK(smm_malloc(&m, 0) == NULL);
    CHECK_EQ(smm_last_error(&m), TARN_EINVAL);
    CHECK(smm_malloc(&m, SIZE) == NULL);
    CHECK_EQ(smm_last_error(&m), TARN_ENOMEM);
    CHECK_EQ(smm_free(NULL, NULL), TARN_EINVAL);
    CHECK_EQ(smm_free(&m, NULL), TARN_EFOREIGN);
    CHECK_EQ(smm_last_error(NULL), TARN_EINVAL);
    CHECK(smm_ext(NULL) == NULL);
    CHECK(smm_root_get(NULL, 0) == NULL);
    CHECK_EQ(smm_root_set(NULL, 0, NULL), TARN_EINVAL);

    /* minimum allocation 4 bytes; every block inside the device, none overlapping */
    for (n = 0; n < 64; n++) {
        p[n] = smm_malloc(&m, 1 + n % 37);
        CHECK(p[n] != NULL);
        CHECK(((uintptr_t)p[n] & 3u) == 0);
        CHECK_EQ(tarn_ext_size(smm_ext(&m), (uint32_t)(uintptr_t)p[n], &sz), TARN_OK);
        CHECK(sz >= 4 && sz >= 1 + n % 37);
        if (n > 0) CHECK((uintptr_t)p[n] >= (uintptr_t)p[n - 1] + 4);
    }
    /* data goes through the caller's own write callback, at the returned address */
    for (i = 0; i < 32; i++) buf[i] = (u8)(i * 9 + 1);
    CHECK_EQ(dev_write((u8 *)p[35], buf, 32), 0);
    CHECK_EQ(dev_read(back, (u8 *)p[35], 32), 0);
    CHECK(memcmp(buf, back, 32) == 0);
    CHECK_EQ(smm_free(&m, (u8 *)p[3] + 4), TARN_EFOREIGN);      /* interior */
    CHECK_EQ(smm_free(&m, (u8 *)p[3] + 1), TARN_EFOREIGN);      /* misaligned */
    CHECK_EQ(smm_free(&m, (void *)(uintptr_t)(BASE + SIZE)), TARN_EFOREIGN);
    CHECK_EQ(smm_free(&m, buf), TARN_EFOREIGN);                 /* a RAM pointer */
    CHECK_EQ(smm_free(&m, p[3]), 0);
    CHECK_EQ(smm_free(&m, p[3]), TARN_EDOUBLE);
    CHECK_EQ(smm_last_error(&m), TARN_EDOUBLE);
    p[3] = NULL;

    /* roots */
    CHECK(smm_root_get(&m, 0) == NULL);
    CHECK_EQ(smm_root_set(&m, 0, p[35]), 0);
    CHECK_EQ(smm_root_set(&m, SMM_ROOTS, p[35]), TARN_EINVAL);
    CHECK_EQ(smm_root_set(&m, 1, (u8 *)p[35] + 4), TARN_EFOREIGN);
    CHECK_EQ(smm_free(&m, p[35]), TARN_EBUSY);

    /* rebuild on a fresh struct describing the same memory */
    m2 = zero;
    m2.base_addr = BASE;
    m2.size = SIZE;
    m2.read = dev_read;
    m2.write = dev_write;
    CHECK_EQ(smm_memory_rebuild(&m2), 0);
    CHECK(smm_root_get(&m2, 0) == p[35]);
    CHECK_EQ(dev_read(back, (u8 *)smm_root_get(&m2, 0), 32), 0);
    CHECK(memcmp(buf, back, 32) == 0);
    CHECK_EQ(tarn_ext_check(smm_ext(&m2)), TARN_OK);
    for (i = 0; i < n; i++) {
        if (p[i] == NULL || i == 35) continue;
        CHECK_EQ(smm_free(&m2, p[i]), 0);
    }
    CHECK_EQ(smm_root_set(&m2, 0, NULL), 0);
    CHECK_EQ(smm_free(&m2, p[35]), 0);
    q = smm_malloc(&m2, SIZE - SMM_ROOTS_MIN_SIZE + 4u);      /* everything merged back */
    CHECK(q != NULL);
    CHECK_EQ(smm_free(&m2, q), 0);

    /* a rebuild with another size, or a missing callback, is refused */
    m2.size = SIZE - 64;
    CHECK_EQ(smm_memory_rebuild(&m2), TARN_EINVAL);
    m2.size = SIZE;
    m2.read = NULL;
    CHECK_EQ(smm_memory_rebuild(&m2), TARN_EINVAL);
    CHECK(smm_malloc(&m2, 8) == NULL);
    m2.read = dev_read;

    /* sizes: too small, unaligned base and size are rounded inwards */
    m2.size = SMM_MIN_SIZE - 1;
    CHECK_EQ(smm_memory_create(&m2), TARN_ETOOSMALL);
    m2.base_addr = BASE + 1;
    m2.size = SMM_MIN_SIZE + 3;
    CHECK_EQ(smm_memory_create(&m2), 0);
    q = smm_malloc(&m2, 4);
    CHECK(q != NULL && (uintptr_t)q > BASE + 1 && (uintptr_t)q + 4 <= BASE + 1 + SMM_MIN_SIZE + 3);
    CHECK(smm_malloc(&m2, 4) == NULL);
    CHECK(smm_root_set(&m2, 0, q) != 0);           /* a memory this small has no roots */
    CHECK_EQ(smm_memory_rebuild(&m2), 0);
    CHECK_EQ(smm_free(&m2, q), 0);
    m2.base_addr = BASE;                           /* the smallest with roots */
    m2.size = SMM_ROOTS_MIN_SIZE;
    CHECK_EQ(smm_memory_create(&m2), 0);
    q = smm_malloc(&m2, 4);
    CHECK(q != NULL);
    CHECK_EQ(smm_root_set(&m2, SMM_ROOTS - 1, q), 0);
    CHECK_EQ(smm_memory_rebuild(&m2), 0);
    CHECK(smm_root_get(&m2, SMM_ROOTS - 1) == q);
    m2.base_addr = 0xFFFFFFFFu;
    m2.size = 4096;
    CHECK(smm_memory_create(&m2) != 0);
    CHECK_EQ(bad_dir, 0);
}

/* callback errors: a failing read or write makes the call fail, nothing is lost */
static void callback_errors(void)
{
    static struct smm_mem_info m, zero;
    void *keep, *p;
    int k, failed = 0;
    m = zero;
    m.base_addr = BASE;
    m.size = SIZE;
    m.read = dev_read;
    m.write = dev_write;
    CHECK_EQ(smm_memory_create(&m), 0);
    keep = smm_malloc(&m, 100);
    CHECK(keep != NULL);
    CHECK_EQ(smm_root_set(&m, 2, keep), 0);
    for (k = 1; k <= 6; k++) {
        fail_next = k;
        p = smm_malloc(&m, 24);
        if (p == NULL) {
            failed++;
            CHECK_EQ(smm_last_error(&m), TARN_EIO);
        }
        fail_next = 0;
        if (p != NULL) CHECK_EQ(smm_free(&m, p), 0);
        fail_next = k;
        (void)smm_free(&m, keep);      /* rooted: refused, or EIO */
        fail_next = 0;
        CHECK_EQ(tarn_ext_check(smm_ext(&m)), TARN_OK);
        CHECK(smm_root_get(&m, 2) == keep);
    }
    CHECK(failed > 0);
}

/* Walk callback: the allocated block other than `keep`. */
struct other {
    uint32_t keep, found;
    size_t size;
};
static bool find_other(void *ctx, uint32_t addr, size_t size, bool used)
{
    struct other *o = (struct other *)ctx;
    if (used && addr != o->keep) {
        o->found = addr;
        o->size = size;
        return false;
    }
    return true;
}

/* power cut at every byte of a malloc + free, rebuild after each */
static void power_cuts(void)
{
    static struct smm_mem_info m, zero;
    void *keep, *p;
    unsigned long before, total, cut;
    tarn_ext_stats st;
    m = zero;
    m.base_addr = BASE;
    m.size = SIZE;
    m.read = dev_read;
    m.write = dev_write;
    CHECK_EQ(smm_memory_create(&m), 0);
    keep = smm_malloc(&m, 64);
    CHECK_EQ(smm_root_set(&m, 0, keep), 0);
    before = dev.writes;
    p = smm_malloc(&m, 300);
    CHECK_EQ(smm_free(&m, p), 0);
    total = dev.writes - before;
    CHECK(total >= 2 && total <= 3);
    for (cut = 0; cut < total; cut++) {
        size_t keep_bytes;
        for (keep_bytes = 0; keep_bytes <= 16; keep_bytes++) {
            emudev_cut_after(&dev, (long)cut, keep_bytes, (uint8_t)check_rand());
            p = smm_malloc(&m, 300);
            if (p != NULL) (void)smm_free(&m, p);
            emudev_power_on(&dev);
            m = zero;
            m.base_addr = BASE;
            m.size = SIZE;
            m.read = dev_read;
            m.write = dev_write;
            CHECK_EQ(smm_memory_rebuild(&m), 0);
            CHECK(smm_root_get(&m, 0) == keep);
            CHECK_EQ(tarn_ext_check(smm_ext(&m)), TARN_OK);
            tarn_ext_stats_get(smm_ext(&m), &st);
            CHECK(st.live_blocks == 1 || st.live_blocks == 2);
            if (st.live_blocks == 2) {
                /* the malloc's commit landed (and the free did not): one whole block more */
                struct other o;
                CHECK(cut >= 1);
                o.keep = (uint32_t)(uintptr_t)keep;
                o.found = 0;
                CHECK_EQ(tarn_ext_walk(smm_ext(&m), find_other, &o), TARN_OK);
                CHECK(o.size >= 300 && o.size <= 340);
                CHECK_EQ(smm_free(&m, (void *)(uintptr_t)o.found), 0);
            }
        }
    }
}

int main(void)
{
    emudev_init(&dev, cells, BASE, SIZE);
    check_seed(77);
    seed_usage();
    api();
    callback_errors();
    power_cuts();
    return check_done();
}
