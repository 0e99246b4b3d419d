/*
 * src/tarn.c - common part of tarn: status names, the reading of memory a pool keeps
 * closed to memory tools.
 */
#include "tarn/tarn.h"
#include "internal.h"

static const char *const tarn_status_names[TARN_STATUS_COUNT_] = {
    "TARN_OK: success",
    "TARN_EINVAL: invalid argument",
    "TARN_ENOMEM: not enough free memory in the pool",
    "TARN_EFOREIGN: pointer does not belong to this pool or is not a block start",
    "TARN_EDOUBLE: block already free",
    "TARN_ECORRUPT: pool metadata corrupted",
    "TARN_EIO: read/write callback failed",
    "TARN_EBUSY: object in use",
    "TARN_EALIGN: misaligned buffer or pointer",
    "TARN_ETOOSMALL: buffer too small for the pool",
    "TARN_ESTALE: stale handle",
    "TARN_EOVERFLOW: count or size overflow",
    "TARN_ENOENT: no such object",
    "TARN_ERANGE: access out of bounds",
};

const char *tarn_strerror(tarn_status status)
{
    if ((unsigned)status >= (unsigned)TARN_STATUS_COUNT_) {
        return "TARN_?: unknown status";
    }
    return tarn_status_names[status];
}

void tarn_mem_peek(void *dst, const void *src, size_t n)
{
    tarn_san_peek(dst, src, n);
}
