/*
 * src/handle.c - handle pool (see include/tarn/handle.h).
 *
 * Layout.  All metadata lives in the table; the data area holds user bytes only.
 *
 *   table (start of the caller's buffer, or a buffer of its own):
 *   +-----------------------------+---------+---------+---------+-----+-------------+
 *   | ctl: map[4],                | entry 0 | entry 1 | entry 2 | ... | entry cap   |
 *   |      bin[32 * 4] (272 bytes) | (head)  |         |         |     |             |
 *   +-----------------------------+---------+---------+---------+-----+-------------+
 *   entry (24 bytes): off | size | key | lock | next, prev | fnext, fprev
 *
 *   data area (offsets 0 .. data_size, every block starts at a multiple of TARN_ALIGN):
 *   0                                                                          data_size
 *   |gap of 0 | block 7 |pad| gap of 7 | block 2 | block 5 |pad| gap of 5          |
 *             ^ off(7)      ^ off(7) + size(7)
 *             |<- cap(7) -->|   cap = size rounded up to TARN_ALIGN
 *
 * Every live block is an entry on a circular doubly-linked list in address order whose
 * head is entry 0 (off 0, size 0: its "block" is empty and its gap is the free space before
 * the first block).  The free space after a block up to the next block (or the end) is the
 * block's gap; it is computed from the two offsets, never stored.  Free regions are
 * therefore merged implicitly: freeing a block unlinks it, and its bytes and its gap join
 * the gap of the block before it, in O(1).
 *
 * Every non-empty gap is on one segregated list (fnext/fprev, heads in ctl.bin) chosen by
 * its size: first level floor(log2(gap)), second level the next 2 bits below it (TLSF's
 * two-level classes), list f * 4 + s of 128, with one 128-bit map of the non-empty lists
 * (ctl.map).  An allocation of n bytes rounds n up to the next list boundary and takes the
 * head of the first non-empty list at or above it: every gap there fits, so the search is
 * O(1) (a bit scan of n, then of at most 2 map words on 64-bit hosts, 4 elsewhere).  If
 * none is found, the head of n's own list is tried too.  The block is placed at the start of the
 * gap, so the gap's owner keeps nothing and the new block owns the rest.
 *
 * Slots: entries 1..carved have been used; carved grows on demand (init is O(1)).  A free
 * slot has size 0 and sits on a FIFO (free_head .. free_tail, linked through `next`), so
 * a freed slot is reused as late as possible.
 *
 * Keys.  An entry's key is a 32-bit word: its high bits (above the TARN_HANDLE_INDEX_BITS
 * index bits) hold the slot's generation plus the pool's salt (modulo 2^32), its low
 * bits the slot's state: the slot index for a live block that lock may take at once, 0
 * for a free slot or the block in transit, all ones for a region held by the quarantine
 * (and for the list head).  A live block's key is therefore its handle, and "handle == key" proves at once
 * that the index, the generation and the state are right (the inline lock and unlock in
 * handle.h test just that).  The generation advances at every free and when a slot is
 * carved by a new pool: carving continues from the generation the entry's key already
 * holds (left by an earlier pool on this table, or garbage), one step on, instead of
 * resetting it, so handles of earlier pools stay stale.  Which generation a key holds
 * depends on who wrote it: init leaves a mark in the list head's lock field (the table's
 * salt XOR HP_TMARK), and a pool that finds its table marked takes a key's generation as
 * key minus salt (exactly the generation the earlier pool gave the slot); an unmarked table
 * (zeroed, or garbage) gives the key's raw high bits, so that pools on fresh (zeroed)
 * tables start at the same generation and their handles differ by their salts.  The
 * salt depends on the table's address only, so it is
 * the same for every pool on one table and differs between tables less than
 * 2^(32 - bits) words apart.
 *
 * Compaction walks the block list once: each unpinned block moves down to the end of the
 * block before it (blocks keep their order), a pinned block stays and the blocks after it
 * follow it, and the free lists are rebuilt on the way (a block's gap is known once the
 * next block has its final place).  Without sanitizer annotations, blocks that lie back to
 * back at their source move by the same distance and are moved together by one copy (a
 * run: memmove, or inline up to 64 bytes on 64-bit hosts; hp_pack_raw), and the walk
 * reads each entry once.  Scramble mode packs alternately
 * towards the start and towards the end.
 *
 * Incremental compaction moves one block at a time from `transit_src` down to `off`, up to
 * the budget per call, copying front to back (safe for an overlapping move towards lower
 * addresses).  While a block is in transit its entry already has the new offset, the gap
 * before it is 0 and its own gap is kept off the free lists, so nothing is allocated in
 * [off, transit_src + body) until the move completes.
 *
 * Invariants (tarn_handle_check verifies all of them):
 *   - the block list visits `live` + held distinct slots in 1..carved with size > 0,
 *     offsets multiples of TARN_ALIGN, and off(x) >= off(prev) + span(prev), end <= data_size;
 *   - used = sum of spans (blocks and held regions), requested = sum of the blocks' sizes;
 *     every block's lock count is at most 65535, and the list head's lock field holds
 *     the table's mark (salt XOR HP_TMARK); a held entry has lock 0 and is in the ring,
 *     and the ring holds nothing else;
 *   - the free FIFO holds carved - live - held slots, each with size 0;
 *   - a slot (or the head) is on a free list iff its gap > 0 and it is not in transit; it is
 *     on the list its gap maps to; the bitmaps mark exactly the non-empty lists;
 *   - a live block's key has its index (0 while in transit) in the low bits, a held
 *     region's all ones, a free slot's 0;
 *   - (full check only) every block's guard bytes are intact, every held region still
 *     holds its poison when the pool poisons freed bytes;
 *   - a block in transit is live and unpinned, off < transit_src, transit_done < body and
 *     transit_src + body <= the next block's offset (body: see canary mode below).
 *
 * Canary mode (TARN_GUARD).  A block's span is its size plus TARN_GUARD_SIZE rounded up to
 * TARN_ALIGN (hp_span; without canary mode the span is the cap), and every byte of the span
 * after the user's `size` bytes is a guard byte:
 *
 *   | block 7: size bytes | guard: TARN_GUARD_BYTE ... |  gap of 7  | block 2 ...
 *   ^ off(7)              ^ off + size                 ^ off + span(size)
 *
 * The guard is written when the block gets its size (alloc, resize) and is otherwise moved
 * with the block: every move copies the block's body (size + guard, hp_body; without
 * canary mode only the size bytes, as the padding holds nothing).  Frees, resizes, copies,
 * clears and the full check verify it; a block in transit has the part of its guard not
 * copied yet still at its source.
 *
 * Quarantine (TARN_QUARANTINE > 0, pool given TARN_F_QUARANTINE).  A freed block's entry
 * stays on the address-ordered list as a held region: same off and size (so its span stays
 * out of every gap), generation advanced as by a free (the handle is stale at once) and
 * the all-ones state in its key, which marks it held.  Its lock count is 0; compaction
 * passes
 * (pack, compact_step) leave held entries where they are, as they leave pinned blocks.
 * The ring (tarn_quarantine) holds pointers to the held entries, oldest first.  Releasing
 * one unlinks the entry (its span joins the gap before it, as a free does) and puts the
 * slot on the free FIFO without advancing the generation again.
 *
 * Sanitizers: the data area is NOACCESS except the `size` bytes of each block (the rest of
 * its span - padding or guard - and held regions stay NOACCESS, so a one-byte overflow is
 * caught).  A move re-registers the block at its new place and makes the bytes it left
 * NOACCESS (and fills them with TARN_POISON_BYTE in scramble mode or with
 * TARN_POISON_FREE; so are held regions when they are taken in).  The table is metadata in
 * the caller's buffer and stays DEFINED.
 */
#include "tarn/handle.h"
#include "internal.h"

#define HP_NIL 0xFFFFu      /* end of a list */
#define HP_OUT 0xFFFEu      /* fprev of an entry whose gap is on no free list */
#define HP_MAGIC 0x7448506Cu       /* a ready pool (even) */
/* the table's mark (XOR its salt) in the list head's lock field, left by init */
#define HP_TMARK 0x6B65794Du
#define HP_MAGIC_QUICK (HP_MAGIC | 1u) /* ...whose alloc and free may take the fast path */
#define HP_FL 32u
#define HP_LISTS (HP_FL * HP_SL) /* 128 */
#define HP_SL_BITS 2u
#define HP_SL (1u << HP_SL_BITS)
#define HP_IMASK TARN_HANDLE_INDEX_MASK_       /* index (state) bits of a key or handle */
#define HP_GSTEP (HP_IMASK + 1u)               /* one generation, in key bits */
#define HP_LOCK_MAX 0xFFFFu
#define HP_A ((uint32_t)TARN_ALIGN)
#define HP_G ((uint32_t)TARN_HANDLE_GUARD) /* guard bytes a block needs at least */
/* The entry (fields documented in tarn/handle.h). */
typedef tarn_handle_entry_ hp_entry;

typedef struct hp_ctl {
    uint32_t map[HP_LISTS / 32u]; /* bit i (of the hp_word view): list i is non-empty */
    uint16_t bin[HP_LISTS];       /* list heads (entry index or HP_NIL); [f][s] at f*HP_SL+s */
} hp_ctl;

TARN_STATIC_ASSERT(sizeof(hp_entry) == TARN_HANDLE_ENTRY_SIZE, hp_entry_size);
/* tests read a table entry's offset and key at these places */
TARN_STATIC_ASSERT(offsetof(hp_entry, off) == 0u && offsetof(hp_entry, key) == 8u, hp_entry_fields);
TARN_STATIC_ASSERT(TARN_HANDLE_MAX_COUNT < HP_IMASK, hp_index_below_held_state);
/* hp_unlisted stores the aligned word {fnext, fprev} at once */
TARN_STATIC_ASSERT(offsetof(hp_entry, fnext) % 4u == 0u &&
                       offsetof(hp_entry, fprev) == offsetof(hp_entry, fnext) + 2u,
                   hp_entry_word_pairs);
/* hp_slot_put stores the aligned word {next, prev} at once */
TARN_STATIC_ASSERT(offsetof(hp_entry, next) % 4u == 0u &&
                       offsetof(hp_entry, prev) == offsetof(hp_entry, next) + 2u,
                   hp_entry_link_pair);
TARN_STATIC_ASSERT(sizeof(hp_ctl) == TARN_HANDLE_CTL_SIZE, hp_ctl_size);
TARN_STATIC_ASSERT(TARN_HANDLE_CTL_SIZE % 4u == 0, hp_ctl_keeps_entries_aligned);
TARN_STATIC_ASSERT(TARN_HANDLE_MAX_COUNT < HP_OUT, hp_index_below_markers);
TARN_STATIC_ASSERT(TARN_ALIGN >= (1u << HP_SL_BITS), hp_gap_has_second_level);

/* ---- moving bytes ----------------------------------------------------------------------
 * Size builds (-Os) move a pool's bytes with the loop below, a word at a time where both
 * addresses and the count allow it (blocks and spans always do), so that a program using
 * the handle pool does not link memmove (254 B on a Cortex-M4 with newlib; newlib-nano's
 * copies a byte at a time); it serves the copies between disjoint blocks too.  Its
 * stores are volatile so that no compiler turns the loop back into the library call.
 * Speed builds call memmove and memcpy.  (memset stays: the C start-up
 * code of every newlib image links it to clear .bss.) */
#if defined(__OPTIMIZE_SIZE__)
/* memmove: any overlap (forward when the copy moves down, backward when it moves up) */
static void hp_memmove(void *dst, const void *src, size_t n)
{
    if ((((uintptr_t)dst | (uintptr_t)src | n) & (sizeof(tarn_uword) - 1u)) == 0u) {
        if ((uintptr_t)dst < (uintptr_t)src) {
            tarn_words_fwd(dst, src, n);
        } else {
            volatile tarn_uword *d = (volatile tarn_uword *)dst;
            const tarn_uword *s = (const tarn_uword *)src;
            size_t i;
            for (i = n / sizeof(tarn_uword); i != 0u; i--) d[i - 1u] = s[i - 1u];
        }
    } else {
        volatile unsigned char *d = (volatile unsigned char *)dst;
        const unsigned char *s = (const unsigned char *)src;
        size_t i;
        if ((uintptr_t)dst < (uintptr_t)src) {
            for (i = 0; i < n; i++) d[i] = s[i];
        } else {
            for (i = n; i != 0u; i--) d[i - 1u] = s[i - 1u];
        }
    }
}
#define HP_MEMMOVE(d, s, n) hp_memmove((d), (s), (n))
#define HP_MEMCPY(d, s, n) hp_memmove((d), (s), (n))
#else
#define HP_MEMMOVE(d, s, n) memmove((d), (s), (n))
#define HP_MEMCPY(d, s, n) memcpy((d), (s), (n))
#endif

/* ---- small helpers -------------------------------------------------------------------- */
/* HP_SPEED: 64-bit hosts, where speed comes first (32-bit targets favour code size).  The
 * hot list and search helpers (HP_HOT) are inlined there, one copy each elsewhere. */
#define HP_SPEED (UINTPTR_MAX > 0xFFFFFFFFu)
#if UINTPTR_MAX > 0xFFFFFFFFu
#define HP_HOT static inline
#elif defined(__GNUC__)
#define HP_HOT static __attribute__((noinline))
#else
#define HP_HOT static
#endif
/* HP_FAST: 64-bit hosts without annotations, guard bytes or level-2 checks, where alloc
 * and free first try a path that calls nothing (so it needs few saved registers and no
 * lock-hook tests) for a pool with no lock hook, no scramble mode and no quarantine (init
 * marks such a pool with HP_MAGIC_QUICK); anything else (a failure among it) goes to the
 * general path, which starts over.  32-bit targets keep the one general path (less code). */
#define HP_FAST (HP_SPEED && !TARN_SANITIZE && !TARN_GUARD && TARN_CHECK_LEVEL < 2)
/* A loop that its callers specialise (GCC or Clang): each caller gets only the kind of
 * move it makes (the raw pack of a release build links no annotated or poisoning move) */
#if defined(__GNUC__)
#define HP_SPECIALISED static inline __attribute__((always_inline))
#else
#define HP_SPECIALISED static
#endif
static inline hp_ctl *hp_c(const tarn_handle_pool *p)
{
    return (hp_ctl *)p->table;
}
static inline hp_entry *hp_t(const tarn_handle_pool *p)
{
    return p->entries;
}
static inline uint32_t hp_cap(uint32_t n)
{
    return (n + (HP_A - 1u)) & ~(HP_A - 1u);
}
/* Bytes of data area a block of n bytes takes (0 for the list head and free slots). */
static inline uint32_t hp_span(uint32_t n)
{
#if TARN_GUARD
    return n == 0u ? 0u : hp_cap(n + HP_G);
#else
    return hp_cap(n);
#endif
}
/* Bytes a move of a block of n bytes copies: its data and, in canary mode, its guard. */
static inline uint32_t hp_body(uint32_t n)
{
    return TARN_GUARD ? hp_span(n) : n;
}
static inline uint32_t hp_end(const hp_entry *e)
{
    return e->off + hp_span(e->size);
}
/* Offset where x's gap ends: the next block's offset, or the end of the data area. */
static inline uint32_t hp_limit(const tarn_handle_pool *p, const hp_entry *t, uint16_t x)
{
    uint16_t n = t[x].next;
    if (HP_SPEED) { /* the next block's offset laid out straight (only the last block's
                     * gap ends at the data area's end); 32-bit targets: smaller code */
        return TARN_LIKELY(n != 0) ? t[n].off : p->data_size;
    }
    return n == 0 ? p->data_size : t[n].off;
}
static inline uint32_t hp_gap(const tarn_handle_pool *p, const hp_entry *t, uint16_t x)
{
    return hp_limit(p, t, x) - hp_end(&t[x]);
}
static inline uint32_t hp_min32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}
static inline size_t hp_min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}
static inline bool hp_ready(const tarn_handle_pool *p)
{
    return p != NULL && (p->magic | 1u) == HP_MAGIC_QUICK; /* either magic */
}
/* The handle of live slot x: its key with the index as state (also while in transit). */
static inline tarn_handle hp_make(const hp_entry *t, uint16_t x)
{
    return tarn_handle_from_u32((t[x].key & ~HP_IMASK) | x);
}
/* The unsalted generation (in the high bits) of key or handle k.  A key holds the
 * generation plus the salt (modulo 2^32; both have their index bits 0), so advancing a
 * generation adds to the key, without the salt (hp_key_freed). */
static inline uint32_t hp_gen_of(const tarn_handle_pool *p, uint32_t k)
{
    return (k - p->salt) & ~HP_IMASK;
}
/* Give entry e generation g (unsalted, in the high bits) and state s. */
static inline void hp_set_gen(const tarn_handle_pool *p, hp_entry *e, uint32_t g, uint32_t s)
{
    e->key = (g + p->salt) | s;
}
static inline bool hp_poisoning(const tarn_handle_pool *p)
{
    return TARN_POISON_FREE || (p->flags & TARN_HANDLE_F_SCRAMBLE) != 0u;
}
/* The pool holds freed regions back (TARN_F_QUARANTINE given and compiled in). */
#if TARN_QUARANTINE > 0
#define HP_Q_ON(p) ((p)->qua != NULL)
#else
#define HP_Q_ON(p) false
#endif
/* True when entry e (not the list head) is a region held by the quarantine. */
static inline bool hp_held(const tarn_handle_pool *p, const hp_entry *e)
{
#if TARN_QUARANTINE > 0
    (void)p;
    return (e->key & HP_IMASK) == HP_IMASK;
#else
    (void)p;
    (void)e;
    return false;
#endif
}

/* The inline lock/unlock may be used: no lock hook, no scramble, checking level below 2. */
static inline bool hp_fast_ok(const tarn_handle_pool *p)
{
    return TARN_CHECK_LEVEL < 2 && (!TARN_LOCKING || p->lock.lock == NULL) &&
           (p->flags & TARN_HANDLE_F_SCRAMBLE) == 0u;
}

/* Alloc and free may take their fast path (HP_FAST builds only): no lock hook, no
 * scramble mode, checking level below 2, frees poison nothing and the quarantine is off.
 * Fixed at init, which says so with the magic it gives the pool. */
static inline bool hp_quick_ok(const tarn_handle_pool *p)
{
#if !HP_FAST
    (void)p;
    return false;
#elif TARN_QUARANTINE > 0
    return hp_fast_ok(p) && !hp_poisoning(p) && p->qua == NULL;
#else
    return hp_fast_ok(p) && !hp_poisoning(p);
#endif
}
#if HP_FAST
static inline bool hp_quick(const tarn_handle_pool *p)
{
    return p != NULL && p->magic == HP_MAGIC_QUICK;
}
#endif

/* ---- segregated free-region lists ------------------------------------------------------ */
/* The bitmap of non-empty lists is read and written in words of HP_WB bits: two 64-bit
 * words on 64-bit hosts (copied out of and into the 32-bit array), four 32-bit words
 * elsewhere.  Bit i of the map, in that view, marks list i. */
#if HP_SPEED
typedef uint64_t hp_word;
#else
typedef uint32_t hp_word;
#endif
#define HP_WB (8u * (unsigned)sizeof(hp_word))
#define HP_NW (HP_LISTS / HP_WB)
static inline hp_word hp_word_get(const hp_ctl *c, unsigned w)
{
#if HP_SPEED
    hp_word v;
    memcpy(&v, (const unsigned char *)c->map + w * sizeof v, sizeof v);
    return v;
#else
    return c->map[w]; /* aligned word loads (no memcpy call where unaligned ones fault) */
#endif
}
static inline void hp_word_put(hp_ctl *c, unsigned w, hp_word v)
{
#if HP_SPEED
    memcpy((unsigned char *)c->map + w * sizeof v, &v, sizeof v);
#else
    c->map[w] = v;
#endif
}
static inline unsigned hp_word_ctz(hp_word v)
{
#if HP_SPEED && defined(__GNUC__)
    return (unsigned)__builtin_ctzll(v);
#elif HP_SPEED
    uint32_t lo = (uint32_t)v;
    return lo != 0u ? tarn_ctz_u32(lo) : 32u + tarn_ctz_u32((uint32_t)(v >> 32));
#else
    return tarn_ctz_u32(v);
#endif
}
static inline bool hp_marked(const hp_ctl *c, unsigned i)
{
    return ((hp_word_get(c, i / HP_WB) >> (i % HP_WB)) & 1u) != 0u;
}
static inline void hp_mark(hp_ctl *c, unsigned i)
{
    hp_word_put(c, i / HP_WB, hp_word_get(c, i / HP_WB) | (hp_word)1u << (i % HP_WB));
}
static inline void hp_unmark(hp_ctl *c, unsigned i)
{
    hp_word_put(c, i / HP_WB, hp_word_get(c, i / HP_WB) & ~((hp_word)1u << (i % HP_WB)));
}

/* The list of a gap of g >= 4 bytes: f * HP_SL + s for first level f = floor(log2(g)) and
 * second level s, the HP_SL_BITS bits below the top one.  With k = f - HP_SL_BITS, g >> k
 * is HP_SL + s, which gives the index in three operations after the bit scan. */
static inline unsigned hp_class(uint32_t g)
{
    unsigned k = tarn_log2_u32(g) - HP_SL_BITS; /* g >= TARN_ALIGN >= 4, so f >= HP_SL_BITS */
    return (k << HP_SL_BITS) + (unsigned)(g >> k) + HP_SL * (HP_SL_BITS - 1u);
}

/* Put x's gap, of g bytes (its current size), on its list if g > 0 and x is not in
 * transit (moving false: x is known not to be); else mark it listed nowhere. */
/* Mark e's gap as on no list.  On 64-bit hosts fprev and fnext (read only while fprev is
 * not HP_OUT) both become HP_OUT in one 32-bit store (gcc writes a 16-bit constant with
 * two instructions on x86-64), whatever the byte order; 32-bit targets, some of which
 * cannot store a word at a halfword-aligned address, store fprev alone. */
static inline void hp_unlisted(hp_entry *e)
{
    if (HP_SPEED) {
        uint32_t w = ((uint32_t)HP_OUT << 16) | HP_OUT;
        memcpy(&e->fnext, &w, sizeof w);
    } else {
        e->fprev = HP_OUT;
    }
}

HP_SPECIALISED void hp_list_any(tarn_handle_pool *p, hp_entry *t, uint16_t x, uint32_t g,
                                bool moving)
{
    hp_ctl *c = hp_c(p);
    unsigned i;
    uint16_t h;
    if (g == 0 || (moving && x == p->transit)) {
        t[x].fprev = HP_OUT;
        return;
    }
    i = hp_class(g);
    h = c->bin[i];
    t[x].fnext = h;
    t[x].fprev = HP_NIL;
    c->bin[i] = x;
    if (h != HP_NIL) {
        t[h].fprev = x; /* the list was not empty: its bit is set already */
    } else {
        hp_mark(c, i);
    }
}

HP_HOT void hp_list(tarn_handle_pool *p, hp_entry *t, uint16_t x, uint32_t g)
{
    hp_list_any(p, t, x, g, true);
}

/* Take x's gap, of g bytes (the size it was listed with), off its list if it is on one.
 * relist: the caller lists x again (hp_list) before anything reads x's fprev, or x
 * becomes a free slot (whose fprev is read by nothing until the link that takes the slot
 * sets it), so x's fprev is left as it is instead of being set to HP_OUT (one store
 * less). */
HP_SPECIALISED void hp_unlist_any(tarn_handle_pool *p, hp_entry *t, uint16_t x, uint32_t g,
                                  bool relist)
{
    hp_ctl *c = hp_c(p);
    unsigned i;
    uint16_t n = t[x].fnext, pv = t[x].fprev;
    if (pv == HP_OUT) return;
    if (!relist) t[x].fprev = HP_OUT;
    if (n != HP_NIL) t[n].fprev = pv;
    if (pv != HP_NIL) {
        t[pv].fnext = n;
        return;
    }
    i = hp_class(g);
    TARN_ASSERT(c->bin[i] == x);
    c->bin[i] = n;
    if (n == HP_NIL) hp_unmark(c, i); /* the list is empty now */
}

HP_HOT void hp_unlist(tarn_handle_pool *p, hp_entry *t, uint16_t x, uint32_t g)
{
    hp_unlist_any(p, t, x, g, false);
}

/* Put x's gap on its list (if it has one and x is not in transit). */
static void hp_bin(tarn_handle_pool *p, hp_entry *t, uint16_t x)
{
    hp_list(p, t, x, hp_gap(p, t, x));
}

/* Take x's gap off its list.  Must run before anything changes the gap's size. */
static void hp_unbin(tarn_handle_pool *p, hp_entry *t, uint16_t x)
{
    if (t[x].fprev != HP_OUT) hp_unlist(p, t, x, hp_gap(p, t, x));
}

/* An entry whose gap holds `need` bytes (need a multiple of TARN_ALIGN), or HP_NIL.  O(1).
 * small: need is at most 2^31 (the fast alloc), so the list after need - 1's is at most
 * 124 and surely exists. */
HP_SPECIALISED uint16_t hp_find_any(const tarn_handle_pool *p, const hp_entry *t, uint32_t need,
                                    unsigned *list, bool small)
{
    const hp_ctl *c = hp_c(p);
    /* the first list all of whose gaps fit (need rounded up to the next list boundary):
     * the one after need - 1's, which is need's own list when need is its lower bound and
     * the next one otherwise (need 4, possible with TARN_ALIGN 4: need - 1 has no list) */
    unsigned below = (TARN_ALIGN < 8 && need < 8u) ? need + 4u - 1u : hp_class(need - 1u);
    unsigned i = below + 1u;
    uint16_t h;
    if (small || i < HP_LISTS) {
        unsigned w = i / HP_WB;
        hp_word m = hp_word_get(c, w) & (~(hp_word)0u << (i % HP_WB));
#if HP_SPEED
        /* the word of i first, laid out straight (the common case); its base is i with
         * the bits below a word cleared, no multiplication */
        if (TARN_LIKELY(m != 0u)) {
            i = (i & ~(HP_WB - 1u)) + hp_word_ctz(m);
            *list = i;
            return c->bin[i];
        }
        while (++w < HP_NW) {
            m = hp_word_get(c, w);
            if (m != 0u) {
                i = w * HP_WB + hp_word_ctz(m);
                *list = i;
                return c->bin[i];
            }
        }
#else /* one loop, less code */
        while (m == 0u && ++w < HP_NW) m = hp_word_get(c, w);
        if (TARN_LIKELY(m != 0u)) {
            i = w * HP_WB + hp_word_ctz(m);
            *list = i;
            return c->bin[i];
        }
#endif
    }
    /* Nothing certain to fit: the head of need's own list (when need is not its lower
     * bound, the list just below i) may still be large enough. */
    h = c->bin[below];
    *list = below;
    if (h != HP_NIL && hp_gap(p, t, h) >= need) return h;
    return HP_NIL;
}

HP_HOT uint16_t hp_find(const tarn_handle_pool *p, const hp_entry *t, uint32_t need,
                        unsigned *list)
{
    return hp_find_any(p, t, need, list, false);
}

/* Take o, the head of free list `list` (hp_find's answer), off that list. */
HP_HOT void hp_pop(tarn_handle_pool *p, hp_entry *t, uint16_t o, unsigned list)
{
    hp_ctl *c = hp_c(p);
    uint16_t *head = &c->bin[list];
    uint16_t n = t[o].fnext;
    TARN_ASSERT(*head == o && t[o].fprev == HP_NIL);
    t[o].fprev = HP_OUT;
    *head = n;
    if (n != HP_NIL) {
        t[n].fprev = HP_NIL;
    } else { /* the list is empty now */
        hp_unmark(c, list);
    }
}

/* Empty every free-region list. */
static void hp_lists_clear(hp_ctl *c)
{
    memset(c->map, 0, sizeof c->map);            /* the bitmap */
    memset(c->bin, 0xFF, sizeof c->bin);         /* every head HP_NIL */
}

/* ---- address-ordered block list -------------------------------------------------------- */
/* Insert x (size already set) at the start of o's gap, right after o: o's gap becomes 0
 * (off the lists), x's is the rest.  popped: o's gap is off the lists already (hp_pop). */
HP_SPECIALISED void hp_link_any(tarn_handle_pool *p, hp_entry *t, uint16_t o, uint16_t x,
                                bool popped)
{
    uint16_t n = t[o].next;
    uint32_t g = hp_gap(p, t, o);
    if (!popped) hp_unlist(p, t, o, g);
    t[x].off = hp_end(&t[o]);
    t[x].prev = o;
    t[x].next = n;
    t[o].next = x;
    t[n].prev = x;
    if (HP_SPEED) { /* x was just placed: it is not moving (one test less) */
        hp_list_any(p, t, x, g - hp_span(t[x].size), false);
    } else { /* one copy of the list code */
        hp_list(p, t, x, g - hp_span(t[x].size));
    }
}

HP_HOT void hp_link_after(tarn_handle_pool *p, hp_entry *t, uint16_t o, uint16_t x)
{
    hp_link_any(p, t, o, x, false);
}

/* Remove x (between pr and n in the list, at offset off, span bytes) from the list: its
 * bytes and its gap join the gap of the block before it.  The caller has read x's fields
 * (the fast free, which has tested them, hands them over in registers). */
HP_SPECIALISED void hp_unlink_at(tarn_handle_pool *p, hp_entry *t, uint16_t x, uint16_t pr,
                                 uint16_t n, uint32_t off, uint32_t span)
{
    uint32_t gp, gx, merged;
    if (HP_SPEED) { /* every offset read once, before the lists change */
        uint32_t ep = hp_end(&t[pr]), lim = n == 0 ? p->data_size : t[n].off;
        gp = off - ep;
        gx = lim - off - span;
        merged = lim - ep;
    } else { /* the shared hp_gap is less code */
        gp = hp_gap(p, t, pr);
        gx = hp_gap(p, t, x);
        merged = gp + span + gx;
    }
    if (HP_SPEED) {
        /* the block list first (the list code below reads neither link; done first, gcc
         * keeps fewer values in registers across it: four saved registers, not six);
         * then pr's gap, listed again below (its fprev is set there), and x's, whose
         * slot becomes free (its fprev is set again when the link takes the slot, and
         * read by nothing before) */
        t[pr].next = n;
        t[n].prev = pr;
        hp_unlist_any(p, t, pr, gp, true);
        hp_unlist_any(p, t, x, gx, true);
    } else { /* one copy of the list code */
        hp_unlist(p, t, pr, gp);
        hp_unlist(p, t, x, gx);
        t[pr].next = n;
        t[n].prev = pr;
    }
    hp_list(p, t, pr, merged);
    if (p->cursor == x) p->cursor = pr;
}

HP_HOT void hp_unlink(tarn_handle_pool *p, hp_entry *t, uint16_t x)
{
    hp_unlink_at(p, t, x, t[x].prev, t[x].next, t[x].off, hp_span(t[x].size));
}

/* ---- slots ---------------------------------------------------------------------------- */
/* Take a slot: carve a new one (carve true: carved < capacity), else the one freed
 * longest ago (the free FIFO is not empty). */
static inline uint16_t hp_slot_take(tarn_handle_pool *p, hp_entry *t, bool carve)
{
    uint16_t x;
    if (carve) {
        /* first use by this pool: continue the generation the table holds (an earlier
         * pool's, or garbage), one step on, so no earlier handle of this slot matches */
        x = ++p->carved;
        hp_set_gen(p, &t[x], ((t[x].key - (p->keyed ? p->salt : 0u)) & ~HP_IMASK) + HP_GSTEP,
                   0u);
        if (hp_fast_ok(p)) p->fast = (uintptr_t)p->carved + 1u;
        t[x].lock = 0;
    } else {
        /* a freed slot has lock 0 (free and release want it) */
        x = p->free_head;  /* the slot freed longest ago */
        p->free_head = t[x].next;
        if (p->free_head == HP_NIL) p->free_tail = HP_NIL;
    }
    t[x].key |= x; /* live: the inline lock may take it (a free slot's state bits are 0) */
    return x;
}

/* Put slot x on the free FIFO with key k: its own with the state bits cleared, or one
 * generation on (hp_key_freed). */
static inline void hp_slot_put(tarn_handle_pool *p, hp_entry *t, uint16_t x, uint32_t k)
{
    /* a free slot is told by its size 0 and its key; the other fields are set again when
     * the slot is taken (off, prev and fprev by the link, which lists its gap or marks it
     * unlisted; a freed block had lock 0, which hp_slot_take relies on) */
    t[x].size = 0;
    if (HP_SPEED) { /* next and prev (unused in a free slot) in one aligned 32-bit store */
        uint32_t w = 0xFFFFFFFFu;
        memcpy(&t[x].next, &w, sizeof w);
    } else {
        t[x].next = HP_NIL;
    }
    t[x].key = k;
    if (p->free_tail == HP_NIL) {
        p->free_head = x;
    } else {
        t[p->free_tail].next = x;
    }
    p->free_tail = x;
}

/* The key of a slot whose live key (or handle) is k, once freed: one generation on,
 * state 0 (the salt is added in, so it needs no undoing). */
static inline uint32_t hp_key_freed(uint32_t k)
{
    return (k & ~HP_IMASK) + HP_GSTEP;
}


/* Why handle h (which failed the fast test in hp_lookup) is not a live handle here. */
static tarn_status hp_lookup_fail(const tarn_handle_pool *p, tarn_handle h, bool for_free)
{
    uint32_t idx = h.v & HP_IMASK;
    uint32_t gen = hp_gen_of(p, h.v);
    const hp_entry *e;
    if (h.v == 0u) return TARN_EINVAL;
    if (idx == 0u || idx > p->carved) return TARN_EFOREIGN;
    e = &hp_t(p)[idx];
    if (e->size == 0u || hp_held(p, e)) { /* a free slot, or one whose region is held */
        uint32_t cur = hp_gen_of(p, e->key);
        if (gen + HP_GSTEP == cur) return for_free ? TARN_EDOUBLE : TARN_ESTALE;
        return cur == gen ? TARN_EFOREIGN : TARN_ESTALE; /* never issued, or older */
    }
    return TARN_ESTALE;
}

/* O(1) sanity of a live entry (checking level 1 and up): a damaged table must not send
 * us outside the data area. */
static inline bool hp_insane_at(const tarn_handle_pool *p, uint32_t off, uint32_t size,
                                uint16_t next, uint16_t prev)
{
#if TARN_CHECK_LEVEL >= 1
    return (off & (HP_A - 1u)) != 0u || (uint64_t)off + size > (uint64_t)p->data_size ||
           next > p->carved || prev > p->carved;
#else
    (void)p;
    (void)off;
    (void)size;
    (void)next;
    (void)prev;
    return false;
#endif
}
static inline bool hp_insane(const tarn_handle_pool *p, const hp_entry *e)
{
    return hp_insane_at(p, e->off, e->size, e->next, e->prev);
}

/* Find the live slot of handle h.  O(1).  for_free: report a second free of a slot that
 * has not been reused since as TARN_EDOUBLE.  The exact test the inline lock makes
 * (handle == key) proves liveness; the block in transit (state bits 0) is matched on its
 * generation and index. */
static inline tarn_status hp_lookup(const tarn_handle_pool *p, tarn_handle h, uint16_t *out, bool for_free)
{
    uint32_t idx = h.v & HP_IMASK;
    const hp_entry *e;
    if (TARN_UNLIKELY(idx - 1u >= (uint32_t)p->carved)) return hp_lookup_fail(p, h, for_free);
    e = &hp_t(p)[idx];
    /* a live block's key is its handle; in transit its state bits are 0 */
    if (TARN_UNLIKELY(e->key != h.v) &&
        (((e->key ^ h.v) & ~HP_IMASK) != 0u || e->size == 0u || hp_held(p, e) ||
         idx != p->transit)) {
        return hp_lookup_fail(p, h, for_free);
    }
    if (TARN_UNLIKELY(hp_insane(p, e))) return TARN_ECORRUPT;
    *out = (uint16_t)idx;
    return TARN_OK;
}

/* ---- moving bytes ----------------------------------------------------------------------- */
/* Bytes [off, off+n) no longer belong to a block: poison them (in scramble mode or with
 * TARN_POISON_FREE, also fill them) and make them NOACCESS. */
static void hp_vacate(const tarn_handle_pool *p, uint32_t off, uint32_t n)
{
    unsigned char *q = p->data + off;
    if (n == 0u) return;
    if (hp_poisoning(p)) {
        TARN_SAN_OPEN(q, n);
        memset(q, (int)TARN_POISON_BYTE, n);
    }
    TARN_SAN_NOACCESS(q, n);
}

/* Canary mode: write the guard of the block of n bytes at off (the rest of its span). */
static inline void hp_guard_set(const tarn_handle_pool *p, uint32_t off, uint32_t n)
{
#if TARN_GUARD
    tarn_guard_fill(p->data + off + n, hp_span(n) - n);
#else
    (void)p;
    (void)off;
    (void)n;
#endif
}

/* Canary mode: true when block x's guard bytes are intact (always true otherwise).  For
 * the block in transit, the part of its body not copied yet is still at its source. */
static bool hp_guard_ok(const tarn_handle_pool *p, const hp_entry *t, uint16_t x)
{
#if TARN_GUARD
    uint32_t n = t[x].size, b = hp_span(n);
    const unsigned char *at = p->data + t[x].off;
    if (x == p->transit) {
        uint32_t mid = p->transit_done > n ? p->transit_done : n;
        return tarn_guard_intact(at + n, mid - n) &&
               tarn_guard_intact(p->data + p->transit_src + mid, b - mid);
    }
    return tarn_guard_intact(at + n, b - n);
#else
    (void)p;
    (void)t;
    (void)x;
    return true;
#endif
}

/* Move a live block of n bytes (its body: data and guard) from src to dst (any overlap),
 * keeping the sanitizers' view right: the block is registered at dst, its guard there is
 * NOACCESS, and the bytes it left are NOACCESS. */
static void hp_move(tarn_handle_pool *p, uint32_t src, uint32_t dst, uint32_t n)
{
    unsigned char *s = p->data + src, *d = p->data + dst;
    uint32_t b = hp_body(n);
    TARN_SAN_FREE(p, s, n);
    TARN_SAN_ALLOC(p, d, n);
    TARN_SAN_OPEN(s, b);
    if (b > n) TARN_SAN_OPEN(d + n, b - n);
    HP_MEMMOVE(d, s, b);
    if (b > n) TARN_SAN_NOACCESS(d + n, b - n);
    if (TARN_SANITIZE || hp_poisoning(p)) {
        uint32_t lo, hi;
        if (dst < src) {
            lo = (dst + b > src) ? dst + b : src;
            hi = src + b;
        } else {
            lo = src;
            hi = (src + b < dst) ? src + b : dst;
        }
        hp_vacate(p, lo, hi - lo);
    }
}

/* 16 bytes between memory and two words (hp_copy_down). */
static inline void hp_load16(uint64_t *w, const unsigned char *s)
{
    memcpy(w, s, 16);
}
static inline void hp_store16(unsigned char *d, const uint64_t *w)
{
    memcpy(d, w, 16);
}
/* Copy n bytes (n > 0 a multiple of TARN_ALIGN: whole spans, padding and all) from s down
 * to d < s, for compaction without sanitizer annotations or poisoning.  Up to 64 bytes on
 * 64-bit hosts: every byte is loaded before any is stored, so any overlap is safe, and it
 * costs less than a call to memmove; larger runs, and everything on 32-bit targets (where
 * code size comes first), go to memmove.  Returns true when it called memmove. */
static inline bool hp_copy_down(unsigned char *d, const unsigned char *s, size_t n)
{
    /* the call first (one test for the blocks whose copy costs most), then the small
     * sizes from the smallest up */
    if (UINTPTR_MAX <= 0xFFFFFFFFu || n > 64u) {
        HP_MEMMOVE(d, s, n);
        return true;
    } else if (n <= 16u) { /* a multiple of TARN_ALIGN: 8 or 16, or with TARN_ALIGN 4 also 4, 12 */
        if (TARN_ALIGN >= 8u || n >= 8u) { /* two words, which may overlap (the same one
                                            * when n is 8; no test of n at TARN_ALIGN 8) */
            uint64_t a, b;
            memcpy(&a, s, 8);
            memcpy(&b, s + n - 8u, 8);
            memcpy(d, &a, 8);
            memcpy(d + n - 8u, &b, 8);
        } else {
            uint32_t a;
            memcpy(&a, s, 4);
            memcpy(d, &a, 4);
        }
    } else if (n <= 32u) {
        uint64_t a[2], b[2];
        hp_load16(a, s);
        hp_load16(b, s + n - 16u);
        hp_store16(d, a);
        hp_store16(d + n - 16u, b);
    } else {
        uint64_t a[2], b[2], c[2], e[2];
        hp_load16(a, s);
        hp_load16(b, s + 16);
        hp_load16(c, s + n - 32u);
        hp_load16(e, s + n - 16u);
        hp_store16(d, a);
        hp_store16(d + 16, b);
        hp_store16(d + n - 32u, c);
        hp_store16(d + n - 16u, e);
    }
    return false;
}

/* The raw pack (no sanitizer annotations, no poisoning) is compiled in without sanitizer
 * builds; it is used when the pool does not poison. */
#define HP_RAW_PACK (!TARN_SANITIZE)
/* hp_pack towards the start with sanitizer annotations or poisoning: every unpinned block
 * moves down to the end of the block before it, one hp_move per block (without them
 * hp_pack_raw does the same moves with plain copies).  A block's gap is known once the
 * next block has its final place; it is listed then.  Returns the bytes moved (the
 * blocks' bodies). */
HP_SPECIALISED uint32_t hp_pack_down(tarn_handle_pool *p, hp_entry *t)
{
    /* bytes moved: every block's body less those of the blocks that stay (counted off
     * the hot path); used counts held regions' spans, requested does not */
    uint32_t moved = TARN_GUARD ? p->used : p->requested;
    uint32_t dest = 0;
    uint16_t x = t[0].next;
    t[0].fprev = HP_OUT;
    while (x != 0) {
        hp_entry *e = &t[x];
        uint32_t off = e->off, size = e->size, span = hp_span(size);
        hp_unlisted(e); /* its gap, if any, is listed when the next block is placed */
        if (off != dest && e->lock == 0u && !hp_held(p, e)) {
            e->off = dest;
            hp_move(p, off, dest, size);
        } else {
            moved -= hp_held(p, e) ? (TARN_GUARD ? span : 0u) : hp_body(size);
            if (off != dest) {
                hp_bin(p, t, e->prev); /* the gap before a block that stays */
                dest = off;
            }
        }
        dest += span;
        x = e->next;
    }
    hp_bin(p, t, t[0].prev);
    return moved;
}

/* The raw pack (no sanitizer annotations, no poisoning) towards the start, the same
 * moves as hp_pack_down with plain copies: a block that moves starts a run,
 * and the run takes every following block that lies right after it at its source (so
 * moves by the same distance) and may move; the run is then copied at once (inline up to
 * 64 bytes on 64-bit hosts, else memmove).  The entry that ends a run is the next one the
 * walk looks at, its offset already loaded: each entry is read once.  Returns the bytes
 * moved (the blocks' bodies), as hp_pack_down. */
static uint32_t hp_pack_raw(tarn_handle_pool *p, hp_entry *t)
{
    unsigned char *data = p->data;
    uint32_t moved = TARN_GUARD ? p->used : p->requested;
    /* offsets as size_t: pointer-wide, so no widening before the address arithmetic */
    size_t dest = 0, off;
    uint16_t x = t[0].next;
    hp_entry *e;
    t[0].fprev = HP_OUT;
    if (x == 0u) goto done;
    e = &t[x];
    off = e->off;
    for (;;) {
        size_t span;
    again:
        span = hp_span(e->size);
        hp_unlisted(e); /* its gap, if any, is listed when the next block is placed */
        /* the count never exceeds 65535: its low half is 0 iff it is 0 (one compare with
         * memory on x86-64; a count damaged above 65535 is reported by the check) */
        if (TARN_LIKELY(off != dest && (uint16_t)e->lock == 0u && !hp_held(p, e))) {
            /* e moves, and so does each entry that ends a run and may move: it lies at
             * or above the end of the run's source, so above the run's new end (the
             * run moved down), so its offset is not tested against dest */
            for (;;) {
                size_t src = off, n = span;
                e->off = (uint32_t)dest;
                for (;;) {
                    x = e->next;
                    if (x == 0u) {
                        hp_copy_down(data + dest, data + src, n);
                        goto done;
                    }
                    e = &t[x];
                    off = e->off;
                    if (off != src + n || (uint16_t)e->lock != 0u || hp_held(p, e)) break;
                    hp_unlisted(e);
                    e->off = (uint32_t)(dest + n);
                    n += hp_span(e->size);
                }
                if (hp_copy_down(data + dest, data + src, n) && HP_SPEED) {
                    /* after a call: e's offset and the data pointer are read again
                     * rather than kept across it (two spill slots and four moves less) */
                    data = p->data;
                    off = e->off;
                }
                dest += n;
                /* e (its offset in off) ends the run: it is looked at next */
                TARN_ASSERT(off > dest);
                if (!HP_SPEED) goto again; /* 32-bit targets: by the outer loop (less code) */
                span = hp_span(e->size);
                hp_unlisted(e);
                if ((uint16_t)e->lock != 0u || hp_held(p, e)) break; /* it stays */
            }
        }
        /* it stays (in place, pinned or held) */
        moved -= hp_held(p, e) ? (TARN_GUARD ? (uint32_t)span : 0u) : hp_body(e->size);
        if (off != dest) {
            hp_bin(p, t, e->prev); /* the gap before a block that stays */
            dest = off;
        }
        dest += span;
        x = e->next;
        if (x == 0u) break;
        e = &t[x];
        off = e->off;
    }
done:
    hp_bin(p, t, t[0].prev);
    return moved;
}

/* The block at off changes from old to n bytes in place: re-register it, give up the
 * bytes it no longer takes, and write its guard at the new end. */
static void hp_san_resize(tarn_handle_pool *p, uint32_t off, uint32_t old, uint32_t n)
{
    unsigned char *q = p->data + off;
    uint32_t ob = hp_body(old), nb = hp_body(n);
    TARN_SAN_FREE(p, q, old);
    TARN_SAN_ALLOC(p, q, n);
    TARN_SAN_DEFINED(q, hp_min32(old, n));
    if (nb < ob) hp_vacate(p, off + nb, ob - nb);
    hp_guard_set(p, off, n);
}

/* ---- incremental move (compact_step) ------------------------------------------------------ */
static void hp_transit_start(tarn_handle_pool *p, hp_entry *t, uint16_t x, uint32_t dst)
{
    uint32_t src = t[x].off, n = hp_body(t[x].size);
    uint16_t pr = t[x].prev;
    hp_unbin(p, t, pr);
    hp_unbin(p, t, x);
    TARN_SAN_FREE(p, p->data + src, t[x].size);
    TARN_SAN_OPEN(p->data + dst, src + n - dst);
    t[x].off = dst;
    t[x].key &= ~HP_IMASK; /* the inline lock must not take it */
    p->transit = x;
    p->transit_src = src;
    p->transit_done = 0;
    hp_bin(p, t, pr); /* its gap is 0 now: stays off the lists */
}

static void hp_transit_complete(tarn_handle_pool *p, hp_entry *t)
{
    uint16_t x = p->transit;
    uint32_t dst = t[x].off, src = p->transit_src, n = hp_body(t[x].size);
    uint32_t lo = (dst + n > src) ? dst + n : src;
    TARN_SAN_NOACCESS(p->data + dst, src + n - dst);
    hp_vacate(p, lo, src + n - lo);
    TARN_SAN_ALLOC(p, p->data + dst, t[x].size);
    TARN_SAN_DEFINED(p->data + dst, t[x].size);
    t[x].key |= x;
    p->transit = HP_NIL;
    hp_bin(p, t, x);
}

/* Move up to `work` more bytes of the block in transit (of its body); returns the bytes
 * moved. */
static uint32_t hp_transit_step(tarn_handle_pool *p, hp_entry *t, size_t work)
{
    uint16_t x = p->transit;
    uint32_t n = hp_body(t[x].size), done = p->transit_done;
    uint32_t c = n - done;
    if ((size_t)c > work) c = (uint32_t)work;
    /* Front to back: a chunk only overwrites bytes already copied or the chunk itself. */
    HP_MEMMOVE(p->data + t[x].off + done, p->data + p->transit_src + done, c);
    p->transit_done = done + c;
    if (p->transit_done == n) hp_transit_complete(p, t);
    return c;
}

static void hp_transit_end(tarn_handle_pool *p)
{
    hp_entry *t = hp_t(p);
    p->moved += hp_transit_step(p, t, hp_body(t[p->transit].size));
}

/* The block in transit is being freed: forget the move. */
static void hp_transit_drop(tarn_handle_pool *p)
{
    hp_entry *t = hp_t(p);
    uint16_t x = p->transit;
    uint32_t dst = t[x].off;
    hp_vacate(p, dst, p->transit_src + hp_body(t[x].size) - dst);
    p->transit = HP_NIL;
}

/* compact_step's code, reached only through the table its first call puts in the pool (a
 * program that never calls compact_step links none of it: no block is ever in transit) */
#define HP_STEP_TAG 0x53544550u
struct tarn_handle_stp_ {
    uint32_t tag;                           /* HP_STEP_TAG (checked by hp_check) */
    void (*finish)(tarn_handle_pool *p);    /* complete the move of the block in transit */
    void (*drop)(tarn_handle_pool *p);      /* the block in transit is being freed */
};
static const struct tarn_handle_stp_ hp_step_ops = {HP_STEP_TAG, hp_transit_end, hp_transit_drop};

/* Complete the move of the block in transit, if there is one. */
static inline void hp_transit_finish(tarn_handle_pool *p)
{
    if (p->transit != HP_NIL) p->stp->finish(p);
}

/* ---- debug quarantine ---------------------------------------------------------------- */
#if TARN_QUARANTINE > 0
/* Really free held region x: its span joins the gap before it, its slot the free FIFO.
 * Returns false (and records TARN_ECORRUPT) when its poison changed while it was held. */
static bool hp_release(tarn_handle_pool *p, hp_entry *t, uint16_t x)
{
    bool ok = !hp_poisoning(p) ||
              tarn_bytes_are(p->data + t[x].off, hp_body(t[x].size), TARN_POISON_BYTE);
    if (!ok) TARN_ERR_SET(p->last_error, (uint8_t)TARN_ECORRUPT);
    p->used -= hp_span(t[x].size);
    hp_unlink(p, t, x);
    /* its slot's generation was advanced when the region was taken in */
    hp_slot_put(p, t, x, t[x].key & ~HP_IMASK);
    return ok;
}

static inline uint16_t hp_index_of(const tarn_handle_pool *p, const void *e)
{
    return (uint16_t)((const hp_entry *)e - hp_t(p));
}

/* Hold block x's region instead of freeing it (the block passed every check of a free). */
static void hp_hold(tarn_handle_pool *p, hp_entry *t, uint16_t x)
{
    void *out;
    if (x == p->transit) hp_transit_finish(p); /* a held region lies in one place */
    TARN_SAN_FREE(p, p->data + t[x].off, t[x].size);
    hp_vacate(p, t[x].off, hp_body(t[x].size));
    p->requested -= t[x].size;
    p->live--;
    hp_set_gen(p, &t[x], hp_gen_of(p, t[x].key) + HP_GSTEP, HP_IMASK);
    out = tarn_q_push(&p->quarantine, &t[x]);
    if (out != NULL) (void)hp_release(p, t, hp_index_of(p, out));
}

/* Release the oldest held region; false when none is held. */
static bool hp_q_release_oldest(tarn_handle_pool *p)
{
    void *e = tarn_q_pop(&p->quarantine);
    if (e == NULL) return false;
    (void)hp_release(p, hp_t(p), hp_index_of(p, e));
    return true;
}

/* Release every held region; false when one of them had been written after its free. */
static bool hp_q_flush(tarn_handle_pool *p)
{
    bool ok = true;
    void *e;
    while ((e = tarn_q_pop(&p->quarantine)) != NULL) {
        if (!hp_release(p, hp_t(p), hp_index_of(p, e))) ok = false;
    }
    return ok;
}

/* The quarantine's code, reached only through this table: tarn_handle_init (inline in
 * tarn/handle.h) names it when cfg->flags may hold TARN_F_QUARANTINE, so a program built
 * with TARN_QUARANTINE > 0 whose pools do not ask for it links none of it. */
#define HP_QUA_TAG 0x51554152u
struct tarn_handle_qua_ {
    uint32_t tag;                                            /* HP_QUA_TAG (checked) */
    void (*hold)(tarn_handle_pool *p, hp_entry *t, uint16_t x); /* instead of a free */
    bool (*release_oldest)(tarn_handle_pool *p);
    bool (*flush)(tarn_handle_pool *p);
};
const struct tarn_handle_qua_ tarn_handle_quarantine_ = {HP_QUA_TAG, hp_hold, hp_q_release_oldest,
                                                         hp_q_flush};

static inline bool hp_release_oldest(tarn_handle_pool *p)
{
    return p->qua != NULL && p->qua->release_oldest(p);
}
static inline bool hp_flush(tarn_handle_pool *p)
{
    return p->qua == NULL || p->qua->flush(p);
}
#else
static inline bool hp_release_oldest(tarn_handle_pool *p)
{
    (void)p;
    return false;
}
static inline bool hp_flush(tarn_handle_pool *p)
{
    (void)p;
    return true;
}
#endif

/* ---- whole-pool moves ---------------------------------------------------------------- */
/* Slide every unpinned block to the start (high = false) or the end (high = true), and
 * rebuild the free-region lists on the way, annotating and poisoning every move.  One pass
 * over the blocks.  Held regions stay where they are, like pinned blocks. */
static uint32_t hp_pack(tarn_handle_pool *p, bool high)
{
    hp_entry *t = hp_t(p);
    uint32_t moved = 0, dest;
    uint16_t x;
    hp_transit_finish(p);
    hp_lists_clear(hp_c(p));
    if (!high) {
        /* hp_pack runs only where moves are annotated or poisoned (sanitizer builds,
         * TARN_POISON_FREE, scramble mode); the raw pack is hp_pack_low's */
        moved = hp_pack_down(p, t);
    } else {
        dest = p->data_size;
        for (x = t[0].prev; x != 0; x = t[x].prev) {
            hp_entry *e = &t[x];
            uint32_t to = dest - hp_span(e->size);
            if (e->lock == 0u && e->off != to && !hp_held(p, e)) {
                hp_move(p, e->off, to, e->size);
                e->off = to;
                moved += hp_body(e->size);
            }
            hp_bin(p, t, x);
            dest = e->off;
        }
        hp_bin(p, t, 0);
    }
    p->cursor = 0;
    p->moved += moved;
    return moved;
}

/* Scramble mode: pack alternately towards the end and towards the start. */
static void hp_scramble_run(tarn_handle_pool *p)
{
    (void)hp_pack(p, p->scramble_high != 0u);
    p->scramble_high = (uint8_t)!p->scramble_high;
}

/* Scramble mode's code (and the poisoning pack it needs), reached only through this table:
 * tarn_handle_init (inline in tarn/handle.h) names it when cfg->flags may hold
 * TARN_HANDLE_F_SCRAMBLE, so a program that never asks for scramble mode links none of it
 * (when its cfg is NULL or a constant without the flag). */
#define HP_SCR_TAG 0x53435242u
struct tarn_handle_scr_ {
    uint32_t tag;                                   /* HP_SCR_TAG (checked) */
    void (*scramble)(tarn_handle_pool *p);          /* after alloc, resize, unlock */
    uint32_t (*pack)(tarn_handle_pool *p, bool high); /* hp_pack, poisoning included */
};
const struct tarn_handle_scr_ tarn_handle_scramble_ = {HP_SCR_TAG, hp_scramble_run, hp_pack};

static inline void hp_scramble(tarn_handle_pool *p)
{
    if (p->scr != NULL) p->scr->scramble(p);
}

/* Compaction towards the start.  Without sanitizer annotations and poisoning (release
 * builds, no scramble mode) it is the raw pack alone: the general one (hp_pack) is
 * reached through scramble mode's table there. */
static uint32_t hp_pack_low(tarn_handle_pool *p)
{
    uint32_t moved;
    if (!HP_RAW_PACK || TARN_POISON_FREE) return hp_pack(p, false);
    if (p->scr != NULL) return p->scr->pack(p, false);
    hp_transit_finish(p);
    hp_lists_clear(hp_c(p));
    moved = hp_pack_raw(p, hp_t(p));
    p->cursor = 0;
    p->moved += moved;
    return moved;
}

/* A full compaction; it releases every held region first (moving blocks over them would
 * be reuse anyway, and this keeps the promise of one free region without pins). */
static uint32_t hp_compact(tarn_handle_pool *p)
{
    (void)hp_flush(p);
    p->compactions++;
    return hp_pack_low(p);
}

/* ---- integrity check ---------------------------------------------------------------------- */
/* The quarantine ring: `held` entries, each a held region of this table; full: also no
 * two alike, O(held^2) (left to the full check: the level-2 check runs on every call). */
static tarn_status hp_check_ring(const tarn_handle_pool *p, uint32_t held, bool full)
{
#if TARN_QUARANTINE > 0
    const tarn_quarantine *q = &p->quarantine;
    uintptr_t t0 = (uintptr_t)hp_t(p);
    unsigned i, j;
    if (q->count != held || q->first >= TARN_QUARANTINE || (!HP_Q_ON(p) && held != 0u)) {
        return TARN_ECORRUPT;
    }
    if (HP_Q_ON(p) != (q->on != 0u) || (HP_Q_ON(p) && p->qua->tag != HP_QUA_TAG)) {
        return TARN_ECORRUPT;
    }
    for (i = 0; i < q->count; i++) {
        uintptr_t a = (uintptr_t)tarn_q_at(q, i);
        uint32_t x;
        if (a <= t0 || (a - t0) % sizeof(hp_entry) != 0u) return TARN_ECORRUPT;
        x = (uint32_t)((a - t0) / sizeof(hp_entry));
        if (x > p->carved || hp_t(p)[x].size == 0u || !hp_held(p, &hp_t(p)[x])) {
            return TARN_ECORRUPT;
        }
        for (j = 0; full && j < i; j++) {
            if (tarn_q_at(q, j) == tarn_q_at(q, i)) return TARN_ECORRUPT;
        }
    }
#else
    (void)p;
    (void)full;
    if (held != 0u) return TARN_ECORRUPT;
#endif
    return TARN_OK;
}

/* The bytes the full check reads: every block's guard, every held region's poison.  Runs
 * after the structure has been found sound. */
static tarn_status hp_check_bytes(const tarn_handle_pool *p)
{
    const hp_entry *t = hp_t(p);
    uint16_t x;
    for (x = t[0].next; x != 0; x = t[x].next) {
        if (hp_held(p, &t[x])) {
            if (hp_poisoning(p) &&
                !tarn_bytes_are(p->data + t[x].off, hp_body(t[x].size), TARN_POISON_BYTE)) {
                return TARN_ECORRUPT; /* written after its free */
            }
        } else if (!hp_guard_ok(p, t, x)) {
            return TARN_ECORRUPT;
        }
    }
    return TARN_OK;
}

/* The integrity check; bytes: also the guard and held bytes (tarn_handle_check). */
static tarn_status hp_check(const tarn_handle_pool *p, bool bytes)
{
    hp_entry *t = hp_t(p);
    const hp_ctl *c = hp_c(p);
    uint32_t used = 0, requested = 0, end = 0, binned = 0, listed = 0;
    uint32_t live = 0, held = 0, freed = 0, steps;
    unsigned i;
    uint16_t x, pr;

    if (p->carved > p->capacity || p->live > p->carved) return TARN_ECORRUPT;
    if (p->fast != 0u && (p->fast != (uintptr_t)p->carved + 1u || !hp_fast_ok(p))) {
        return TARN_ECORRUPT;
    }
    if ((p->salt & HP_IMASK) != 0u || t[0].key != HP_IMASK || t[0].lock != (p->salt ^ HP_TMARK)) {
        return TARN_ECORRUPT;
    }
    if ((p->magic == HP_MAGIC_QUICK) != hp_quick_ok(p)) return TARN_ECORRUPT;
    if ((p->scr != NULL) != ((p->flags & TARN_HANDLE_F_SCRAMBLE) != 0u) ||
        (p->scr != NULL && p->scr->tag != HP_SCR_TAG)) {
        return TARN_ECORRUPT;
    }
    if (p->transit != HP_NIL && (p->stp == NULL || p->stp->tag != HP_STEP_TAG)) {
        return TARN_ECORRUPT;
    }
    if (p->used > p->data_size || (p->data_size & (HP_A - 1u)) != 0u) return TARN_ECORRUPT;
    if (t[0].off != 0u || t[0].size != 0u) return TARN_ECORRUPT;
    /* address-ordered list */
    pr = 0;
    x = t[0].next;
    if (x > p->carved || t[0].prev > p->carved) return TARN_ECORRUPT;
    for (steps = 0; x != 0; steps++) {
        const hp_entry *e = &t[x];
        if (steps >= p->carved || x > p->carved || e->size == 0u || e->prev != pr) return TARN_ECORRUPT;
        if (e->next > p->carved) return TARN_ECORRUPT;
        if (!hp_held(p, e) && (e->key & HP_IMASK) != (x == p->transit ? 0u : x)) {
            return TARN_ECORRUPT;
        }
        if ((e->off & (HP_A - 1u)) != 0u || e->off < end || e->off > p->data_size ||
            (uint64_t)e->size + HP_G > p->data_size - e->off ||
            hp_span(e->size) > p->data_size - e->off) {
            return TARN_ECORRUPT;
        }
        end = hp_end(e);
        used += hp_span(e->size);
        if (e->lock > HP_LOCK_MAX) return TARN_ECORRUPT; /* 32 bits wide, counts to 65535 */
        if (hp_held(p, e)) {
            if (e->lock != 0u || x == p->transit) return TARN_ECORRUPT;
            held++;
        } else {
            requested += e->size;
            live++;
        }
        if (e->fprev != HP_OUT) binned++;
        if ((e->fprev == HP_OUT) != (hp_gap(p, t, x) == 0u || x == p->transit)) return TARN_ECORRUPT;
        pr = x;
        x = e->next;
    }
    if (t[0].prev != pr) return TARN_ECORRUPT;
    if (t[0].fprev != HP_OUT) binned++;
    if ((t[0].fprev == HP_OUT) != (hp_gap(p, t, 0) == 0u)) return TARN_ECORRUPT;
    if (live != p->live || used != p->used || requested != p->requested) {
        return TARN_ECORRUPT;
    }
    /* free slots */
    x = p->free_head;
    pr = HP_NIL;
    for (steps = 0; x != HP_NIL; steps++) {
        if (steps >= p->carved || x == 0u || x > p->carved || t[x].size != 0u) return TARN_ECORRUPT;
        if ((t[x].key & HP_IMASK) != 0u) return TARN_ECORRUPT;
        freed++;
        pr = x;
        x = t[x].next;
    }
    if (pr != p->free_tail || freed + live + held != p->carved) return TARN_ECORRUPT;
    if (hp_check_ring(p, held, bytes) != TARN_OK) return TARN_ECORRUPT;
    /* free-region lists and bitmaps */
    for (i = 0; i < HP_LISTS; i++) {
        uint16_t prev = HP_NIL;
        if ((c->bin[i] != HP_NIL) != hp_marked(c, i)) return TARN_ECORRUPT;
        x = c->bin[i];
        for (steps = 0; x != HP_NIL; steps++) {
            uint32_t g;
            if (steps > p->carved || x > p->carved || t[x].fprev != prev) return TARN_ECORRUPT;
            if ((x != 0u && t[x].size == 0u) || t[x].next > p->carved) return TARN_ECORRUPT;
            g = hp_gap(p, t, x);
            if (g == 0u || x == p->transit || hp_class(g) != i) return TARN_ECORRUPT;
            listed++;
            prev = x;
            x = t[x].fnext;
        }
    }
    if (listed != binned) return TARN_ECORRUPT;
    /* compact_step state */
    if (p->cursor != 0u && (p->cursor > p->carved || t[p->cursor].size == 0u)) return TARN_ECORRUPT;
    if (p->transit != HP_NIL) {
        const hp_entry *e;
        if (p->transit == 0u || p->transit > p->carved) return TARN_ECORRUPT;
        e = &t[p->transit];
        if (e->size == 0u || e->lock != 0u || e->off >= p->transit_src ||
            p->transit_done >= hp_body(e->size) ||
            p->transit_src + hp_body(e->size) > hp_limit(p, t, p->transit)) {
            return TARN_ECORRUPT;
        }
    }
    return bytes ? hp_check_bytes(p) : TARN_OK;
}

/* Blocks locked now: a walk of the block list (the inline lock keeps no count). */
static uint32_t hp_pinned(const tarn_handle_pool *p)
{
    const hp_entry *t = hp_t(p);
    uint32_t n = 0, steps = 0;
    uint16_t x;
    for (x = t[0].next; x != 0 && x <= p->carved && steps < p->carved; x = t[x].next, steps++) {
        if (t[x].lock != 0u) n++;
    }
    return n;
}

/* At TARN_CHECK_LEVEL 2 every call starts with a full check. */
static inline tarn_status hp_precheck(const tarn_handle_pool *p)
{
#if TARN_CHECK_LEVEL >= 2
    return hp_check(p, false);
#else
    (void)p;
    return TARN_OK;
#endif
}

static inline tarn_status hp_fail(tarn_handle_pool *p, tarn_status st)
{
    if (st != TARN_OK) TARN_ERR_SET(p->last_error, (uint8_t)st);
    return st;
}

/* The frame of the operations on one handle: take the lock, check (level 2), look the
 * handle up (*x = its slot)... */
static inline tarn_status hp_enter(tarn_handle_pool *p, tarn_handle h, uint16_t *x)
{
    tarn_status st;
    TARN_LOCK(p->lock);
    st = hp_precheck(p);
    if (st == TARN_OK) st = hp_lookup(p, h, x, false);
    return st;
}

/* ...and leave: record a failure, release the lock. */
static inline tarn_status hp_leave(tarn_handle_pool *p, tarn_status st)
{
    (void)hp_fail(p, st);
    TARN_UNLOCK(p->lock);
    return st;
}

/* ---- init ------------------------------------------------------------------------------ */
/* The table's salt, in the generation bits of a key: the table's address in words times an
 * odd constant, whose low 32 - TARN_HANDLE_INDEX_BITS bits are a bijection of the address's
 * low bits (tables less than 2^(32 - bits) words apart get different salts). */
static uint32_t hp_salt(const void *table)
{
    uintptr_t a = (uintptr_t)table;
    uint32_t w = (uint32_t)(a >> 2) ^ (uint32_t)(a >> 16 >> 18);
    return (uint32_t)(w * 0x9E3779B1u) << TARN_HANDLE_INDEX_BITS;
}

static tarn_status hp_setup(tarn_handle_pool *p, unsigned char *data, size_t dsize, void *table,
                            size_t tsize, size_t handles, const tarn_config *cfg,
                            const struct tarn_handle_scr_ *scr, const struct tarn_handle_qua_ *qua)
{
    hp_entry *t;
    uint32_t flags = cfg != NULL ? cfg->flags : 0u;
    /* scr, qua: scramble mode's and the quarantine's code, given exactly when their flags
     * are (see tarn_handle_init; the quarantine's flag is ignored when it is compiled out,
     * and qua must then be NULL) */
#if TARN_QUARANTINE > 0
    uint32_t want = flags & (TARN_HANDLE_F_SCRAMBLE | TARN_F_QUARANTINE);
#else
    uint32_t want = flags & TARN_HANDLE_F_SCRAMBLE;
#endif
    uint32_t have = (scr != NULL ? TARN_HANDLE_F_SCRAMBLE : 0u) |
                    (qua != NULL ? TARN_F_QUARANTINE : 0u);
    if (want != have || (scr != NULL && scr->tag != HP_SCR_TAG)) return TARN_EINVAL;
#if TARN_QUARANTINE > 0
    if (qua != NULL && qua->tag != HP_QUA_TAG) return TARN_EINVAL;
#endif
    if (cfg != NULL) {
        if (!tarn_lock_valid(&cfg->lock)) return TARN_EINVAL;
        if ((cfg->flags & ~(uint32_t)(TARN_HANDLE_F_AUTOCOMPACT | TARN_HANDLE_F_SCRAMBLE |
                                      TARN_F_QUARANTINE | TARN_F_SAN_REPORT)) != 0u) {
            return TARN_EINVAL;
        }
    }
    if (dsize > TARN_HANDLE_MAX_DATA) dsize = TARN_HANDLE_MAX_DATA;
    dsize &= ~(size_t)(HP_A - 1u);

    TARN_SAN_POOL_CREATE(p); /* drops the chunks of an earlier pool at this anchor */
    TARN_SAN_DEFINED(table, tsize);
    /* every counter, cursor and flag starts at 0 (p->fast stays 0 until the first carve,
     * p->magic until the pool is ready) */
    memset(p, 0, sizeof *p);
    p->data = data;
    p->table = table;
    p->entries = (hp_entry *)(void *)((unsigned char *)table + sizeof(hp_ctl));
    p->data_size = (uint32_t)dsize;
    p->capacity = (uint16_t)handles;
    p->free_head = HP_NIL;
    p->free_tail = HP_NIL;
    p->transit = HP_NIL;
    p->salt = hp_salt(table);
    p->scr = scr;
    p->flags = (uint8_t)(cfg != NULL ? cfg->flags & (TARN_HANDLE_F_AUTOCOMPACT |
                                                      TARN_HANDLE_F_SCRAMBLE) : 0u);
    p->report = (uint8_t)(cfg != NULL && (cfg->flags & TARN_F_SAN_REPORT) != 0u);
#if TARN_QUARANTINE > 0
    tarn_q_init(&p->quarantine, flags);
    p->qua = qua;
#endif
    TARN_ERR_SET(p->last_error, (uint8_t)TARN_OK);
    p->scramble_high = 1;
    if (cfg != NULL) { /* else no lock hook and no name (all 0 from the memset) */
        p->lock = cfg->lock;
        p->name = cfg->name;
    }

    hp_lists_clear(hp_c(p));
    t = hp_t(p);
    /* a table an earlier pool marked: its keys hold that pool's generations */
    p->keyed = (uint8_t)(t[0].lock == (p->salt ^ HP_TMARK));
    memset(&t[0], 0, sizeof t[0]); /* off, size and links 0 */
    t[0].key = HP_IMASK; /* matches no handle (a handle of index 0 has state bits 0) */
    t[0].lock = p->salt ^ HP_TMARK; /* the list head is never locked: the table's mark */

    TARN_SAN_NOACCESS(data, dsize);
    hp_list(p, t, 0, (uint32_t)dsize); /* the whole data area is the head's gap */
    p->magic = hp_quick_ok(p) ? HP_MAGIC_QUICK : HP_MAGIC; /* p->fast stays 0 until the
                                                               first carve */
    return TARN_OK;
}

tarn_status tarn_handle_init_ext_(tarn_handle_pool *pool, void *mem, size_t size, size_t handles,
                                  const tarn_config *cfg, const struct tarn_handle_scr_ *scr,
                                  const struct tarn_handle_qua_ *qua)
{
    size_t tspace;
    if (pool != NULL) {
        pool->magic = 0;
        pool->fast = 0;
    }
    if (pool == NULL || mem == NULL) return TARN_EINVAL;
    if (handles == 0u || handles > TARN_HANDLE_MAX_COUNT) return TARN_EINVAL;
    if (!TARN_IS_ALIGNED(mem, TARN_ALIGN)) return TARN_EALIGN;
    tspace = TARN_HANDLE_TABLE_SPACE(handles);
    if (size < tspace || size - tspace < hp_span(1u)) return TARN_ETOOSMALL;
    return hp_setup(pool, (unsigned char *)mem + tspace, size - tspace, mem, tspace, handles, cfg,
                    scr, qua);
}

tarn_status tarn_handle_init_split_ext_(tarn_handle_pool *pool, void *data, size_t data_size,
                                        void *table, size_t table_size, size_t handles,
                                        const tarn_config *cfg,
                                        const struct tarn_handle_scr_ *scr,
                                        const struct tarn_handle_qua_ *qua)
{
    uintptr_t d, tb;
    if (pool != NULL) {
        pool->magic = 0;
        pool->fast = 0;
    }
    if (pool == NULL || data == NULL || table == NULL) return TARN_EINVAL;
    if (handles == 0u || handles > TARN_HANDLE_MAX_COUNT) return TARN_EINVAL;
    if (!TARN_IS_ALIGNED(data, TARN_ALIGN) || !TARN_IS_ALIGNED(table, 4u)) return TARN_EALIGN;
    if (table_size < TARN_HANDLE_TABLE_SIZE(handles) || data_size < hp_span(1u)) {
        return TARN_ETOOSMALL;
    }
    d = (uintptr_t)data;
    tb = (uintptr_t)table;
    if (d < tb + TARN_HANDLE_TABLE_SIZE(handles) && tb < d + data_size) return TARN_EINVAL;
    return hp_setup(pool, (unsigned char *)data, data_size, table,
                    TARN_HANDLE_TABLE_SIZE(handles), handles, cfg, scr, qua);
}

tarn_status tarn_handle_deinit(tarn_handle_pool *pool)
{
    tarn_status st = TARN_OK;
    tarn_lock l;
    if (!hp_ready(pool)) return TARN_EINVAL;
    l = pool->lock;
    (void)l; /* unused when TARN_LOCKING is 0 */
    TARN_LOCK(l);
    if (hp_pinned(pool) != 0u) {
        st = hp_fail(pool, TARN_EBUSY);
    } else {
        pool->magic = 0;
        pool->fast = 0;
        TARN_SAN_POOL_DESTROY(pool);
        TARN_SAN_DEFINED(pool->data, pool->data_size);
    }
    TARN_UNLOCK(l);
    return st;
}

/* ---- blocks ------------------------------------------------------------------------------- */
/* The first search found nothing: release held regions (oldest first) and search again
 * until one fits; finish the move of a block in transit (compact_step) and search again:
 * the free space after such a block stays off the lists until its move ends (it may hold
 * the block's source bytes), and so does a listed region that a release merged into it;
 * then compact once (TARN_HANDLE_F_AUTOCOMPACT) and search again.  Out of alloc's line
 * (rare, and it keeps alloc's own frame small). */
#if HP_SPEED && defined(__GNUC__)
__attribute__((noinline))
#endif
static uint16_t hp_find_harder(tarn_handle_pool *p, hp_entry *t, uint32_t need, unsigned *list)
{
    uint16_t o = HP_NIL;
    while (o == HP_NIL && hp_release_oldest(p)) o = hp_find(p, t, need, list);
    if (o == HP_NIL && p->transit != HP_NIL) {
        hp_transit_finish(p);
        o = hp_find(p, t, need, list);
    }
    if (o == HP_NIL && (p->flags & TARN_HANDLE_F_AUTOCOMPACT) != 0u) {
        (void)hp_compact(p);
        o = hp_find(p, t, need, list);
    }
    return o;
}

/* Place a new block of size bytes at the start of o's gap (o: hp_find's answer, heading
 * list `list`) in a slot taken as hp_slot_take does; returns its handle. */
static inline uint32_t hp_place(tarn_handle_pool *p, hp_entry *t, uint16_t o, unsigned list,
                                bool carve, uint32_t size)
{
    uint16_t x = hp_slot_take(p, t, carve);
    t[x].size = size;
    if (HP_SPEED) { /* o heads the list hp_find named: popped at once */
        hp_pop(p, t, o, list);
        hp_link_any(p, t, o, x, true); /* x takes the start of o's gap and keeps the rest */
    } else { /* hp_link_after takes it off, in less code */
        (void)list;
        hp_link_after(p, t, o, x);
    }
    TARN_SAN_ALLOC(p, p->data + t[x].off, size);
    hp_guard_set(p, t[x].off, size);
    p->used += hp_span(size);
    p->requested += size;
    p->live++;
    return t[x].key; /* a live block's key is its handle */
}

static tarn_status hp_alloc(tarn_handle_pool *p, size_t size, uint32_t *out)
{
    hp_entry *t = hp_t(p);
    uint32_t need;
    unsigned list = 0;
    uint16_t o;
    bool carve = p->carved < p->capacity;
    /* size 0 or too large, in one test (data_size >= hp_span(1) > HP_G) */
    if (TARN_UNLIKELY(size - 1u >= (size_t)(p->data_size - HP_G))) {
        if (size == 0u) return TARN_EINVAL;
        p->failed_allocs++;
        return TARN_ENOMEM;
    }
    /* no slot: a held region's slot comes back with it (on the free FIFO) */
    if (!carve && TARN_UNLIKELY(p->free_head == HP_NIL) && !hp_release_oldest(p)) {
        p->failed_allocs++;
        return TARN_ENOMEM;
    }
    need = hp_span((uint32_t)size);
    o = hp_find(p, t, need, &list);
    if (TARN_UNLIKELY(o == HP_NIL)) {
        o = hp_find_harder(p, t, need, &list);
        if (o == HP_NIL) {
            p->failed_allocs++;
            return TARN_ENOMEM;
        }
    }
    *out = hp_place(p, t, o, list, carve, (uint32_t)size);
    hp_scramble(p);
    return TARN_OK;
}

size_t tarn_handle_fit_bound(size_t size)
{
    uint32_t need, q;
    if (size == 0u || size > TARN_HANDLE_MAX_DATA - HP_G) return SIZE_MAX;
    need = hp_span((uint32_t)size);
    q = (uint32_t)1u << (tarn_log2_u32(need) - HP_SL_BITS); /* width of need's class */
    if (need > 0xFFFFFFFFu - (q - 1u)) return SIZE_MAX;      /* no pool can be that large */
    return (size_t)((need + (q - 1u)) & ~(q - 1u));
}

#if HP_FAST && defined(__GNUC__)
#define HP_GENERAL static __attribute__((noinline))
#else
#define HP_GENERAL static
#endif

/* The one body of tarn_handle_alloc and tarn_handle_alloc_status (out may be NULL). */
HP_GENERAL tarn_handle hp_alloc_call(tarn_handle_pool *pool, size_t size, tarn_status *out)
{
    tarn_handle h = TARN_HANDLE_NULL_INIT;
    tarn_status st = TARN_EINVAL;
    uint32_t v = 0;
    if (hp_ready(pool)) {
        TARN_LOCK(pool->lock);
        st = hp_precheck(pool);
        if (st == TARN_OK) st = hp_alloc(pool, size, &v);
        if (st == TARN_OK) {
            h.v = v;
        } else {
            (void)hp_fail(pool, st);
        }
        TARN_UNLOCK(pool->lock);
    }
    if (out != NULL) *out = st;
    return h;
}

tarn_handle tarn_handle_alloc(tarn_handle_pool *pool, size_t size)
{
#if HP_FAST
    /* the common case: a slot and a gap on the lists that surely fits (hp_alloc's steps
     * without its retries, its failures and scramble mode) */
    /* sizes 1 .. 2^31 - 1 (tested against a constant, not the pool's size: a size no
     * gap can hold is found nowhere, and the general path reports it) */
    if (hp_quick(pool) && size - 1u < 0x7FFFFFFFu) {
        hp_entry *t = hp_t(pool);
        unsigned list = 0;
        uint16_t o = hp_find_any(pool, t, hp_span((uint32_t)size), &list, true);
        /* the slot is looked at once, after the search (its tests then lead straight
         * to the slot's taking) */
        if (o != HP_NIL) {
            bool carve = pool->carved < pool->capacity;
            if (carve || pool->free_head != HP_NIL) {
                return tarn_handle_from_u32(hp_place(pool, t, o, list, carve, (uint32_t)size));
            }
        }
    }
#endif
    return hp_alloc_call(pool, size, NULL);
}

tarn_handle tarn_handle_alloc_status(tarn_handle_pool *pool, size_t size, tarn_status *st)
{
    return hp_alloc_call(pool, size, st);
}

/* TARN_F_SAN_REPORT: hand a refused free of handle h to the memory tool, at the handle's
 * memory if it has any (its region, held by the quarantine), else at its table entry (the
 * head entry for an index out of range), made NOACCESS for the moment of the report. */
static void hp_report_bad_free(tarn_handle_pool *p, tarn_handle h)
{
#if TARN_SANITIZE
    hp_entry *t = hp_t(p);
    uint32_t idx = h.v & HP_IMASK;
    unsigned char *at;
    if (idx > p->carved) idx = 0;
#if TARN_QUARANTINE > 0
    if (idx != 0u && hp_held(p, &t[idx]) &&
        hp_gen_of(p, h.v) + HP_GSTEP == hp_gen_of(p, t[idx].key)) {
        TARN_SAN_REPORT_BAD_FREE(p, p->data + t[idx].off); /* poisoned, no longer a block */
        return;
    }
#endif
    at = (unsigned char *)&t[idx];
    TARN_SAN_NOACCESS(at, sizeof *t);
    TARN_SAN_REPORT_BAD_FREE(p, at);
    TARN_SAN_DEFINED(at, sizeof *t);
#else
    (void)p;
    (void)h;
#endif
}

/* Free live block x whose bytes have been dealt with (annotated, poisoned, or nothing to
 * do): counters, block list, free-region lists, slot. */
/* The same for block x whose fields (offset, size, block-list links) and key the caller
 * has read already: the fast free hands them over in registers. */
static inline void hp_release_at(tarn_handle_pool *p, hp_entry *t, uint16_t x, uint32_t off,
                                 uint32_t n, uint16_t next, uint16_t prev, uint32_t key)
{
    p->used -= hp_span(n);
    if (HP_SPEED) {
        hp_unlink_at(p, t, x, prev, next, off, hp_span(n));
    } else { /* the fields are x's own: the one out-of-line copy of the unlink */
        hp_unlink(p, t, x);
    }
    hp_slot_put(p, t, x, hp_key_freed(key));
    p->requested -= n; /* apart from used: two scalar updates, not one vector one */
    p->live--;
}
static inline void hp_release_block(tarn_handle_pool *p, hp_entry *t, uint16_t x)
{
    hp_release_at(p, t, x, t[x].off, t[x].size, t[x].next, t[x].prev, t[x].key);
}

/* The general body of tarn_handle_free. */
HP_GENERAL tarn_status hp_free_call(tarn_handle_pool *pool, tarn_handle h)
{
    tarn_status st;
    uint16_t x = 0;
    if (!hp_ready(pool)) return TARN_EINVAL;
    TARN_LOCK(pool->lock);
    st = hp_precheck(pool);
    if (st == TARN_OK) st = hp_lookup(pool, h, &x, true);
    if (st == TARN_OK && hp_t(pool)[x].lock != 0u) st = TARN_EBUSY;
    if (st == TARN_OK && !hp_guard_ok(pool, hp_t(pool), x)) st = TARN_ECORRUPT;
    if (st == TARN_OK) {
        hp_entry *t = hp_t(pool);
        uint32_t off = t[x].off, n = t[x].size;
#if TARN_QUARANTINE > 0
        if (HP_Q_ON(pool)) {
            pool->qua->hold(pool, t, x);
            return hp_leave(pool, st);
        }
#endif
        if (x == pool->transit) {
            pool->stp->drop(pool);
        } else {
            TARN_SAN_FREE(pool, pool->data + off, n);
            /* without annotations and poisoning there is nothing to vacate (tested on
             * 64-bit hosts; 32-bit targets keep the smaller code) */
            if (!HP_SPEED || TARN_SANITIZE || hp_poisoning(pool)) hp_vacate(pool, off, hp_body(n));
        }
        hp_release_block(pool, t, x);
    } else if (pool->report != 0u &&
               (st == TARN_EDOUBLE || st == TARN_ESTALE || st == TARN_EFOREIGN)) {
        hp_report_bad_free(pool, h);
    }
    return hp_leave(pool, st);
}

tarn_status tarn_handle_free(tarn_handle_pool *pool, tarn_handle h)
{
#if HP_FAST
    /* the common case: a live, unpinned block (key == handle: so not in transit, not
     * held) of a pool that neither poisons nor holds freed regions */
    if (hp_quick(pool)) {
        uintptr_t idx = h.v & HP_IMASK;
        /* a quick pool's inline lock bound (carved + 1, hp_fast_ok holds) tested as the
         * inline lock does: index 0 passes it, but the list head's key has the all-ones
         * state, which no handle has, so the key test below turns it away */
        if (idx < pool->fast) {
            hp_entry *t = hp_t(pool), *e = &t[idx];
            if (e->key == h.v && e->lock == 0u) {
                /* the fields the sanity test reads are the unlink's: read once, kept */
                uint32_t off = e->off, n = e->size;
                uint16_t next = e->next, prev = e->prev;
                if (!hp_insane_at(pool, off, n, next, prev)) {
                    hp_release_at(pool, t, (uint16_t)idx, off, n, next, prev, h.v);
                    return TARN_OK;
                }
            }
        }
    }
#endif
    return hp_free_call(pool, h);
}

tarn_status tarn_handle_validate(tarn_handle_pool *pool, tarn_handle h)
{
    tarn_status st;
    uint16_t x;
    if (!hp_ready(pool)) return TARN_EINVAL;
    st = hp_enter(pool, h, &x);
    TARN_UNLOCK(pool->lock);
    return st;
}

/* Look a handle up under the lock and copy its entry; a failure is recorded. */
static tarn_status hp_query(tarn_handle_pool *pool, tarn_handle h, hp_entry *out)
{
    tarn_status st;
    uint16_t x = 0;
    st = hp_enter(pool, h, &x);
    if (st == TARN_OK) *out = hp_t(pool)[x];
    return hp_leave(pool, st);
}

/* The one body of tarn_handle_size, tarn_handle_lock_count and their _status variants:
 * the size (count: false) or the lock count (count: true) of h's block, 0 on failure. */
static size_t hp_size_call(tarn_handle_pool *pool, tarn_handle h, bool count, tarn_status *out)
{
    hp_entry e;
    tarn_status st = TARN_EINVAL;
    e.size = 0; /* returned on failure (also keeps compilers sure it is set) */
    e.lock = 0;
    if (hp_ready(pool)) st = hp_query(pool, h, &e);
    if (out != NULL) *out = st;
    if (st != TARN_OK) return 0u;
    return count ? (size_t)e.lock : (size_t)e.size;
}

size_t tarn_handle_size(tarn_handle_pool *pool, tarn_handle h)
{
    return hp_size_call(pool, h, false, NULL);
}

size_t tarn_handle_size_status(tarn_handle_pool *pool, tarn_handle h, tarn_status *st)
{
    return hp_size_call(pool, h, false, st);
}

unsigned tarn_handle_lock_count(tarn_handle_pool *pool, tarn_handle h)
{
    return (unsigned)hp_size_call(pool, h, true, NULL);
}

unsigned tarn_handle_lock_count_status(tarn_handle_pool *pool, tarn_handle h, tarn_status *st)
{
    return (unsigned)hp_size_call(pool, h, true, st);
}

static tarn_status hp_resize(tarn_handle_pool *p, uint16_t x, size_t size)
{
    hp_entry *t = hp_t(p);
    uint32_t old, ocap, ncap;
    bool compacted = false;
    if (size == 0u) return TARN_EINVAL;
    if (size > (size_t)(p->data_size - HP_G)) return TARN_ENOMEM; /* also: no span overflow */
    if (x == p->transit) hp_transit_finish(p);
    if (!hp_guard_ok(p, t, x)) return TARN_ECORRUPT;
    old = t[x].size;
    ocap = hp_span(old);
    ncap = hp_span((uint32_t)size);
    for (;;) {
        uint32_t g = hp_gap(p, t, x);
        unsigned list;
        uint16_t o, pr;
        if (ncap <= ocap + g) { /* in place */
            hp_unbin(p, t, x);
            hp_san_resize(p, t[x].off, old, (uint32_t)size);
            t[x].size = (uint32_t)size;
            hp_bin(p, t, x);
            break;
        }
        if (t[x].lock != 0u) {
            if (hp_release_oldest(p)) continue; /* a held region may be in the way */
            return TARN_EBUSY;
        }
        o = hp_find(p, t, ncap, &list);
        if (o != HP_NIL) { /* to another free region (disjoint from the block) */
            uint32_t src = t[x].off, dst = hp_end(&t[o]);
            TARN_SAN_ALLOC(p, p->data + dst, (uint32_t)size);
            HP_MEMCPY(p->data + dst, p->data + src, hp_min32(old, (uint32_t)size));
            TARN_SAN_FREE(p, p->data + src, old);
            hp_vacate(p, src, hp_body(old));
            hp_unlink(p, t, x);
            t[x].size = (uint32_t)size;
            hp_link_after(p, t, o, x);
            hp_guard_set(p, dst, (uint32_t)size);
            break;
        }
        pr = t[x].prev;
        if (pr != p->transit && (uint64_t)hp_gap(p, t, pr) + ocap + g >= ncap) {
            /* down into the free space just before it */
            uint32_t dst = hp_end(&t[pr]);
            hp_unbin(p, t, pr);
            hp_unbin(p, t, x);
            hp_move(p, t[x].off, dst, old);
            t[x].off = dst;
            hp_san_resize(p, dst, old, (uint32_t)size);
            t[x].size = (uint32_t)size;
            hp_bin(p, t, pr);
            hp_bin(p, t, x);
            break;
        }
        if (hp_release_oldest(p)) continue;
        if (compacted || (p->flags & TARN_HANDLE_F_AUTOCOMPACT) == 0u) return TARN_ENOMEM;
        (void)hp_compact(p);
        compacted = true;
    }
    p->used = p->used - ocap + ncap;
    p->requested = p->requested - old + (uint32_t)size;
    hp_scramble(p);
    return TARN_OK;
}

tarn_status tarn_handle_resize(tarn_handle_pool *pool, tarn_handle h, size_t size)
{
    tarn_status st;
    uint16_t x = 0;
    if (!hp_ready(pool)) return TARN_EINVAL;
    st = hp_enter(pool, h, &x);
    if (st == TARN_OK) st = hp_resize(pool, x, size);
    return hp_leave(pool, st);
}

/* The one body of tarn_handle_lock's out-of-line path and tarn_handle_lock_status. */
static void *hp_lock_call(tarn_handle_pool *pool, tarn_handle h, tarn_status *out)
{
    tarn_status st = TARN_EINVAL;
    void *ptr = NULL;
    uint16_t x = 0;
    if (hp_ready(pool)) {
        st = hp_enter(pool, h, &x);
        if (st == TARN_OK) {
            hp_entry *t = hp_t(pool);
            if (x == pool->transit) hp_transit_finish(pool);
            if (t[x].lock >= HP_LOCK_MAX) { /* above it only by damage */
                st = TARN_EOVERFLOW;
            } else {
                t[x].lock++;
                ptr = pool->data + t[x].off;
            }
        }
        (void)hp_leave(pool, st);
    }
    if (out != NULL) *out = st;
    return ptr;
}

void *tarn_handle_lock_slow_(tarn_handle_pool *pool, tarn_handle h)
{
    return hp_lock_call(pool, h, NULL);
}

void *tarn_handle_lock_status(tarn_handle_pool *pool, tarn_handle h, tarn_status *st)
{
    return hp_lock_call(pool, h, st);
}

tarn_status tarn_handle_unlock_slow_(tarn_handle_pool *pool, tarn_handle h)
{
    tarn_status st;
    uint16_t x = 0;
    if (!hp_ready(pool)) return TARN_EINVAL;
    st = hp_enter(pool, h, &x);
    if (st == TARN_OK) {
        hp_entry *t = hp_t(pool);
        if (t[x].lock == 0u) {
            st = TARN_EINVAL;
        } else {
            t[x].lock--;
            hp_scramble(pool);
        }
    }
    return hp_leave(pool, st);
}

tarn_status tarn_handle_copy(tarn_handle_pool *pool, tarn_handle dst, tarn_handle src)
{
    tarn_status st;
    uint16_t xd = 0, xs = 0;
    if (!hp_ready(pool)) return TARN_EINVAL;
    st = hp_enter(pool, dst, &xd);
    if (st == TARN_OK) st = hp_lookup(pool, src, &xs, false);
    if (st == TARN_OK) {
        hp_entry *t = hp_t(pool);
        if (!hp_guard_ok(pool, t, xd) || !hp_guard_ok(pool, t, xs)) {
            st = TARN_ECORRUPT;
        } else if (xd == xs) {
            /* nothing to copy */
        } else if (t[xd].size < t[xs].size) {
            st = TARN_ERANGE;
        } else { /* never past dst's size: its guard stays untouched */
            if (pool->transit == xd || pool->transit == xs) hp_transit_finish(pool);
            HP_MEMCPY(pool->data + t[xd].off, pool->data + t[xs].off, t[xs].size);
        }
    }
    return hp_leave(pool, st);
}

tarn_status tarn_handle_clear(tarn_handle_pool *pool, tarn_handle h)
{
    tarn_status st;
    uint16_t x = 0;
    if (!hp_ready(pool)) return TARN_EINVAL;
    st = hp_enter(pool, h, &x);
    if (st == TARN_OK && !hp_guard_ok(pool, hp_t(pool), x)) st = TARN_ECORRUPT;
    if (st == TARN_OK) {
        hp_entry *t = hp_t(pool);
        if (x == pool->transit) hp_transit_finish(pool);
        memset(pool->data + t[x].off, 0, t[x].size); /* the size bytes only, never the guard */
    }
    return hp_leave(pool, st);
}

/* ---- compaction ------------------------------------------------------------------------ */
/* The one body of tarn_handle_compact and tarn_handle_compact_status. */
static size_t hp_compact_call(tarn_handle_pool *pool, tarn_status *out)
{
    size_t moved = 0;
    tarn_status st = TARN_EINVAL;
    if (hp_ready(pool)) {
        TARN_LOCK(pool->lock);
        st = hp_fail(pool, hp_precheck(pool));
        if (st == TARN_OK) {
            uint64_t before = pool->moved;
            (void)hp_compact(pool);
            moved = (size_t)(pool->moved - before); /* includes the end of an unfinished step */
        }
        TARN_UNLOCK(pool->lock);
    }
    if (out != NULL) *out = st;
    return moved;
}

size_t tarn_handle_compact(tarn_handle_pool *pool)
{
    return hp_compact_call(pool, NULL);
}

size_t tarn_handle_compact_status(tarn_handle_pool *pool, tarn_status *st)
{
    return hp_compact_call(pool, st);
}

/* The one body of tarn_handle_compact_step and tarn_handle_compact_step_status. */
static bool hp_step_call(tarn_handle_pool *pool, size_t budget_bytes, size_t *moved,
                         tarn_status *out)
{
    size_t work = budget_bytes, total = 0;
    bool done = false, idle = true; /* idle: nothing done yet in this call */
    tarn_status st = hp_ready(pool) ? TARN_OK : TARN_EINVAL;
    if (moved != NULL) *moved = 0;
    if (out != NULL) *out = st;
    if (st != TARN_OK || budget_bytes == 0u) return false;
    TARN_LOCK(pool->lock);
    st = hp_fail(pool, hp_precheck(pool));
    if (out != NULL) *out = st;
    if (st == TARN_OK) {
        hp_entry *t = hp_t(pool);
        pool->stp = &hp_step_ops; /* from now on a block may be in transit */
        for (;;) {
            uint16_t x;
            if (pool->transit != HP_NIL) {
                /* a move costs TARN_HANDLE_STEP_MOVE_COST units, then one per byte; a call
                 * whose whole budget cannot pay that still moves budget bytes, so that
                 * every call progresses */
                uint16_t y = pool->transit;
                size_t pay = work > TARN_HANDLE_STEP_MOVE_COST ? work - TARN_HANDLE_STEP_MOVE_COST
                                                               : (idle ? work : 0u);
                uint32_t c;
                if (pay == 0u) break;
                c = hp_transit_step(pool, t, pay);
                total += c;
                work -= hp_min_size(work, (size_t)c + TARN_HANDLE_STEP_MOVE_COST);
                idle = false;
                if (pool->transit != HP_NIL) break; /* budget used up mid-block */
                pool->cursor = y;
            }
            x = t[pool->cursor].next;
            if (x == 0u) { /* end of the pass */
                pool->cursor = 0;
                done = true;
                break;
            }
            if (work == 0u) break;
            if (hp_gap(pool, t, pool->cursor) == 0u || t[x].lock != 0u || hp_held(pool, &t[x])) {
                pool->cursor = x; /* already in place, pinned, or a held region */
                work -= hp_min_size(work, TARN_HANDLE_STEP_VISIT_COST);
                idle = false;
                continue;
            }
            hp_transit_start(pool, t, x, hp_end(&t[pool->cursor]));
        }
        pool->moved += total;
    }
    TARN_UNLOCK(pool->lock);
    if (moved != NULL) *moved = total;
    return done;
}

bool tarn_handle_compact_step(tarn_handle_pool *pool, size_t budget_bytes, size_t *moved)
{
    return hp_step_call(pool, budget_bytes, moved, NULL);
}

bool tarn_handle_compact_step_status(tarn_handle_pool *pool, size_t budget_bytes, size_t *moved,
                                     tarn_status *st)
{
    return hp_step_call(pool, budget_bytes, moved, st);
}

/* ---- diagnostics ------------------------------------------------------------------------ */
tarn_status tarn_handle_stats_get(tarn_handle_pool *pool, tarn_handle_stats *out)
{
    tarn_status st;
    if (!hp_ready(pool) || out == NULL) return TARN_EINVAL;
    TARN_LOCK(pool->lock);
    st = hp_fail(pool, hp_precheck(pool));
    if (st == TARN_OK) {
        const hp_ctl *c = hp_c(pool);
        hp_entry *t = hp_t(pool);
        uint32_t largest = 0;
        unsigned i = HP_LISTS;
        while (i > 0u && c->bin[i - 1u] == HP_NIL) i--; /* the top non-empty list */
        if (i > 0u) {
            uint16_t x = c->bin[i - 1u];
            for (; x != HP_NIL; x = t[x].fnext) {
                uint32_t g = hp_gap(pool, t, x);
                if (g > largest) largest = g;
            }
        }
        out->capacity = pool->data_size;
        out->used = pool->used;
        out->requested = pool->requested;
        out->free = pool->data_size - pool->used;
        out->largest_free = largest;
        out->handles = pool->capacity;
        out->handles_used = pool->live;
        out->pinned = hp_pinned(pool);
        out->bytes_moved = pool->moved;
        out->compactions = pool->compactions;
        out->failed_allocs = pool->failed_allocs;
        out->quarantined = 0;
        out->quarantined_bytes = 0;
#if TARN_QUARANTINE > 0
        {
            unsigned q;
            for (q = 0; q < pool->quarantine.count; q++) {
                const hp_entry *e = (const hp_entry *)tarn_q_at(&pool->quarantine, q);
                out->quarantined++;
                out->quarantined_bytes += hp_span(e->size);
            }
        }
#endif
    }
    TARN_UNLOCK(pool->lock);
    return st;
}

tarn_status tarn_handle_walk(tarn_handle_pool *pool, tarn_handle_walk_fn fn, void *ctx)
{
    tarn_status st;
    if (!hp_ready(pool) || fn == NULL) return TARN_EINVAL;
    TARN_LOCK(pool->lock);
    st = hp_fail(pool, hp_precheck(pool));
    if (st == TARN_OK) {
        hp_entry *t = hp_t(pool);
        uint16_t x;
        uint32_t steps = 0;
        for (x = t[0].next; x != 0 && steps < pool->carved; x = t[x].next, steps++) {
            tarn_handle_block b;
            if (hp_held(pool, &t[x])) continue; /* not a block: its span is not free either */
            b.handle = hp_make(t, x);
            b.offset = t[x].off;
            b.size = t[x].size;
            b.gap_after = hp_gap(pool, t, x);
            b.locks = t[x].lock;
            b.moving = x == pool->transit;
            if (!fn(&b, ctx)) break;
        }
    }
    TARN_UNLOCK(pool->lock);
    return st;
}

/* The frame of a whole-pool call: op under the lock, its failure recorded. */
static tarn_status hp_whole(tarn_handle_pool *pool, tarn_status (*op)(tarn_handle_pool *))
{
    tarn_status st;
    if (!hp_ready(pool)) return TARN_EINVAL;
    TARN_LOCK(pool->lock);
    st = hp_fail(pool, op(pool));
    TARN_UNLOCK(pool->lock);
    return st;
}

static tarn_status hp_full_check(tarn_handle_pool *p)
{
    return hp_check(p, true);
}

static tarn_status hp_flush_all(tarn_handle_pool *p)
{
    tarn_status st = hp_precheck(p);
    if (st == TARN_OK && !hp_flush(p)) st = TARN_ECORRUPT;
    return st;
}

tarn_status tarn_handle_check(tarn_handle_pool *pool)
{
    return hp_whole(pool, hp_full_check);
}

tarn_status tarn_handle_quarantine_flush(tarn_handle_pool *pool)
{
    return hp_whole(pool, hp_flush_all);
}

tarn_status tarn_handle_last_error(const tarn_handle_pool *pool)
{
    return pool == NULL ? TARN_EINVAL : TARN_ERR_GET(pool->last_error);
}

const char *tarn_handle_name(const tarn_handle_pool *pool)
{
    return pool == NULL ? NULL : pool->name;
}
