/*
 * examples/smm - the Small Memory Manager's documented usage, on a 2 MiB SPI FRAM.
 *
 * The FRAM is emulated at the command level (spi_fram.c): the read/write callbacks below
 * are what an application writes for a real chip.  The program
 *   1. runs the seed's example (create 2 MiB, malloc 128 bytes, free),
 *   2. keeps a settings record in the FRAM and names it in root slot 0,
 *   3. cuts the power in the middle of a smm_malloc, "reboots", rebuilds the manager on a
 *      fresh smm_mem_info and finds the settings intact,
 *   4. cuts the power after every single byte the manager programs during a malloc and a
 *      free, rebuilding after each cut, and checks every time.
 * It exits 0 when every check holds.
 */
#include <stdio.h>
#include <string.h>
#include "smm.h"
#include "spi_fram.h"

/* SMM, like the original, names device memory with u8 pointers from base_addr on and
 * refuses a NULL base; the FRAM's addresses start at 0, so the application places them at
 * FRAM_WINDOW in SMM's pointers and its callbacks take the window off again. */
#define FRAM_WINDOW 0x100000u
#define YOUR_MEMORY_START_ADDRESS ((u8 *)(uintptr_t)FRAM_WINDOW)

/* The FRAM address a pointer from SMM names. */
static uint32_t fram_addr(const u8 *p)
{
    return (uint32_t)((uintptr_t)p - FRAM_WINDOW);
}

/* ---- the application's FRAM driver: SMM's read/write callbacks ------------------------- */
static void fram_command(uint8_t op, uint32_t a)
{
    fram_select(true);
    spi_transfer(op);
    spi_transfer((uint8_t)(a >> 16));
    spi_transfer((uint8_t)(a >> 8));
    spi_transfer((uint8_t)a);
}

/* read: dst = RAM buffer, src = FRAM address (static only to keep clear of libc's read) */
static int read(u8 *dst_addr, u8 *src_addr, u32 size)
{
    fram_command(FRAM_READ, fram_addr(src_addr));
    while (size-- > 0) *dst_addr++ = spi_transfer(0);
    fram_select(false);
    return 0;
}

/* write: dst = FRAM address, src = RAM buffer */
static int write(u8 *dst_addr, u8 *src_addr, u32 size)
{
    fram_select(true);
    spi_transfer(FRAM_WREN);
    fram_select(false);
    fram_command(FRAM_WRITE, fram_addr(dst_addr));
    while (size-- > 0) spi_transfer(*src_addr++);
    fram_select(false);
    return 0;
}

/* ---- the application's data ------------------------------------------------------------ */
struct settings {
    char name[16];
    uint32_t boots;
    uint32_t crc;   /* a check of the application's own */
};

static uint32_t settings_crc(const struct settings *s)
{
    const uint8_t *p = (const uint8_t *)s;
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < offsetof(struct settings, crc); i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static int failures;
#define EXPECT(cond)                                                                  \
    do {                                                                              \
        if (!(cond)) {                                                                \
            printf("  FAILED at line %d: %s\n", __LINE__, #cond);                     \
            failures++;                                                               \
        }                                                                             \
    } while (0)

/* After a reset: rebuild on a fresh description of the same memory, find the settings. */
static struct smm_mem_info mem_mgr;
static void reboot(struct settings *s)
{
    struct smm_mem_info fresh = {
        .base_addr = YOUR_MEMORY_START_ADDRESS,
        .size = 2 * 1024 * 1024,
        .read = read,
        .write = write,
    };
    void *rec;
    fram_power_up();
    mem_mgr = fresh;
    EXPECT(smm_memory_rebuild(&mem_mgr) == 0);
    EXPECT(tarn_ext_check(smm_ext(&mem_mgr)) == TARN_OK);
    rec = smm_root_get(&mem_mgr, 0);
    EXPECT(rec != NULL);
    if (rec != NULL) {
        read((u8 *)s, (u8 *)rec, sizeof *s);
        EXPECT(s->crc == settings_crc(s));
        EXPECT(strcmp(s->name, "greenhouse-7") == 0);
    }
}

static unsigned live_blocks(void)
{
    tarn_ext_stats st;
    tarn_ext_stats_get(smm_ext(&mem_mgr), &st);
    return st.live_blocks;
}

/* Walk callback: the first allocated block other than `keep`. */
struct other {
    uint32_t keep, found;
};
static bool find_other(void *ctx, uint32_t addr, size_t size, bool used)
{
    struct other *o = (struct other *)ctx;
    (void)size;
    if (used && addr != o->keep) {
        o->found = addr;
        return false;
    }
    return true;
}

int main(void)
{
    struct settings s;
    void *rec;
    unsigned long c0, b0, cut, cuts_ok = 0, programmed;
    unsigned before;

    fram_power_up();

    /* 1. the seed's example, as documented */
    {
        struct smm_mem_info seed_mgr = {
            .base_addr = YOUR_MEMORY_START_ADDRESS,
            .size = 2 * 1024 * 1024,
            .read = read,
            .write = write,
        };
        void *ptr;
        EXPECT(smm_memory_create(&seed_mgr) == 0);
        c0 = fram_commands;
        b0 = fram_bytes;
        ptr = smm_malloc(&seed_mgr, 128);
        EXPECT(ptr != NULL);
        printf("smm_malloc(128) = FRAM address 0x%06lx: %lu SPI commands, %lu bytes on the bus\n",
               (unsigned long)fram_addr((u8 *)ptr), fram_commands - c0, fram_bytes - b0);
        c0 = fram_commands;
        b0 = fram_bytes;
        EXPECT(smm_free(&seed_mgr, ptr) == 0);
        printf("smm_free: %lu SPI commands, %lu bytes on the bus\n", fram_commands - c0, fram_bytes - b0);
        EXPECT(smm_free(&seed_mgr, ptr) == SMM_FREE_FAILED);     /* refused, harmless */
        mem_mgr = seed_mgr;
    }
    /* mem_mgr was copied: the callbacks' context is the struct's address, so mount it
     * again in place (a rebuild is cheap and is what every boot does anyway) */
    EXPECT(smm_memory_rebuild(&mem_mgr) == 0);

    /* 2. settings in the FRAM, found through root slot 0 */
    memset(&s, 0, sizeof s);
    strcpy(s.name, "greenhouse-7");
    s.boots = 1;
    s.crc = settings_crc(&s);
    rec = smm_malloc(&mem_mgr, sizeof s);
    EXPECT(rec != NULL);
    write((u8 *)rec, (u8 *)&s, sizeof s);
    EXPECT(smm_root_set(&mem_mgr, 0, rec) == 0);
    EXPECT(smm_free(&mem_mgr, rec) == SMM_FREE_FAILED);          /* rooted: refused */

    /* 3. power cut in the middle of an allocation's commit */
    before = live_blocks();
    emudev_cut_after(&fram_cells, 16 + 3, 0, 0);   /* 3 bytes into the second header write */
    (void)smm_malloc(&mem_mgr, 1000);              /* the MCU dies here */
    EXPECT(fram_cells.dead);
    memset(&s, 0, sizeof s);
    reboot(&s);
    printf("power cut inside smm_malloc: rebuilt, settings \"%s\" intact, %u block(s) live (the cut "
           "allocation did not happen)\n", s.name, live_blocks());
    EXPECT(live_blocks() == before);
    s.boots++;
    s.crc = settings_crc(&s);
    write((u8 *)smm_root_get(&mem_mgr, 0), (u8 *)&s, sizeof s);

    /* 4. a cut after every byte programmed by smm_malloc + smm_free, rebuilding each time */
    programmed = fram_cells.writes;
    rec = smm_malloc(&mem_mgr, 200);
    EXPECT(rec != NULL && smm_free(&mem_mgr, rec) == 0);
    programmed = fram_cells.writes - programmed;
    for (cut = 0; cut <= programmed; cut++) {
        unsigned n0 = live_blocks();
        emudev_cut_after(&fram_cells, (long)cut, 0, 0);
        rec = smm_malloc(&mem_mgr, 200);
        if (rec != NULL && !fram_cells.dead) smm_free(&mem_mgr, rec);
        reboot(&s);
        /* the malloc happened or not; if it did and the free was cut, one more block */
        EXPECT(live_blocks() == n0 || live_blocks() == n0 + 1u);
        if (live_blocks() == n0 + 1u) {
            /* the free was cut: that block is still allocated.  An application finds such
             * blocks by walking and comparing with what its roots lead to. */
            struct other o;
            o.keep = fram_addr(smm_root_get(&mem_mgr, 0));   /* tarn_ext: offsets */
            o.found = 0;
            tarn_ext_walk(smm_ext(&mem_mgr), find_other, &o);
            EXPECT(o.found != 0 && smm_free(&mem_mgr, YOUR_MEMORY_START_ADDRESS + o.found) == 0);
        }
        if (failures == 0) cuts_ok++;
    }
    EXPECT(live_blocks() == before);
    printf("power cut after each of the %lu bytes smm_malloc(200) + smm_free program: %lu of %lu "
           "rebuilds found everything intact\n", programmed, cuts_ok, programmed + 1u);
    printf("settings after all that: \"%s\", boot count %u\n", s.name, (unsigned)s.boots);
    if (failures != 0) {
        printf("FAILED: %d checks\n", failures);
        return 1;
    }
    printf("ok\n");
    return 0;
}
