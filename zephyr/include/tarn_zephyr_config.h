/*
 * zephyr/include/tarn_zephyr_config.h - tarn's configuration from Zephyr's Kconfig.
 *
 * zephyr/CMakeLists.txt names this file as TARN_CONFIG_FILE for the whole build, so the
 * library and the application see the same options.  Kconfig's values arrive through
 * autoconf.h, which Zephyr includes ahead of every file: a bool option is defined to 1
 * when set and absent when not, an int or hex option is defined to its value.
 */
#ifndef TARN_ZEPHYR_CONFIG_H
#define TARN_ZEPHYR_CONFIG_H

#define TARN_CHECK_LEVEL CONFIG_TARN_CHECK_LEVEL
#define TARN_ALIGN CONFIG_TARN_ALIGN

#if defined(CONFIG_TARN_STATS)
#define TARN_STATS 1
#else
#define TARN_STATS 0
#endif

#if defined(CONFIG_TARN_LOCKING)
#define TARN_LOCKING 1
#else
#define TARN_LOCKING 0
#endif

#if defined(CONFIG_TARN_POISON_FREE)
#define TARN_POISON_FREE 1
#define TARN_POISON_BYTE CONFIG_TARN_POISON_BYTE
#else
#define TARN_POISON_FREE 0
#endif

#if defined(CONFIG_TARN_NO_INTRINSICS)
#define TARN_NO_INTRINSICS 1
#else
#define TARN_NO_INTRINSICS 0
#endif

#if defined(CONFIG_TARN_GUARD)
#define TARN_GUARD 1
#define TARN_GUARD_SIZE CONFIG_TARN_GUARD_SIZE
#define TARN_GUARD_BYTE CONFIG_TARN_GUARD_BYTE
#else
#define TARN_GUARD 0
#endif

#define TARN_QUARANTINE CONFIG_TARN_QUARANTINE
#define TARN_HEAP_MAX_REGIONS CONFIG_TARN_HEAP_MAX_REGIONS

#if defined(CONFIG_TARN_ASSERT)
#include <zephyr/sys/__assert.h>
#define TARN_ASSERT(c) __ASSERT_NO_MSG(c)
#endif

#endif /* TARN_ZEPHYR_CONFIG_H */
