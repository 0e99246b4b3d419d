/*
 * compat/smm/smm.c - SMM on tarn_ext (see smm.h).
 *
 * Each struct smm_mem_info holds a tarn_ext over the region [0, size): tarn's device
 * addresses are offsets from base_addr, and the I/O callbacks adapt SMM's pointer-style
 * callbacks (offset o travels as base_addr + o).  SMM_ROOTS root slots (none below
 * SMM_ROOTS_MIN_SIZE); create formats the region, rebuild mounts it.
 */
#include <string.h>
#include "smm.h"

/* base_addr + off, computed on integers: base_addr names device memory, not a C object. */
static u8 *smm_dev(const struct smm_mem_info *m, uint32_t off)
{
    return (u8 *)((uintptr_t)m->base_addr + off); // NOLINT(performance-no-int-to-ptr): device address by SMM's design
}

static int smm_read_cb(void *ctx, uint32_t addr, void *buf, size_t n)
{
    struct smm_mem_info *m = (struct smm_mem_info *)ctx;
    return m->read((u8 *)buf, smm_dev(m, addr), (u32)n) == 0 ? 0 : -1;
}

static int smm_write_cb(void *ctx, uint32_t addr, const void *buf, size_t n)
{
    struct smm_mem_info *m = (struct smm_mem_info *)ctx;
    /* SMM's callback type has no const; the buffer is only read by a write. */
    return m->write(smm_dev(m, addr), (u8 *)buf, (u32)n) == 0 ? 0 : -1;
}

/* SMM code for a tarn status (free_op: a refused block is SMM_FREE_FAILED). */
static int smm_code(tarn_status st, bool free_op)
{
    switch (st) {
    case TARN_OK: return SMM_OK;
    case TARN_ENOMEM: return SMM_NO_FREE_SPACE;
    case TARN_EIO: return SMM_IO_ERR;
    case TARN_ENOENT: return SMM_NOT_FOUND;
    case TARN_ECORRUPT: return SMM_CORRUPT;
    case TARN_EFOREIGN:
    case TARN_EDOUBLE:
    case TARN_EBUSY: return free_op ? SMM_FREE_FAILED : SMM_PARAMETER_INVALID;
    default: return SMM_PARAMETER_INVALID;
    }
}

/* Record a failure; the SMM code for st. */
static int smm_status(struct smm_mem_info *info, tarn_status st, bool free_op)
{
    if (st != TARN_OK) info->priv.last = (int)st;
    return smm_code(st, free_op);
}

/* The callbacks and region of info: SMM_OK or why they are unusable. */
static int smm_region(struct smm_mem_info *info, tarn_ext_io *io)
{
    if (info->base_addr == NULL || info->read == NULL || info->write == NULL) {
        info->priv.last = (int)TARN_EINVAL;
        return SMM_PTR_ERR;
    }
    /* (the memory may end at the very top of the address space) */
    if (info->size % SMM_BLOCK_ALIGN_BYTES != 0u || info->size < SMM_MIN_SIZE ||
        (uintptr_t)info->base_addr > UINTPTR_MAX - (info->size - 1u)) {
        info->priv.last = (int)TARN_EINVAL;
        return SMM_PARAMETER_INVALID;
    }
    io->read = smm_read_cb;
    io->write = smm_write_cb;
    io->sync = NULL;
    io->ctx = info;
    return SMM_OK;
}

/* The start of create and rebuild: the memory's bus callbacks, or why there are none (the
 * manager is then left unusable). */
static int smm_open(struct smm_mem_info *mem_info, tarn_ext_io *io)
{
    int rc;
    if (mem_info == NULL) return SMM_PTR_ERR;
    mem_info->priv.last = 0;
    rc = smm_region(mem_info, io);
    if (rc != SMM_OK) mem_info->priv.ext.state = 0;
    return rc;
}

int smm_memory_create(struct smm_mem_info *mem_info)
{
    tarn_ext_io io;
    tarn_config cfg;
    int rc;
    unsigned nroots;
    rc = smm_open(mem_info, &io);
    if (rc != SMM_OK) return rc;
    nroots = mem_info->size >= SMM_ROOTS_MIN_SIZE ? SMM_ROOTS : 0u;
    /* the original accepts memories from 16 bytes: those of 16 to 32 take tarn_ext's
     * byte-ordered format (meant for serial SRAM and FRAM; smm.h says what it costs on
     * other devices); the flag changes nothing for memories of 36 bytes and more */
    memset(&cfg, 0, sizeof cfg);
    cfg.flags = TARN_EXT_F_BYTE_ORDERED;
    return smm_status(mem_info,
                      tarn_ext_format(&mem_info->priv.ext, &io, 0u, mem_info->size, nroots, &cfg),
                      false);
}

int smm_memory_rebuild(struct smm_mem_info *mem_info)
{
    tarn_ext_io io;
    int rc;
    rc = smm_open(mem_info, &io);
    if (rc != SMM_OK) return rc;
    return smm_status(mem_info, tarn_ext_mount(&mem_info->priv.ext, &io, 0u, mem_info->size, NULL),
                      false);
}

u8 *smm_malloc(struct smm_mem_info *mem_info, u32 size)
{
    uint32_t off = 0;
    tarn_status st;
    if (mem_info == NULL || mem_info->base_addr == NULL) return NULL;
    if (size % SMM_BLOCK_ALIGN_BYTES != 0u) {   /* the original's rule */
        mem_info->priv.last = (int)TARN_EINVAL;
        return NULL;
    }
    st = tarn_ext_alloc(&mem_info->priv.ext, size, &off);
    (void)smm_status(mem_info, st, false);
    return st == TARN_OK ? smm_dev(mem_info, off) : NULL;
}

/* The offset of a device pointer in info's memory, or TARN_EFOREIGN if it is outside. */
static tarn_status smm_off(const struct smm_mem_info *info, const u8 *ptr, uint32_t *off)
{
    uintptr_t p = (uintptr_t)ptr, b = (uintptr_t)info->base_addr;
    if (p < b || p - b >= info->size) return TARN_EFOREIGN;
    *off = (uint32_t)(p - b);
    return TARN_OK;
}

int smm_free(struct smm_mem_info *mem_info, u8 *addr)
{
    uint32_t off = 0;
    tarn_status st;
    if (mem_info == NULL || mem_info->base_addr == NULL || mem_info->read == NULL ||
        mem_info->write == NULL) {
        return SMM_PTR_ERR;
    }
    if (addr == NULL) {
        mem_info->priv.last = (int)TARN_EINVAL;
        return SMM_PARAMETER_INVALID;
    }
    st = smm_off(mem_info, addr, &off);
    if (st == TARN_OK) st = tarn_ext_free(&mem_info->priv.ext, off);
    return smm_status(mem_info, st, true);
}

int smm_root_set(struct smm_mem_info *mem_info, unsigned idx, u8 *ptr)
{
    uint32_t off = 0;
    tarn_status st = TARN_OK;
    if (mem_info == NULL || mem_info->base_addr == NULL) return SMM_PTR_ERR;
    if (ptr != NULL) st = smm_off(mem_info, ptr, &off);
    /* offset 0 (base_addr itself) is never a block: for tarn_ext it would mean "clear" */
    if (ptr != NULL && st == TARN_OK && off == 0u) st = TARN_EFOREIGN;
    if (st == TARN_OK) st = tarn_ext_root_set(&mem_info->priv.ext, idx, ptr != NULL ? off : 0u);
    return smm_status(mem_info, st, false);
}

u8 *smm_root_get(struct smm_mem_info *mem_info, unsigned idx)
{
    uint32_t off = 0;
    tarn_status st;
    if (mem_info == NULL || mem_info->base_addr == NULL) return NULL;
    st = tarn_ext_root_get(&mem_info->priv.ext, idx, &off);
    (void)smm_status(mem_info, st, false);
    return (st == TARN_OK && off != 0u) ? smm_dev(mem_info, off) : NULL;
}

int smm_last_error(const struct smm_mem_info *mem_info)
{
    return mem_info == NULL ? (int)TARN_EINVAL : mem_info->priv.last;
}

tarn_ext *smm_ext(struct smm_mem_info *mem_info)
{
    return mem_info == NULL ? NULL : &mem_info->priv.ext;
}
