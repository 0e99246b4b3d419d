/*
 * src/ext.c - external memory manager (see include/tarn/ext.h).
 *
 * DESIGN
 *
 * 1. Device layout (all sizes in 4-byte units "u"; device address = base + 4 * unit)
 *
 *   base
 *   | superblock 2 x 20 B | root 0 24 B | ... | root n-1 | hdr 24 B | data ... | hdr | data ... |
 *                                                        ^ heap                        region end ^
 *
 *   superblock copy (A at base, B right after it, the same bytes):
 *     magic "TEX1" | nonce | units | version (2) | nroots | crc16 | ~magic
 *     the crc covers the base and the fields between magic and crc, not the magic, so the
 *     PENDING copy - the same bytes with the first one's low bit flipped ("UEX1") - differs
 *     from the valid one in exactly one bit (section 5).
 *   root slot and block header: the same 24-byte "record" of two 12-byte slots, A then B:
 *
 *     slot: | seq | word (32 bits, little-endian) | crc32 | crc16 | ~seq |
 *             both checks cover nonce, the slot's device address, seq and word.
 *     block header word: bits 0-29 payload size in units (>= 1), bit 30 used, bit 31 zero.
 *     root word: the root's device address (0 = empty).
 *
 *   Slot A always holds an even seq, slot B an odd one.  A record is INTACT when both
 *   slots are valid and their seqs are consecutive (mod 256): the newer slot (seq = other
 *   + 1) holds the current value, the older one the previous value.  The blocks tile the
 *   heap exactly: header h, payload p units, next header at h + 6 + p.  There is no
 *   persistent free list, no free bitmap, no other metadata.
 *
 *   Why 48 bits of check: a write torn with its bits landing in any order (a parallel-
 *   programming EEPROM) is a mix of the old and new bytes; it must never pass for a third
 *   valid slot, and mount corrects a slot one bit away from a valid one (section 5), which
 *   multiplies the chance by the 97 neighbours of each mix.  With 48 bits that chance is
 *   about 2^-41 per torn write; with 16 bits (the earlier 8-byte slots) it was 2^-9.
 *
 *   Compact format, for regions of 36 to 64 bytes (TARN_EXT_COMPACT_MAX_SIZE), chosen by
 *   the region size alone: no roots, and a superblock of two 4-byte copies
 *   | 0xC5 | nonce (8 bits) | units | crc-8 of base, nonce and units | (pending: 0xC4).
 *   Records are the normal ones, so everything below holds unchanged.  The smallest
 *   region, 36 bytes, holds one allocation of 4 bytes.
 *
 *   Byte-ordered format, for regions of 16 to 32 bytes, formatted only with
 *   TARN_EXT_F_BYTE_ORDERED (mount knows it from the size): one superblock copy
 *   | 0x5A | nonce (8 bits) | units | crc-8 of base, nonce and units | (pending: 0x5B, and
 *   any 0x5B first byte reads as pending: the copy is rewritten behind it), no roots, and
 *   8-byte records of two 4-byte slots | seq | used bit, 7 bits of units | check | ~seq |,
 *   the check being the low byte of a crc16 over nonce, address, seq and word.  The slots
 *   end with ~seq like the normal ones, so sections 2 to 5 - commit points, deterministic
 *   detection of prefix and half-programmed-byte tears, mount - hold unchanged with a
 *   header of 2 units instead of 6.  What 8 bits cannot give: bit-order tears and flipped
 *   bits pass a check with a chance of 1 in 256, so no slot is ever corrected (rec_correct)
 *   and ext.h restricts the format to byte-ordered devices.  The 0x5A/0x5B first byte is
 *   at least 3 bits from 0xC4/0xC5 and from "T"/"U", and each format's superblock is
 *   recognised by the others (SB_OTHER: a region of another size).  16 bytes hold one
 *   allocation of 4 bytes.
 *
 * 2. Updating a record in place (free, the commit of alloc, a root update)
 *
 *   One write transaction of 12 bytes overwrites the OLDER slot with seq = newest + 1 and
 *   the new word; the newer slot, holding the current value, is not touched.  This single
 *   write is the commit point.  If it is cut (any prefix of its bytes landed, the last of
 *   them with any mix of old and new bits), the slot is detectably torn and the other slot
 *   still holds the value from before: the update did not happen.  Torn slots are found
 *   deterministically, not only with the crc's probability: the slot being overwritten
 *   held a valid slot with seq q - 1 (hence last byte ~(q - 1)); the new one starts with
 *   seq q + 1 and ends with ~(q + 1) != ~(q - 1).  A cut after byte 0 leaves the old last
 *   byte behind a new first byte; a cut inside the last byte leaves a mix of ~(q - 1) and
 *   ~(q + 1) that equals ~(q + 1) only if all its bits were programmed, i.e. the write
 *   completed.  (A cut inside byte 0 with nothing else landed leaves the old slot, valid.)
 *   The checks reject any other damage and bind the slot to its address and format.
 *
 * 3. alloc: at most 2 writes, each followed by a sync
 *
 *   Take a cached free run [a, end) (one or more adjacent free blocks, the first at a).
 *   The new allocation is [a, r), r = a + 4 + need, moved up a little if needed (below).
 *     write 1 (only if a remainder is left): the header of the remainder [r, end), free:
 *       - a FRESH header (both slots in one 24-byte write) when r falls inside the payload
 *         of a block of the run, with room for the header before the next header: those
 *         bytes are free space that no walk visits, so a cut there changes nothing;
 *       - or an in-place update of the header already at r when r is exactly the header of
 *         a later free block of the run: that block grows to the end of the run, which is
 *         a merge of free blocks and leaves the set of allocations unchanged.
 *       r is moved up when the fresh header would overlap a live header (it is never
 *       written over another header's bytes) or when the remainder would be smaller than
 *       a header plus 4 bytes (then the allocation takes the whole run, write 1 is skipped).
 *     sync
 *     write 2, THE COMMIT: update a's header in place to "used, r - a - 4 units".
 *     sync
 *   Before write 2 completes, mount sees the old free run (a's header rolls back if torn);
 *   after it, the walk goes a -> r (written and synced before) -> end.  Headers of the
 *   run's later blocks end up inside the allocation or the remainder: stale, never
 *   visited.  Invariant: every stale header of this format says "free" (only free blocks
 *   are ever absorbed), so a stale header can never pass for an allocation.
 *
 * 4. free: 1 write
 *
 *   Read the header at addr - 24 (must be intact and used) and the next header.  One
 *   in-place update of the freed block's header, the commit, makes it free with a size
 *   that also covers the next block if that one is free (forward merge).  The previous
 *   block is never changed: merging backwards would leave the freed header, still saying
 *   "used", stale inside a free block.  Adjacent free blocks are instead merged lazily by
 *   the next alloc that uses the run (section 3), at no extra write.
 *
 * 5. mount: O(blocks) reads
 *
 *   Read the superblock, the roots, then walk the headers from the heap start.
 *   Superblock: one intact copy suffices (a damaged or pending other copy is rewritten from
 *   it); both intact but different is TARN_ECORRUPT.  With no intact copy, a blank (all
 *   0xFF or all 0x00) or pending copy means nothing was formatted (TARN_ENOENT), anything
 *   else is damage (TARN_ECORRUPT).
 *   A record with exactly one valid slot is either the one a cut interrupted or a damaged
 *   one.  If its invalid slot is one bit away from a valid slot one seq newer than the
 *   valid one, that newer slot held the current value (a flipped bit, or a commit that
 *   landed but for one bit: either way the value to keep) and mount rewrites it, corrected.
 *   Otherwise the valid slot is the value from before, and mount repairs the torn slot by
 *   writing the valid value into it with the next seq (itself a record update: a cut
 *   during the repair is repaired by the next mount).  So a single flipped bit anywhere in
 *   the metadata changes nothing: in an older slot or a superblock copy it is repaired, in
 *   a newer slot it is corrected (tests/test_ext_damage.c flips every bit).  A torn header whose older value is "free" is rolled back only after its
 *   restored extent has been read and found to hold no intact "used" header (a cut can
 *   only tear the latest write, so nothing was allocated inside since; see
 *   ext_hidden_used): damage to a newer slot that would silently free later allocations
 *   is TARN_ECORRUPT.  At most one record is torn at any time, because every record write is
 *   followed by a sync before the next one.  Anything else - both slots bad, seqs not
 *   consecutive, blocks not tiling the heap, a root naming no allocation - is TARN_ECORRUPT:
 *   no power cut produces it.  Write buffers: since there is a sync after every record
 *   write, the writes pending at a cut are at most the one record write in flight (or
 *   several independent repairs during mount), so any subset landing in any order is one
 *   of the cases above.
 *   format: (1) each intact superblock copy becomes pending (a one-byte write changing one
 *   bit: atomic under any tear), sync; (2) copy A, then copy B, is written as the new
 *   superblock, pending, each followed by a sync (a tear of either leaves the other copy
 *   pending or blank, or, before (1) completed, the old region intact); (3) roots and the
 *   first header, sync; (4) the commit: copy A's first byte becomes valid (one bit), sync,
 *   then copy B's.  A format cut anywhere thus reads as TARN_ENOENT, the old region (cut in
 *   (1)), or the new one (cut after (4) began); a pending copy keeps the new nonce, so
 *   that nonces count up across cut formats.
 *
 * 6. Finding free space with a fixed RAM footprint
 *
 *   RAM remembers up to TARN_EXT_CACHE_RUNS free runs, one per size class (capacities
 *   1, 2-3, 4-7, ... units; the last class takes everything larger), keeping the largest
 *   run seen of each class: start, end, size and seq of the first block.  alloc takes the
 *   best fit among them: no read at all when the allocation ends inside the run's first
 *   block.  A free offers its block, grows a cached run that ends where it starts
 *   (backward merge in RAM only) or absorbs the cached run it merged with.
 *   Runs not in the cache are found by partial scans from a cursor that walks the heap
 *   round-robin (it always rests on a live header; alloc and free move it off headers they
 *   absorb).  Every run a scan passes is offered to the cache (merged with cached runs it
 *   overlaps, as a scan may start or stop inside a run).  Scans happen only while free
 *   space exists outside the cached runs (free units minus cached extents, known in RAM):
 *     - when the best cached fit is 4 or more times too large, alloc reads up to
 *       TARN_EXT_FIT_READS (8) headers looking for a closer fit (keeps small requests from
 *       carving up large runs: this is what holds fragmentation down);
 *     - when nothing cached fits, the scan goes on until a run fits;
 *     - once round without a fit, an exact full scan (which also merges runs cut by the
 *       cursor) decides, and TARN_ENOMEM is then answered at once until the next free.
 *
 *   Trade-off chosen: the write budget (<= 2 per alloc, 1 per free, no free list on the
 *   device to wear out) and the fixed RAM size are guaranteed.  Free is O(1) (2 reads,
 *   1 write).  Alloc is O(1) writes always, but its reads are O(1) only amortized: a
 *   request that no cached run fits reads headers until one does (O(blocks) worst case).
 *   An exact O(1) index of all free space needs either RAM growing with the number of
 *   blocks or an index on the device that every alloc and free must rewrite (more writes,
 *   more wear, and more to make power-safe).  bench/ext measures the read cost and the
 *   fragmentation this placement causes against a global best fit.
 *
 * 7. Validating addresses in O(1)
 *
 *   free/size/read/write/root_set read the header just before addr: it must be intact,
 *   say "used", and fit in the region.  Interior addresses hit user data (whose chance of
 *   passing as an intact record is ~2^-50) or a stale header (always "free", see 3);
 *   headers of an earlier format carry another nonce.  A deliberate forgery of both slots'
 *   crc by the application is not defended against.
 *
 * 8. Callback errors
 *
 *   A failed read before any write changes nothing.  After a failed write or sync the
 *   device is in one of the states a power cut could have left (a write that failed may
 *   have landed partly), so the manager marks its RAM state stale and re-reads it from the
 *   device exactly as mount does (repairing a torn record) before returning TARN_EIO; if
 *   that fails too, every later call retries it first.
 *
 * Invariants (tarn_ext_check): every header reached from the heap start is intact and the
 * blocks tile [heap, units); live_blocks/live_units/used_units count the used blocks; every
 * cached run starts at a free block of the cached size and seq, spans whole free blocks,
 * sits in the slot of its size class, and overlaps no other cached run; the cursor rests
 * on a header; every non-zero root is the data address of a used block.
 */
#include "tarn/ext.h"
#include "internal.h"

#define U_HDR 6u                     /* header (record) size in units */
#define SLOT_BYTES 12u
#define REC_BYTES 24u
#define SB_COPY 20u                  /* one copy of the superblock */
#define SUPER_BYTES (2u * SB_COPY)   /* the superblock area: two copies */
#define C_SB_COPY 4u                 /* compact format: one superblock copy */
#define C_MAGIC 0xC5u
#define C_MAGIC_NEW 0xC4u            /* first byte of a pending compact superblock copy */
#define T_HDR 2u                     /* byte-ordered format: header units (8-byte records) */
#define T_SLOT 4u                    /* byte-ordered format: bytes of one slot */
#define T_SB 4u                      /* byte-ordered format: the one superblock copy */
#define T_MAGIC 0x5Au                /* its first byte (>= 3 bits from 0xC4/0xC5, "T", "U") */
#define T_MAGIC_NEW 0x5Bu            /* first byte of a pending byte-ordered superblock */
#define T_USED 0x80u                 /* byte-ordered slot word: used bit, 7 bits of units */
#define F_COMPACT 1u                 /* e->compact: compact superblock, no roots */
#define F_TINY 2u                    /* e->compact: byte-ordered format (16-32 B regions) */
#define TINY(e) ((e)->compact == F_TINY)
#define HU(e) ((uint32_t)(e)->hu)                /* header units of e's format */
#define SLOT_OF(e) (HU(e) * 2u)                  /* bytes of one slot */
#define COMPACT(e) ((e)->compact != 0u)   /* small superblock, no roots (compact or tiny) */
#define W_UNITS 0x3FFFFFFFu
#define W_USED 0x40000000u
#define W_RSVD 0x80000000u
#define EXT_MAGIC 0x31584554u        /* "TEX1" little-endian */
#define EXT_MAGIC_NEW 0x31584555u    /* "UEX1": a pending superblock copy (format in progress) */
#define EXT_VERSION 2u               /* 2: two superblock copies */

#ifndef EXT_LOOSE
#define EXT_LOOSE 2u            /* a fit 2 classes (4x) too large is loose */
#endif

#define ST_NONE 0u
#define ST_MOUNTED 0xA5u
#define ST_RESYNC 0x3Cu

TARN_STATIC_ASSERT(TARN_EXT_HEADER_SIZE == REC_BYTES && REC_BYTES == 2u * SLOT_BYTES, ext_record);
TARN_STATIC_ASSERT(TARN_EXT_HEADER_SIZE == U_HDR * TARN_EXT_UNIT && SLOT_BYTES == 2u * U_HDR &&
                   T_SLOT == 2u * T_HDR, ext_header_units);
TARN_STATIC_ASSERT(TARN_EXT_SUPER_SIZE == SUPER_BYTES && SUPER_BYTES % TARN_EXT_UNIT == 0, ext_super);
TARN_STATIC_ASSERT(TARN_EXT_ROOT_SIZE == REC_BYTES, ext_root);
TARN_STATIC_ASSERT(TARN_EXT_MAX_ROOTS >= 1 && TARN_EXT_MAX_ROOTS <= 64, ext_max_roots);
TARN_STATIC_ASSERT(TARN_EXT_CACHE_RUNS >= 2 && TARN_EXT_CACHE_RUNS <= 16, ext_cache_runs);
TARN_STATIC_ASSERT(TARN_EXT_MIN_SIZE(0) == 36u && TARN_EXT_MIN_SIZE(1) == 92u, ext_min_size);
TARN_STATIC_ASSERT(TARN_EXT_COMPACT_MAX_SIZE / TARN_EXT_UNIT < 256u, ext_compact_units_in_a_byte);
TARN_STATIC_ASSERT(TARN_EXT_COMPACT_HEADER_SIZE == TARN_EXT_HEADER_SIZE, ext_compact_header);
TARN_STATIC_ASSERT(TARN_EXT_COMPACT_MAX_SIZE + TARN_EXT_UNIT == SUPER_BYTES + REC_BYTES + TARN_EXT_UNIT,
                   ext_compact_below_normal);
TARN_STATIC_ASSERT(TARN_EXT_BYTE_ORDERED_MIN_SIZE == T_SB + 2u * T_SLOT + TARN_EXT_UNIT &&
                   TARN_EXT_BYTE_ORDERED_MAX_SIZE + TARN_EXT_UNIT == TARN_EXT_MIN_SIZE(0) &&
                   TARN_EXT_BYTE_ORDERED_HEADER_SIZE == T_HDR * TARN_EXT_UNIT, ext_byte_ordered);
TARN_STATIC_ASSERT((TARN_EXT_BYTE_ORDERED_MAX_SIZE - T_SB) / TARN_EXT_UNIT - T_HDR < T_USED &&
                   TARN_EXT_BYTE_ORDERED_MAX_SIZE / TARN_EXT_UNIT < 16u, ext_byte_ordered_fields);

/* ---- little-endian fields and crc16 (CCITT, poly 0x1021, nibble table) ------------------ */
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static const uint16_t crc16_nib[16] = {
    0x0000u, 0x1021u, 0x2042u, 0x3063u, 0x4084u, 0x50A5u, 0x60C6u, 0x70E7u,
    0x8108u, 0x9129u, 0xA14Au, 0xB16Bu, 0xC18Cu, 0xD1ADu, 0xE1CEu, 0xF1EFu,
};
static uint16_t crc16(uint16_t crc, const uint8_t *p, size_t n)
{
    while (n-- > 0) {
        uint8_t b = *p++;
        crc = (uint16_t)((crc << 4) ^ crc16_nib[((crc >> 12) ^ (b >> 4)) & 0xFu]);
        crc = (uint16_t)((crc << 4) ^ crc16_nib[((crc >> 12) ^ b) & 0xFu]);
    }
    return crc;
}

/* crc32 (IEEE 802.3, reflected poly 0xEDB88320), nibble table. */
static const uint32_t crc32_nib[16] = {
    0x00000000u, 0x1DB71064u, 0x3B6E20C8u, 0x26D930ACu, 0x76DC4190u, 0x6B6B51F4u, 0x4DB26158u, 0x5005713Cu,
    0xEDB88320u, 0xF00F9344u, 0xD6D6A3E8u, 0xCB61B38Cu, 0x9B64C2B0u, 0x86D3D2D4u, 0xA00AE278u, 0xBDBDF21Cu,
};
static uint32_t crc32_upd(uint32_t crc, const uint8_t *p, size_t n)
{
    while (n-- > 0) {
        crc ^= *p++;
        crc = (crc >> 4) ^ crc32_nib[crc & 0xFu];
        crc = (crc >> 4) ^ crc32_nib[crc & 0xFu];
    }
    return crc;
}

/* ---- slots and records ---------------------------------------------------------------- */
/*
 * One slot at device address addr, 12 bytes: | seq | word (4 B) | crc32 (4 B) | crc16 (2 B)
 * | ~seq |.  Both check codes cover the nonce, the slot's device address, seq and word: 48
 * bits of check, enough that a slot one bit away from a valid one can be corrected (mount,
 * DESIGN 5) without a torn write ever passing for another value.  The slot ends with ~seq,
 * which is what makes a torn slot detectable (DESIGN, section 2).
 */
static void slot_checks(const tarn_ext *e, uint32_t addr, const uint8_t *seq_word, uint8_t *out)
{
    uint8_t pre[8];
    uint32_t c32;
    uint16_t c16;
    put32(pre, e->nonce);
    put32(pre + 4, addr);
    c32 = ~crc32_upd(crc32_upd(0xFFFFFFFFu, pre, sizeof pre), seq_word, 5);
    c16 = crc16(crc16(0xFFFFu, pre, sizeof pre), seq_word, 5);
    put32(out, c32);
    out[4] = (uint8_t)c16;
    out[5] = (uint8_t)(c16 >> 8);
}

/*
 * Byte-ordered format (DESIGN 1): 4-byte slots | seq | used bit, 7 bits of units | check |
 * ~seq |, the check being the low byte of the crc16 of nonce, address, seq and that byte.
 */
static uint8_t tiny_check(const tarn_ext *e, uint32_t addr, const uint8_t *seq_word)
{
    uint8_t pre[8];
    put32(pre, e->nonce);
    put32(pre + 4, addr);
    return (uint8_t)crc16(crc16(0xFFFFu, pre, sizeof pre), seq_word, 2);
}

static void slot_encode(uint8_t *out, const tarn_ext *e, uint32_t addr, uint8_t seq, uint32_t word)
{
    out[0] = seq;
    if (TINY(e)) {
        out[1] = (uint8_t)(((word & W_USED) != 0 ? T_USED : 0u) | (word & (T_USED - 1u)));
        out[2] = tiny_check(e, addr, out);
        out[3] = (uint8_t)~seq;
        return;
    }
    put32(out + 1, word);
    slot_checks(e, addr, out, out + 5);
    out[SLOT_BYTES - 1u] = (uint8_t)~seq;
}

static bool slot_valid(const uint8_t *in, const tarn_ext *e, uint32_t addr, unsigned parity)
{
    uint8_t c[6];
    if ((uint8_t)(in[SLOT_OF(e) - 1u] ^ in[0]) != 0xFFu || (in[0] & 1u) != parity) return false;
    if (TINY(e)) return in[2] == tiny_check(e, addr, in);
    slot_checks(e, addr, in, c);
    return memcmp(c, in + 5, sizeof c) == 0;
}

enum { REC_OK, REC_TORN, REC_BAD };

typedef struct rec {
    uint32_t word;   /* current value (newest valid slot) */
    uint8_t seq;     /* its seq */
    uint8_t state;   /* REC_OK, REC_TORN (one slot valid), REC_BAD */
    uint8_t bad;     /* REC_TORN: offset of the invalid slot (0 or SLOT_BYTES) */
} rec;

static void rec_decode(const uint8_t *in, const tarn_ext *e, uint32_t addr, rec *r)
{
    const uint32_t sl = SLOT_OF(e);
    bool a = slot_valid(in, e, addr, 0u);
    bool b = slot_valid(in + sl, e, addr + sl, 1u);
    const uint8_t *pick = NULL;
    r->state = REC_BAD;
    r->bad = 0;
    if (a && b) {
        if ((uint8_t)(in[sl] - in[0]) == 1u) pick = in + sl;
        else if ((uint8_t)(in[0] - in[sl]) == 1u) pick = in;
        if (pick != NULL) r->state = REC_OK;
    } else if (a || b) {
        pick = a ? in : in + sl;
        r->state = REC_TORN;
        r->bad = (uint8_t)(a ? sl : 0u);
    }
    if (pick != NULL) {
        r->seq = pick[0];
        r->word = !TINY(e) ? get32(pick + 1)
                           : ((pick[1] & T_USED) != 0 ? W_USED : 0u) | (uint32_t)(pick[1] & (T_USED - 1u));
    } else {
        r->seq = 0;
        r->word = 0;
    }
}

/*
 * A torn record (one valid slot, seq r->seq): is its invalid slot one flipped bit away
 * from a valid slot one seq newer?  Then that slot held the record's current value and was
 * damaged (or it is a commit that landed but for one bit): *fixed gets the corrected slot
 * and true is returned, and mount takes its value (DESIGN, section 5).  A slot torn by a
 * power cut is a mix of the old and the new bytes; with 48 bits of check the chance that
 * such a mix lies one bit from a third valid slot is about 2^-41.
 */
static bool rec_correct(const uint8_t *in, const tarn_ext *e, uint32_t addr, const rec *r, uint8_t *fixed)
{
    const uint8_t *bad = in + r->bad;
    const unsigned parity = r->bad != 0u ? 1u : 0u;
    unsigned i;
    if (TINY(e)) return false;       /* 8 bits of check: too weak to correct anything */
    if ((uint8_t)(r->seq + 1u) % 2u != parity) return false;
    memcpy(fixed, bad, SLOT_BYTES);
    for (i = 0; i < SLOT_BYTES * 8u; i++) {
        fixed[i / 8u] ^= (uint8_t)(1u << (i % 8u));
        if (fixed[0] == (uint8_t)(r->seq + 1u) && slot_valid(fixed, e, addr + r->bad, parity)) return true;
        fixed[i / 8u] ^= (uint8_t)(1u << (i % 8u));
    }
    return false;
}

/* ---- bus access (counted) --------------------------------------------------------------- */
static inline uint32_t dev_addr(const tarn_ext *e, uint32_t unit)
{
    return e->base + unit * TARN_EXT_UNIT;
}

static tarn_status bus_read(tarn_ext *e, uint32_t addr, void *buf, size_t n)
{
    TARN_STAT((e->n_reads++, e->read_bytes += n));
    if (e->io.read(e->io.ctx, addr, buf, n) != 0) {
        TARN_STAT(e->n_ioerr++);
        return TARN_EIO;
    }
    return TARN_OK;
}

static tarn_status bus_write(tarn_ext *e, uint32_t addr, const void *buf, size_t n)
{
    TARN_STAT((e->n_writes++, e->write_bytes += n));
    if (e->io.write(e->io.ctx, addr, buf, n) != 0) {
        TARN_STAT(e->n_ioerr++);
        return TARN_EIO;
    }
    return TARN_OK;
}

static tarn_status bus_sync(tarn_ext *e)
{
    if (e->io.sync == NULL) return TARN_OK;
    TARN_STAT(e->n_syncs++);
    if (e->io.sync(e->io.ctx) != 0) {
        TARN_STAT(e->n_ioerr++);
        return TARN_EIO;
    }
    return TARN_OK;
}

/* Write a fresh record (both slots, one transaction) at unit u: newest seq becomes 1. */
static tarn_status rec_write_fresh(tarn_ext *e, uint32_t u, uint32_t word)
{
    uint8_t buf[REC_BYTES];
    uint32_t a = dev_addr(e, u);
    slot_encode(buf, e, a, 0u, word);
    slot_encode(buf + (size_t)SLOT_OF(e), e, a + SLOT_OF(e), 1u, word);
    return bus_write(e, a, buf, (size_t)SLOT_OF(e) * 2u);
}

/* Update the record at unit u in place: overwrite its older slot with seq = newest + 1. */
static tarn_status rec_write_update(tarn_ext *e, uint32_t u, uint8_t newest, uint32_t word)
{
    uint8_t buf[SLOT_BYTES];
    uint8_t seq = (uint8_t)(newest + 1u);
    uint32_t a = dev_addr(e, u) + SLOT_OF(e) * (seq & 1u);
    slot_encode(buf, e, a, seq, word);
    return bus_write(e, a, buf, (size_t)SLOT_OF(e));
}

/* ---- superblock: two copies -------------------------------------------------------------- */
/* Bytes of one copy of e's superblock, and of both (the superblock area). */
static inline uint32_t sb_copy(const tarn_ext *e)
{
    return COMPACT(e) ? C_SB_COPY : SB_COPY;
}
static inline uint32_t sb_copies(const tarn_ext *e)
{
    return TINY(e) ? 1u : 2u;
}
static inline uint32_t super_bytes(const tarn_ext *e)
{
    return sb_copies(e) * sb_copy(e);
}

/* Check code of a copy: crc16 of the base and the body (everything but magic, check and
 * trailer), so that the pending copy (first byte changed) has the same body and check. */
static uint16_t super_crc(const tarn_ext *e, const uint8_t *body, size_t n)
{
    uint8_t pre[4];
    put32(pre, e->base);
    return crc16(crc16(0xFFFFu, pre, 4), body, n);
}

/* Compact format: crc-8 (poly 0x07) of the base, the nonce and units bytes. */
static uint8_t super_crc8(const tarn_ext *e, const uint8_t *body)
{
    uint8_t buf[6];
    uint8_t c = 0;
    unsigned i, k;
    put32(buf, e->base);
    buf[4] = body[0];
    buf[5] = body[1];
    for (i = 0; i < sizeof buf; i++) {
        c ^= buf[i];
        for (k = 0; k < 8u; k++) c = (uint8_t)((c & 0x80u) != 0 ? (unsigned)(c << 1) ^ 0x07u : (unsigned)c << 1);
    }
    return c;
}

/*
 * One copy of the superblock of e (base, nonce, units, nroots).  Normal (20 bytes): magic
 * "TEX1", nonce, units, version, nroots, crc16, ~magic.  Compact (4 bytes): | C_MAGIC |
 * nonce (low byte) | units | crc-8 of base, nonce and units |.  The
 * PENDING copy is the same with the first byte's low bit flipped ("UEX1", C_MAGIC_NEW):
 * format turns a copy into it, and back, with one-byte writes that change one bit, so no
 * tear of them is anything but the copy before or after (DESIGN, section 5).
 */
static void super_encode(uint8_t *out, const tarn_ext *e, bool pending)
{
    uint16_t c;
    if (COMPACT(e)) {
        out[0] = TINY(e) ? (pending ? T_MAGIC_NEW : T_MAGIC) : (pending ? C_MAGIC_NEW : C_MAGIC);
        out[1] = (uint8_t)e->nonce;
        out[2] = (uint8_t)e->units;
        out[3] = super_crc8(e, out + 1);
        return;
    }
    put32(out, pending ? EXT_MAGIC_NEW : EXT_MAGIC);
    put32(out + 4, e->nonce);
    put32(out + 8, e->units);
    out[12] = (uint8_t)EXT_VERSION;
    out[13] = e->nroots;
    c = super_crc(e, out + 4, 10);
    out[14] = (uint8_t)c;
    out[15] = (uint8_t)(c >> 8);
    put32(out + 16, ~(uint32_t)EXT_MAGIC);
}

enum { SB_VALID, SB_PENDING, SB_BLANK, SB_OTHER, SB_BAD };

/* What one copy holds: valid, pending (format in progress), blank (all 0xFF or all 0x00),
 * the superblock of the other format (a region of another size), or anything else. */
static int super_kind(const uint8_t *in, const tarn_ext *e)
{
    const uint32_t n = sb_copy(e);
    uint32_t i, ff = 0, zero = 0;
    uint16_t c;
    for (i = 0; i < n; i++) {
        ff += in[i] == 0xFFu;
        zero += in[i] == 0u;
    }
    if (ff == n || zero == n) return SB_BLANK;
    if (TINY(e)) {
        /* one copy: a pending first byte means a format cut before its commit, whatever
         * the rest holds (the new superblock may have been cut behind it) */
        if (get32(in) == EXT_MAGIC || (in[0] == C_MAGIC && in[3] == super_crc8(e, in + 1))) return SB_OTHER;
        if (in[0] == T_MAGIC_NEW) return SB_PENDING;
        return in[0] == T_MAGIC && in[3] == super_crc8(e, in + 1) ? SB_VALID : SB_BAD;
    }
    if (in[0] == T_MAGIC && in[3] == super_crc8(e, in + 1)) return SB_OTHER;
    if (COMPACT(e)) {
        if (get32(in) == EXT_MAGIC) return SB_OTHER;
        if ((in[0] | 1u) != C_MAGIC || in[3] != super_crc8(e, in + 1)) return SB_BAD;
        return in[0] == C_MAGIC ? SB_VALID : SB_PENDING;
    }
    if (in[0] == C_MAGIC && in[3] == super_crc8(e, in + 1)) return SB_OTHER;
    if ((get32(in) | 1u) != EXT_MAGIC_NEW || get32(in + 16) != ~(uint32_t)EXT_MAGIC) return SB_BAD;
    if (in[12] != EXT_VERSION || in[13] > TARN_EXT_MAX_ROOTS) return SB_BAD;
    c = super_crc(e, in + 4, 10);
    if (in[14] != (uint8_t)c || in[15] != (uint8_t)(c >> 8)) return SB_BAD;
    return get32(in) == EXT_MAGIC ? SB_VALID : SB_PENDING;
}

/* ---- cached free runs --------------------------------------------------------------------- */
static inline uint32_t run_cap(const tarn_ext *e, const tarn_ext_run_ *r)
{
    return r->end - r->start - HU(e);
}

/* Size class of a run: its cache slot.  Capacities 1-3 units, 4-15, 16-63, ... (powers of
 * 4); the last slot takes everything larger. */
static unsigned run_class(uint32_t cap)
{
    unsigned c = tarn_log2_u32(cap);
    return c < TARN_EXT_CACHE_RUNS ? c : TARN_EXT_CACHE_RUNS - 1u;
}

static inline bool run_used(const tarn_ext *e, unsigned i)
{
    return e->runs[i].end != 0;
}

static void run_remove(tarn_ext *e, unsigned i)
{
    e->runs[i].end = 0;
    e->nruns--;
}

/* Remember a run in the slot of its size class, unless that slot holds a larger run. */
static void run_offer(tarn_ext *e, uint32_t start, uint32_t end, uint32_t first, uint8_t seq)
{
    unsigned slot = run_class(end - start - HU(e));
    if (run_used(e, slot)) {
        if (run_cap(e, &e->runs[slot]) >= end - start - HU(e)) return;
    } else {
        e->nruns++;
    }
    e->runs[slot].start = start;
    e->runs[slot].end = end;
    e->runs[slot].first = first;
    e->run_seq[slot] = seq;
}

/* Offer a run met by a partial scan.  The scan may start or stop inside a run, so the run
 * may overlap cached ones: both are sequences of whole free blocks that share blocks, so
 * their union is one, and replaces them. */
static void run_offer_found(tarn_ext *e, uint32_t start, uint32_t end, uint32_t first, uint8_t seq)
{
    unsigned i;
    for (i = 0; i < TARN_EXT_CACHE_RUNS; i++) {
        tarn_ext_run_ c = e->runs[i];
        if (!run_used(e, i) || start >= c.end || c.start >= end) continue;
        if (c.start < start) {
            start = c.start;
            first = c.first;
            seq = e->run_seq[i];
        }
        if (c.end > end) end = c.end;
        run_remove(e, i);
    }
    run_offer(e, start, end, first, seq);
}

/* Free units (headers included) that no cached run covers: what a scan could still find. */
static uint32_t run_uncached(const tarn_ext *e)
{
    uint32_t free_units = e->units - e->heap - e->used_units;
    unsigned i;
    for (i = 0; i < TARN_EXT_CACHE_RUNS; i++) {
        if (run_used(e, i)) free_units -= e->runs[i].end - e->runs[i].start;
    }
    return free_units;
}

static void run_clear(tarn_ext *e)
{
    unsigned i;
    for (i = 0; i < TARN_EXT_CACHE_RUNS; i++) e->runs[i].end = 0;
    e->nruns = 0;
}

static int run_find_start(const tarn_ext *e, uint32_t start)
{
    unsigned i;
    for (i = 0; i < TARN_EXT_CACHE_RUNS; i++) {
        if (run_used(e, i) && e->runs[i].start == start) return (int)i;
    }
    return -1;
}

static int run_find_end(const tarn_ext *e, uint32_t end)
{
    unsigned i;
    for (i = 0; i < TARN_EXT_CACHE_RUNS; i++) {
        if (run_used(e, i) && e->runs[i].end == end) return (int)i;
    }
    return -1;
}

/* Best fit among the cached runs: smallest capacity >= need, preferring runs whose first
 * block holds the allocation (no read needed).  -1 if none fits. */
static int run_pick(const tarn_ext *e, uint32_t need)
{
    int best = -1;
    uint32_t best_key = 0;
    unsigned i;
    for (i = 0; i < TARN_EXT_CACHE_RUNS; i++) {
        const tarn_ext_run_ *r = &e->runs[i];
        uint32_t cap, key;
        if (!run_used(e, i)) continue;
        cap = run_cap(e, r);
        if (cap < need) continue;
        /* runs whose first block suffices sort before the others */
        key = cap >> 1;
        if (r->first < need) key |= 0x80000000u;
        if (best < 0 || key < best_key) {
            best = (int)i;
            best_key = key;
        }
    }
    return best;
}

/* ---- reading headers ------------------------------------------------------------------ */
typedef struct blk {
    uint32_t h;       /* header unit */
    uint32_t units;   /* payload units */
    uint8_t seq;      /* newest slot seq */
    bool used;
} blk;

/*
 * Before a torn header at h is rolled back to "free, units": the restored extent
 * [h + U_HDR, h + U_HDR + units) must hold no intact record that says "used".  A power cut
 * tears only the latest write; if that was the commit of an alloc, the extent holds only
 * stale headers (always "free", DESIGN 3) and the fresh remainder header (free).  Any used
 * header there means the newer slot was damaged long after it was written (later
 * allocations were made inside the block): rolling back would free them silently and let
 * their space be handed out twice, so mount refuses with TARN_ECORRUPT instead.  Reads the
 * extent once, in windows of SCAN_WIN units overlapping by a record; runs only on a mount
 * that finds a torn header whose older value is "free".
 */
#define SCAN_WIN 16u
TARN_STATIC_ASSERT(SCAN_WIN > U_HDR, scan_window_holds_a_record);
static tarn_status ext_hidden_used(tarn_ext *e, uint32_t lo, uint32_t hi)
{
    uint8_t buf[SCAN_WIN * TARN_EXT_UNIT];
    uint32_t u = lo;
    while (u < hi && hi - u >= HU(e) + 1u) {
        uint32_t n = hi - u < SCAN_WIN ? hi - u : SCAN_WIN;
        uint32_t k;
        tarn_status st = bus_read(e, dev_addr(e, u), buf, (size_t)n * TARN_EXT_UNIT);
        if (st != TARN_OK) return st;
        for (k = 0; k + HU(e) <= n; k++) {
            rec r;
            rec_decode(buf + (size_t)k * TARN_EXT_UNIT, e, dev_addr(e, u + k), &r);
            if (r.state == REC_OK && (r.word & W_USED) != 0) return TARN_ECORRUPT;
        }
        u += n - (HU(e) - 1u);
    }
    return TARN_OK;
}

/* Read and check the block header at unit h.  With `repair`, a torn header (one valid
 * slot) is rewritten; without, it is TARN_ECORRUPT.  *repaired is set when a write was made. */
static tarn_status blk_load(tarn_ext *e, uint32_t h, bool repair, blk *b, bool *repaired)
{
    uint8_t buf[REC_BYTES], fixed[SLOT_BYTES];
    bool corrected = false;
    rec r;
    tarn_status st;
    if (h > e->units || e->units - h < HU(e) + 1u) return TARN_ECORRUPT;
    st = bus_read(e, dev_addr(e, h), buf, (size_t)HU(e) * TARN_EXT_UNIT);
    if (st != TARN_OK) return st;
    rec_decode(buf, e, dev_addr(e, h), &r);
    if (r.state == REC_BAD) return TARN_ECORRUPT;
    if (r.state == REC_TORN && !repair) return TARN_ECORRUPT;
    if (r.state == REC_TORN && rec_correct(buf, e, dev_addr(e, h), &r, fixed)) {
        corrected = true;              /* the newer slot, one bit off: its value is current */
        r.seq = fixed[0];
        r.word = get32(fixed + 1);
    }
    if ((r.word & W_RSVD) != 0 || (r.word & W_UNITS) == 0 ||
        (r.word & W_UNITS) > e->units - h - HU(e)) {
        return TARN_ECORRUPT;
    }
    if (corrected) {
        st = bus_write(e, dev_addr(e, h) + r.bad, fixed, SLOT_BYTES);
        if (st != TARN_OK) return st;
        TARN_STAT(e->n_repairs++);
        *repaired = true;
    } else if (r.state == REC_TORN) {
        if ((r.word & W_USED) == 0) {
            st = ext_hidden_used(e, h + HU(e), h + HU(e) + (r.word & W_UNITS));
            if (st != TARN_OK) return st;
        }
        st = rec_write_update(e, h, r.seq, r.word);
        if (st != TARN_OK) return st;
        r.seq = (uint8_t)(r.seq + 1u);
        TARN_STAT(e->n_repairs++);
        *repaired = true;
    }
    b->h = h;
    b->units = r.word & W_UNITS;
    b->seq = r.seq;
    b->used = (r.word & W_USED) != 0;
    return TARN_OK;
}

/* O(1) classification of an address handed back: the live block whose data starts at addr.
 * TARN_EFOREIGN (not a block start), TARN_EDOUBLE (a header that says free), TARN_EIO. */
static tarn_status ext_locate(tarn_ext *e, uint32_t addr, blk *b)
{
    uint32_t off, pu;
    bool dummy = false;
    tarn_status st;
    if (addr < e->base) return TARN_EFOREIGN;
    off = addr - e->base;
    if ((off & (TARN_EXT_UNIT - 1u)) != 0) return TARN_EFOREIGN;
    pu = off / TARN_EXT_UNIT;
    if (pu < e->heap + HU(e) || pu >= e->units) return TARN_EFOREIGN;
    st = blk_load(e, pu - HU(e), false, b, &dummy);
    if (st == TARN_ECORRUPT) return TARN_EFOREIGN;   /* not a header: inside a block */
    if (st != TARN_OK) return st;
    return b->used ? TARN_OK : TARN_EDOUBLE;
}

/* ---- whole-device scans ------------------------------------------------------------------ */
enum { SCAN_MOUNT, SCAN_RESCAN, SCAN_CHECK, SCAN_WALK };

typedef struct scan_ctx {
    tarn_ext_walk_fn fn;
    void *arg;
} scan_ctx;

/*
 * Walk every header from the heap start.
 *  SCAN_MOUNT:  repair torn headers, recount, rebuild the cached runs, check the roots.
 *  SCAN_RESCAN: rebuild the cached runs (and check the counters).
 *  SCAN_CHECK:  check counters, cached runs and roots against the device.
 *  SCAN_WALK:   call the user's function.
 */
static tarn_status ext_scan(tarn_ext *e, int mode, const scan_ctx *sc, bool *repaired)
{
    uint32_t h = e->heap;
    uint32_t nlive = 0, nunits = 0, nused = 0, maxcap = 0;
    uint64_t roots_found = 0;     /* root i names a used block */
    uint64_t run_ok = 0;          /* SCAN_CHECK: cached run i starts and ends at headers */
    uint64_t run_start = 0;
    bool cursor_ok = false;
    bool open = false;
    uint32_t r_start = 0, r_first = 0, r_end = 0;
    uint8_t r_seq = 0;
    unsigned i;
    bool stop = false;
    tarn_status st;

    if (mode == SCAN_MOUNT || mode == SCAN_RESCAN) {
        run_clear(e);
        e->cursor = e->heap;
    }
    while (h < e->units && !stop) {
        blk b;
        uint32_t next;
        st = blk_load(e, h, mode == SCAN_MOUNT, &b, repaired);
        if (st != TARN_OK) return st;
        next = h + HU(e) + b.units;
        if (h == e->cursor) cursor_ok = true;
        if (mode == SCAN_WALK) {
            stop = !sc->fn(sc->arg, dev_addr(e, h + HU(e)), (size_t)b.units * TARN_EXT_UNIT, b.used);
        } else if (mode == SCAN_CHECK) {
            for (i = 0; i < TARN_EXT_CACHE_RUNS; i++) {
                const tarn_ext_run_ *r = &e->runs[i];
                if (!run_used(e, i)) continue;
                if (h == r->start) {
                    if (b.used || b.units != r->first || b.seq != e->run_seq[i]) return TARN_ECORRUPT;
                    run_start |= (uint64_t)1 << i;
                }
                if (h >= r->start && h < r->end) {
                    if (b.used || next > r->end) return TARN_ECORRUPT;
                    if (next == r->end) run_ok |= (uint64_t)1 << i;
                }
            }
        }
        if (b.used) {
            nlive++;
            nunits += b.units;
            nused += HU(e) + b.units;
            for (i = 0; i < (unsigned)e->nroots; i++) {
                if (e->roots[i] == dev_addr(e, h + HU(e))) roots_found |= (uint64_t)1 << i;
            }
            if (open && (mode == SCAN_MOUNT || mode == SCAN_RESCAN)) {
                run_offer(e, r_start, r_end, r_first, r_seq);
                if (r_end - r_start - HU(e) > maxcap) maxcap = r_end - r_start - HU(e);
            }
            open = false;
        } else if (!open) {
            open = true;
            r_start = h;
            r_first = b.units;
            r_seq = b.seq;
            r_end = next;
        } else {
            r_end = next;
        }
        h = next;
    }
    if (mode == SCAN_WALK) return TARN_OK;
    if (h != e->units) return TARN_ECORRUPT;
    if (open && (mode == SCAN_MOUNT || mode == SCAN_RESCAN)) {
        run_offer(e, r_start, r_end, r_first, r_seq);
        if (r_end - r_start - HU(e) > maxcap) maxcap = r_end - r_start - HU(e);
    }
    for (i = 0; i < (unsigned)e->nroots; i++) {
        if (e->roots[i] != 0 && (roots_found & ((uint64_t)1 << i)) == 0) return TARN_ECORRUPT;
    }
    if (mode == SCAN_MOUNT) {
        e->live_blocks = nlive;
        e->live_units = nunits;
        e->used_units = nused;
    } else if (nlive != e->live_blocks || nunits != e->live_units || nused != e->used_units) {
        return TARN_ECORRUPT;
    }
    if (mode == SCAN_MOUNT || mode == SCAN_RESCAN) {
        e->nomem_above = maxcap;
    } else if (mode == SCAN_CHECK) {
        if (!cursor_ok && e->cursor != e->units && e->cursor != e->heap) return TARN_ECORRUPT;
        for (i = 0; i < TARN_EXT_CACHE_RUNS; i++) {     /* cached runs are disjoint */
            unsigned j;
            for (j = i + 1; run_used(e, i) && j < TARN_EXT_CACHE_RUNS; j++) {
                if (run_used(e, j) && e->runs[i].start < e->runs[j].end && e->runs[j].start < e->runs[i].end) {
                    return TARN_ECORRUPT;
                }
            }
        }
        for (i = 0; i < TARN_EXT_CACHE_RUNS; i++) {
            if (run_used(e, i) && ((run_ok & run_start) & ((uint64_t)1 << i)) == 0) return TARN_ECORRUPT;
            if (run_used(e, i) && run_class(run_cap(e, &e->runs[i])) != i) return TARN_ECORRUPT;
        }
    }
    return TARN_OK;
}

/*
 * Partial scan from the cursor (DESIGN, section 6): read up to `budget` headers, offering
 * every run met to the cache, and stop early once a run of `lo` to `hi` units has been
 * offered.  *covered counts the units scanned (over successive calls); *cycle is set once
 * it reaches the whole heap.  The cursor always rests on a live header.
 */
static tarn_status ext_scan_step(tarn_ext *e, uint32_t lo, uint32_t hi, uint32_t budget, uint32_t *covered,
                                 bool *cycle)
{
    uint32_t h = e->cursor, heap_units = e->units - e->heap;
    bool open = false, found = false;
    uint32_t r_start = 0, r_first = 0, r_end = 0;
    uint8_t r_seq = 0;
    tarn_status st = TARN_OK;

    *cycle = false;
    while (budget > 0 && !found && !*cycle) {
        blk b;
        bool dummy = false;
        if (h >= e->units) h = e->heap;
        st = blk_load(e, h, false, &b, &dummy);
        if (st != TARN_OK) break;
        budget--;
        if (b.used) {
            if (open) {
                run_offer_found(e, r_start, r_end, r_first, r_seq);
                open = false;
            }
        } else {
            if (!open) {
                open = true;
                r_start = h;
                r_first = b.units;
                r_seq = b.seq;
            }
            r_end = h + HU(e) + b.units;
            found = r_end - r_start - HU(e) >= lo && r_end - r_start - HU(e) < hi;
        }
        *covered += HU(e) + b.units;
        h += HU(e) + b.units;
        if (h >= e->units && open) {        /* runs end at the heap end */
            run_offer_found(e, r_start, r_end, r_first, r_seq);
            open = false;
        }
        if (*covered >= heap_units) *cycle = true;
    }
    if (open) run_offer_found(e, r_start, r_end, r_first, r_seq);
    e->cursor = h >= e->units ? e->heap : h;
    return st;
}

/*
 * Read and check the superblock (both copies).  SB_FIRST (mount): adopt its nonce and
 * roots count.  SB_RESYNC: require them unchanged.  With both, a copy that is not intact
 * while the other is gets rewritten by ext_super_fix once the rest of the region has been
 * found sound (*fix: its offset, else UINT32_MAX).  SB_CHECK: require both copies intact
 * and equal.  Writes nothing.
 * No intact copy: TARN_ENOENT when a copy is blank or pending (nothing formatted, or a format
 * cut before its commit), TARN_EINVAL when a copy is the other format's (another size),
 * TARN_ECORRUPT otherwise.
 */
enum { SB_FIRST, SB_RESYNC, SB_CHECK };
static tarn_status ext_read_super(tarn_ext *e, int mode, uint32_t *fix)
{
    uint8_t sb[SUPER_BYTES];
    const uint32_t n = sb_copy(e);
    const uint8_t *use;
    int ka, kb;
    tarn_status st = bus_read(e, e->base, sb, super_bytes(e));
    if (st != TARN_OK) return st;
    ka = super_kind(sb, e);
    kb = TINY(e) ? ka : super_kind(sb + n, e);     /* byte-ordered format: one copy */
    if (!TINY(e) && ka == SB_VALID && kb == SB_VALID && memcmp(sb, sb + n, n) != 0) return TARN_ECORRUPT;
    if (ka != SB_VALID && kb != SB_VALID) {
        if (mode != SB_FIRST) return TARN_ECORRUPT;
        if (ka == SB_OTHER || kb == SB_OTHER) return TARN_EINVAL;
        if (ka == SB_BLANK || ka == SB_PENDING || kb == SB_BLANK || kb == SB_PENDING) return TARN_ENOENT;
        return TARN_ECORRUPT;
    }
    if (mode == SB_CHECK && (ka != SB_VALID || kb != SB_VALID)) return TARN_ECORRUPT;
    use = ka == SB_VALID ? sb : sb + n;
    if (COMPACT(e)) {                  /* compact: no roots, heap after the superblock */
        if (use[2] != e->units) return mode == SB_FIRST ? TARN_EINVAL : TARN_ECORRUPT;
        if (mode == SB_FIRST) e->nonce = use[1];
        else if (use[1] != (uint8_t)e->nonce) return TARN_ECORRUPT;
    } else if (mode == SB_FIRST) {
        if (get32(use + 8) != e->units) return TARN_EINVAL;
        e->nonce = get32(use + 4);
        e->nroots = use[13];
        e->heap = (SUPER_BYTES + REC_BYTES * (uint32_t)e->nroots) / TARN_EXT_UNIT;
        if (e->units < e->heap + HU(e) + 1u) return TARN_ECORRUPT;
    } else if (get32(use + 4) != e->nonce || get32(use + 8) != e->units || use[13] != e->nroots) {
        return TARN_ECORRUPT;
    }
    if (ka == SB_VALID && kb == SB_VALID) {
        *fix = UINT32_MAX;                 /* both copies good: nothing to rewrite */
    } else {
        *fix = (ka == SB_VALID) ? n : 0u;  /* the offset of the damaged copy */
    }
    return TARN_OK;
}

/* Rewrite the superblock copy at offset `fix` (damaged, or pending from a format given up)
 * from the intact one. */
static tarn_status ext_super_fix(tarn_ext *e, uint32_t fix)
{
    uint8_t sb[SB_COPY];
    tarn_status st;
    super_encode(sb, e, false);
    st = bus_write(e, e->base + fix, sb, sb_copy(e));
    if (st == TARN_OK) TARN_STAT(e->n_repairs++);
    return st;
}

/* Rebuild the whole RAM state from the device (mount, and re-sync after an I/O error). */
static tarn_status ext_mount_core(tarn_ext *e, bool first)
{
    uint8_t rb[REC_BYTES * (TARN_EXT_MAX_ROOTS > 0 ? TARN_EXT_MAX_ROOTS : 1)];
    uint8_t fixed[SLOT_BYTES];
    bool repaired = false;
    uint32_t fix = UINT32_MAX;
    unsigned i;
    tarn_status st = ext_read_super(e, first ? SB_FIRST : SB_RESYNC, &fix);
    if (st != TARN_OK) return st;
    if (e->nroots > 0) {
        st = bus_read(e, dev_addr(e, SUPER_BYTES / TARN_EXT_UNIT), rb, REC_BYTES * (size_t)e->nroots);
        if (st != TARN_OK) return st;
    }
    for (i = 0; i < (unsigned)e->nroots; i++) {
        uint32_t u = (SUPER_BYTES + REC_BYTES * (uint32_t)i) / TARN_EXT_UNIT;
        rec r;
        rec_decode(rb + REC_BYTES * (size_t)i, e, dev_addr(e, u), &r);
        if (r.state == REC_BAD) return TARN_ECORRUPT;
        if (r.state == REC_TORN && rec_correct(rb + REC_BYTES * (size_t)i, e, dev_addr(e, u), &r, fixed)) {
            /* the newer slot, one bit off: its value is the current one; rewrite it */
            st = bus_write(e, dev_addr(e, u) + r.bad, fixed, SLOT_BYTES);
            if (st != TARN_OK) return st;
            r.seq = fixed[0];
            r.word = get32(fixed + 1);
            TARN_STAT(e->n_repairs++);
            repaired = true;
        } else if (r.state == REC_TORN) {
            st = rec_write_update(e, u, r.seq, r.word);
            if (st != TARN_OK) return st;
            r.seq = (uint8_t)(r.seq + 1u);
            TARN_STAT(e->n_repairs++);
            repaired = true;
        }
        e->roots[i] = r.word;
        e->root_seq[i] = r.seq;
    }
    st = ext_scan(e, SCAN_MOUNT, NULL, &repaired);
    if (st != TARN_OK) return st;
    if (fix != UINT32_MAX) {
        st = ext_super_fix(e, fix);
        if (st != TARN_OK) return st;
        repaired = true;
    }
    if (repaired) {
        st = bus_sync(e);
        if (st != TARN_OK) return st;
    }
    e->state = ST_MOUNTED;
    return TARN_OK;
}

/* After a failed write or sync: re-read the RAM state from the device now if possible. */
static tarn_status ext_io_failed(tarn_ext *e)
{
    e->state = ST_RESYNC;
    run_clear(e);
    e->cursor = e->heap;
    e->nomem_above = UINT32_MAX;
    (void)ext_mount_core(e, false);
    return TARN_EIO;
}

/* Entry check of every operation on a mounted region. */
static tarn_status ext_ready(tarn_ext *e)
{
    if (e->state == ST_MOUNTED) return TARN_OK;
    if (e->state == ST_RESYNC) {
        tarn_status st = ext_mount_core(e, false);
        if (st != TARN_OK) {
            e->state = ST_RESYNC;
            run_clear(e);
        }
        return st;
    }
    return TARN_EINVAL;
}

static inline tarn_status ext_fail(tarn_ext *e, tarn_status st)
{
    if (st != TARN_OK) {
        TARN_ERR_SET(e->last_error, (uint8_t)st);
        TARN_STAT(e->n_failed++);
    }
    return st;
}

/* A call refused for a bad argument other than the manager itself: counted and recorded
 * like every failed call, under the lock. */
static tarn_status ext_refuse(tarn_ext *e)
{
    tarn_status st;
    TARN_LOCK(e->lock);
    st = ext_fail(e, TARN_EINVAL);
    TARN_UNLOCK(e->lock);
    return st;
}

#if TARN_CHECK_LEVEL >= 2
#define EXT_DEEP_CHECK(e)                                                    \
    do {                                                                     \
        bool r_ = false;                                                     \
        TARN_ASSERT(ext_scan((e), SCAN_CHECK, NULL, &r_) != TARN_ECORRUPT); \
        (void)r_;                                                            \
    } while (0)
#else
#define EXT_DEEP_CHECK(e) ((void)0)
#endif

/* ---- format and mount ------------------------------------------------------------------ */
static tarn_status ext_setup(tarn_ext *e, const tarn_ext_io *io, uint32_t base, uint64_t size,
                             const tarn_config *cfg)
{
    if (cfg != NULL && !tarn_lock_valid(&cfg->lock)) return TARN_EINVAL;
    if (io == NULL || io->read == NULL || io->write == NULL) return TARN_EINVAL;
    if ((base & (TARN_EXT_UNIT - 1u)) != 0 || (size & (TARN_EXT_UNIT - 1u)) != 0) return TARN_EALIGN;
    if (size > TARN_EXT_MAX_SIZE || (uint64_t)base + size > TARN_EXT_MAX_SIZE) return TARN_ERANGE;
    if (size < TARN_EXT_BYTE_ORDERED_MIN_SIZE) return TARN_ETOOSMALL;
    memset(e, 0, sizeof *e);
    e->io = *io;
    e->base = base;
    e->units = (uint32_t)(size / TARN_EXT_UNIT);
    e->compact = (uint8_t)(size < TARN_EXT_MIN_SIZE(0) ? F_TINY : size <= TARN_EXT_COMPACT_MAX_SIZE ? F_COMPACT : 0u);
    e->hu = (uint8_t)(TINY(e) ? T_HDR : U_HDR);
    e->heap = super_bytes(e) / TARN_EXT_UNIT;
    e->nomem_above = UINT32_MAX;
    if (cfg != NULL) {
        e->lock = cfg->lock;
        e->name = cfg->name;
    }
    return TARN_OK;
}

tarn_status tarn_ext_format(tarn_ext *ext, const tarn_ext_io *io, uint32_t base, uint64_t size,
                            unsigned nroots, const tarn_config *cfg)
{
    uint8_t buf[REC_BYTES * (TARN_EXT_MAX_ROOTS > 0 ? TARN_EXT_MAX_ROOTS : 1)];
    uint8_t sb[SUPER_BYTES];
    uint32_t nonce, first, n, ncopies;
    int kind[2];
    unsigned i;
    tarn_status st;

    if (ext == NULL) return TARN_EINVAL;
    ext->state = ST_NONE;
    if (nroots > TARN_EXT_MAX_ROOTS) return TARN_EINVAL;
    st = ext_setup(ext, io, base, size, cfg);
    if (st != TARN_OK) return st;
    /* below TARN_EXT_MIN_SIZE(0): only with the caller's word that the device is byte-ordered */
    if (TINY(ext) && (cfg == NULL || (cfg->flags & TARN_EXT_F_BYTE_ORDERED) == 0u)) return TARN_ETOOSMALL;
    if (!TINY(ext) && size < TARN_EXT_MIN_SIZE(nroots)) return TARN_ETOOSMALL;
    if (TINY(ext) && nroots > 0u) return TARN_ETOOSMALL;
    ext->nroots = (uint8_t)nroots;
    ext->heap = (super_bytes(ext) + REC_BYTES * (uint32_t)nroots) / TARN_EXT_UNIT;

    /* A new nonce: the old one + 1 when a superblock copy is there (intact or pending),
     * else a hash of the bytes found, so that headers of an earlier format never validate
     * under this one. */
    memset(sb, 0, sizeof sb);
    st = bus_read(ext, base, sb, super_bytes(ext));
    if (st != TARN_OK) return st;
    n = sb_copy(ext);
    ncopies = sb_copies(ext);
    kind[0] = super_kind(sb, ext);
    kind[1] = ncopies > 1u ? super_kind(sb + n, ext) : SB_BLANK;
    if (kind[0] <= SB_PENDING || kind[1] <= SB_PENDING) {
        const uint8_t *c = kind[0] <= SB_PENDING ? sb : sb + n;
        nonce = (COMPACT(ext) ? c[1] : get32(c + 4)) + 1u;
    } else {
        uint8_t pre[8];
        put32(pre, base);
        put32(pre + 4, ext->units);
        nonce = ((uint32_t)crc16(0x1D0Fu, sb, sizeof sb) << 16) | crc16(0xFFFFu, pre, sizeof pre);
        nonce ^= get32(sb + 4);
    }
    ext->nonce = COMPACT(ext) ? (uint8_t)nonce : nonce;

    /* (DESIGN, section 5)
     * 1. each intact copy becomes pending: one byte, one bit changed (atomic);
     * 2. copy A, then copy B, becomes the new superblock, pending (each write is torn
     *    while the other copy is pending or blank, or the old one intact);
     * 3. roots and the one free block;
     * 4. the commit: copy A's first byte becomes valid (one bit), then copy B's. */
    for (i = 0; st == TARN_OK && i < ncopies; i++) {
        if (kind[i] == SB_VALID) {
            uint8_t b = TINY(ext) ? (uint8_t)T_MAGIC_NEW : COMPACT(ext) ? (uint8_t)C_MAGIC_NEW : (uint8_t)EXT_MAGIC_NEW;
            st = bus_write(ext, base + n * i, &b, 1);
        }
    }
    if (st == TARN_OK && (kind[0] == SB_VALID || kind[1] == SB_VALID)) st = bus_sync(ext);
    super_encode(sb, ext, true);
    for (i = 0; st == TARN_OK && i < ncopies; i++) {
        st = bus_write(ext, base + n * i, sb, n);
        if (st == TARN_OK) st = bus_sync(ext);
    }
    for (i = 0; st == TARN_OK && i < nroots; i++) {
        uint32_t a = dev_addr(ext, (SUPER_BYTES + REC_BYTES * (uint32_t)i) / TARN_EXT_UNIT);
        slot_encode(buf + REC_BYTES * (size_t)i, ext, a, 0u, 0u);
        slot_encode(buf + REC_BYTES * (size_t)i + SLOT_BYTES, ext, a + SLOT_BYTES, 1u, 0u);
        ext->roots[i] = 0;
        ext->root_seq[i] = 1u;
    }
    if (st == TARN_OK && nroots > 0) {
        st = bus_write(ext, dev_addr(ext, SUPER_BYTES / TARN_EXT_UNIT), buf, REC_BYTES * (size_t)nroots);
    }
    first = ext->units - ext->heap - HU(ext);
    if (st == TARN_OK) st = rec_write_fresh(ext, ext->heap, first);
    if (st == TARN_OK) st = bus_sync(ext);
    super_encode(sb, ext, false);
    for (i = 0; st == TARN_OK && i < ncopies; i++) {
        st = bus_write(ext, base + n * i, sb, 1);
        if (st == TARN_OK) st = bus_sync(ext);
    }
    if (st != TARN_OK) return st;

    run_clear(ext);
    run_offer(ext, ext->heap, ext->units, first, 1u);
    ext->cursor = ext->heap;
    ext->nomem_above = first;
    ext->state = ST_MOUNTED;
    return TARN_OK;
}

tarn_status tarn_ext_mount(tarn_ext *ext, const tarn_ext_io *io, uint32_t base, uint64_t size,
                           const tarn_config *cfg)
{
    tarn_status st;
    if (ext == NULL) return TARN_EINVAL;
    ext->state = ST_NONE;
    st = ext_setup(ext, io, base, size, cfg);
    if (st != TARN_OK) return st;
    st = ext_mount_core(ext, true);
    if (st != TARN_OK) {
        ext->state = ST_NONE;
        TARN_ERR_SET(ext->last_error, (uint8_t)st);
    }
    return st;
}

/* ---- alloc ----------------------------------------------------------------------------- */
/*
 * The commit write of an alloc, or its sync, failed: the allocation may be on the device
 * (the write may have landed, wholly or torn).  Re-read the state (as mount does, which
 * rolls a torn commit back or forward) and look: if header h is now "used, units", the
 * allocation exists and is handed over (TARN_OK: nothing happened that the caller must
 * handle); if not, nothing was allocated (TARN_EIO, *addr 0).  If the re-read fails, the
 * outcome is unknown: TARN_EIO with *addr set to the address the allocation would have, so
 * that the caller can release it (tarn_ext_free answers TARN_OK, or TARN_EDOUBLE if it was
 * never made) - it is never leaked out of reach.  ext.h states this contract.
 */
static tarn_status ext_alloc_failed(tarn_ext *e, uint32_t h, uint32_t units, uint32_t *addr)
{
    blk b;
    bool dummy = false;
    tarn_status st;
    (void)ext_io_failed(e);
    st = e->state == ST_MOUNTED ? blk_load(e, h, false, &b, &dummy) : TARN_EIO;
    if (st == TARN_OK && b.used && b.units == units) {
        *addr = dev_addr(e, h + HU(e));
        return TARN_OK;
    }
    if (st == TARN_EIO) {
        if (e->state == ST_MOUNTED) e->state = ST_RESYNC;   /* re-read again before the next call */
        *addr = dev_addr(e, h + HU(e));
    }
    return TARN_EIO;
}

static tarn_status ext_alloc_run(tarn_ext *e, unsigned ri, uint32_t need, uint32_t *addr)
{
    const tarn_ext_run_ R = e->runs[ri];
    const uint8_t a_seq = e->run_seq[ri];
    const uint32_t a = R.start;
    uint32_t r = a + HU(e) + need;
    uint32_t blk_h = a, blk_next = a + HU(e) + R.first;
    uint8_t blk_seq = a_seq;
    enum { NONE, FRESH, UPDATE } kind = NONE;
    uint8_t rem_seq = 0;
    tarn_status st;

    /* Where does the remainder's header go?  (see DESIGN, section 3) */
    if (R.end - r < HU(e) + 1u) {
        r = R.end;
    } else {
        for (;;) {
            if (r >= blk_next) {
                blk b;
                bool dummy = false;
                if (blk_next >= R.end) return TARN_ECORRUPT;
                st = blk_load(e, blk_next, false, &b, &dummy);
                if (st != TARN_OK) return st;
                if (b.used || blk_next + HU(e) + b.units > R.end) return TARN_ECORRUPT;
                blk_h = blk_next;
                blk_seq = b.seq;
                blk_next = blk_h + HU(e) + b.units;
                continue;
            }
            if (r == blk_h) {               /* exactly a later header of the run */
                kind = UPDATE;
                break;
            }
            if (r < blk_h + HU(e)) r = blk_h + HU(e);   /* never over a header's bytes */
            if (r + HU(e) <= blk_next) {    /* room for a fresh header in this block */
                if (R.end - r >= HU(e) + 1u) kind = FRESH;
                else r = R.end;
                break;
            }
            r = blk_next;                   /* try the next header */
            if (R.end - r < HU(e) + 1u) {
                r = R.end;
                break;
            }
        }
    }

    if (kind == FRESH) {
        st = rec_write_fresh(e, r, R.end - r - HU(e));
        rem_seq = 1u;
    } else if (kind == UPDATE) {
        st = rec_write_update(e, r, blk_seq, R.end - r - HU(e));
        rem_seq = (uint8_t)(blk_seq + 1u);
    } else {
        st = TARN_OK;
    }
    if (st == TARN_OK && kind != NONE) st = bus_sync(e);
    if (st != TARN_OK) return ext_io_failed(e);          /* the commit was not issued */
    st = rec_write_update(e, a, a_seq, W_USED | (r - a - HU(e)));   /* commit */
    if (st == TARN_OK) st = bus_sync(e);
    if (st != TARN_OK) return ext_alloc_failed(e, a, r - a - HU(e), addr);

    run_remove(e, ri);
    if (r < R.end) run_offer(e, r, R.end, R.end - r - HU(e), rem_seq);
    if (e->cursor > a && e->cursor < R.end && e->cursor != r) e->cursor = a;   /* absorbed */
    e->live_blocks++;
    e->live_units += r - a - HU(e);
    e->used_units += r - a;
    *addr = dev_addr(e, a + HU(e));
    return TARN_OK;
}

tarn_status tarn_ext_alloc(tarn_ext *ext, size_t size, uint32_t *addr)
{
    tarn_status st;
    uint32_t need;
    int ri;
    if (addr != NULL) *addr = 0;
    if (ext == NULL) return TARN_EINVAL;
    TARN_LOCK(ext->lock);
    st = ext_ready(ext);
    if (st == TARN_OK && (addr == NULL || size == 0)) st = TARN_EINVAL;
    if (st == TARN_OK && size > (size_t)(ext->units - ext->heap - HU(ext)) * TARN_EXT_UNIT) st = TARN_ENOMEM;
    if (st == TARN_OK) {
        need = (uint32_t)((size + TARN_EXT_UNIT - 1u) / TARN_EXT_UNIT);
        if (need > ext->nomem_above) {
            st = TARN_ENOMEM;
        } else {
            bool cycle = false;
            uint32_t covered = 0;
            uint32_t uncached = run_uncached(ext);
            ri = run_pick(ext, need);
            if (uncached >= need + HU(ext) &&
                (ri < 0 || run_class(run_cap(ext, &ext->runs[ri])) >= run_class(need) + EXT_LOOSE)) {
                /* nothing cached fits, or only a much larger run: first look a little
                 * further for a close fit */
                uint32_t hi = need < (UINT32_MAX >> EXT_LOOSE) ? need << EXT_LOOSE : UINT32_MAX;
                st = ext_scan_step(ext, need, hi, TARN_EXT_FIT_READS, &covered, &cycle);
                ri = run_pick(ext, need);
            }
            while (st == TARN_OK && ri < 0 && !cycle && run_uncached(ext) > 0) {
                /* nothing cached fits: scan on until something does, at most once round */
                st = ext_scan_step(ext, need, UINT32_MAX, UINT32_MAX, &covered, &cycle);
                ri = run_pick(ext, need);
            }
            if (st == TARN_OK && ri < 0) {
                /* once round without a fit (runs cut by the cursor may hide one): an exact
                 * full scan decides, and remembers the largest run for later requests */
                bool dummy = false;
                TARN_STAT(ext->n_rescans++);
                st = ext_scan(ext, SCAN_RESCAN, NULL, &dummy);
                ri = run_pick(ext, need);
                if (st == TARN_OK && ri < 0) st = TARN_ENOMEM;
            }
            if (st != TARN_OK && st != TARN_ENOMEM) {
                run_clear(ext);
                ext->cursor = ext->heap;
                ext->nomem_above = UINT32_MAX;
            }
            if (st == TARN_OK) st = ext_alloc_run(ext, (unsigned)ri, need, addr);
            if (st == TARN_OK) TARN_STAT(ext->n_allocs++);
        }
    }
    EXT_DEEP_CHECK(ext);
    st = ext_fail(ext, st);
    TARN_UNLOCK(ext->lock);
    return st;
}

/* ---- free ------------------------------------------------------------------------------- */
static tarn_status ext_free_blk(tarn_ext *e, const blk *b)
{
    uint32_t next = b->h + HU(e) + b->units;
    uint32_t first = b->units, run_end = next;
    uint8_t seq = (uint8_t)(b->seq + 1u);
    int i;
    tarn_status st;

    if (next < e->units) {
        blk n;
        bool dummy = false;
        st = blk_load(e, next, false, &n, &dummy);
        if (st != TARN_OK) return st;
        if (!n.used) {
            first += HU(e) + n.units;       /* forward merge, same single write */
            run_end = next + HU(e) + n.units;
        }
    }
    st = rec_write_update(e, b->h, b->seq, first);   /* commit */
    if (st == TARN_OK) st = bus_sync(e);
    if (st != TARN_OK) return ext_io_failed(e);

    e->live_blocks--;
    e->live_units -= b->units;
    e->used_units -= HU(e) + b->units;
    e->nomem_above = UINT32_MAX;
    if (run_end != next && e->cursor == next) e->cursor = b->h;   /* absorbed */
    /* a cached run starting at the absorbed block continues after it */
    if (run_end != next && (i = run_find_start(e, next)) >= 0) {
        run_end = e->runs[i].end;
        run_remove(e, (unsigned)i);
    }
    /* a cached run ending here grows over the freed block (merged in RAM only) */
    if ((i = run_find_end(e, b->h)) >= 0) {
        tarn_ext_run_ p = e->runs[i];
        uint8_t pseq = e->run_seq[i];
        run_remove(e, (unsigned)i);
        run_offer(e, p.start, run_end, p.first, pseq);
    } else {
        run_offer(e, b->h, run_end, first, seq);
    }
    return TARN_OK;
}

tarn_status tarn_ext_free(tarn_ext *ext, uint32_t addr)
{
    tarn_status st;
    blk b;
    unsigned i;
    if (ext == NULL) return TARN_EINVAL;
    TARN_LOCK(ext->lock);
    st = ext_ready(ext);
    if (st == TARN_OK) st = ext_locate(ext, addr, &b);
    for (i = 0; st == TARN_OK && i < (unsigned)ext->nroots; i++) {
        if (ext->roots[i] == addr) st = TARN_EBUSY;
    }
    if (st == TARN_OK) st = ext_free_blk(ext, &b);
    if (st == TARN_OK) TARN_STAT(ext->n_frees++);
    EXT_DEEP_CHECK(ext);
    st = ext_fail(ext, st);
    TARN_UNLOCK(ext->lock);
    return st;
}

/* ---- size, read, write --------------------------------------------------------------- */
static tarn_status ext_locate_live(tarn_ext *e, uint32_t addr, blk *b)
{
    tarn_status st = ext_ready(e);
    if (st == TARN_OK) st = ext_locate(e, addr, b);
    return st == TARN_EDOUBLE ? TARN_EFOREIGN : st;
}

tarn_status tarn_ext_size(tarn_ext *ext, uint32_t addr, size_t *size)
{
    tarn_status st;
    blk b;
    if (size != NULL) *size = 0;
    if (ext == NULL) return TARN_EINVAL;
    if (size == NULL) return ext_refuse(ext);
    TARN_LOCK(ext->lock);
    st = ext_locate_live(ext, addr, &b);
    if (st == TARN_OK) *size = (size_t)b.units * TARN_EXT_UNIT;
    st = ext_fail(ext, st);
    TARN_UNLOCK(ext->lock);
    return st;
}

static tarn_status ext_data(tarn_ext *e, uint32_t addr, size_t off, void *rbuf, const void *wbuf,
                            size_t n)
{
    blk b;
    size_t sz;
    tarn_status st = ext_locate_live(e, addr, &b);
    if (st != TARN_OK) return st;
    sz = (size_t)b.units * TARN_EXT_UNIT;
    if (off > sz || n > sz - off) return TARN_ERANGE;
    if (n == 0) return TARN_OK;
    if (rbuf != NULL) return bus_read(e, addr + (uint32_t)off, rbuf, n);
    st = bus_write(e, addr + (uint32_t)off, wbuf, n);
    if (st == TARN_OK) st = bus_sync(e);
    return st;
}

tarn_status tarn_ext_read(tarn_ext *ext, uint32_t addr, size_t off, void *buf, size_t n)
{
    tarn_status st;
    if (ext == NULL) return TARN_EINVAL;
    if ((buf == NULL && n > 0)) return ext_refuse(ext);
    TARN_LOCK(ext->lock);
    st = ext_fail(ext, ext_data(ext, addr, off, buf != NULL ? buf : (void *)&st, NULL, n));
    TARN_UNLOCK(ext->lock);
    return st;
}

tarn_status tarn_ext_write(tarn_ext *ext, uint32_t addr, size_t off, const void *buf, size_t n)
{
    tarn_status st;
    if (ext == NULL) return TARN_EINVAL;
    if ((buf == NULL && n > 0)) return ext_refuse(ext);
    TARN_LOCK(ext->lock);
    st = ext_fail(ext, ext_data(ext, addr, off, NULL, buf != NULL ? buf : (const void *)&st, n));
    TARN_UNLOCK(ext->lock);
    return st;
}

/* ---- roots ----------------------------------------------------------------------------- */
tarn_status tarn_ext_root_set(tarn_ext *ext, unsigned idx, uint32_t addr)
{
    tarn_status st;
    blk b;
    if (ext == NULL) return TARN_EINVAL;
    TARN_LOCK(ext->lock);
    st = ext_ready(ext);
    if (st == TARN_OK && idx >= (unsigned)ext->nroots) st = TARN_EINVAL;
    if (st == TARN_OK && addr != 0) st = ext_locate_live(ext, addr, &b);
    if (st == TARN_OK && ext->roots[idx] != addr) {
        uint32_t u = (SUPER_BYTES + REC_BYTES * (uint32_t)idx) / TARN_EXT_UNIT;
        st = rec_write_update(ext, u, ext->root_seq[idx], addr);   /* commit */
        if (st == TARN_OK) st = bus_sync(ext);
        if (st != TARN_OK) {
            st = ext_io_failed(ext);
        } else {
            ext->roots[idx] = addr;
            ext->root_seq[idx] = (uint8_t)(ext->root_seq[idx] + 1u);
        }
    }
    EXT_DEEP_CHECK(ext);
    st = ext_fail(ext, st);
    TARN_UNLOCK(ext->lock);
    return st;
}

tarn_status tarn_ext_root_get(tarn_ext *ext, unsigned idx, uint32_t *addr)
{
    tarn_status st;
    if (addr != NULL) *addr = 0;
    if (ext == NULL) return TARN_EINVAL;
    if (addr == NULL) return ext_refuse(ext);
    TARN_LOCK(ext->lock);
    st = ext_ready(ext);
    if (st == TARN_OK && idx >= (unsigned)ext->nroots) st = TARN_EINVAL;
    if (st == TARN_OK) *addr = ext->roots[idx];
    st = ext_fail(ext, st);
    TARN_UNLOCK(ext->lock);
    return st;
}

/* ---- inspection ------------------------------------------------------------------------- */
tarn_status tarn_ext_walk(tarn_ext *ext, tarn_ext_walk_fn fn, void *ctx)
{
    tarn_status st;
    scan_ctx sc;
    bool dummy = false;
    if (ext == NULL) return TARN_EINVAL;
    if (fn == NULL) return ext_refuse(ext);
    sc.fn = fn;
    sc.arg = ctx;
    TARN_LOCK(ext->lock);
    st = ext_ready(ext);
    if (st == TARN_OK) st = ext_scan(ext, SCAN_WALK, &sc, &dummy);
    st = ext_fail(ext, st);
    TARN_UNLOCK(ext->lock);
    return st;
}

tarn_status tarn_ext_stats_get(tarn_ext *ext, tarn_ext_stats *out)
{
    tarn_status st;
    if (ext == NULL) return TARN_EINVAL;
    if (out == NULL) return ext_refuse(ext);
    memset(out, 0, sizeof *out);
    TARN_LOCK(ext->lock);
    st = ext_ready(ext);
    out->region_size = (uint64_t)ext->units * TARN_EXT_UNIT;
    out->heap_size = (ext->units - ext->heap) * TARN_EXT_UNIT;
    out->live_blocks = ext->live_blocks;
    out->live_bytes = ext->live_units * TARN_EXT_UNIT;
    out->free_bytes = (ext->units - ext->heap - ext->used_units) * TARN_EXT_UNIT;
    out->cached_runs = ext->nruns;
    out->roots = ext->nroots;
    out->allocs = ext->n_allocs;
    out->frees = ext->n_frees;
    out->failed = ext->n_failed;
    out->rescans = ext->n_rescans;
    out->repairs = ext->n_repairs;
    out->io_errors = ext->n_ioerr;
    out->reads = ext->n_reads;
    out->writes = ext->n_writes;
    out->syncs = ext->n_syncs;
    out->read_bytes = ext->read_bytes;
    out->write_bytes = ext->write_bytes;
    TARN_UNLOCK(ext->lock);
    return st;
}

tarn_status tarn_ext_check(tarn_ext *ext)
{
    tarn_status st;
    bool dummy = false;
    uint8_t rb[REC_BYTES];
    unsigned i;
    if (ext == NULL) return TARN_EINVAL;
    TARN_LOCK(ext->lock);
    st = ext_ready(ext);
    if (st == TARN_OK) {
        uint32_t fix = UINT32_MAX;
        st = ext_read_super(ext, SB_CHECK, &fix);
    }
    for (i = 0; st == TARN_OK && i < (unsigned)ext->nroots; i++) {
        uint32_t u = (SUPER_BYTES + REC_BYTES * (uint32_t)i) / TARN_EXT_UNIT;
        rec r;
        st = bus_read(ext, dev_addr(ext, u), rb, sizeof rb);
        if (st != TARN_OK) break;
        rec_decode(rb, ext, dev_addr(ext, u), &r);
        if (r.state != REC_OK || r.word != ext->roots[i] || r.seq != ext->root_seq[i]) st = TARN_ECORRUPT;
    }
    if (st == TARN_OK) st = ext_scan(ext, SCAN_CHECK, NULL, &dummy);
    st = ext_fail(ext, st);
    TARN_UNLOCK(ext->lock);
    return st;
}

tarn_status tarn_ext_last_error(const tarn_ext *ext)
{
    return ext == NULL ? TARN_EINVAL : TARN_ERR_GET(ext->last_error);
}
