/*
 * examples/demo/fram.c - the gateway's event log lives in an external FRAM (emulated),
 * managed by tarn's external memory manager: it survives a power cut in the middle of an
 * allocation, and the application finds it again through a root slot.
 */
#include <string.h>

#include "demo.h"
#include "support/emudev.h"
#include "tarn/ext.h"

#define FRAM_BYTES 8192u
#define LOG_ROOT 0u

typedef struct log_record {
    uint32_t seq;
    uint32_t prev;          /* device address of the previous record, 0 for the first */
    char text[24];
} log_record;

static uint8_t fram_cells[FRAM_BYTES];
static emudev fram;
static tarn_ext ext;

static tarn_status log_append(tarn_ext *e, uint32_t seq, const char *text)
{
    log_record r;
    uint32_t addr, head = 0;
    tarn_status st;
    memset(&r, 0, sizeof r);
    (void)tarn_ext_root_get(e, LOG_ROOT, &head);
    r.seq = seq;
    r.prev = head;
    strncpy(r.text, text, sizeof r.text - 1);
    st = tarn_ext_alloc(e, sizeof r, &addr);
    if (st == TARN_OK) st = tarn_ext_write(e, addr, 0, &r, sizeof r);
    if (st == TARN_OK) st = tarn_ext_root_set(e, LOG_ROOT, addr);   /* the commit */
    return st;
}

/* Walk the log from the root; returns the number of records, -1 if one is damaged. */
static int log_count(tarn_ext *e, uint32_t *newest)
{
    uint32_t addr = 0;
    int n = 0;
    log_record r;
    (void)tarn_ext_root_get(e, LOG_ROOT, &addr);
    *newest = 0;
    while (addr != 0) {
        if (tarn_ext_read(e, addr, 0, &r, sizeof r) != TARN_OK) return -1;
        if (n == 0) *newest = r.seq;
        addr = r.prev;
        n++;
    }
    return n;
}

int demo_fram_log(void)
{
    tarn_ext_io io;
    tarn_status st;
    uint32_t seq, newest = 0;
    int before, after;
    char text[24];

    printf("4. an event log in SPI FRAM (external manager, crash-safe)\n");
    emudev_init(&fram, fram_cells, 0, sizeof fram_cells);
    io = emudev_io(&fram, false);
    st = tarn_ext_format(&ext, &io, 0, sizeof fram_cells, 1, NULL);
    if (st != TARN_OK) return 1;
    for (seq = 1; seq <= 20; seq++) {
        snprintf(text, sizeof text, "boot %u ok", (unsigned)seq);
        if (log_append(&ext, seq, text) != TARN_OK) return 2;
    }
    before = log_count(&ext, &newest);
    printf("   %d records written; bus: %lu writes, %lu reads so far\n", before, fram.writes,
           fram.reads);

    /* Power fails during the next append: after 1 write, halfway through the next. */
    emudev_cut_after(&fram, 1, 5, 0x0F);
    st = log_append(&ext, 21, "brown-out");
    printf("   power cut in the middle of an append -> %s\n", tarn_strerror(st));

    /* Reboot: fresh RAM state, rebuilt from the FRAM alone. */
    emudev_power_on(&fram);
    memset(&ext, 0xA5, sizeof ext);
    st = tarn_ext_mount(&ext, &io, 0, sizeof fram_cells, NULL);
    printf("   after reboot: mount -> %s, full check -> %s\n", tarn_strerror(st),
           tarn_strerror(tarn_ext_check(&ext)));
    after = log_count(&ext, &newest);
    printf("   log intact: %d records, newest #%u (the cut append never committed)\n", after,
           (unsigned)newest);
    if (st != TARN_OK || after != before || newest != 20) return 3;
    if (log_append(&ext, 21, "recovered") != TARN_OK) return 4;
    return 0;
}

void demo_fram_stats(void)
{
    tarn_ext_stats s;
    if (tarn_ext_stats_get(&ext, &s) != TARN_OK) return;
    demo_row("fram log", "external", s.heap_size, s.live_bytes, s.live_bytes,
             (size_t)s.free_bytes, (unsigned long)s.failed);
}
