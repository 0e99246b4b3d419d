/*
 * examples/demo - a small sensor gateway on tarn.
 *
 * Radio packets arrive into a block pool (fixed 64-byte buffers, O(1), no fragmentation);
 * the gateway parses them, queues acknowledgements from a second pool, and frees
 * everything.  A firmware bug (a packet freed twice) is caught and reported instead of
 * corrupting the pool.  At the end every pool prints its statistics.
 */
#include <stdio.h>
#include <string.h>

#include "tarn/tarn.h"
#include "tarn/block.h"

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

static void print_block_stats(const char *label, tarn_block_pool *pool)
{
    tarn_block_stats st;
    if (tarn_block_stats_get(pool, &st) != TARN_OK) return;
    printf("  %-10s %-11s %6u B x %-4u %5u free %5u min free %5u failed gets\n", label,
           "block pool", (unsigned)st.block_size, (unsigned)st.count, (unsigned)st.free,
           (unsigned)st.min_free, (unsigned)st.failed_gets);
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
    while (n > 0) tarn_block_put(&rx_pool, inflight[--n]);
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

int main(void)
{
    int rc = 0;
    printf("tarn %s demo: a sensor gateway\n\n", TARN_VERSION_STRING);
    rc |= block_pool_story();
    printf("\npool statistics\n");
    print_block_stats("rx_pool", &rx_pool);
    print_block_stats("ack_pool", &ack_pool);
    return rc;
}
