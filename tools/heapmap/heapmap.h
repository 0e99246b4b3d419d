/*
 * tools/heapmap/heapmap.h - render tarn pool dumps (include/tarn/dump.h) as SVG.
 */
#ifndef TARN_HEAPMAP_H
#define TARN_HEAPMAP_H

#include <stddef.h>
#include <stdio.h>

/**
 * Render every pool of the dump text `dump` (len bytes, any number of concatenated dumps)
 * as one SVG document on `out`: one bar per pool, regions drawn to scale and coloured by
 * state (used, free, pinned, metadata), a legend, and each pool's statistics.
 * Every region becomes one <rect class="region ..."> carrying data-offset and data-size.
 * Returns the number of regions drawn, or -1 if the dump is malformed (message on stderr).
 */
long heapmap_render(const char *dump, size_t len, FILE *out);

#endif
