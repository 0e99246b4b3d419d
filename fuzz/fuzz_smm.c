/*
 * fuzz/fuzz_smm.c - fuzz target of the SMM compat layer (compat/smm), which runs on the
 * external memory manager.
 *
 * One managed memory described as SMM users do (base_addr, a device pointer, and size -
 * unaligned bases, sizes that are not multiples of 4 and a NULL base included, up to the
 * top of the 32-bit address space -, memcpy-style read/write
 * callbacks without context) on an emulated device that is exactly that memory.  The
 * input drives smm_malloc/free/root_set/root_get, the application's own writes into its
 * blocks through the callbacks, rebuilds on a fresh struct, and power cuts in the middle
 * of malloc, free and root_set (torn bytes, half-programmed bits) followed by a rebuild.
 *
 * The model keeps the live blocks, a mirror of their bytes and the roots.  Checked: every
 * return value (the original's SMM_RET_VAL codes, and tarn's precise status through
 * smm_last_error), bad input included (size 0 or not a multiple of 4, sizes beyond the
 * memory, NULL, foreign,
 * interior, freed pointers, a block named by a root, root index out of range, memory
 * too small or beyond the address space, NULL callbacks); blocks inside the memory,
 * 4-aligned, disjoint; the manager never writes into a block nor outside the memory;
 * after a cut, rebuild succeeds with the call complete or absent; a rebuild on a fresh
 * struct shows exactly the same blocks and roots; smm_ext's full check passes.
 */
#include "fuzz_common.h"
#include "smm.h"
#include "support/emudev.h"

#define MEM_MAX 4096u
#define MAXB 200u

static uint8_t dev_mem[MEM_MAX];
static uint8_t mirror[MEM_MAX];
static emudev G;

static int dev_read(u8 *dst, u8 *src, u32 n) { return emudev_read(&G, (uint32_t)(uintptr_t)src, dst, n); }
static int dev_write(u8 *dst, u8 *src, u32 n) { return emudev_write(&G, (uint32_t)(uintptr_t)dst, src, n); }

static struct smm_mem_info S[2];
static struct smm_mem_info *cur;
static bool created;
static uint32_t mbase, msize;          /* the memory as described */
static uint32_t live[MAXB], live_size[MAXB];
static uint32_t nlive;
static uint32_t dead[16];
static uint32_t ndead;
static uint32_t roots[SMM_ROOTS];

static uint32_t off_of(uint32_t a) { return a - mbase; }
static u8 *P(uint32_t a) { return (u8 *)(uintptr_t)a; } // NOLINT(performance-no-int-to-ptr)

static int find_live(uint32_t a)
{
    uint32_t i;
    for (i = 0; i < nlive; i++) {
        if (live[i] == a) return (int)i;
    }
    return -1;
}

static void drop(uint32_t i)
{
    dead[ndead++ % 16u] = live[i];
    if (ndead > 16u) ndead = 16u;
    live[i] = live[nlive - 1u];
    live_size[i] = live_size[nlive - 1u];
    nlive--;
}

static void add(uint32_t a, uint32_t us)
{
    FZ_CHECK(nlive < MAXB);
    live[nlive] = a;
    live_size[nlive] = us;
    nlive++;
}

/* The blocks the manager shows, compared with the model; with `adopt`, a difference that
 * the call in flight explains is taken into the model instead. */
typedef struct wctx {
    uint32_t n;
    uint32_t a[MAXB * 2u], s[MAXB * 2u];
    bool u[MAXB * 2u];
} wctx;
static wctx W;

static bool walk_cb(void *ctx, uint32_t addr, size_t size, bool used)
{
    (void)ctx;
    FZ_CHECK(W.n < MAXB * 2u);
    W.a[W.n] = mbase + addr;   /* tarn_ext's addresses are offsets from base_addr */
    W.s[W.n] = (uint32_t)size;
    W.u[W.n] = used;
    W.n++;
    return true;
}

enum { F_NONE, F_MALLOC, F_FREE, F_ROOT, F_ADOPT };

static void sync_model(int op, uint32_t addr, size_t req, unsigned idx, uint32_t val)
{
    uint32_t i, j, nused = 0;
    bool added = false;
    if (op == F_ADOPT) {          /* a region the model did not follow: take it as it is */
        nlive = ndead = 0;
        memset(roots, 0, sizeof roots);
    }
    W.n = 0;
    FZ_ST(tarn_ext_walk(smm_ext(cur), walk_cb, NULL), TARN_OK);
    for (i = 0; i < nlive;) {
        for (j = 0; j < W.n && !(W.u[j] && W.a[j] == live[i]); j++) {}
        if (j == W.n) {
            FZ_CHECK(op == F_FREE && addr == live[i]);
            drop(i);
            continue;
        }
        FZ_EQ(W.s[j], live_size[i]);
        i++;
    }
    for (j = 0; j < W.n; j++) {
        if (!W.u[j]) continue;
        nused++;
        if (find_live(W.a[j]) < 0) {
            FZ_CHECK(op == F_ADOPT || (op == F_MALLOC && !added && W.s[j] >= req));
            add(W.a[j], W.s[j]);
            memcpy(mirror + off_of(W.a[j]), dev_mem + off_of(W.a[j]), W.s[j]);
            added = true;
        }
    }
    FZ_EQ(nused, nlive);
    for (i = 0; i < SMM_ROOTS; i++) {
        uint32_t v = (uint32_t)(uintptr_t)smm_root_get(cur, i);
        if (v != roots[i]) {
            FZ_CHECK(op == F_ADOPT || (op == F_ROOT && idx == i && v == val));
            roots[i] = v;
        }
    }
    for (i = 0; i < nlive; i++) {
        FZ_EQ(memcmp(dev_mem + off_of(live[i]), mirror + off_of(live[i]), live_size[i]), 0);
    }
    FZ_ST(tarn_ext_check(smm_ext(cur)), TARN_OK);
    FZ_EQ(G.range_errors, 0);
}

/* A fresh struct describing the same memory. */
static struct smm_mem_info *fresh(void)
{
    struct smm_mem_info *o = (cur == &S[0]) ? &S[1] : &S[0];
    memset(o, 0, sizeof *o);
    o->base_addr = P(mbase);
    o->size = msize;
    o->read = dev_read;
    o->write = dev_write;
    return o;
}

static void do_create(fz_in *in, unsigned bad)
{
    unsigned where = fz_u8(in) % 3u;
    uint32_t size = fz_below(in, MEM_MAX + 1u);
    uint32_t base = where == 0 ? fz_u16(in) : where == 1 ? 0u : (uint32_t)(0u - size);
    int rc, ex = SMM_OK;
    if (fz_u8(in) & 7u) size &= ~3u;       /* mostly a multiple of 4, as SMM requires */
    if (fz_u8(in) & 1u) memset(dev_mem, 0xFF, sizeof dev_mem);
    mbase = base;
    msize = size;
    emudev_init(&G, dev_mem, base, size);
    cur = fresh();
    nlive = ndead = 0;
    memset(roots, 0, sizeof roots);
    /* the original's rules: a size that is a multiple of 4 and at least 16 (and within the
     * address space); NULL base or callback: SMM_PTR_ERR, checked first */
    if (size % 4u != 0u || size < SMM_MIN_SIZE || (uint64_t)base + size - 1u > (uint64_t)UINTPTR_MAX) {
        ex = SMM_PARAMETER_INVALID;
    }
    if (base == 0u) ex = SMM_PTR_ERR;
    switch (bad % 4u) {
    case 1: cur->read = NULL; ex = SMM_PTR_ERR; break;
    case 2: cur->write = NULL; ex = SMM_PTR_ERR; break;
    case 3: FZ_EQ(smm_memory_create(NULL), SMM_PTR_ERR); break;
    default: break;
    }
    rc = smm_memory_create(cur);
    FZ_TRACE("  create(base %#x, size %u) = %d\n", (unsigned)base, (unsigned)size, rc);
    FZ_EQ(G.range_errors, 0);
    FZ_EQ(rc, ex);
    created = rc == SMM_OK;
    if (!created) {
        FZ_EQ(smm_last_error(cur), (int)TARN_EINVAL);
        FZ_CHECK(smm_malloc(cur, 8) == NULL);
        return;
    }
    sync_model(F_NONE, 0, 0, 0, 0);
}

static uint32_t pick_addr(fz_in *in)
{
    unsigned kind = fz_u8(in) % 7u;
    uint32_t k = fz_u16(in);
    switch (kind) {
    case 0: case 1: case 2: if (nlive) return live[k % nlive]; /* fall through */
    case 3: if (ndead) return dead[k % ndead]; /* fall through */
    case 4: if (nlive) return live[k % nlive] + 1u + k % 24u; /* fall through */
    case 5: return 0;
    default: return mbase + k % (msize + 32u);
    }
}

static int op_malloc(fz_in *in)
{
    unsigned kind = fz_u8(in) % 8u;
    uint32_t size = kind < 5 ? 4u * (1u + fz_u16(in) % 75u)
                    : kind == 5 ? 1u + fz_u16(in) % 300u : kind == 6 ? 0u : msize + fz_u8(in);
    uint32_t a;
    if (nlive == MAXB) return 0;
    a = (uint32_t)(uintptr_t)smm_malloc(cur, size);
    FZ_TRACE("  malloc(%u) = %#x\n", (unsigned)size, (unsigned)a);
    if (!created) { FZ_CHECK(a == 0); return -1; }
    if (a == 0) {
        int why = smm_last_error(cur);
        if (size == 0 || size % 4u != 0u) FZ_EQ(why, (int)TARN_EINVAL);   /* the original's rule */
        else FZ_CHECK(why == (int)TARN_ENOMEM || why == (int)TARN_EIO);
        return why;
    }
    FZ_CHECK(size > 0 && size % 4u == 0 && (a - mbase) % 4u == 0 && find_live(a) < 0);
    /* the usable size comes from the walk (sync_model) */
    sync_model(F_MALLOC, 0, size, 0, 0);
    return 0;
}

static int op_free(fz_in *in)
{
    uint32_t a = pick_addr(in), i;
    int rc = smm_free(cur, P(a)), li = find_live(a);
    bool rooted = false;
    FZ_TRACE("  free(%#x) = %d\n", (unsigned)a, rc);
    if (!created) { FZ_CHECK(rc != SMM_OK); return rc; }
    if (rc == SMM_IO_ERR) { FZ_EQ(smm_last_error(cur), (int)TARN_EIO); return rc; }
    for (i = 0; i < SMM_ROOTS; i++) rooted |= roots[i] == a && a != 0;
    if (li < 0) {
        if (a == 0) {
            FZ_EQ(rc, SMM_PARAMETER_INVALID);
        } else {
            FZ_EQ(rc, SMM_FREE_FAILED);
            FZ_CHECK(smm_last_error(cur) == (int)TARN_EFOREIGN || smm_last_error(cur) == (int)TARN_EDOUBLE);
        }
        return rc;
    }
    if (rooted) { FZ_EQ(rc, SMM_FREE_FAILED); FZ_EQ(smm_last_error(cur), (int)TARN_EBUSY); return rc; }
    FZ_EQ(rc, SMM_OK);
    drop((uint32_t)li);
    return rc;
}

static int op_root(fz_in *in, unsigned *idx, uint32_t *val)
{
    unsigned i = fz_u8(in) % (SMM_ROOTS + 2u);
    uint32_t a = (fz_u8(in) & 3u) ? pick_addr(in) : 0u;
    int rc = smm_root_set(cur, i, P(a));
    *idx = i;
    *val = a;
    FZ_TRACE("  root_set(%u, %#x) = %d\n", i, (unsigned)a, rc);
    if (!created) { FZ_CHECK(rc != 0 && smm_root_get(cur, i) == NULL); return rc; }
    if (rc == SMM_IO_ERR) return rc;
    /* an index out of range, or a memory too small to have root slots */
    if (i >= SMM_ROOTS || msize < SMM_ROOTS_MIN_SIZE) {
        FZ_EQ(rc, SMM_PARAMETER_INVALID);
        FZ_CHECK(smm_root_get(cur, i) == NULL);
        return rc;
    }
    FZ_EQ(rc, (a == 0 || find_live(a) >= 0) ? SMM_OK : SMM_PARAMETER_INVALID);
    if (rc == 0) roots[i] = a;
    FZ_CHECK((uint32_t)(uintptr_t)smm_root_get(cur, i) == roots[i]);
    return rc;
}

/* The application writes into its block through its own callback. */
static void op_user_write(fz_in *in)
{
    uint32_t i, off, n, j;
    uint8_t buf[32];
    if (!created || nlive == 0) return;
    i = fz_u16(in) % nlive;
    off = fz_u16(in) % live_size[i];
    n = 1u + fz_u8(in) % 32u;
    if (n > live_size[i] - off) n = live_size[i] - off;
    fz_fill(buf, n, fz_u32(in));
    FZ_EQ(dev_write((u8 *)P(live[i] + off), buf, n), 0);
    for (j = 0; j < n; j++) mirror[off_of(live[i]) + off + j] = buf[j];
}

static void op_rebuild(void)
{
    int rc;
    if (!created) {
        /* nothing created since the memory was described this way; a refused create
         * writes nothing, so an earlier region may still be there */
        cur = fresh();
        rc = smm_memory_rebuild(cur);
        FZ_TRACE("  rebuild (not created) = %d\n", rc);
        if (rc == 0) {
            created = true;
            sync_model(F_ADOPT, 0, 0, 0, 0);
        }
        return;
    }
    cur = fresh();
    rc = smm_memory_rebuild(cur);
    FZ_EQ(rc, SMM_OK);
    sync_model(F_NONE, 0, 0, 0, 0);
}

/* Power cut at the k-th write from now during malloc/free/root_set; rebuild. */
static void op_cut(fz_in *in)
{
    long k = fz_u8(in) % 4u;
    size_t keep = fz_u8(in) % 12u;
    uint8_t bits = fz_u8(in);
    unsigned what = fz_u8(in) % 3u, idx = 0;
    uint32_t val = 0, before = nlive, a = 0;
    unsigned long cuts = G.cuts;
    if (!created) return;
    emudev_cut_after(&G, k, keep, bits);
    if (what == 0) {
        (void)op_malloc(in);
    } else if (what == 1) {
        /* a free: remember which block was asked for */
        fz_in peek = *in;
        a = pick_addr(&peek);
        (void)op_free(in);
    } else {
        (void)op_root(in, &idx, &val);
    }
    if (G.cuts == cuts) {
        G.cut_at = -1;
        if (what == 0 && nlive > before) return;   /* taken in by op_malloc's sync */
        sync_model(F_NONE, 0, 0, 0, 0);
        return;
    }
    emudev_power_on(&G);
    cur = fresh();
    FZ_EQ(smm_memory_rebuild(cur), 0);
    sync_model(what == 0 ? F_MALLOC : what == 1 ? F_FREE : F_ROOT, a, 1, idx, val);
}

enum { OP_MALLOC, OP_MALLOC2, OP_FREE, OP_FREE2, OP_ROOT, OP_WRITE, OP_CHECK, OP_REBUILD,
       OP_CUT, OP_CREATE, OP_BAD_CREATE, OP_COUNT };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in;
    unsigned idx;
    uint32_t val;
    fz_start(&in, data, size);
    memset(dev_mem, 0, sizeof dev_mem);
    cur = &S[1];
    do_create(&in, 0);
    while (!fz_empty(&in)) {
        unsigned op = fz_u8(&in) % OP_COUNT;
        tarn_fuzz_ops++;
        FZ_TRACE("op %u\n", op);
        switch (op) {
        case OP_MALLOC: case OP_MALLOC2: (void)op_malloc(&in); break;
        case OP_FREE: case OP_FREE2: (void)op_free(&in); break;
        case OP_ROOT: (void)op_root(&in, &idx, &val); break;
        case OP_WRITE: op_user_write(&in); break;
        case OP_CHECK: if (created) sync_model(F_NONE, 0, 0, 0, 0); break;
        case OP_REBUILD: op_rebuild(); break;
        case OP_CUT: op_cut(&in); break;
        case OP_CREATE: do_create(&in, 0); break;
        default: do_create(&in, 1u + fz_u8(&in) % 3u); break;
        }
        FZ_EQ(G.range_errors, 0);
    }
    if (created) sync_model(F_NONE, 0, 0, 0, 0);
    return 0;
}
