/*
 * compat/smm/smm.h - the Small Memory Manager (SMM) API on tarn's external memory manager.
 *
 * SMM manages memory the CPU may not address directly (SRAM, FRAM, EEPROM on I2C or SPI)
 * through two user callbacks, and rebuilds its state after a power loss so that
 * non-volatile memory can be managed.  The original's public header is kept: the types
 * u8/u16/u32/u64, SMM_RET_VAL and its codes, struct smm_mem_info with `u8 *base_addr`,
 * `u8 *smm_malloc`, `int smm_free(..., u8 *)`, `int smm_memory_create`, the callback
 * type, SMM_BLOCK_ALIGN_BYTES and SMM_MAX_MANAGER_MEM_SIZE.  Its code, and its own tests
 * (except those predicting exact addresses from its internal header size), run unchanged:
 *
 *     struct smm_mem_info mem_mgr = {
 *         .base_addr = YOUR_MEMORY_START_ADDRESS,   // u8 *: where the memory starts
 *         .size = 2 * 1024 * 1024,
 *         .read = read,
 *         .write = write,
 *     };
 *     smm_memory_create(&mem_mgr);               // SMM_OK; formats the memory
 *     u8 *ptr = smm_malloc(&mem_mgr, 128);       // NULL on failure
 *     smm_free(&mem_mgr, ptr);                   // SMM_OK
 *     ...after a reset or a power loss, on a struct describing the same memory:
 *     smm_memory_rebuild(&mem_mgr);              // SMM_OK: state rebuilt from the memory
 *
 * Addresses, as in the original: the managed memory is [base_addr, base_addr + size) in
 * the device's address space, and smm_malloc returns base_addr + offset of the block.
 * SMM never dereferences these pointers: it passes them to the callbacks, which copy like
 * memcpy(dst, src, size) and return 0 on success:
 *   read (dst_addr = RAM buffer,  src_addr = device address, size)
 *   write(dst_addr = device address, src_addr = RAM buffer,  size)
 * (For memory the CPU can address, base_addr may be a real buffer and the callbacks
 * memcpy.)  A write must be durable when it returns (SRAM with battery, FRAM, EEPROM
 * after its write cycle); media with write caches need tarn_ext directly (sync callback).
 *
 * Return codes (SMM_RET_VAL): the original's five, for the original's cases - SMM_PTR_ERR
 * (NULL info, base_addr or callback), SMM_PARAMETER_INVALID (size not a multiple of 4 or
 * below 16; NULL block), SMM_NO_FREE_SPACE, SMM_FREE_FAILED (not a live block: foreign,
 * interior, freed already; or named by a root) - and three tarn ones for what the original
 * cannot report: SMM_IO_ERR (a callback failed), SMM_NOT_FOUND (rebuild: nothing created
 * there), SMM_CORRUPT (rebuild: the memory is damaged).  smm_last_error gives tarn's
 * precise status of the last failure.
 *
 * Differences from the original, all in the caller's favour or documented limits:
 *  - power safety is guaranteed, not only the rebuild: a power cut at any instant during
 *    smm_malloc/smm_free/smm_root_set leaves memory that smm_memory_rebuild accepts, with
 *    every completed call in effect and the interrupted one complete or absent;
 *  - smm_free refuses foreign, interior and double frees (SMM_FREE_FAILED, nothing
 *    changes) in O(1) bus transactions (the original walks every block);
 *  - block placement is tarn's: each block costs its size plus tarn's header (24 bytes;
 *    8 in memories below 36 bytes), so addresses differ from the original's and
 *    SMM_ELEMENT_HEAD_SIZE (the original's 8-byte header, kept for code that names it)
 *    does not predict them;
 *  - smm_malloc(0) returns NULL (the original hands out an empty block);
 *  - memories of 16 to SMM_MAX_MANAGER_MEM_SIZE (2 MiB) bytes, as the original; larger
 *    ones, up to 4 GiB - 4, are accepted (extension).  Memories of 36 to 64 bytes use
 *    tarn_ext's compact format (two 4-byte superblock copies instead of 40 bytes, no root
 *    slots, the same 24-byte headers and guarantees); larger ones the normal format;
 *  - memories of 16 to 32 bytes (below 36) get tarn_ext's weaker byte-ordered format
 *    (TARN_EXT_F_BYTE_ORDERED: one 4-byte superblock, 8-byte headers with an 8-bit check,
 *    no root slots), meant for devices whose writes land in byte order, such as serial
 *    SRAM and FRAM over I2C/SPI: a power cut there leaves the state before or after the
 *    call in flight, but bit-order tears and flipped bits are detected with 8-bit strength
 *    only, not with the guarantees of memories of 36 bytes and more (see tarn/ext.h).
 *    A serial EEPROM programs a whole page at once (its bits may land in any order when
 *    cut): give it at least 36 bytes;
 *  - extensions: smm_memory_rebuild; SMM_ROOTS persistent root slots to find data again
 *    after a rebuild (memories of at least SMM_ROOTS_MIN_SIZE bytes) (smm_root_set /
 *    smm_root_get); smm_last_error; smm_ext for the full tarn_ext API.
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
/** SMM's 16-bit unsigned type. */
typedef uint16_t u16;
/** SMM's 32-bit unsigned type (sizes). */
typedef uint32_t u32;
/** SMM's 64-bit unsigned type. */
typedef uint64_t u64;
#endif

/** Block sizes and the memory size are multiples of this. */
#define SMM_BLOCK_ALIGN_BYTES 4
/** The original's per-block header size, kept for code that names it; tarn's blocks are
 *  laid out differently (addresses are not predicted by it). */
#define SMM_ELEMENT_HEAD_SIZE 8u
/** Largest memory the original manages (2 MiB); tarn accepts larger ones (extension). */
#define SMM_MAX_MANAGER_MEM_SIZE (2u * 1024u * 1024u)
/** SMM's truth values. */
#define SMM_VALID 1
/** SMM's truth values. */
#define SMM_INVALID 0
/** SMM's truth values. */
#define SMM_TRUE 1
/** SMM's truth values. */
#define SMM_FALSE 0

/** Return ret_val from the calling function if ptr is NULL (the original's helper). */
#define SMM_ASSERT_PTR_VALID(ptr, ret_val) \
    do {                                   \
        if (!(ptr)) return (ret_val);      \
    } while (0)
/** Return ret_val from the calling function if ret is non-zero (the original's helper). */
#define SMM_ASSERT_RET_VALID(ret, ret_val) \
    do {                                   \
        if (ret) return (ret_val);         \
    } while (0)

/** Memory access callback: copy `size` bytes from src_addr to dst_addr; 0 on success. */
typedef int (*smm_mem_opt)(u8 *dst_addr, u8 *src_addr, u32 size);

/** Return codes: the original's five, then tarn's. */
typedef enum {
    SMM_OK = 0,               /**< success */
    SMM_PARAMETER_INVALID,    /**< bad size, NULL block, bad root index */
    SMM_PTR_ERR,              /**< NULL info, base_addr or callback */
    SMM_NO_FREE_SPACE,        /**< no free block large enough */
    SMM_FREE_FAILED,          /**< not a live block, or named by a root */
    SMM_IO_ERR,               /**< tarn: a read or write callback failed */
    SMM_NOT_FOUND,            /**< tarn: rebuild found no SMM memory there */
    SMM_CORRUPT               /**< tarn: rebuild found the memory damaged */
} SMM_RET_VAL;

/** Root slots of every SMM memory (tarn extension): 4, or fewer if tarn is configured
 *  with fewer (TARN_EXT_MAX_ROOTS). */
#define SMM_ROOTS (TARN_EXT_MAX_ROOTS < 4 ? TARN_EXT_MAX_ROOTS : 4)
/** Smallest memory SMM can manage (16 bytes, as the original: one 4-byte allocation;
 *  below 36 bytes in tarn_ext's weaker byte-ordered format, see "Differences" above). */
#define SMM_MIN_SIZE TARN_EXT_BYTE_ORDERED_MIN_SIZE
/** Smallest memory that gets the SMM_ROOTS root slots (smaller ones have none). */
#define SMM_ROOTS_MIN_SIZE TARN_EXT_MIN_SIZE(SMM_ROOTS)

/**
 * Description of one managed memory.  Fill the four public fields (the original's); the
 * rest is private state, set by create and rebuild.
 */
struct smm_mem_info {
    u8 *base_addr;        /**< where the managed memory starts (device address, not NULL) */
    u32 size;             /**< bytes of it: a multiple of 4, >= SMM_MIN_SIZE */
    smm_mem_opt read;     /**< read(RAM buffer, device address, size) */
    smm_mem_opt write;    /**< write(device address, RAM buffer, size) */
    struct {
        tarn_ext ext;     /* the manager */
        int last;         /* tarn_status of the last failed call */
    } priv;               /**< private */
};

/**
 * Create an empty managed memory (formats it: all previous contents are lost).  SMM_OK,
 * SMM_PTR_ERR (info, base_addr, read or write NULL), SMM_PARAMETER_INVALID (size not a
 * multiple of 4, below SMM_MIN_SIZE, or base_addr + size beyond the address space),
 * SMM_IO_ERR.  Bus: 1 read, 4 writes.  Not ISR-safe.
 */
int smm_memory_create(struct smm_mem_info *mem_info);

/**
 * Rebuild the manager's state from the memory after a reset or power loss, on a struct
 * describing the same memory (same base_addr, size, callbacks).  Verifies every block and
 * finishes or undoes an operation a power cut interrupted.  SMM_OK, SMM_NOT_FOUND (no SMM
 * memory was created there), SMM_CORRUPT (damaged), SMM_IO_ERR, SMM_PTR_ERR,
 * SMM_PARAMETER_INVALID (a size that is not the one created).  O(blocks) reads.
 */
int smm_memory_rebuild(struct smm_mem_info *mem_info);

/** Allocate `size` bytes (a multiple of 4, as the original: otherwise NULL).  The block's
 *  device address (base_addr + offset), or NULL (smm_last_error says why).  Bus: at most
 *  2 writes. */
u8 *smm_malloc(struct smm_mem_info *mem_info, u32 size);

/** Free a block from smm_malloc.  SMM_OK; SMM_PTR_ERR (info or its fields NULL);
 *  SMM_PARAMETER_INVALID (addr NULL); SMM_FREE_FAILED (not a live block of this memory,
 *  or named by a root; nothing changes); SMM_IO_ERR.  Bus: 2 reads, 1 write. */
int smm_free(struct smm_mem_info *mem_info, u8 *addr);

/** Set root slot idx (< SMM_ROOTS) to a block from smm_malloc, or NULL to clear it;
 *  power-safe (old or new value after a cut).  SMM_OK, SMM_PARAMETER_INVALID (bad index,
 *  not a live block, memory without roots), SMM_PTR_ERR, SMM_IO_ERR. */
int smm_root_set(struct smm_mem_info *mem_info, unsigned idx, u8 *ptr);

/** Block named by root slot idx (NULL if empty or on error). */
u8 *smm_root_get(struct smm_mem_info *mem_info, unsigned idx);

/** tarn_status of the last failed call on mem_info (0 if none; TARN_EINVAL for NULL). */
int smm_last_error(const struct smm_mem_info *mem_info);

/** The underlying tarn_ext (walk, stats, check, bounds-checked read/write...), whose
 *  device addresses are offsets from base_addr. */
tarn_ext *smm_ext(struct smm_mem_info *mem_info);

#ifdef __cplusplus
}
#endif

#endif /* TARN_COMPAT_SMM_H */
