/*
 * bench/bench_common.h - shared harness of tarn's benchmarks (host only).
 *
 * Every benchmark prints readable tables, or with --json the same figures as one JSON
 * object per row.  Figures are measured in the same run for tarn and the comparison
 * allocators.  Wall time is noisy on shared machines; instruction counts from
 * `valgrind --tool=callgrind` are the repeatable figure: bench_run() times a kernel, then
 * re-runs this program under callgrind with `--kernel NAME` so that only that kernel is
 * instrumented, and reads back its instruction count.
 *
 * Contract for kernels: fn(ctx) must depend only on state prepared deterministically
 * before bench_run() is called (in the callgrind child, every other kernel is skipped, so
 * a kernel must not rely on state left by an earlier kernel).
 *
 * Options understood by bench_init():
 *   --json          JSON rows instead of tables
 *   --quick         smaller workloads (benchmarks read bench_quick)
 *   --no-callgrind  wall time only
 *   --kernel NAME   internal: run only kernel NAME under callgrind instrumentation
 */
#ifndef TARN_BENCH_COMMON_H
#define TARN_BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>

extern int bench_json;   /* --json given */
extern int bench_quick;  /* --quick given */

/** Parse the options above; call first in main().  Returns 0. */
int bench_init(int argc, char **argv);

/** True in the callgrind child: benchmarks may skip printing and slow set-up checks. */
int bench_is_child(void);

/** Monotonic time in nanoseconds. */
uint64_t bench_now_ns(void);

/** A system allocator to compare against. */
typedef struct bench_sys {
    const char *name;                       /* "glibc", "jemalloc", "mimalloc" */
    void *(*malloc_fn)(size_t);
    void (*free_fn)(void *);
    void *(*realloc_fn)(void *, size_t);
} bench_sys;

/** Fill out[0..max) with the allocators available: glibc always, then jemalloc and
 *  mimalloc when their shared libraries (Debian libjemalloc2, libmimalloc2.0) load.
 *  Returns how many. */
int bench_sys_allocators(bench_sys *out, int max);

/** Result of one kernel: wall-clock ns of one run, and its callgrind instruction count
 *  (instr < 0 when callgrind is unavailable or disabled). */
typedef struct bench_result {
    double ns;
    double instr;
} bench_result;

/** Run kernel `name` (fn(ctx)) once timed, then count its instructions under callgrind. */
bench_result bench_run(const char *name, void (*fn)(void *), void *ctx);

/* ---- output: tables, or JSON rows with --json ----------------------------------------- */
/** Start a table: `bench` names the benchmark, `title` the table, cols its column names. */
void bench_table_begin(const char *bench, const char *title, const char *const *cols, int ncols);
/** One row of ncols cells; cells that read as numbers become JSON numbers. */
void bench_row(const char *const *cells);
/** End the current table. */
void bench_table_end(void);
/** printf into one of 32 rotating static buffers: handy to build a row's cells. */
const char *bench_fmt(const char *fmt, ...);
/** A free-text note line (suppressed in --json mode). */
void bench_note(const char *fmt, ...);

#endif
