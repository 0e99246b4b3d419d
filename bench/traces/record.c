/*
 * bench/traces/record.c - record the malloc/calloc/realloc/free calls of a program as a
 * text trace for bench/heap (workload c).  Build and use (Linux, glibc):
 *
 *     cc -O2 -shared -fPIC -o librecord.so bench/traces/record.c -ldl
 *     TARN_TRACE_OUT=out.trace LD_PRELOAD=./librecord.so <program> <args>
 *
 * Trace format, one operation per line (IDs are dense, reused after a free):
 *     a ID SIZE      allocate SIZE bytes as block ID (malloc, calloc)
 *     r ID SIZE      resize block ID to SIZE bytes (realloc of a live block)
 *     f ID           free block ID
 * realloc(NULL, n) is recorded as `a`, realloc(p, 0) as `f`; frees of pointers the
 * program got before recording started are ignored.  Only the first process records
 * (children forked by it inherit the library but write nothing).  Single-threaded
 * programs only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int out_fd = -1, busy, ready;
static pid_t owner;   /* only this process records (forked children share the file) */

/* pointer -> id: open addressing over a fixed table; ids recycled through a stack */
#define SLOTS (1u << 22)
static uintptr_t keys[SLOTS];
static uint32_t vals[SLOTS];
static uint32_t free_ids[1u << 20];
static uint32_t nfree_ids, next_id;
static char bootstrap[4096];
static size_t boot_used;

static uint32_t slot_of(uintptr_t p)
{
    uint32_t i = (uint32_t)((p >> 4) * 2654435761u) & (SLOTS - 1u);
    while (keys[i] != 0 && keys[i] != p) i = (i + 1u) & (SLOTS - 1u);
    return i;
}
static void map_put(void *p, uint32_t id)
{
    uint32_t i = slot_of((uintptr_t)p);
    keys[i] = (uintptr_t)p;
    vals[i] = id;
}
static int map_take(void *p, uint32_t *id)
{
    uint32_t i = slot_of((uintptr_t)p), j, k;
    if (keys[i] == 0) return 0;
    *id = vals[i];
    keys[i] = 0;
    /* re-insert the rest of the cluster (deletion in linear probing) */
    for (j = (i + 1u) & (SLOTS - 1u); keys[j] != 0; j = (j + 1u) & (SLOTS - 1u)) {
        uintptr_t kk = keys[j];
        uint32_t v = vals[j];
        keys[j] = 0;
        k = slot_of(kk);
        keys[k] = kk;
        vals[k] = v;
    }
    return 1;
}
static uint32_t new_id(void)
{
    return nfree_ids > 0 ? free_ids[--nfree_ids] : next_id++;
}
static void emit(char kind, uint32_t id, size_t size)
{
    char line[64];
    int n = kind == 'f' ? snprintf(line, sizeof line, "f %u\n", id)
                        : snprintf(line, sizeof line, "%c %u %zu\n", kind, id, size);
    if (out_fd >= 0 && n > 0 && getpid() == owner) {
        ssize_t w = write(out_fd, line, (size_t)n);
        (void)w;
    }
}
static void init(void)
{
    const char *path;
    if (ready) return;
    busy = 1;
    real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    ready = 1;   /* from here on the real allocator serves; busy still keeps it unrecorded */
    /* the first process records; programs it starts find TARN_TRACE_OWNER set */
    owner = getpid();
    path = getenv("TARN_TRACE_OUT");
    if (path != NULL && getenv("TARN_TRACE_OWNER") == NULL) {
        char pid[32];
        snprintf(pid, sizeof pid, "%ld", (long)owner);
        setenv("TARN_TRACE_OWNER", pid, 1);
        out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    }
    busy = 0;
}

void *malloc(size_t n)
{
    void *p;
    if (!ready) {
        if (busy) {   /* dlsym allocating during init */
            p = bootstrap + boot_used;
            boot_used += (n + 15u) & ~(size_t)15u;
            return p;
        }
        init();
    }
    p = real_malloc(n);
    if (p != NULL && !busy) {
        uint32_t id = new_id();
        map_put(p, id);
        emit('a', id, n);
    }
    return p;
}

void *calloc(size_t a, size_t b)
{
    void *p;
    if (!ready) {
        if (busy) {
            p = bootstrap + boot_used;
            boot_used += (a * b + 15u) & ~(size_t)15u;
            memset(p, 0, a * b);
            return p;
        }
        init();
    }
    p = real_calloc(a, b);
    if (p != NULL && !busy) {
        uint32_t id = new_id();
        map_put(p, id);
        emit('a', id, a * b);
    }
    return p;
}

void free(void *p)
{
    uint32_t id;
    if (p == NULL || ((char *)p >= bootstrap && (char *)p < bootstrap + sizeof bootstrap)) return;
    if (!ready) init();
    if (map_take(p, &id)) {
        emit('f', id, 0);
        free_ids[nfree_ids++] = id;
    }
    real_free(p);
}

void *realloc(void *p, size_t n)
{
    uint32_t id;
    void *q;
    if (p == NULL) return malloc(n);
    if (!ready) init();
    if (n == 0) {
        free(p);
        return NULL;
    }
    q = real_realloc(p, n);
    if (q == NULL) return NULL;
    if (map_take(p, &id)) {
        map_put(q, id);
        emit('r', id, n);
    } else {
        id = new_id();
        map_put(q, id);
        emit('a', id, n);
    }
    return q;
}
