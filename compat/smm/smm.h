/*
 * compat/smm/smm.h - the Small Memory Manager (SMM) API on tarn's external memory manager.
 *
 * SMM manages memory the CPU cannot address directly (SRAM, FRAM, EEPROM on I2C or SPI)
 * through two user callbacks, with a 4-byte minimum allocation, and rebuilds its state
 * after a power loss so that non-volatile memory can be managed.  Code written against
 * SMM's documented usage compiles unchanged:
 *
 *     struct smm_mem_info mem_mgr = {
 *         .base_addr = YOUR_MEMORY_START_ADDRESS,
 *         .size = 2 * 1024 * 1024,
 *         .read = read,
 *         .write = write,
 *     };
 *     smm_memory_create(&mem_mgr);               // once: formats the memory
 *     void *ptr = smm_malloc(&mem_mgr, 128);
 *     smm_free(&mem_mgr, ptr);
 *     ...after a reset or a power loss, on a fresh struct describing the same memory:
 *     smm_memory_rebuild(&mem_mgr);              // 0: state rebuilt from the memory
 *
 * Addresses.  smm_malloc returns a DEVICE address (in [base_addr, base_addr + size)),
 * carried in a pointer; it is never dereferenced by SMM and must not be by the caller:
 * access the data with your own callbacks, e.g. write(ptr, buf, n).  NULL means failure.
 * The callbacks receive device addresses as u8 pointers in the same way; address 0, if
 * the memory starts there, arrives as a null pointer.
 *
 * Callback directions (like memcpy(dst, src, size)); each returns 0 on success:
 *   read (dst_addr = RAM buffer,     src_addr = device address, size)
 *   write(dst_addr = device address, src_addr = RAM buffer,     size)
 * A write must be durable when it returns (SRAM with battery, FRAM, EEPROM after its
 * write cycle); media with write caches need tarn_ext directly (it has a sync callback).
 *
 * Differences from the original, all in the caller's favour or documented limits:
 *  - power safety is guaranteed, not only the rebuild: a power cut at any instant during
 *    smm_malloc/smm_free/smm_root_set leaves memory that smm_memory_rebuild accepts, with
 *    every completed call in effect and the interrupted one complete or absent;
 *  - smm_free rejects foreign, interior and double frees (non-zero return, nothing
 *    changes); smm_free returns int (0 = freed), the original's callers may ignore it;
 *  - the smallest memory is SMM_MIN_SIZE (16) bytes, as the original's; memories of 16
 *    to 36 bytes use tarn_ext's compact format (8-byte headers, no root slots), larger
 *    ones 16-byte redundant headers; the largest is 4 GiB - 4 (the original: 2 MiB);
 *  - base_addr is rounded up and size down to multiples of 4;
 *  - extensions: SMM_ROOTS persistent root slots to find data again after a rebuild
 *    (memories of at least SMM_ROOTS_MIN_SIZE bytes; smaller ones have none)
 *    (smm_root_set / smm_root_get), smm_last_error, smm_ext for the full tarn_ext API.
 *  - Not thread-safe (as the original); do not copy a struct smm_mem_info after create
 *    or rebuild (the callbacks' context is its address).
 */
#ifndef TARN_COMPAT_SMM_H
#define TARN_COMPAT_SMM_H

#include <stdint.h>
#include "tarn/ext.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SMM_NO_BASIC_TYPES
/** SMM's basic types (define SMM_NO_BASIC_TYPES if your project already has them). */
typedef uint8_t u8;
/** SMM's 32-bit unsigned type (sizes and addresses). */
typedef uint32_t u32;
#endif

/** Memory access callback: copy `size` bytes from src_addr to dst_addr; 0 on success. */
typedef int (*smm_mem_opt)(u8 *dst_addr, u8 *src_addr, u32 size);

/** Root slots of every SMM memory (tarn extension): 4, or fewer if tarn is configured
 *  with fewer (TARN_EXT_MAX_ROOTS). */
#define SMM_ROOTS (TARN_EXT_MAX_ROOTS < 4 ? TARN_EXT_MAX_ROOTS : 4)
/** Smallest memory SMM can manage (one 4-byte allocation). */
#define SMM_MIN_SIZE TARN_EXT_MIN_SIZE(0)
/** Smallest memory that gets the SMM_ROOTS root slots (smaller ones have none). */
#define SMM_ROOTS_MIN_SIZE TARN_EXT_MIN_SIZE(SMM_ROOTS)

/**
 * Description of one managed memory.  Fill the four public fields; the rest is private
 * state (zero it, e.g. with a designated initializer, before create or rebuild).
 */
struct smm_mem_info {
    u32 base_addr;        /**< device address where the managed memory starts */
    u32 size;             /**< bytes of it (>= SMM_MIN_SIZE) */
    smm_mem_opt read;     /**< read(RAM buffer, device address, size) */
    smm_mem_opt write;    /**< write(device address, RAM buffer, size) */
    struct {
        tarn_ext ext;     /* the manager */
        int last;         /* tarn_status of the last failed call */
    } priv;               /**< private */
};

/**
 * Create an empty managed memory (formats it: all previous contents are lost).  0 on
 * success, else the tarn_status why: TARN_EINVAL (NULL info or callback), TARN_ETOOSMALL
 * (size < SMM_MIN_SIZE after alignment), TARN_ERANGE (beyond the 32-bit address space),
 * TARN_EIO (a callback failed).  Bus: 1 read, 4 writes.
 */
int smm_memory_create(struct smm_mem_info *info);

/**
 * Rebuild the manager's state from the memory after a reset or power loss, on a struct
 * describing the same memory (same base_addr, size, callbacks).  Verifies every block and
 * finishes or undoes an operation a power cut interrupted.  0 on success, else the
 * tarn_status why (TARN_ENOENT: nothing created there; TARN_ECORRUPT: damaged; TARN_EIO;
 * TARN_EINVAL: other size).  O(blocks) reads.
 */
int smm_memory_rebuild(struct smm_mem_info *info);

/** Allocate size bytes (>= 1; rounded up to 4).  The device address of the block, or NULL
 *  (smm_last_error says why).  Bus: at most 2 writes. */
void *smm_malloc(struct smm_mem_info *info, u32 size);

/** Free a block from smm_malloc.  0, or the tarn_status why not (nothing changes):
 *  TARN_EFOREIGN, TARN_EDOUBLE, TARN_EBUSY (a root names it), TARN_EIO, TARN_EINVAL.
 *  Bus: 2 reads, 1 write. */
int smm_free(struct smm_mem_info *info, void *ptr);

/** Set root slot idx (< SMM_ROOTS) to a block from smm_malloc, or NULL to clear it;
 *  power-safe (old or new value after a cut).  0 or the tarn_status why not. */
int smm_root_set(struct smm_mem_info *info, unsigned idx, void *ptr);

/** Block named by root slot idx (NULL if empty or on error). */
void *smm_root_get(struct smm_mem_info *info, unsigned idx);

/** tarn_status of the last failed call on info (0 if none). */
int smm_last_error(const struct smm_mem_info *info);

/** The underlying tarn_ext (walk, stats, check, bounds-checked read/write...). */
tarn_ext *smm_ext(struct smm_mem_info *info);

#ifdef __cplusplus
}
#endif

#endif /* TARN_COMPAT_SMM_H */
