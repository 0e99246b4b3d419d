/* Stand-in for Zephyr's <zephyr/sys/__assert.h> in tests/consumers/zephyr-host: only the
 * macro tarn's Zephyr configuration uses.  A failed assertion aborts. */
#ifndef ZEPHYR_HOST_STUB_ASSERT_H
#define ZEPHYR_HOST_STUB_ASSERT_H
#include <stdlib.h>
#define __ASSERT_NO_MSG(c) ((c) ? (void)0 : abort())
#endif
