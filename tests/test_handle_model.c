/*
 * tests/test_handle_model.c - handle pool against a model: >= 1,000,000 random operations
 * (alloc, free, resize, lock, unlock, write, copy, clear, compact, compact_step, and calls
 * with stale and garbage handles) in three configurations (plain, automatic compaction,
 * scramble), and where the debug quarantine is compiled in, two more with it on.  The model keeps a shadow copy of every block's contents.  Checked:
 *   - every block's contents after each compaction (full or step) and each scramble-prone
 *     call, and single blocks at random;
 *   - a pinned block never moves: its lock pointer is compared after every operation that
 *     may move blocks;
 *   - a stale handle (freed, its slot maybe reused) is always rejected and changes nothing;
 *   - garbage handles are rejected; failures are only those the pool's state explains;
 *   - stats, walk and the full integrity check agree with the model.
 */
#include "check.h"
#include "tarn/handle.h"

#define NH 200u
#define DATA (16u * 1024u)
#define MAXB 1024u
#define MAXLOCK 3u
#define NSTALE 64u

static unsigned char mem[TARN_HANDLE_BYTES(DATA, NH)] TARN_HANDLE_ALIGNED;
static tarn_handle_pool pool;

typedef struct mblk {
    tarn_handle h;
    uint32_t size;
    uint32_t known;        /* leading bytes whose contents the model knows */
    unsigned lock;
    unsigned char *pin;    /* address while locked */
} mblk;

static mblk m[NH];
static unsigned char shadow[NH][MAXB];
static unsigned nlive, npinned;
static tarn_handle stale[NSTALE];
static unsigned nstale, stale_pos;
static uint32_t flags_now;
static unsigned long n_compact, n_step, n_stale, n_fail_alloc, n_fail_frag, n_moved_pins;

static size_t rnd_size(void)
{
    uint32_t r = check_below(100);
    if (r < 70) return 1u + check_below(64);
    if (r < 95) return 65u + check_below(448);
    return 513u + check_below(MAXB - 512u);
}

/* Bytes a block of n takes (its guard bytes included in canary mode). */
static uint32_t cap_of(size_t n)
{
    return (uint32_t)TARN_HANDLE_SPAN(n);
}

static void stats(tarn_handle_stats *st)
{
    REQUIRE(tarn_handle_stats_get(&pool, st) == TARN_OK);
}

static int verify_block(unsigned i)
{
    unsigned char *p;
    int ok;
    if (m[i].lock > 0) return memcmp(m[i].pin, shadow[i], m[i].known) == 0;
    p = (unsigned char *)tarn_handle_lock(&pool, m[i].h);
    if (p == NULL) return 0;
    ok = memcmp(p, shadow[i], m[i].known) == 0;
    CHECK_EQ(tarn_handle_unlock(&pool, m[i].h), TARN_OK);
    return ok;
}

/* handle -> model index, rebuilt for each audit (open addressing, linear probing) */
#define MAPN 512u
static uint32_t map_key[MAPN];
static uint16_t map_val[MAPN];
static void map_build(void)
{
    unsigned i;
    memset(map_key, 0, sizeof map_key);
    for (i = 0; i < nlive; i++) {
        uint32_t k = tarn_handle_to_u32(m[i].h), j = (k * 2654435761u) & (MAPN - 1u);
        while (map_key[j] != 0u) j = (j + 1u) & (MAPN - 1u);
        map_key[j] = k;
        map_val[j] = (uint16_t)i;
    }
}
static int map_find(tarn_handle h)
{
    uint32_t k = tarn_handle_to_u32(h), j = (k * 2654435761u) & (MAPN - 1u);
    while (map_key[j] != 0u) {
        if (map_key[j] == k) return map_val[j];
        j = (j + 1u) & (MAPN - 1u);
    }
    return -1;
}

typedef struct audit_ctx {
    unsigned char *base;   /* start of the data area */
    bool contents;         /* compare contents too */
    unsigned n, bad_meta, bad_pin, bad_data;
    int moving;            /* model index of the block in mid-move, or -1 */
} audit_ctx;

/* Walk callback: every block is one of the model's with its size and lock count, pinned
 * ones are at their lock address, and (if asked) its contents are the model's. */
static bool audit_cb(const tarn_handle_block *b, void *ctx)
{
    audit_ctx *a = (audit_ctx *)ctx;
    int i = map_find(b->handle);
    a->n++;
    if (i < 0 || m[i].size != b->size || m[i].lock != b->locks) {
        a->bad_meta++;
        return true;
    }
    if (m[i].lock > 0 && m[i].pin != a->base + b->offset) a->bad_pin++;
    if (b->moving) {
        a->moving = i;
    } else if (a->contents && memcmp(a->base + b->offset, shadow[i], m[i].known) != 0) {
        a->bad_data++;
    }
    return true;
}

/* Check every block (contents optional) and every pin in one walk.  A block in mid-move
 * is checked through lock, which completes its move. */
static void audit_blocks(bool contents)
{
    audit_ctx a;
    a.base = mem + TARN_HANDLE_TABLE_SPACE(NH);
    a.contents = contents;
    a.n = a.bad_meta = a.bad_pin = a.bad_data = 0;
    a.moving = -1;
    map_build();
    CHECK_EQ(tarn_handle_walk(&pool, audit_cb, &a), TARN_OK);
    CHECK_EQ(a.n, nlive);
    CHECK_EQ(a.bad_meta, 0);
    CHECK_EQ(a.bad_pin, 0);
    CHECK_EQ(a.bad_data, 0);
    n_moved_pins += a.bad_pin;
    /* A block in mid-move is left alone: locking it would complete the move, and the
     * point is to interleave the other operations with unfinished moves.  Its contents
     * are checked by a later audit, or as soon as it is locked. */
}

static void verify_all(void)
{
    audit_blocks(true);
}

static void verify_pins(void)
{
    audit_blocks(false);
}

static void write_block(unsigned i)
{
    uint32_t tag = (uint32_t)check_rand();
    unsigned char *p = m[i].lock > 0 ? m[i].pin : (unsigned char *)tarn_handle_lock(&pool, m[i].h);
    REQUIRE(p != NULL);
    check_fill(p, m[i].size, tag);
    check_fill(shadow[i], m[i].size, tag);
    m[i].known = m[i].size;
    if (m[i].lock == 0) CHECK_EQ(tarn_handle_unlock(&pool, m[i].h), TARN_OK);
}

static void remember_stale(tarn_handle h)
{
    stale[stale_pos] = h;
    stale_pos = (stale_pos + 1u) % NSTALE;
    if (nstale < NSTALE) nstale++;
}

static void drop(unsigned i)
{
    nlive--;
    if (i != nlive) {
        m[i] = m[nlive];
        memcpy(shadow[i], shadow[nlive], m[i].known);
    }
}

static void op_alloc(void)
{
    size_t n = check_below(500) == 0 ? DATA + 1u + check_below(100) : rnd_size();
    tarn_handle h;
    tarn_handle_stats st;
    stats(&st);
    h = tarn_handle_alloc(&pool, n);
    /* the documented guarantee: a region of fit_bound(n) bytes is always found */
    if (nlive < NH && st.largest_free >= tarn_handle_fit_bound(n)) CHECK(!tarn_handle_is_null(h));
    if (tarn_handle_is_null(h)) {
        tarn_status why = tarn_handle_last_error(&pool);
        CHECK_EQ(why, TARN_ENOMEM);
        n_fail_alloc++;
        if (n <= DATA && nlive < NH) {
            n_fail_frag++;
            stats(&st);
            /* no free region in a class that surely fits */
            CHECK(st.largest_free < tarn_handle_fit_bound(n));
            if ((flags_now & TARN_HANDLE_F_AUTOCOMPACT) && npinned == 0) CHECK(st.free < cap_of(n));
        }
        return;
    }
    CHECK(n <= DATA && nlive < NH);
    REQUIRE(nlive < NH);
    m[nlive].h = h;
    m[nlive].size = (uint32_t)n;
    m[nlive].known = 0;
    m[nlive].lock = 0;
    m[nlive].pin = NULL;
    nlive++;
    CHECK_EQ(tarn_handle_size(&pool, h), n);
    write_block(nlive - 1u);
}

static void op_free(void)
{
    unsigned i = check_below(nlive);
    tarn_status s = tarn_handle_free(&pool, m[i].h);
    if (m[i].lock > 0) {
        CHECK_EQ(s, TARN_EBUSY);
        return;
    }
    CHECK_EQ(s, TARN_OK);
    remember_stale(m[i].h);
    drop(i);
}

static void op_resize(void)
{
    unsigned i = check_below(nlive);
    size_t n = check_below(8) == 0 ? 1u + check_below(16) : rnd_size();
    tarn_status s = tarn_handle_resize(&pool, m[i].h, n);
    tarn_handle_stats st;
    if (s == TARN_OK) {
        m[i].size = (uint32_t)n;
        if (m[i].known > n) m[i].known = (uint32_t)n;
        if (!verify_block(i)) CHECK(!"resize lost contents");
        return;
    }
    CHECK(s == TARN_ENOMEM || (s == TARN_EBUSY && m[i].lock > 0));
    CHECK_EQ(tarn_handle_size(&pool, m[i].h), m[i].size);
    stats(&st);
    if (s == TARN_ENOMEM && (flags_now & TARN_HANDLE_F_AUTOCOMPACT) && npinned == 0) {
        CHECK(st.free < cap_of(n));
    }
}

static void op_lock(void)
{
    unsigned i = check_below(nlive);
    unsigned char *p;
    if (m[i].lock >= MAXLOCK) return;
    p = (unsigned char *)tarn_handle_lock(&pool, m[i].h);
    REQUIRE(p != NULL);
    if (m[i].lock > 0) CHECK(p == m[i].pin);
    if (m[i].lock++ == 0) npinned++;
    m[i].pin = p;
    CHECK_EQ(tarn_handle_lock_count(&pool, m[i].h), m[i].lock);
}

static void op_unlock(void)
{
    unsigned i = check_below(nlive);
    tarn_status s = tarn_handle_unlock(&pool, m[i].h);
    if (m[i].lock == 0) {
        CHECK_EQ(s, TARN_EINVAL);
        return;
    }
    CHECK_EQ(s, TARN_OK);
    if (--m[i].lock == 0) {
        npinned--;
        m[i].pin = NULL;
    }
}

static void op_copy(void)
{
    unsigned d = check_below(nlive), s = check_below(nlive);
    tarn_status st = tarn_handle_copy(&pool, m[d].h, m[s].h);
    if (m[d].size < m[s].size) {
        CHECK_EQ(st, TARN_ERANGE);
        return;
    }
    CHECK_EQ(st, TARN_OK);
    if (d != s) {
        memcpy(shadow[d], shadow[s], m[s].known);
        /* bytes of src the model does not know make dst's unknown from there on */
        if (m[s].known < m[s].size) {
            m[d].known = m[s].known;
        } else if (m[d].known < m[s].size) {
            m[d].known = m[s].size;
        }
    }
}

static void op_clear(void)
{
    unsigned i = check_below(nlive);
    CHECK_EQ(tarn_handle_clear(&pool, m[i].h), TARN_OK);
    memset(shadow[i], 0, m[i].size);
    m[i].known = m[i].size;
}

static void op_compact(void)
{
    tarn_handle_stats st;
    size_t moved = tarn_handle_compact(&pool);
    stats(&st);
    /* each block moves at most once, plus the rest of one a step had left in transit (in
     * canary mode a block's whole span moves, so there is no padding to absorb that) */
    CHECK(moved <= st.used + cap_of(MAXB));
    if (npinned == 0) CHECK_EQ(st.largest_free, st.free);
    n_compact++;
    verify_all();
}

static void op_step(void)
{
    size_t budget = 1u + check_below(check_below(2) ? 64 : 2048), moved = 0;
    (void)tarn_handle_compact_step(&pool, budget, &moved);
    CHECK(moved <= budget);
    n_step++;
    verify_all();
}

/* A freed handle is rejected by every call and changes nothing. */
static void op_stale(void)
{
    tarn_handle h, other;
    tarn_handle_stats a, b;
    tarn_status s;
    if (nstale == 0) return;
    h = stale[check_below(nstale)];
    other = nlive > 0 ? m[check_below(nlive)].h : h;
    stats(&a);
    switch (check_below(8)) {
    case 0:
        s = tarn_handle_free(&pool, h);
        CHECK(s == TARN_EDOUBLE || s == TARN_ESTALE);
        break;
    case 1: CHECK(tarn_handle_lock(&pool, h) == NULL); break;
    case 2: CHECK_EQ(tarn_handle_unlock(&pool, h), TARN_ESTALE); break;
    case 3: CHECK_EQ(tarn_handle_resize(&pool, h, 1u + check_below(200)), TARN_ESTALE); break;
    case 4: CHECK_EQ(tarn_handle_copy(&pool, h, other), TARN_ESTALE); break;
    case 5: CHECK_EQ(tarn_handle_copy(&pool, other, h), TARN_ESTALE); break;
    case 6: CHECK_EQ(tarn_handle_clear(&pool, h), TARN_ESTALE); break;
    default: CHECK_EQ(tarn_handle_size(&pool, h), 0); break;
    }
    stats(&b);
    CHECK(a.used == b.used && a.handles_used == b.handles_used && a.pinned == b.pinned &&
          a.requested == b.requested && a.bytes_moved == b.bytes_moved);
    n_stale++;
}

static void op_garbage(void)
{
    tarn_handle h = tarn_handle_from_u32((uint32_t)check_rand());
    unsigned i;
    if (check_below(2)) h = tarn_handle_from_u32((h.v & ~TARN_HANDLE_INDEX_MASK_) | check_below(NH + 8u));
    for (i = 0; i < nlive; i++) {
        if (tarn_handle_eq(m[i].h, h)) return;
    }
    CHECK(tarn_handle_validate(&pool, h) != TARN_OK);
    CHECK(tarn_handle_lock(&pool, h) == NULL);
    CHECK(tarn_handle_free(&pool, h) != TARN_OK);
}

static void op_audit(void)
{
    tarn_handle_stats st;
    size_t req = 0;
    unsigned i;
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    stats(&st);
    for (i = 0; i < nlive; i++) req += m[i].size;
    CHECK_EQ(st.handles_used, nlive);
    CHECK_EQ(st.pinned, npinned);
    CHECK_EQ(st.requested, req);
    CHECK_EQ(st.free, DATA - st.used);
    CHECK(st.largest_free <= st.free);
    /* regions held by the quarantine: only with the flag, at most its capacity */
    CHECK(st.quarantined <= ((flags_now & TARN_F_QUARANTINE) != 0u ? (size_t)TARN_QUARANTINE : 0u));
    CHECK(st.quarantined_bytes <= st.used);
    verify_all();
}

static void run(uint32_t flags, unsigned long iters, uint64_t seed)
{
    tarn_config cfg;
    unsigned long k;
    unsigned i;
    bool grow = true;
    tarn_handle_stats st;
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = flags;
    flags_now = flags;
    check_seed(seed);
    REQUIRE(tarn_handle_init(&pool, mem, sizeof mem, NH, &cfg) == TARN_OK);
    nlive = npinned = nstale = stale_pos = 0;
    for (k = 0; k < iters; k++) {
        uint32_t r = check_below(1000);
        bool moving = true;
        /* alternate between filling and draining, so the pool runs both nearly empty
         * and full (out of handles, and out of space through fragmentation) */
        if (k % 4096u == 0) grow = check_below(2) != 0;
        if (nlive == 0 || (r < (grow ? 260u : 120u) && nlive < NH)) {
            op_alloc();
        } else if (r < 400) {
            op_free();
        } else if (r < 480) {
            op_resize();
        } else if (r < 570) {
            op_lock();
        } else if (r < 660) {
            op_unlock();
        } else if (r < 730) {
            write_block(check_below(nlive));
        } else if (r < 780) {
            moving = false;
            if (!verify_block(check_below(nlive))) CHECK(!"block contents differ");
        } else if (r < 830) {
            op_copy();
        } else if (r < 860) {
            op_clear();
        } else if (r < 870) {
            op_compact();
        } else if (r < 910) {
            op_step();
        } else if (r < 950) {
            moving = false;
            op_stale();
        } else if (r < 975) {
            moving = false;
            op_garbage();
        } else {
            moving = false;
            if (k % 16 == 0) op_audit();
        }
        if (moving) verify_pins();
        CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
        if (check_failures_ > 0) break;
    }
    op_audit();
    /* unpin and free everything: the whole area is one free region again */
    for (i = 0; i < nlive; i++) {
        while (m[i].lock > 0) {
            CHECK_EQ(tarn_handle_unlock(&pool, m[i].h), TARN_OK);
            m[i].lock--;
        }
    }
    verify_all();
    while (nlive > 0) {
        CHECK_EQ(tarn_handle_free(&pool, m[nlive - 1u].h), TARN_OK);
        nlive--;
    }
    CHECK_EQ(tarn_handle_quarantine_flush(&pool), TARN_OK); /* held regions too */
    stats(&st);
    CHECK_EQ(st.used, 0);
    CHECK_EQ(st.largest_free, DATA);
    CHECK_EQ(tarn_handle_check(&pool), TARN_OK);
    printf("flags %u: %lu ops, %lu compactions, %lu steps, %lu stale calls, %lu failed allocs "
           "(%lu for lack of space), %llu bytes moved\n",
           (unsigned)flags, k, n_compact, n_step, n_stale, n_fail_alloc, n_fail_frag,
           (unsigned long long)st.bytes_moved);
    n_compact = n_step = n_stale = n_fail_alloc = n_fail_frag = 0;
    CHECK_EQ(tarn_handle_deinit(&pool), TARN_OK);
}

int main(void)
{
    unsigned long total = (unsigned long)CHECK_ITERS(1000000L);
    run(0, total * 6u / 10u, 0x1234567u);
    run(TARN_HANDLE_F_AUTOCOMPACT, total * 3u / 10u, 0xBEEFu);
    run(TARN_HANDLE_F_SCRAMBLE, total - total * 6u / 10u - total * 3u / 10u, 0xC0FFEEu);
#if TARN_QUARANTINE > 0
    /* the debug quarantine holds freed regions back: nothing above may change but where
     * blocks land (and with scramble mode, a write after free would be found by the checks) */
    run(TARN_F_QUARANTINE, total * 2u / 10u, 0x5EEDu);
    run(TARN_F_QUARANTINE | TARN_HANDLE_F_AUTOCOMPACT | TARN_HANDLE_F_SCRAMBLE, total / 10u, 0xD00Du);
#endif
    CHECK_EQ(n_moved_pins, 0);
    return check_done();
}
