/*
 * examples/demo/smm_part.c - the SMM seed API once: a calibration table in a small FRAM,
 * found again after a rebuild on a fresh smm_mem_info.
 */
#include <string.h>

#include "demo.h"
#include "smm.h"

static u8 cal_fram[1024];

/* SMM callbacks: read(RAM dst, device src), write(device dst, RAM src); the "FRAM" here is
 * a RAM array, so the device addresses SMM passes (base_addr + offset) are its bytes. */
static int cal_read(u8 *dst, u8 *src, u32 size)
{
    memcpy(dst, src, size);
    return 0;
}
static int cal_write(u8 *dst, u8 *src, u32 size)
{
    memcpy(dst, src, size);
    return 0;
}

int demo_smm(void)
{
    struct smm_mem_info mem, after;
    u8 *table;
    int ok;
    memset(&mem, 0, sizeof mem);
    mem.base_addr = cal_fram;
    mem.size = sizeof cal_fram;
    mem.read = cal_read;
    mem.write = cal_write;
    after = mem;            /* a fresh descriptor of the same memory, as after a reset */
    if (smm_memory_create(&mem) != 0) return 1;
    table = smm_malloc(&mem, 128);
    if (table == NULL || smm_root_set(&mem, 0, table) != 0) return 2;
    ok = smm_memory_rebuild(&after) == 0 && smm_root_get(&after, 0) == table;
    printf("   smm      smm_malloc(128) at device +%u, found after rebuild: %s\n",
           (unsigned)(table - cal_fram), ok ? "yes" : "NO");
    /* a block a root slot still names is not freed by mistake */
    ok = ok && smm_free(&after, table) == SMM_FREE_FAILED;
    ok = ok && smm_root_set(&after, 0, NULL) == 0 && smm_free(&after, table) == 0;
    return ok ? 0 : 3;
}
