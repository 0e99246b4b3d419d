/*
 * examples/demo/demo.h - the parts of the sensor-gateway demo, one per file.
 */
#ifndef TARN_DEMO_H
#define TARN_DEMO_H

#include <stdio.h>
#include "tarn/tarn.h"

/** Print one row of the final statistics table. */
void demo_row(const char *pool, const char *kind, size_t capacity, size_t used, size_t peak,
              size_t largest_free, unsigned long failed);

/** The log in emulated FRAM through the external manager, with a power cut.  0 = ok. */
int demo_fram_log(void);
/** Statistics row of the FRAM log. */
void demo_fram_stats(void);

/** Each seed system's API used once.  0 = ok. */
int demo_seed_apis(void);
/** The SMM seed API (own file: its u8/u32 clash with mem_pool's type tags).  0 = ok. */
int demo_smm(void);

#endif
