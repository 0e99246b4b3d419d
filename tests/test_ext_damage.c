/*
 * tests/test_ext_damage.c - the external memory manager against damage that is not a clean
 * power cut: bit-order tears of record writes, callback errors inside alloc/free/root_set,
 * single flipped bits in the metadata, and a damaged superblock.
 *
 * 1. Bit-order tears: on small regions (compact and normal format), every write an
 *    operation makes is torn in the ways its changed bits can land (every way when the
 *    write changes at most 13 bits, else 4096 random ways), each image mounted: mount
 *    must yield the state before or after the operation.  Counts: images tried, wrong
 *    states, refused mounts.  And every tear of every record write (the commits) is
 *    decided exactly, by linear algebra over the slot's check codes (tear_exact): no tear
 *    is a valid slot other than the old and the new one, nor one bit from such a slot.
 * 2. Callback errors: every read, write and sync made by an alloc (and a free, a root
 *    update) fails in turn, its data landed or not; afterwards the caller can reach a state
 *    with nothing leaked: after an alloc, *addr is 0 and the next mount shows no new
 *    allocation, or *addr is the allocation the next mount shows.
 * 3. Every single-bit flip of every metadata byte (superblock, roots, headers reached by
 *    the walk) of populated regions: mount yields exactly the committed state or
 *    TARN_ECORRUPT, never another state.
 * 4. The superblock: erased or zeroed reads as TARN_ENOENT; any single flipped bit of it
 *    is harmless (the region mounts, unchanged); a foreign or damaged superblock area is
 *    TARN_ECORRUPT; a format cut at any write and byte gives TARN_ENOENT, the old region
 *    or the new one.
 * The device here is a plain array (writes durable at once), fast enough for exhaustive
 * runs; the emulated device with write buffers is exercised by test_ext_faults.
 */
#include "check.h"
#include "tarn/ext.h"

#define BASE 0x1000u
#define MAXREG 4096u
#define MAXLOG 64
#define MAXBLK 256

/* ---- the device ------------------------------------------------------------------------ */
static uint8_t dev[MAXREG];
static uint32_t dev_size;
static bool logging;
typedef struct wlog {
    uint32_t addr;
    uint32_t len;
    uint8_t old_b[64], new_b[64];
} wlog;
static wlog wl[MAXLOG];
static unsigned nlog;
/* injected failure: kind 0 read, 1 write, 2 sync; the call numbered `at` of that kind */
static int f_kind = -1;
static long f_at = -1;
static size_t f_keep;
static long n_calls[3];

static bool in_dev(uint32_t addr, size_t n)
{
    return addr >= BASE && n <= dev_size && addr - BASE <= dev_size - n;
}

static int d_read(void *ctx, uint32_t addr, void *buf, size_t n)
{
    (void)ctx;
    if (f_kind == 0 && n_calls[0]++ == f_at) return -1;
    if (!in_dev(addr, n)) return -1;
    memcpy(buf, dev + (addr - BASE), n);
    return 0;
}

static int d_write(void *ctx, uint32_t addr, const void *buf, size_t n)
{
    (void)ctx;
    if (!in_dev(addr, n)) return -1;
    if (logging && nlog < MAXLOG && n <= 64) {
        wl[nlog].addr = addr;
        wl[nlog].len = (uint32_t)n;
        memcpy(wl[nlog].old_b, dev + (addr - BASE), n);
        memcpy(wl[nlog].new_b, buf, n);
        nlog++;
    }
    if (f_kind == 1 && n_calls[1]++ == f_at) {
        memcpy(dev + (addr - BASE), buf, f_keep < n ? f_keep : n);
        return -1;
    }
    memcpy(dev + (addr - BASE), buf, n);
    return 0;
}

static int d_sync(void *ctx)
{
    (void)ctx;
    if (f_kind == 2 && n_calls[2]++ == f_at) return -1;
    return 0;
}

static const tarn_ext_io IO = {d_read, d_write, d_sync, NULL};

static void no_faults(void)
{
    f_kind = -1;
    f_at = -1;
    n_calls[0] = n_calls[1] = n_calls[2] = 0;
}

/* ---- states ------------------------------------------------------------------------------ */
typedef struct state {
    tarn_status st;
    unsigned n;
    uint32_t addr[MAXBLK];
    uint32_t size[MAXBLK];
    bool used[MAXBLK];
    uint32_t roots[TARN_EXT_MAX_ROOTS];
} state;

static bool collect(void *ctx, uint32_t addr, size_t size, bool used)
{
    state *s = (state *)ctx;
    if (s->n < MAXBLK) {
        s->addr[s->n] = addr;
        s->size[s->n] = (uint32_t)size;
        s->used[s->n] = used;
        s->n++;
    }
    return true;
}

/* The allocations and roots of a mounted manager (free blocks are not part of the state:
 * how free space is cut into blocks may legitimately differ). */
static void snap(tarn_ext *e, unsigned nroots, state *s)
{
    state all;
    unsigned i;
    memset(s, 0, sizeof *s);
    memset(&all, 0, sizeof all);
    s->st = tarn_ext_check(e);
    if (s->st == TARN_OK) s->st = tarn_ext_walk(e, collect, &all);
    for (i = 0; i < all.n; i++) {
        if (!all.used[i]) continue;
        s->addr[s->n] = all.addr[i];
        s->size[s->n] = all.size[i];
        s->used[s->n] = true;
        s->n++;
    }
    for (i = 0; i < nroots; i++) (void)tarn_ext_root_get(e, i, &s->roots[i]);
}

static bool same(const state *a, const state *b, unsigned nroots)
{
    unsigned i;
    if (a->st != TARN_OK || b->st != TARN_OK || a->n != b->n) return false;
    for (i = 0; i < a->n; i++) {
        if (a->addr[i] != b->addr[i] || a->size[i] != b->size[i]) return false;
    }
    for (i = 0; i < nroots; i++) {
        if (a->roots[i] != b->roots[i]) return false;
    }
    return true;
}

/* Mount the device as it is now and take its state (st = the mount's status on failure). */
static void mount_snap(unsigned nroots, state *s)
{
    static tarn_ext m;
    tarn_status st = tarn_ext_mount(&m, &IO, BASE, dev_size, NULL);
    if (st != TARN_OK) {
        memset(s, 0, sizeof *s);
        s->st = st;
        return;
    }
    snap(&m, nroots, s);
}

/* ---- a random populated region ------------------------------------------------------------ */
static tarn_ext E;

/* One random operation on E: alloc, free or root update. */
static void random_op(unsigned nroots, uint32_t maxsz)
{
    state s;
    uint32_t k = check_below(100), a;
    snap(&E, nroots, &s);
    if (k < 50 || s.n == 0) {
        (void)tarn_ext_alloc(&E, 1 + check_below(maxsz), &a);
    } else if (k < 85 || nroots == 0) {
        (void)tarn_ext_free(&E, s.addr[check_below(s.n)]);
    } else {
        unsigned idx = check_below(nroots);     /* one call per line: the same sequence with any compiler */
        uint32_t v = check_below(4) == 0 ? 0 : s.addr[check_below(s.n)];
        (void)tarn_ext_root_set(&E, idx, v);
    }
}

static void populate(uint32_t size, unsigned nroots, unsigned ops, uint32_t maxsz)
{
    unsigned i;
    dev_size = size;
    for (i = 0; i < size; i++) dev[i] = (uint8_t)check_rand();
    no_faults();
    REQUIRE(tarn_ext_format(&E, &IO, BASE, size, nroots, NULL) == TARN_OK);
    for (i = 0; i < ops; i++) random_op(nroots, maxsz);
}

/* ---- 1. bit-order tears ------------------------------------------------------------------ */
static unsigned long t_images, t_wrong, t_refused, t_exhaustive, t_sampled;

/* Tear write w of the log (applied on top of image `pre` with the log's earlier writes) in
 * every way (or a sample), mounting each result; old/new: the states allowed. */
static void tear_write(const uint8_t *pre, unsigned w, unsigned nroots, const state *old_s, const state *new_s)
{
    static uint8_t base_img[MAXREG];
    uint16_t diffpos[512];
    unsigned nd = 0, i, j;
    unsigned long nmix, m;
    uint64_t step;
    bool every;
    const wlog *x = &wl[w];
    memcpy(base_img, pre, dev_size);
    for (j = 0; j < w; j++) memcpy(base_img + (wl[j].addr - BASE), wl[j].new_b, wl[j].len);
    for (i = 0; i < x->len; i++) {
        uint8_t d = (uint8_t)(x->old_b[i] ^ x->new_b[i]);
        for (j = 0; j < 8; j++) {
            if ((d >> j) & 1u) diffpos[nd++] = (uint16_t)(i * 8u + j);
        }
    }
    /* exhaustive up to 2^13 mixes (2^9 at a large test scale), else a sample */
    every = nd <= (TARN_TEST_SCALE > 1 ? 9u : 13u);
    nmix = every ? 1ul << nd : (unsigned long)CHECK_ITERS(4096);
    if (every) t_exhaustive++;
    else t_sampled++;
    for (m = 0; m < nmix; m++) {
        state s;
        memcpy(dev, base_img, dev_size);
        step = every ? (uint64_t)m : check_rand();
        for (i = 0; i < nd; i++) {
            if (((step >> (i % 64u)) & 1u) != 0 || (nd > 64u && check_below(2) == 0)) {
                unsigned bit = diffpos[i];
                dev[x->addr - BASE + bit / 8u] ^= (uint8_t)(1u << (bit % 8u));
            }
        }
        t_images++;
        mount_snap(nroots, &s);
        if (s.st != TARN_OK) {
            if (++t_refused <= 50) fprintf(stderr, "  tear: refused (%d), region %u, write %u of %u (%u bytes at +%u), %u changed bits\n", (int)s.st, (unsigned)dev_size, w, nlog, (unsigned)x->len, (unsigned)(x->addr - BASE), nd);
        } else if (!same(&s, old_s, nroots) && !same(&s, new_s, nroots)) {
            if (++t_wrong <= 50) fprintf(stderr, "  tear: a third state, region %u, write %u of %u (%u bytes at +%u), %u changed bits\n", (unsigned)dev_size, w, nlog, (unsigned)x->len, (unsigned)(x->addr - BASE), nd);
        }
    }
}

/*
 * Every bit-order tear of a record write, exactly.  Validity of a 12-byte slot is an affine
 * condition on its 96 bits (crc32 and crc16 are affine in the data; ~seq and the parity of
 * seq are linear): a syndrome of 57 bits that is zero exactly for valid slots.  A tear of a
 * write from O to N is O xor T for a subset T of the bits D where they differ, so the valid
 * tears are the subsets T with sum of the syndrome columns of T = 0: 2^(|D| - rank) of them,
 * 0 and D (the old and new slot) always among them.  rank = |D| - 1 proves that no tear of
 * any kind is a third valid slot; and a column outside D independent of D's proves that no
 * tear is one bit from a third valid slot (mount corrects one bit, DESIGN 5).  All 2^|D|
 * tears are thus decided without mounting each (|D| is 25-40 bits for these writes).
 */
#define SLOTB (TARN_EXT_HEADER_SIZE / 2u)
static unsigned long x_writes;
static double x_tears;
static unsigned long x_third, x_third_near, x_weak;

static uint32_t t_crc32(uint32_t c, const uint8_t *p, size_t n)
{
    unsigned k;
    while (n-- > 0) {
        c ^= *p++;
        for (k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c;
}
static uint16_t t_crc16(uint16_t c, const uint8_t *p, size_t n)
{
    unsigned k;
    while (n-- > 0) {
        c ^= (uint16_t)(*p++ << 8);
        for (k = 0; k < 8; k++) c = (uint16_t)((c & 0x8000u) != 0 ? (unsigned)(c << 1) ^ 0x1021u : (unsigned)c << 1);
    }
    return c;
}

/* Syndrome of slot m at device address addr (parity: that of its seq), 57 bits. */
static uint64_t syndrome(const uint8_t *m, uint32_t nonce, uint32_t addr, unsigned parity)
{
    uint8_t pre[13];
    uint32_t c32;
    uint16_t c16;
    uint64_t syn;
    unsigned i;
    for (i = 0; i < 4; i++) {
        pre[i] = (uint8_t)(nonce >> (8 * i));
        pre[4 + i] = (uint8_t)(addr >> (8 * i));
    }
    memcpy(pre + 8, m, 5);
    c32 = ~t_crc32(0xFFFFFFFFu, pre, sizeof pre);
    c16 = t_crc16(0xFFFFu, pre, sizeof pre);
    syn = (uint64_t)(c32 ^ ((uint32_t)m[5] | (uint32_t)m[6] << 8 | (uint32_t)m[7] << 16 | (uint32_t)m[8] << 24));
    syn |= (uint64_t)(uint16_t)(c16 ^ (m[9] | m[10] << 8)) << 32;
    syn |= (uint64_t)(uint8_t)(m[0] ^ m[SLOTB - 1u] ^ 0xFFu) << 48;
    syn |= (uint64_t)((m[0] ^ parity) & 1u) << 56;
    return syn;
}

/* Insert v into a GF(2) basis (indexed by leading bit); false if v is in its span. */
static bool basis_add(uint64_t *basis, uint64_t v)
{
    int b;
    for (b = 56; b >= 0; b--) {
        if (((v >> b) & 1u) == 0) continue;
        if (basis[b] == 0) {
            basis[b] = v;
            return true;
        }
        v ^= basis[b];
    }
    return false;
}

static void tear_exact(const wlog *x)
{
    uint32_t nonce;
    uint64_t col[SLOTB * 8u], basis[57];
    unsigned parity, j, nd = 0, rank = 0;
    uint8_t m[SLOTB];
    if (x->len != SLOTB) return;               /* record updates: the commit writes */
    nonce = dev_size <= TARN_EXT_COMPACT_MAX_SIZE ? dev[1]
                                                 : (uint32_t)dev[4] | (uint32_t)dev[5] << 8 |
                                                   (uint32_t)dev[6] << 16 | (uint32_t)dev[7] << 24;
    parity = x->new_b[0] & 1u;
    REQUIRE(syndrome(x->new_b, nonce, x->addr, parity) == 0);   /* this model is the format */
    if (syndrome(x->old_b, nonce, x->addr, parity) != 0) return;  /* overwrote an invalid slot */
    for (j = 0; j < SLOTB * 8u; j++) {
        memcpy(m, x->old_b, SLOTB);
        m[j / 8u] ^= (uint8_t)(1u << (j % 8u));
        col[j] = syndrome(m, nonce, x->addr, parity);
    }
    memset(basis, 0, sizeof basis);
    {
        /* control: the same tears judged by the crc16 alone (as 8-byte slots were) */
        uint64_t weak[57];
        unsigned wrank = 0;
        memset(weak, 0, sizeof weak);
        for (j = 0; j < SLOTB * 8u; j++) {
            if (((x->old_b[j / 8u] ^ x->new_b[j / 8u]) >> (j % 8u) & 1u) == 0) continue;
            nd++;
            rank += basis_add(basis, col[j]) ? 1u : 0u;
            wrank += basis_add(weak, col[j] >> 32) ? 1u : 0u;
        }
        if (wrank + 1u != nd) x_weak++;
    }
    x_writes++;
    {
        double t = 1.0;
        for (j = 0; j < nd; j++) t *= 2.0;
        x_tears += t;
    }
    if (rank + 1u != nd) x_third++;            /* a tear other than old and new is valid */
    for (j = 0; j < SLOTB * 8u; j++) {
        uint64_t b2[57];
        if (((x->old_b[j / 8u] ^ x->new_b[j / 8u]) >> (j % 8u) & 1u) != 0) continue;
        memcpy(b2, basis, sizeof b2);
        if (!basis_add(b2, col[j])) x_third_near++;   /* a tear one bit from a third slot */
    }
}

static void tears_geometry(uint32_t size, unsigned nroots, unsigned ops)
{
    static uint8_t pre[MAXREG], post[MAXREG];
    unsigned i, w;
    populate(size, nroots, 0, 1);
    for (i = 0; i < ops; i++) {
        state old_s, new_s;
        snap(&E, nroots, &old_s);
        memcpy(pre, dev, dev_size);
        nlog = 0;
        logging = true;
        random_op(nroots, size / 3u);
        logging = false;
        snap(&E, nroots, &new_s);
        memcpy(post, dev, dev_size);
        for (w = 0; w < nlog; w++) {
            unsigned j;
            memcpy(dev, pre, dev_size);      /* the device as write w found it */
            for (j = 0; j < w; j++) memcpy(dev + (wl[j].addr - BASE), wl[j].new_b, wl[j].len);
            tear_exact(&wl[w]);
            tear_write(pre, w, nroots, &old_s, &new_s);
        }
        memcpy(dev, post, dev_size);
        REQUIRE(tarn_ext_mount(&E, &IO, BASE, dev_size, NULL) == TARN_OK);
    }
}

static void test_tears(void)
{
    static const uint32_t sizes[] = {36, 40, 48, 64, 68, 80, 128};
    unsigned k;
    t_images = t_wrong = t_refused = t_exhaustive = t_sampled = 0;
    x_writes = x_third = x_third_near = x_weak = 0;
    x_tears = 0;
    for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        tears_geometry(sizes[k], 0, (unsigned)CHECK_ITERS(60));
    }
    tears_geometry(120, 1, (unsigned)CHECK_ITERS(60));
    printf("1. bit-order tears of every write of small regions (%lu writes torn every way, %lu sampled): "
           "%lu images, %lu wrong states, %lu refused\n", t_exhaustive, t_sampled, t_images, t_wrong, t_refused);
    printf("1. every bit-order tear of the %lu record writes, decided exactly (%.3g tears): %lu writes with a "
           "third valid tear, %lu with a tear one bit from a third valid slot (control: with the crc16 alone, "
           "%lu writes would have one)\n", x_writes, x_tears, x_third, x_third_near, x_weak);
    CHECK_EQ(t_wrong, 0);
    CHECK_EQ(t_refused, 0);
    CHECK(x_writes > 100u / TARN_TEST_SCALE);
    CHECK_EQ(x_third, 0);
    CHECK_EQ(x_third_near, 0);
    CHECK(x_weak > 0);     /* the method finds third states where a weaker check has them */
}

/* ---- 2. callback errors: nothing leaked ------------------------------------------------- */
static unsigned long e_cases, e_leaks, e_bad;

static bool used_at(const state *s, uint32_t addr)
{
    unsigned i;
    for (i = 0; i < s->n; i++) {
        if (s->addr[i] == addr) return true;
    }
    return false;
}

/* The allocations of b that a does not have. */
static unsigned added(const state *a, const state *b, uint32_t *which)
{
    unsigned i, n = 0;
    for (i = 0; i < b->n; i++) {
        if (!used_at(a, b->addr[i])) {
            n++;
            *which = b->addr[i];
        }
    }
    return n;
}

/* A live allocation that no root names (free refuses rooted ones), or 0. */
static uint32_t pick_victim(const state *s, unsigned nroots)
{
    unsigned i, q, k = check_below(s->n);
    for (i = 0; i < s->n; i++) {
        uint32_t v = s->addr[(i + k) % s->n];
        bool rooted = false;
        for (q = 0; q < nroots; q++) rooted = rooted || s->roots[q] == v;
        if (!rooted) return v;
    }
    return 0;
}

/* The device back to the image img, mounted with no faults armed. */
static void restore(const uint8_t *img)
{
    memcpy(dev, img, dev_size);
    no_faults();
    REQUIRE(tarn_ext_mount(&E, &IO, BASE, dev_size, NULL) == TARN_OK);
}

/* restore(img), then arm the fault: call number `at` of kind `kind` fails, a failing write
 * landing its first `keep` bytes. */
static void arm_fault(const uint8_t *img, int kind, long at, size_t keep)
{
    restore(img);
    f_kind = kind;
    f_at = at;
    f_keep = keep;
}

static void errors_geometry(uint32_t size, unsigned nroots, unsigned rounds)
{
    static uint8_t img[MAXREG];
    unsigned r;
    populate(size, nroots, 0, 1);
    for (r = 0; r < rounds; r++) {
        state before, after;
        uint32_t req = 1 + check_below(size / 6u), a;
        int kind;
        long at;
        unsigned keep_i;
        random_op(nroots, size / 4u);
        snap(&E, nroots, &before);
        memcpy(img, dev, dev_size);
        for (kind = 0; kind < 3; kind++) {
            for (at = 0;; at++) {
                for (keep_i = 0; keep_i < (kind == 1 ? 3u : 1u); keep_i++) {
                    tarn_status st;
                    uint32_t extra = 0;
                    unsigned nadd;
                    arm_fault(img, kind, at,
                              keep_i == 0 ? 0 : keep_i == 1 ? (size_t)-1 : 1 + check_below(15));
                    st = tarn_ext_alloc(&E, req, &a);
                    if (st != TARN_EIO) goto next_kind;   /* no call of this kind left */
                    e_cases++;
                    no_faults();
                    mount_snap(nroots, &after);
                    if (after.st != TARN_OK) {
                        e_bad++;
                        continue;
                    }
                    nadd = added(&before, &after, &extra);
                    if (added(&after, &before, &extra) != 0 && nadd == 0) e_bad++;
                    if (a == 0 ? nadd != 0 : (nadd != 1 || !used_at(&after, a))) {
                        if (++e_leaks <= 5) fprintf(stderr, "  alloc error (kind %d at %ld keep %u): *addr %#x, %u new on the device\n",
                                                    kind, at, keep_i, (unsigned)a, nadd);
                    }
                }
            }
next_kind:;
        }
        /* free and root_set: after an error the caller can finish the job */
        if (before.n > 0 && pick_victim(&before, nroots) != 0) {
            uint32_t victim = pick_victim(&before, nroots);
            for (kind = 0; kind < 3; kind++) {
                for (at = 0;; at++) {
                    tarn_status st;
                    state s2;
                    arm_fault(img, kind, at, check_below(2) == 0 ? 0 : (size_t)-1);
                    st = tarn_ext_free(&E, victim);
                    if (st != TARN_EIO) break;
                    e_cases++;
                    no_faults();
                    st = tarn_ext_free(&E, victim);     /* again: done now, or done before */
                    if (st != TARN_OK && st != TARN_EDOUBLE) e_bad++;
                    mount_snap(nroots, &s2);
                    if (s2.st != TARN_OK || used_at(&s2, victim) || s2.n + 1u != before.n) {
                        if (++e_leaks <= 5) fprintf(stderr, "  free error: block not freed by the retry\n");
                    }
                }
            }
        }
        /* root_set: after an error, root_get tells what the device holds */
        if (nroots > 0) {
            uint32_t target = before.n > 0 ? before.addr[check_below(before.n)] : 0;
            unsigned idx = check_below(nroots);
            for (kind = 0; kind < 3; kind++) {
                for (at = 0;; at++) {
                    tarn_status st;
                    uint32_t got = 1;
                    state s2;
                    arm_fault(img, kind, at, check_below(2) == 0 ? 0 : (size_t)-1);
                    st = tarn_ext_root_set(&E, idx, target == before.roots[idx] ? 0 : target);
                    if (st != TARN_EIO) break;
                    e_cases++;
                    no_faults();
                    mount_snap(nroots, &s2);
                    if (tarn_ext_root_get(&E, idx, &got) != TARN_OK || s2.st != TARN_OK || got != s2.roots[idx] ||
                        (got != before.roots[idx] && got != (target == before.roots[idx] ? 0 : target))) {
                        e_bad++;
                    }
                }
            }
        }
        restore(img);
    }
}

static void test_errors(void)
{
    e_cases = e_leaks = e_bad = 0;
    errors_geometry(4096, 3, (unsigned)CHECK_ITERS(60));
    errors_geometry(128, 0, (unsigned)CHECK_ITERS(40));
    errors_geometry(64, 0, (unsigned)CHECK_ITERS(20));
    printf("2. an error at every read, write and sync of alloc, free and root_set: %lu cases, %lu leaks, %lu other violations\n",
           e_cases, e_leaks, e_bad);
    CHECK_EQ(e_leaks, 0);
    CHECK_EQ(e_bad, 0);
}

/* ---- 3 and 4. single flipped bits ---------------------------------------------------------- */
static unsigned long f_images, f_silent, f_enoent, f_corrupt, sb_images, sb_lost;

static bool hdr_collect(void *ctx, uint32_t addr, size_t size, bool used)
{
    state *s = (state *)ctx;
    (void)size;
    (void)used;
    if (s->n < MAXBLK) s->addr[s->n++] = addr;
    return true;
}

static void flip_geometry(uint32_t size, unsigned nroots, unsigned ops)
{
    static uint8_t img[MAXREG];
    static uint8_t meta[MAXREG];
    state truth, hdrs, s;
    uint32_t i, hb, sb_end;
    unsigned bit;
    populate(size, nroots, ops, size / 8u);
    snap(&E, nroots, &truth);
    REQUIRE(truth.st == TARN_OK);
    memset(&hdrs, 0, sizeof hdrs);
    REQUIRE(tarn_ext_walk(&E, hdr_collect, &hdrs) == TARN_OK);
    memcpy(img, dev, dev_size);
    /* metadata bytes: superblock area and roots (everything before the first block's
     * data, less its header), and every header the walk reaches */
    memset(meta, 0, sizeof meta);
    hb = size <= TARN_EXT_COMPACT_MAX_SIZE ? TARN_EXT_COMPACT_HEADER_SIZE : TARN_EXT_HEADER_SIZE;
    sb_end = hdrs.addr[0] - BASE - hb - (nroots > 0 ? 0 : 0);
    for (i = 0; i < hdrs.n; i++) memset(meta + (hdrs.addr[i] - BASE - hb), 2, hb);
    for (i = 0; i < sb_end; i++) meta[i] = 1;
    /* the superblock proper: the first bytes, before the roots */
    for (i = 0; i < size; i++) {
        if (meta[i] == 0) continue;
        for (bit = 0; bit < 8; bit++) {
            bool is_sb;
            if (TARN_TEST_SCALE > 1 && (i * 8u + bit) % 7u != 0) continue;   /* slow runs: 1 in 7 */
            is_sb = i < sb_end - (uint32_t)nroots * TARN_EXT_ROOT_SIZE;
            memcpy(dev, img, dev_size);
            dev[i] ^= (uint8_t)(1u << bit);
            mount_snap(nroots, &s);
            f_images++;
            if (is_sb) {
                sb_images++;
                if (s.st != TARN_OK) sb_lost++;
            }
            if (s.st == TARN_ENOENT) {
                f_enoent++;
            } else if (s.st == TARN_ECORRUPT) {
                f_corrupt++;
            } else if (!same(&s, &truth, nroots)) {
                if (++f_silent <= 5) fprintf(stderr, "  flip: byte %u bit %u of a %u-byte region: another state (%d)\n",
                                             (unsigned)i, bit, (unsigned)size, (int)s.st);
            }
        }
    }
    memcpy(dev, img, dev_size);
}

static void test_flips(void)
{
    f_images = f_silent = f_enoent = f_corrupt = sb_images = sb_lost = 0;
    flip_geometry(4096, 3, 200);
    flip_geometry(256, 1, 40);
    flip_geometry(128, 0, 30);
    flip_geometry(48, 0, 6);
    flip_geometry(64, 0, 8);
    printf("3. every single-bit flip of the metadata: %lu images, %lu silent changes, %lu TARN_ECORRUPT, %lu TARN_ENOENT\n",
           f_images, f_silent, f_corrupt, f_enoent);
    printf("4. of them in the superblock: %lu images, %lu not mounted (lost)\n", sb_images, sb_lost);
    CHECK_EQ(f_silent, 0);
    CHECK_EQ(f_enoent, 0);
    CHECK_EQ(sb_lost, 0);
}

/* ---- 4. blank, foreign and cut formats ------------------------------------------------------ */
static void test_superblock(void)
{
    static const uint32_t sizes[] = {36, 64, 68, 256, 4096};
    static uint8_t img[MAXREG];
    unsigned k, w, keep;
    unsigned long cuts = 0, wrong = 0;
    for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        state s;
        unsigned nroots = sizes[k] >= 256 ? 2u : 0u;
        dev_size = sizes[k];
        no_faults();
        memset(dev, 0xFF, dev_size);
        CHECK_EQ(tarn_ext_mount(&E, &IO, BASE, dev_size, NULL), TARN_ENOENT);     /* erased */
        memset(dev, 0x00, dev_size);
        CHECK_EQ(tarn_ext_mount(&E, &IO, BASE, dev_size, NULL), TARN_ENOENT);     /* zeroed */
        for (w = 0; w < dev_size; w++) dev[w] = (uint8_t)check_rand();
        CHECK_EQ(tarn_ext_mount(&E, &IO, BASE, dev_size, NULL), TARN_ECORRUPT);   /* foreign */
        /* a populated region: damage in both copies of the superblock is TARN_ECORRUPT */
        populate(dev_size, nroots, 10, dev_size / 8u);
        memcpy(img, dev, dev_size);
        dev[1] ^= 0x10u;
        dev[dev_size <= TARN_EXT_COMPACT_MAX_SIZE ? 5 : 21] ^= 0x10u;
        CHECK_EQ(tarn_ext_mount(&E, &IO, BASE, dev_size, NULL), TARN_ECORRUPT);
        /* a format over it, cut at every write and byte (prefix, half-programmed byte) */
        for (w = 0; w < 8; w++) {
            for (keep = 0; keep <= 40; keep++) {
                state old_s;
                memcpy(dev, img, dev_size);
                mount_snap(nroots, &old_s);
                nlog = 0;
                logging = true;
                REQUIRE(tarn_ext_format(&E, &IO, BASE, dev_size, nroots, NULL) == TARN_OK);
                logging = false;
                if (w >= nlog || keep > wl[w].len) continue;
                memcpy(dev, img, dev_size);
                {
                    unsigned j;
                    for (j = 0; j < w; j++) memcpy(dev + (wl[j].addr - BASE), wl[j].new_b, wl[j].len);
                    memcpy(dev + (wl[w].addr - BASE), wl[w].new_b, keep);
                    if (keep < wl[w].len) {
                        uint8_t mask = (uint8_t)check_rand();
                        uint8_t *p = dev + (wl[w].addr - BASE) + keep;
                        *p = (uint8_t)((*p & ~mask) | (wl[w].new_b[keep] & mask));
                    }
                }
                cuts++;
                mount_snap(nroots, &s);
                if (s.st == TARN_ENOENT) continue;
                if (s.st == TARN_OK && (same(&s, &old_s, nroots) || s.n == 0)) continue;
                if (++wrong <= 5) fprintf(stderr, "  format cut at write %u byte %u of a %u-byte region: %d\n",
                                          w, keep, (unsigned)dev_size, (int)s.st);
            }
        }
    }
    printf("4. blank, foreign and damaged superblocks; a format cut at every write and byte: %lu cuts, %lu wrong\n",
           cuts, wrong);
    CHECK_EQ(wrong, 0);
}

int main(void)
{
    check_seed(0xDA3A6Eu);
    test_superblock();
    test_flips();
    test_errors();
    test_tears();
    return check_done();
}
