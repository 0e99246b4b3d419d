/*
 * examples/demo - a small sensor gateway on tarn (what `make run` shows).
 *
 *  1. radio packets arrive into block pools (fixed buffers, O(1), no fragmentation); a
 *     packet freed twice is caught instead of corrupting the pool;
 *  2. variable-size messages live on the heap (alloc, realloc, aligned DMA buffer, calloc
 *     overflow and bad frees rejected); the heap then spans three memory regions (its
 *     internal RAM, a DMA-capable SRAM bank, external PSRAM): a DMA buffer and a large
 *     lookup table are placed by capability, each in its region of the heap map;
 *  3. a firmware image is buffered in the handle pool: fragmentation makes the big buffer
 *     fail until the pool compacts itself around a pinned block;
 *  4. the event log lives in external FRAM and survives a power cut (fram.c);
 *  5. each seed system's API is used once (seeds.c, smm_part.c).
 * At the end every pool prints its statistics, and a heap map (SVG) is written to the file
 * named by the first argument, if any.
 */
#include <stdio.h>
#include <string.h>

#include "demo.h"
#include "heapmap.h"
#include "tarn/block.h"
#include "tarn/dump.h"
#include "tarn/handle.h"
#include "tarn/heap.h"

#define RX_BLOCKS 16
#define PKT_BYTES 64

typedef struct packet {
    uint16_t sensor;
    uint16_t seq;
    int16_t centi_celsius;
    uint8_t len;
    uint8_t payload[PKT_BYTES - 7];
} packet;

TARN_BLOCK_POOL_DEFINE(rx_pool, RX_BLOCKS, sizeof(packet));
TARN_BLOCK_POOL_DEFINE(ack_pool, 4, 16);

static uint32_t rng = 2463534242u;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

void demo_row(const char *pool, const char *kind, size_t capacity, size_t used, size_t peak,
              size_t free_bytes, unsigned long failed)
{
    printf("  %-10s %-9s %9lu %9lu %9lu %9lu %7lu\n", pool, kind, (unsigned long)capacity,
           (unsigned long)used, (unsigned long)peak, (unsigned long)free_bytes, failed);
}

static void block_row(const char *label, tarn_block_pool *pool)
{
    tarn_block_stats st;
    if (tarn_block_stats_get(pool, &st) != TARN_OK) return;
    demo_row(label, "block", st.block_size * st.count, st.block_size * (st.count - st.free),
             st.block_size * (st.count - st.min_free), st.block_size * st.free, st.failed_gets);
}

static int block_pool_story(void)
{
    packet *inflight[RX_BLOCKS];
    unsigned n = 0, received = 0, dropped = 0, acked = 0, processed = 0, tick;
    long sum = 0;
    tarn_status st;

    printf("1. radio packets in block pools (O(1) get/put, no fragmentation)\n");
    for (tick = 0; tick < 200; tick++) {
        unsigned burst = next_rand() % 6;          /* 0..5 packets arrive */
        while (burst-- > 0) {
            packet *p = (packet *)tarn_block_get(&rx_pool);
            if (p == NULL) {
                dropped++;                          /* pool empty: drop, never crash */
                continue;
            }
            p->sensor = (uint16_t)(next_rand() % 8);
            p->seq = (uint16_t)received++;
            p->centi_celsius = (int16_t)(1800 + (int)(next_rand() % 900));
            p->len = 0;
            inflight[n++] = p;
        }
        if (tick % 3 == 0) {                        /* the gateway drains a few per tick */
            unsigned k = (n < 5) ? n : 5;
            while (k-- > 0) {
                packet *p = inflight[--n];
                void *ack = tarn_block_get(&ack_pool);
                sum += p->centi_celsius;
                processed++;
                if (ack != NULL) {
                    memcpy(ack, &p->seq, sizeof p->seq);
                    acked++;
                    tarn_block_put(&ack_pool, ack);
                }
                tarn_block_put(&rx_pool, p);
            }
        }
    }
    while (n > 5) tarn_block_put(&rx_pool, inflight[--n]);   /* 5 stay in flight */
    printf("   %u packets received, %u dropped when the pool ran dry, %u acked, mean %.2f C\n",
           received, dropped, acked, processed ? (double)sum / 100.0 / processed : 0.0);

    /* The classic firmware bug: the same packet freed twice. */
    {
        packet *p = (packet *)tarn_block_get(&rx_pool);
        tarn_block_put(&rx_pool, p);
        st = tarn_block_put(&rx_pool, p);
        printf("   double free of a packet -> %s\n", tarn_strerror(st));
        st = tarn_block_put(&rx_pool, (char *)p + 8);
        printf("   free of a pointer inside a packet -> %s\n", tarn_strerror(st));
        st = tarn_block_check(&rx_pool);
        printf("   pool integrity check afterwards -> %s\n", tarn_strerror(st));
    }
    return (st == TARN_OK) ? 0 : 1;
}

/* ---- 2. messages on the heap --------------------------------------------------------- */
TARN_HEAP_DEFINE(msg, 6144);

/* Two more memory regions for the same heap: on a part they would be linker sections
 * (an SRAM bank the DMA controller reaches, external PSRAM); here static arrays. */
static union { uint64_t a; unsigned char b[2048]; } dma_sram;
static union { uint64_t a; unsigned char b[12288]; } psram;
static const char *const region_name[3] = {"msg r0 internal", "msg r1 dma", "msg r2 psram"};
static void *dma_buf, *lut;

/* The heap spans three regions; a DMA buffer and a big table go where they must. */
static int regions_story(void)
{
    tarn_heap *h = msg_heap();
    unsigned r_dma = 9, r_lut = 9, i;
    int fails = 0;
    uint32_t *table;
    fails += tarn_heap_set_caps(h, 0, TARN_CAP_INTERNAL) != TARN_OK;
    fails += tarn_heap_add_region(h, dma_sram.b, sizeof dma_sram.b,
                                  TARN_CAP_DMA | TARN_CAP_INTERNAL) != TARN_OK;
    fails += tarn_heap_add_region(h, psram.b, sizeof psram.b, TARN_CAP_EXTERNAL) != TARN_OK;
    dma_buf = tarn_heap_aligned_alloc_caps(h, 64, 512, TARN_CAP_DMA);   /* SPI DMA ring */
    table = (uint32_t *)tarn_heap_calloc_caps(h, 2048, sizeof(uint32_t), TARN_CAP_EXTERNAL);
    lut = table;
    fails += dma_buf == NULL || table == NULL;
    if (table != NULL) {
        for (i = 0; i < 2048; i++) table[i] = i * 2654435761u;   /* a calibration table */
    }
    (void)tarn_heap_region_of(h, dma_buf, &r_dma);
    (void)tarn_heap_region_of(h, lut, &r_lut);
    printf("   the heap now spans %u regions: internal RAM, a DMA SRAM bank, external PSRAM\n",
           tarn_heap_region_count(h));
    printf("   DMA ring (512 B) -> region %u (%s); calibration table (8 KiB) -> region %u (%s)\n",
           r_dma, r_dma < 3u ? region_name[r_dma] : "?", r_lut,
           r_lut < 3u ? region_name[r_lut] : "?");
    fails += r_dma != 1u || r_lut != 2u;
    printf("   a second 2 KiB DMA buffer -> %s (only the DMA bank may hold it)\n",
           tarn_heap_alloc_caps(h, 2048, TARN_CAP_DMA) == NULL ? "NULL, TARN_ENOMEM" : "??");
    printf("   free of a pointer into the DMA bank's control part -> %s\n",
           tarn_strerror(tarn_heap_free(h, dma_sram.b + 8)));
    return fails;
}

static int heap_story(void)
{
    char *msgs[24];
    unsigned i, n = 0;
    char *big, *dma;
    tarn_status st;
    int fails = 0;

    printf("2. messages on the heap (O(1) alloc/free, neighbours coalesce at once)\n");
    for (i = 0; i < 24; i++) {
        size_t len = 16 + (next_rand() % 180);
        msgs[n] = (char *)msg_alloc(len);
        if (msgs[n] == NULL) break;
        snprintf(msgs[n], len, "{\"s\":%u,\"t\":%u}", i % 8, 2000 + i);
        n++;
        if (i % 3 == 2) msg_free(msgs[--n]);    /* some are forwarded at once */
    }
    big = (char *)msg_realloc(msgs[0], 600);    /* a message grows while it is assembled */
    if (big != NULL) msgs[0] = big;
    dma = (char *)tarn_heap_aligned_alloc(msg_heap(), 64, 256);   /* DMA wants 64-byte lines */
    printf("   %u messages live, one grown to %u bytes, DMA buffer 64-byte aligned: %s\n", n,
           (unsigned)msg_size(msgs[0]), ((uintptr_t)dma % 64u == 0u && dma) ? "yes" : "NO");
    fails += dma == NULL || big == NULL;
    printf("   calloc(SIZE_MAX/2, 4) -> %s\n",
           tarn_heap_calloc(msg_heap(), (size_t)-1 / 2, 4) == NULL ? "NULL (overflow caught)" : "??");
    st = msg_free(msgs[1] + 4);
    printf("   free of a pointer inside a message -> %s\n", tarn_strerror(st));
    fails += st == TARN_OK;
    for (i = 0; i < n; i++) fails += msg_free(msgs[i]) != TARN_OK;
    st = msg_free(msgs[2]);
    printf("   double free -> %s; heap check -> %s\n", tarn_strerror(st),
           tarn_strerror(tarn_heap_check(msg_heap())));
    fails += tarn_heap_free(msg_heap(), dma) != TARN_OK;
    fails += regions_story();
    {
        /* leave a little traffic live so that the heap map shows something */
        static void *keep[6];
        for (i = 0; i < 6; i++) keep[i] = msg_alloc(64 + 48 * i);
        msg_free(keep[1]);
        msg_free(keep[4]);
    }
    return fails;
}

/* ---- 3. a firmware image in the handle pool ------------------------------------------ */
#define FW_HANDLES 40
static unsigned char fw_mem[TARN_HANDLE_BYTES(8192, FW_HANDLES)] TARN_HANDLE_ALIGNED;
static tarn_handle_pool fw;

static int handle_story(void)
{
    tarn_handle chunk[16], scratch[16], image, pinned;
    unsigned i;
    size_t moved;
    unsigned char *p;
    int fails = 0;

    printf("3. a firmware image in the handle pool (movable blocks, compaction)\n");
    if (tarn_handle_init(&fw, fw_mem, sizeof fw_mem, FW_HANDLES, NULL) != TARN_OK) return 1;
    for (i = 0; i < 16; i++) {               /* chunks and scratch buffers interleave */
        chunk[i] = tarn_handle_alloc(&fw, 256);
        scratch[i] = tarn_handle_alloc(&fw, 200);
    }
    pinned = chunk[5];
    p = (unsigned char *)tarn_handle_lock(&fw, pinned);    /* a DMA transfer is running */
    if (p != NULL) memset(p, 0x5A, 256);
    for (i = 0; i < 16; i++) tarn_handle_free(&fw, scratch[i]);
    for (i = 0; i < 16; i += 2) if (chunk[i].v != pinned.v) tarn_handle_free(&fw, chunk[i]);
    image = tarn_handle_alloc(&fw, 4096);
    printf("   4 KiB image buffer in a fragmented pool -> %s\n",
           image.v ? "ok" : tarn_strerror(tarn_handle_last_error(&fw)));
    moved = tarn_handle_compact(&fw);
    if (!image.v) image = tarn_handle_alloc(&fw, 4096);
    printf("   compact() moved %lu bytes around the pinned block; retry -> %s\n",
           (unsigned long)moved, image.v ? "ok" : "FAILED");
    fails += image.v == 0;
    fails += tarn_handle_lock(&fw, pinned) != p;            /* the pinned block never moved */
    tarn_handle_unlock(&fw, pinned);
    tarn_handle_unlock(&fw, pinned);
    tarn_handle_free(&fw, chunk[1]);
    printf("   stale handle after free -> %s\n",
           tarn_strerror(tarn_handle_free(&fw, chunk[1])));
    return fails;
}

/* ---- statistics and the heap map ------------------------------------------------------ */
static void handle_row(void)
{
    tarn_handle_stats s;
    if (tarn_handle_stats_get(&fw, &s) != TARN_OK) return;
    demo_row("fw image", "handle", s.capacity, s.used, s.used, s.free, s.failed_allocs);
}

static void heap_row(void)
{
    tarn_heap_stats s;
    tarn_heap_region r;
    unsigned i;
    if (tarn_heap_stats_get(msg_heap(), &s) != TARN_OK) return;
    demo_row("msg", "heap", s.capacity, s.used, s.peak_used, s.free, s.failed_allocs);
    for (i = 1; i < tarn_heap_region_count(msg_heap()); i++) {   /* the added regions */
        if (tarn_heap_region_get(msg_heap(), i, &r) != TARN_OK) continue;
        demo_row(i == 1u ? " msg r1" : " msg r2", "region", r.stats.capacity, r.stats.used,
                 r.stats.peak_used, r.stats.free, 0u);
    }
}

static bool heap_lowest_block(void *ctx, void *block, size_t size, bool used)
{
    (void)size;
    (void)used;
    if (*(void **)ctx == NULL || (uintptr_t)block < (uintptr_t)*(void **)ctx) *(void **)ctx = block;
    return true;
}

typedef struct handle_dump { tarn_dump *d; size_t next; } handle_dump;
static bool handle_walk_dump(const tarn_handle_block *b, void *ctx)
{
    handle_dump *hd = (handle_dump *)ctx;
    size_t cap = TARN_ALIGN_UP(b->size, TARN_ALIGN);
    if (b->offset > hd->next) tarn_dump_region(hd->d, hd->next, b->offset - hd->next, TARN_DUMP_FREE);
    tarn_dump_region(hd->d, b->offset, cap, b->locks ? TARN_DUMP_PINNED : TARN_DUMP_USED);
    if (b->gap_after) tarn_dump_region(hd->d, b->offset + cap, b->gap_after, TARN_DUMP_FREE);
    hd->next = b->offset + cap + b->gap_after;
    return true;
}

static int write_heap_map(const char *path)
{
    static char text[32768];
    tarn_dump d;
    tarn_heap_stats hs;
    tarn_handle_stats fs;
    size_t len = 0;
    long regions;
    FILE *out;

    tarn_dump_to_buffer(&d, text, sizeof text);
    tarn_dump_pool(&d, "block", "rx_pool", rx_pool_mem, sizeof rx_pool_mem);
    tarn_block_walk(&rx_pool, tarn_dump_walk_cb, &d);
    {
        /* each region of the heap as a pool of its own, from its first block to the end
         * of its last one (headers between them) */
        unsigned i;
        for (i = 0; i < tarn_heap_region_count(msg_heap()) && i < 3u; i++) {
            void *first = NULL;
            tarn_heap_region r;
            if (tarn_heap_region_get(msg_heap(), i, &r) != TARN_OK) continue;
            tarn_heap_region_walk(msg_heap(), i, heap_lowest_block, &first);
            tarn_dump_pool(&d, "heap", region_name[i], first, r.stats.capacity + TARN_HEAP_EXTRA);
            tarn_heap_region_walk(msg_heap(), i, tarn_dump_walk_cb, &d);
            tarn_dump_stat(&d, "used", r.stats.used);
            tarn_dump_stat(&d, "largest_free", r.stats.largest_free);
        }
    }
    tarn_heap_stats_get(msg_heap(), &hs);
    (void)hs;
    tarn_handle_stats_get(&fw, &fs);
    tarn_dump_pool(&d, "handle", "fw_image", NULL, fs.capacity);
    {
        handle_dump hd;
        hd.d = &d;
        hd.next = 0;
        tarn_handle_walk(&fw, handle_walk_dump, &hd);
    }
    tarn_dump_stat(&d, "pinned", fs.pinned);
    tarn_dump_stat(&d, "bytes_moved", fs.bytes_moved);
    if (tarn_dump_end(&d, &len) != TARN_OK) return 1;
    out = path ? fopen(path, "w") : tmpfile();
    if (out == NULL) return 1;
    regions = heapmap_render(text, len, out);
    fclose(out);
    if (path) printf("\nheap map (%ld regions) written to %s\n", regions, path);
    return regions > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    int fails = 0;
    printf("tarn %s demo: a sensor gateway\n\n", TARN_VERSION_STRING);
    fails += block_pool_story();
    fails += heap_story();
    fails += handle_story();
    fails += demo_fram_log();
    fails += demo_seed_apis();
    fails += demo_smm();

    printf("\npool statistics (bytes)\n");
    printf("  %-10s %-9s %9s %9s %9s %9s %7s\n", "pool", "kind", "capacity", "used", "peak",
           "free", "failed");
    block_row("rx_pool", &rx_pool);
    block_row("ack_pool", &ack_pool);
    heap_row();
    handle_row();
    demo_fram_stats();
    fails += write_heap_map(argc > 1 ? argv[1] : NULL);
    if (fails) printf("\n%d checks FAILED\n", fails);
    return fails ? 1 : 0;
}
