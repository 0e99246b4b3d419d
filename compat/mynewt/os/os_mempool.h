/* compat/mynewt/os/os_mempool.h - lets Mynewt code `#include "os/os_mempool.h"` unchanged. */
#include "../os_mempool.h"
