/*
 * bench/bench_common.c - see bench_common.h.
 */
#define _GNU_SOURCE
#include "bench_common.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_HAVE_CALLGRIND 1
#endif
#endif

int bench_json;
int bench_quick;
static int bench_no_callgrind;
static const char *bench_kernel_only;
static int bench_argc;
static char **bench_argv;

int bench_init(int argc, char **argv)
{
    int i;
    /* jemalloc uses initial-exec TLS and can only be dlopen'ed with spare static TLS:
     * restart once with the glibc tunable that reserves it. */
    if (getenv("TARN_BENCH_REEXEC") == NULL) {
        char exe[4096];
        ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (len > 0) {
            exe[len] = '\0';
            setenv("TARN_BENCH_REEXEC", "1", 1);
            setenv("GLIBC_TUNABLES", "glibc.rtld.optional_static_tls=65536", 1);
            execv(exe, argv);
        }
    }
    bench_argc = argc;
    bench_argv = argv;
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) bench_json = 1;
        else if (strcmp(argv[i], "--quick") == 0) bench_quick = 1;
        else if (strcmp(argv[i], "--no-callgrind") == 0) bench_no_callgrind = 1;
        else if (strcmp(argv[i], "--kernel") == 0 && i + 1 < argc) bench_kernel_only = argv[++i];
    }
    return 0;
}

int bench_is_child(void) { return bench_kernel_only != NULL; }

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int bench_sys_allocators(bench_sys *out, int max)
{
    int n = 0;
    void *h;
    if (n < max) {
        out[n].name = "glibc";
        out[n].malloc_fn = malloc;
        out[n].free_fn = free;
        out[n].realloc_fn = realloc;
        n++;
    }
    h = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_LOCAL);
    if (h != NULL && n < max) {
        out[n].name = "jemalloc";
        *(void **)&out[n].malloc_fn = dlsym(h, "malloc");
        *(void **)&out[n].free_fn = dlsym(h, "free");
        *(void **)&out[n].realloc_fn = dlsym(h, "realloc");
        if (out[n].malloc_fn && out[n].free_fn && out[n].realloc_fn) n++;
    }
    h = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
    if (h != NULL && n < max) {
        out[n].name = "mimalloc";
        *(void **)&out[n].malloc_fn = dlsym(h, "mi_malloc");
        *(void **)&out[n].free_fn = dlsym(h, "mi_free");
        *(void **)&out[n].realloc_fn = dlsym(h, "mi_realloc");
        if (out[n].malloc_fn && out[n].free_fn && out[n].realloc_fn) n++;
    }
    return n;
}

/* Re-run this program under callgrind for one kernel; returns its instruction count. */
static double bench_callgrind(const char *name)
{
    char out[96], ofile[128], exe[4096];
    char **args;
    int i, n = 0, status = 0;
    ssize_t len;
    pid_t pid;
    FILE *f;
    char line[512];
    double total = -1.0;

    len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return -1.0;
    exe[len] = '\0';
    snprintf(out, sizeof out, "/tmp/tarn-bench-%ld.cg", (long)getpid());
    snprintf(ofile, sizeof ofile, "--callgrind-out-file=%s", out);
    args = calloc((size_t)bench_argc + 10u, sizeof *args);
    if (args == NULL) return -1.0;
    args[n++] = "valgrind";
    args[n++] = "--tool=callgrind";
    args[n++] = "--instr-atstart=no";
    args[n++] = ofile;
    args[n++] = exe;
    for (i = 1; i < bench_argc; i++) {
        if (strcmp(bench_argv[i], "--json") == 0) continue;
        args[n++] = bench_argv[i];
    }
    args[n++] = "--kernel";
    args[n++] = (char *)name;
    args[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid == 0) {
        if (freopen("/dev/null", "w", stdout) == NULL || freopen("/dev/null", "w", stderr) == NULL) {
            _exit(126);
        }
        execvp("valgrind", args);
        _exit(127);
    }
    free(args);
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        remove(out);
        return -1.0;
    }
    f = fopen(out, "r");
    if (f == NULL) return -1.0;
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "summary:", 8) == 0 || strncmp(line, "totals:", 7) == 0) {
            total = strtod(strchr(line, ':') + 1, NULL);
        }
    }
    fclose(f);
    remove(out);
    return total;
}

bench_result bench_run(const char *name, void (*fn)(void *), void *ctx)
{
    bench_result r = {0.0, -1.0};
    uint64_t t0;
    if (bench_kernel_only != NULL) {
        /* callgrind child: run only the requested kernel, instrumented */
        if (strcmp(bench_kernel_only, name) == 0) {
#ifdef BENCH_HAVE_CALLGRIND
            CALLGRIND_START_INSTRUMENTATION;
#endif
            fn(ctx);
#ifdef BENCH_HAVE_CALLGRIND
            CALLGRIND_STOP_INSTRUMENTATION;
#endif
        }
        return r;
    }
    t0 = bench_now_ns();
    fn(ctx);
    r.ns = (double)(bench_now_ns() - t0);
#ifdef BENCH_HAVE_CALLGRIND
    if (!bench_no_callgrind) r.instr = bench_callgrind(name);
#endif
    return r;
}

/* ---- output -------------------------------------------------------------------------- */
#define BENCH_MAXCOLS 16
static const char *bench_name_;
static const char *bench_title_;
static const char *bench_cols_[BENCH_MAXCOLS];
static int bench_ncols_;
static int bench_widths_[BENCH_MAXCOLS];

void bench_table_begin(const char *bench, const char *title, const char *const *cols, int ncols)
{
    int i;
    bench_name_ = bench;
    bench_title_ = title;
    bench_ncols_ = ncols > BENCH_MAXCOLS ? BENCH_MAXCOLS : ncols;
    for (i = 0; i < bench_ncols_; i++) {
        int w = (int)strlen(cols[i]);
        bench_cols_[i] = cols[i];
        bench_widths_[i] = w < 12 ? 12 : w;
    }
    bench_widths_[0] = bench_widths_[0] < 26 ? 26 : bench_widths_[0];
    if (bench_kernel_only != NULL || bench_json) return;
    printf("\n%s: %s\n", bench, title);
    for (i = 0; i < bench_ncols_; i++) printf("%s%-*s", i ? " | " : "", bench_widths_[i], cols[i]);
    printf("\n");
    for (i = 0; i < bench_ncols_; i++) {
        int k;
        printf("%s", i ? "-|-" : "");
        for (k = 0; k < bench_widths_[i]; k++) putchar('-');
    }
    printf("\n");
}

static int bench_is_number(const char *s)
{
    char *end;
    if (s == NULL || *s == '\0') return 0;
    (void)strtod(s, &end);
    return *end == '\0';
}

static void bench_json_str(const char *s)
{
    putchar('"');
    for (; s != NULL && *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

void bench_row(const char *const *cells)
{
    int i;
    if (bench_kernel_only != NULL) return;
    if (bench_json) {
        printf("{\"bench\":");
        bench_json_str(bench_name_);
        printf(",\"table\":");
        bench_json_str(bench_title_);
        for (i = 0; i < bench_ncols_; i++) {
            printf(",");
            bench_json_str(bench_cols_[i]);
            printf(":");
            if (bench_is_number(cells[i])) printf("%s", cells[i]);
            else bench_json_str(cells[i]);
        }
        printf("}\n");
        return;
    }
    for (i = 0; i < bench_ncols_; i++) {
        if (i == 0) printf("%-*s", bench_widths_[i], cells[i]);
        else printf(" | %*s", bench_widths_[i], cells[i]);
    }
    printf("\n");
}

void bench_table_end(void)
{
    if (bench_kernel_only == NULL && !bench_json) fflush(stdout);
}

const char *bench_fmt(const char *fmt, ...)
{
    static char bufs[32][64];
    static unsigned next;
    char *b = bufs[next++ % 32u];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof bufs[0], fmt, ap);
    va_end(ap);
    return b;
}

void bench_note(const char *fmt, ...)
{
    va_list ap;
    if (bench_json || bench_kernel_only != NULL) return;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}
