/* tests/test_smm.c - the SMM compat layer: the original's public header and the
 * behaviour its own tests check (return codes, size rules, RAM-backed memory with memcpy
 * callbacks), the seed's usage, callback directions, device addresses, bad input, rebuild
 * after a reset and after power cuts, roots, callback errors. */
#include "check.h"
#include "smm.h"
#include "support/emudev.h"

#include <stdlib.h>

/* The device's addresses: numbers the callbacks tell apart from the CPU's buffers, so no
 * buffer of this program may lie there.  0x10000 did on a Cortex-M0+ image, whose flash
 * (at 0 on the MPS2 boards) holds the constant data past 64 KiB; 0x0F000000 is unused
 * on those boards and below where hosts load programs. */
#define BASE 0x0F000000u
#define SIZE 8192u
#define BASEP ((u8 *)(uintptr_t)BASE)

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

/* m describes the test device from base, size bytes, with the test callbacks */
static void describe(struct smm_mem_info *m, u8 *base, u32 size)
{
    static const struct smm_mem_info zero;
    *m = zero;
    m->base_addr = base;
    m->size = size;
    m->read = dev_read;
    m->write = dev_write;
}

static void seed_usage(void)
{
    /* the seed's example, with its designated initializer */
    struct smm_mem_info mem_mgr = {
        .base_addr = BASEP,
        .size = SIZE,
        .read = dev_read,
        .write = dev_write,
    };
    void *ptr;
    CHECK_EQ(smm_memory_create(&mem_mgr), SMM_OK);
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
    static struct smm_mem_info m, m2;
    void *p[64], *q;
    unsigned i, n = 0;
    size_t sz;
    u8 buf[32], back[32];

    memset(cells, 0xFF, sizeof cells);           /* an erased device */
    describe(&m, BASEP, SIZE);
    /* nothing to rebuild on a blank device */
    CHECK_EQ(smm_memory_rebuild(&m), SMM_NOT_FOUND);
    CHECK_EQ(smm_last_error(&m), TARN_ENOENT);
    CHECK(smm_malloc(&m, 8) == NULL);
    CHECK_EQ(smm_last_error(&m), TARN_EINVAL);   /* not created */
    CHECK_EQ(smm_memory_create(&m), 0);

    /* bad input */
    CHECK_EQ(smm_memory_create(NULL), SMM_PTR_ERR);
    CHECK_EQ(smm_memory_rebuild(NULL), SMM_PTR_ERR);
    CHECK(smm_malloc(NULL, 8) == NULL);
    CHECK(smm_malloc(&m, 0) == NULL);
    CHECK_EQ(smm_last_error(&m), TARN_EINVAL);
    CHECK(smm_malloc(&m, SIZE) == NULL);
    CHECK_EQ(smm_last_error(&m), TARN_ENOMEM);
    CHECK(smm_malloc(&m, 6) == NULL);                /* not a multiple of 4 */
    CHECK_EQ(smm_last_error(&m), TARN_EINVAL);
    CHECK_EQ(smm_free(NULL, NULL), SMM_PTR_ERR);
    CHECK_EQ(smm_free(&m, NULL), SMM_PARAMETER_INVALID);
    CHECK_EQ(smm_last_error(NULL), TARN_EINVAL);
    CHECK(smm_ext(NULL) == NULL);
    CHECK(smm_root_get(NULL, 0) == NULL);
    CHECK_EQ(smm_root_set(NULL, 0, NULL), SMM_PTR_ERR);

    /* sizes in multiples of 4; every block inside the device, none overlapping */
    for (n = 0; n < 64; n++) {
        p[n] = smm_malloc(&m, 4u * (1u + n % 9u));
        CHECK(p[n] != NULL);
        CHECK(((uintptr_t)p[n] & 3u) == 0);
        CHECK_EQ(tarn_ext_size(smm_ext(&m), (uint32_t)((uintptr_t)p[n] - BASE), &sz), TARN_OK);
        CHECK(sz >= 4u * (1u + n % 9u));
        if (n > 0) CHECK((uintptr_t)p[n] >= (uintptr_t)p[n - 1] + 4);
    }
    /* data goes through the caller's own write callback, at the returned address */
    for (i = 0; i < 32; i++) buf[i] = (u8)(i * 9 + 1);
    CHECK_EQ(dev_write((u8 *)p[35], buf, 32), 0);
    CHECK_EQ(dev_read(back, (u8 *)p[35], 32), 0);
    CHECK(memcmp(buf, back, 32) == 0);
    CHECK_EQ(smm_free(&m, (u8 *)p[3] + 4), SMM_FREE_FAILED);    /* interior */
    CHECK_EQ(smm_last_error(&m), TARN_EFOREIGN);
    CHECK_EQ(smm_free(&m, (u8 *)p[3] + 1), SMM_FREE_FAILED);    /* misaligned */
    CHECK_EQ(smm_free(&m, BASEP + SIZE), SMM_FREE_FAILED);
    CHECK_EQ(smm_free(&m, BASEP - 4), SMM_FREE_FAILED);
    CHECK_EQ(smm_free(&m, buf), SMM_FREE_FAILED);               /* a RAM pointer */
    CHECK_EQ(smm_free(&m, p[3]), SMM_OK);
    CHECK_EQ(smm_free(&m, p[3]), SMM_FREE_FAILED);
    CHECK_EQ(smm_last_error(&m), TARN_EDOUBLE);
    p[3] = NULL;

    /* roots */
    CHECK(smm_root_get(&m, 0) == NULL);
    CHECK_EQ(smm_root_set(&m, 0, p[35]), 0);
    CHECK_EQ(smm_root_set(&m, SMM_ROOTS, p[35]), SMM_PARAMETER_INVALID);
    CHECK_EQ(smm_root_set(&m, 1, (u8 *)p[35] + 4), SMM_PARAMETER_INVALID);
    CHECK_EQ(smm_root_set(&m, 1, BASEP), SMM_PARAMETER_INVALID);   /* base_addr: no block */
    CHECK(smm_root_get(&m, 1) == NULL);
    CHECK_EQ(smm_last_error(&m), TARN_EFOREIGN);
    CHECK_EQ(smm_free(&m, p[35]), SMM_FREE_FAILED);             /* a root names it */
    CHECK_EQ(smm_last_error(&m), TARN_EBUSY);

    /* rebuild on a fresh struct describing the same memory */
    describe(&m2, BASEP, SIZE);
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
    CHECK_EQ(smm_memory_rebuild(&m2), SMM_PARAMETER_INVALID);
    m2.size = SIZE;
    m2.read = NULL;
    CHECK_EQ(smm_memory_rebuild(&m2), SMM_PTR_ERR);
    CHECK(smm_malloc(&m2, 8) == NULL);
    m2.read = dev_read;

    /* sizes (the original's rules): a multiple of 4, at least 16 bytes; any base */
    m2.size = SMM_MIN_SIZE - 4;
    CHECK_EQ(smm_memory_create(&m2), SMM_PARAMETER_INVALID);
    m2.size = SMM_MIN_SIZE + 3;
    CHECK_EQ(smm_memory_create(&m2), SMM_PARAMETER_INVALID);
    m2.base_addr = BASEP + 1;
    m2.size = SMM_MIN_SIZE;
    CHECK_EQ(smm_memory_create(&m2), SMM_OK);
    q = smm_malloc(&m2, 4);
    CHECK(q != NULL && (uintptr_t)q > BASE + 1 && (uintptr_t)q + 4 <= BASE + 1 + SMM_MIN_SIZE);
    CHECK(smm_malloc(&m2, 4) == NULL);
    CHECK(smm_root_set(&m2, 0, q) != 0);           /* a memory this small has no roots */
    CHECK_EQ(smm_memory_rebuild(&m2), 0);
    CHECK_EQ(smm_free(&m2, q), 0);
    m2.base_addr = BASEP;                           /* the smallest with roots */
    m2.size = SMM_ROOTS_MIN_SIZE;
    CHECK_EQ(smm_memory_create(&m2), 0);
    q = smm_malloc(&m2, 4);
    CHECK(q != NULL);
    CHECK_EQ(smm_root_set(&m2, SMM_ROOTS - 1, q), 0);
    CHECK_EQ(smm_memory_rebuild(&m2), 0);
    CHECK(smm_root_get(&m2, SMM_ROOTS - 1) == q);
    m2.base_addr = (u8 *)(UINTPTR_MAX - 100u);     /* beyond the address space */
    m2.size = 4096;
    CHECK_EQ(smm_memory_create(&m2), SMM_PARAMETER_INVALID);
    m2.base_addr = NULL;
    CHECK_EQ(smm_memory_create(&m2), SMM_PTR_ERR);
    CHECK_EQ(bad_dir, 0);
}

/* callback errors: a failing read or write makes the call fail, nothing is lost */
static void callback_errors(void)
{
    static struct smm_mem_info m;
    void *keep, *p;
    int k, failed = 0;
    describe(&m, BASEP, SIZE);
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
    static struct smm_mem_info m;
    void *keep, *p;
    unsigned long before, total, cut;
    tarn_ext_stats st;
    describe(&m, BASEP, SIZE);
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
            describe(&m, BASEP, SIZE);
            CHECK_EQ(smm_memory_rebuild(&m), 0);
            CHECK(smm_root_get(&m, 0) == keep);
            CHECK_EQ(tarn_ext_check(smm_ext(&m)), TARN_OK);
            tarn_ext_stats_get(smm_ext(&m), &st);
            CHECK(st.live_blocks == 1 || st.live_blocks == 2);
            if (st.live_blocks == 2) {
                /* the malloc's commit landed (and the free did not): one whole block more */
                struct other o;
                CHECK(cut >= 1);
                o.keep = (uint32_t)((uintptr_t)keep - BASE);
                o.found = 0;
                CHECK_EQ(tarn_ext_walk(smm_ext(&m), find_other, &o), TARN_OK);
                CHECK(o.size >= 300 && o.size <= 340);
                CHECK_EQ(smm_free(&m, BASEP + o.found), SMM_OK);
            }
        }
    }
}

/* the seed's smallest memory, 16 bytes (tarn_ext's byte-ordered format): one allocation of
 * 4 bytes, kept across a rebuild, and a power cut at every byte of a malloc + write + free
 * (the emulated device lands bytes in order), rebuilt after each */
static void tiny_memory(void)
{
    static struct smm_mem_info m;
    static const u8 data[4] = {0xDE, 0xAD, 0xBE, 0xEF};
    u8 back[4];
    u8 *p;
    unsigned long before, total, cut;
    CHECK_EQ(SMM_MIN_SIZE, 16);
    describe(&m, BASEP + 64, 16);
    CHECK_EQ(smm_memory_create(&m), SMM_OK);
    p = smm_malloc(&m, 4);
    CHECK(p != NULL && (uintptr_t)p >= BASE + 64 && (uintptr_t)p + 4 <= BASE + 64 + 16);
    CHECK(smm_malloc(&m, 1) == NULL);
    CHECK_EQ(dev_write(p, (u8 *)(uintptr_t)data, 4), 0);
    describe(&m, BASEP + 64, 16);
    CHECK_EQ(smm_memory_rebuild(&m), SMM_OK);
    CHECK_EQ(tarn_ext_check(smm_ext(&m)), TARN_OK);
    CHECK_EQ(dev_read(back, p, 4), 0);
    CHECK(memcmp(back, data, 4) == 0);
    CHECK_EQ(smm_free(&m, p), SMM_OK);
    CHECK(smm_malloc(&m, 5) == NULL);
    /* another size at the same place: refused, nothing changes */
    m.size = 20;
    CHECK_EQ(smm_memory_rebuild(&m), SMM_PARAMETER_INVALID);
    m.size = 16;
    CHECK_EQ(smm_memory_rebuild(&m), SMM_OK);

    before = dev.writes;
    p = smm_malloc(&m, 4);
    CHECK(p != NULL);
    CHECK_EQ(smm_free(&m, p), SMM_OK);
    total = dev.writes - before;
    CHECK_EQ(total, 2);                     /* one commit each */
    for (cut = 0; cut < total; cut++) {
        size_t keep_bytes;
        for (keep_bytes = 0; keep_bytes <= 4; keep_bytes++) {
            tarn_ext_stats st;
            emudev_cut_after(&dev, (long)cut, keep_bytes, (uint8_t)check_rand());
            p = smm_malloc(&m, 4);
            if (p != NULL) (void)smm_free(&m, p);
            emudev_power_on(&dev);
            describe(&m, BASEP + 64, 16);
            CHECK_EQ(smm_memory_rebuild(&m), SMM_OK);
            CHECK_EQ(tarn_ext_check(smm_ext(&m)), TARN_OK);
            tarn_ext_stats_get(smm_ext(&m), &st);
            CHECK(st.live_blocks <= 1);
            if (keep_bytes == 0) CHECK_EQ(st.live_blocks, cut);   /* a cut before the write */
            if (keep_bytes == 4) CHECK_EQ(st.live_blocks, 1u - cut);   /* after it */
            if (st.live_blocks == 1) {         /* the malloc landed, the free did not */
                CHECK_EQ(smm_free(&m, BASEP + 64 + 4 + TARN_EXT_BYTE_ORDERED_HEADER_SIZE), SMM_OK);
            }
            p = smm_malloc(&m, 4);          /* the memory is whole again */
            CHECK(p != NULL);
            CHECK_EQ(smm_free(&m, p), SMM_OK);
        }
    }
    CHECK_EQ(bad_dir, 0);
}

/* ---- the behaviour the original's own tests check, written anew: a RAM buffer managed
 * through memcpy callbacks, 0x1000 bytes ---------------------------------------------------- */
static int ram_read(u8 *dst_addr, u8 *src_addr, u32 size)
{
    memcpy(dst_addr, src_addr, size);
    return 0;
}

static int ram_write(u8 *dst_addr, u8 *src_addr, u32 size)
{
    memcpy(dst_addr, src_addr, size);
    return 0;
}

/* True if [p, p+n) and [q, q+m) do not overlap. */
static bool apart(const u8 *p, size_t n, const u8 *q, size_t m)
{
    return p + n <= q || q + m <= p;
}

static void original_behaviour(void)
{
    struct smm_mem_info mi;      /* left uninitialised, as the original's users do */
    u8 *ram = (u8 *)malloc(0x1000), *a, *b, *c, *d;
    u32 test = 0;
    REQUIRE(ram != NULL);
    memset(ram, 0xA5, 0x1000);   /* a device holds some bytes (create hashes what it finds) */
    /* create: NULL info, base or callback -> SMM_PTR_ERR; a size below 16 or not a
     * multiple of 4 -> SMM_PARAMETER_INVALID */
    CHECK_EQ(smm_memory_create(NULL), SMM_PTR_ERR);
    mi.base_addr = NULL; mi.size = 0x1000; mi.read = ram_read; mi.write = ram_write;
    CHECK_EQ(smm_memory_create(&mi), SMM_PTR_ERR);
    mi.base_addr = ram; mi.size = 4;
    CHECK_EQ(smm_memory_create(&mi), SMM_PARAMETER_INVALID);
    mi.size = 0x1000 - 1;
    CHECK_EQ(smm_memory_create(&mi), SMM_PARAMETER_INVALID);
    mi.size = 0x1000; mi.read = NULL;
    CHECK_EQ(smm_memory_create(&mi), SMM_PTR_ERR);
    mi.read = ram_read; mi.write = NULL;
    CHECK_EQ(smm_memory_create(&mi), SMM_PTR_ERR);
    mi.write = ram_write;
    CHECK_EQ(smm_memory_create(&mi), SMM_OK);
    CHECK_EQ(SMM_MAX_MANAGER_MEM_SIZE, 2u * 1024u * 1024u);
    CHECK_EQ(SMM_BLOCK_ALIGN_BYTES, 4);

    /* malloc: NULL info, a size not a multiple of 4, more than there is -> NULL */
    CHECK(smm_malloc(NULL, 0x8) == NULL);
    CHECK(smm_malloc(&mi, 0x7) == NULL);
    CHECK(smm_malloc(&mi, 0x1000) == NULL);
    /* blocks inside the memory, distinct, usable through the callbacks (here: RAM) */
    a = smm_malloc(&mi, 0x8);
    b = smm_malloc(&mi, 0x20);
    c = smm_malloc(&mi, 0x30);
    d = smm_malloc(&mi, 0x100);
    REQUIRE(a != NULL && b != NULL && c != NULL && d != NULL);
    CHECK(a >= ram && d + 0x100 <= ram + 0x1000);
    CHECK(apart(a, 0x8, b, 0x20) && apart(a, 0x8, c, 0x30) && apart(a, 0x8, d, 0x100));
    CHECK(apart(b, 0x20, c, 0x30) && apart(b, 0x20, d, 0x100) && apart(c, 0x30, d, 0x100));
    memset(a, 1, 0x8); memset(b, 2, 0x20); memset(c, 3, 0x30); memset(d, 4, 0x100);
    CHECK(smm_malloc(&mi, 0xF00) == NULL);              /* what is left is less */

    /* free: NULL info -> SMM_PTR_ERR; NULL block -> SMM_PARAMETER_INVALID; a pointer that
     * is not a block (far inside the memory, interior) -> SMM_FREE_FAILED */
    CHECK_EQ(smm_free(NULL, (u8 *)&test), SMM_PTR_ERR);
    CHECK_EQ(smm_free(&mi, NULL), SMM_PARAMETER_INVALID);
    CHECK_EQ(smm_free(&mi, ram + 8 * 80), SMM_FREE_FAILED);
    CHECK_EQ(smm_free(&mi, c + 0x10), SMM_FREE_FAILED);
    CHECK(a[7] == 1 && b[31] == 2 && c[47] == 3 && d[255] == 4);
    CHECK_EQ(smm_free(&mi, a), SMM_OK);
    CHECK_EQ(smm_free(&mi, b), SMM_OK);
    CHECK_EQ(smm_free(&mi, c), SMM_OK);
    CHECK_EQ(smm_free(&mi, d), SMM_OK);

    /* combined: free space is reused */
    a = smm_malloc(&mi, 0x8);
    CHECK(a != NULL);
    CHECK_EQ(smm_free(&mi, a), SMM_OK);
    a = smm_malloc(&mi, 0x30);
    b = smm_malloc(&mi, 0x100);
    REQUIRE(a != NULL && b != NULL);
    CHECK_EQ(smm_free(&mi, a), SMM_OK);
    c = smm_malloc(&mi, 0x10);
    REQUIRE(c != NULL);
    CHECK_EQ(smm_free(&mi, c + 0x10), SMM_FREE_FAILED);
    CHECK_EQ(smm_free(&mi, b), SMM_OK);
    CHECK_EQ(smm_free(&mi, c), SMM_OK);
    CHECK(smm_malloc(&mi, 0x1000) == NULL);
    {   /* everything merged back */
        tarn_ext_stats st;
        CHECK_EQ(tarn_ext_stats_get(smm_ext(&mi), &st), TARN_OK);
        CHECK_EQ(st.live_blocks, 0);
        CHECK_EQ(tarn_ext_check(smm_ext(&mi)), TARN_OK);
    }
    free(ram);
}

int main(void)
{
    emudev_init(&dev, cells, BASE, SIZE);
    check_seed(77);
    original_behaviour();
    seed_usage();
    api();
    callback_errors();
    power_cuts();
    tiny_memory();
    return check_done();
}
