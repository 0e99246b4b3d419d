/*
 * compat/smm/smm.c - SMM on tarn_ext (see smm.h).
 *
 * Each struct smm_mem_info holds a tarn_ext whose I/O callbacks adapt SMM's pointer-style
 * callbacks: a device address travels as (u8 *)(uintptr_t)addr, RAM buffers as they are.
 * The region is [base_addr rounded up to 4, base_addr + size rounded down to 4) with
 * SMM_ROOTS root slots (none below SMM_ROOTS_MIN_SIZE); create formats it, rebuild mounts it.
 */
#include "smm.h"

static int smm_read_cb(void *ctx, uint32_t addr, void *buf, size_t n)
{
    struct smm_mem_info *m = (struct smm_mem_info *)ctx;
    return m->read((u8 *)buf, (u8 *)(uintptr_t)addr, (u32)n) == 0 ? 0 : -1; // NOLINT(performance-no-int-to-ptr): device address by SMM's design
}

static int smm_write_cb(void *ctx, uint32_t addr, const void *buf, size_t n)
{
    struct smm_mem_info *m = (struct smm_mem_info *)ctx;
    /* SMM's callback type has no const; the buffer is only read by a write. */
    return m->write((u8 *)(uintptr_t)addr, (u8 *)buf, (u32)n) == 0 ? 0 : -1; // NOLINT(performance-no-int-to-ptr): device address by SMM's design
}

/* The region and callbacks of info; TARN_OK or why they are unusable. */
static tarn_status smm_region(struct smm_mem_info *info, tarn_ext_io *io, uint32_t *base, uint64_t *size)
{
    uint64_t b, e;
    if (info->read == NULL || info->write == NULL) return TARN_EINVAL;
    b = ((uint64_t)info->base_addr + 3u) & ~(uint64_t)3u;
    e = ((uint64_t)info->base_addr + info->size) & ~(uint64_t)3u;
    if (b > UINT32_MAX || e < b + SMM_MIN_SIZE) return TARN_ETOOSMALL;
    *base = (uint32_t)b;
    *size = e - b;
    io->read = smm_read_cb;
    io->write = smm_write_cb;
    io->sync = NULL;
    io->ctx = info;
    return TARN_OK;
}

static int smm_status(struct smm_mem_info *info, tarn_status st)
{
    if (st != TARN_OK) info->priv.last = (int)st;
    return (int)st;
}

int smm_memory_create(struct smm_mem_info *info)
{
    tarn_ext_io io;
    uint32_t base;
    uint64_t size;
    tarn_status st;
    if (info == NULL) return (int)TARN_EINVAL;
    info->priv.last = 0;
    st = smm_region(info, &io, &base, &size);
    if (st == TARN_OK) {
        unsigned nroots = size >= SMM_ROOTS_MIN_SIZE ? SMM_ROOTS : 0u;
        st = tarn_ext_format(&info->priv.ext, &io, base, size, nroots, NULL);
    }
    else info->priv.ext.state = 0;
    return smm_status(info, st);
}

int smm_memory_rebuild(struct smm_mem_info *info)
{
    tarn_ext_io io;
    uint32_t base;
    uint64_t size;
    tarn_status st;
    if (info == NULL) return (int)TARN_EINVAL;
    info->priv.last = 0;
    st = smm_region(info, &io, &base, &size);
    if (st == TARN_OK) st = tarn_ext_mount(&info->priv.ext, &io, base, size, NULL);
    else info->priv.ext.state = 0;
    return smm_status(info, st);
}

void *smm_malloc(struct smm_mem_info *info, u32 size)
{
    uint32_t addr = 0;
    tarn_status st;
    if (info == NULL) return NULL;
    st = tarn_ext_alloc(&info->priv.ext, size, &addr);
    smm_status(info, st);
    return st == TARN_OK ? (void *)(uintptr_t)addr : NULL; // NOLINT(performance-no-int-to-ptr): SMM returns device addresses as pointers
}

/* A pointer carrying a device address, or TARN_EFOREIGN if it cannot be one. */
static tarn_status smm_addr(const void *ptr, uint32_t *addr)
{
    uintptr_t p = (uintptr_t)ptr;
    if (p > UINT32_MAX) return TARN_EFOREIGN;
    *addr = (uint32_t)p;
    return TARN_OK;
}

int smm_free(struct smm_mem_info *info, void *ptr)
{
    uint32_t addr = 0;
    tarn_status st;
    if (info == NULL) return (int)TARN_EINVAL;
    st = smm_addr(ptr, &addr);
    if (st == TARN_OK) st = tarn_ext_free(&info->priv.ext, addr);
    return smm_status(info, st);
}

int smm_root_set(struct smm_mem_info *info, unsigned idx, void *ptr)
{
    uint32_t addr = 0;
    tarn_status st;
    if (info == NULL) return (int)TARN_EINVAL;
    st = smm_addr(ptr, &addr);
    if (st == TARN_OK) st = tarn_ext_root_set(&info->priv.ext, idx, addr);
    return smm_status(info, st);
}

void *smm_root_get(struct smm_mem_info *info, unsigned idx)
{
    uint32_t addr = 0;
    tarn_status st;
    if (info == NULL) return NULL;
    st = tarn_ext_root_get(&info->priv.ext, idx, &addr);
    smm_status(info, st);
    return st == TARN_OK ? (void *)(uintptr_t)addr : NULL; // NOLINT(performance-no-int-to-ptr): SMM returns device addresses as pointers
}

int smm_last_error(const struct smm_mem_info *info)
{
    return info == NULL ? (int)TARN_EINVAL : info->priv.last;
}

tarn_ext *smm_ext(struct smm_mem_info *info)
{
    return info == NULL ? NULL : &info->priv.ext;
}
