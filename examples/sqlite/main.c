/*
 * examples/sqlite - SQLite on a tarn heap, through SQLITE_CONFIG_MALLOC.
 *
 * Every allocation SQLite makes (connections, statements, the page cache of an in-memory
 * database, lookaside) comes from one tarn heap: xMalloc/xFree/xRealloc map to tarn's
 * alloc/free/realloc, xSize to tarn_heap_usable_size, xRoundup to tarn's 8-byte granule,
 * xInit/xShutdown create and end the heap.  The workload: a table, a few thousand
 * inserts in one transaction, an index, queries, PRAGMA integrity_check.  It runs on an
 * 8 MiB heap (peak shown), then on smaller heaps (a binary search: the smallest heap it
 * runs in), then on one too small, where SQLite must report SQLITE_NOMEM, not crash.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "tarn/heap.h"

#ifndef TARN_TEST_SCALE
#define TARN_TEST_SCALE 1
#endif
#define ROWS (5000 / TARN_TEST_SCALE)

/* The heap SQLite runs on: a buffer and, between xInit and xShutdown, a tarn heap. */
typedef struct sql_heap {
    void *mem;
    size_t size;
    tarn_heap *h;
} sql_heap;

static sql_heap heap;   /* SQLite's methods take no context but xInit's */

static void *x_malloc(int n)
{
    return n > 0 ? tarn_heap_alloc(heap.h, (size_t)n) : NULL;
}

static void x_free(void *p)
{
    (void)tarn_heap_free(heap.h, p);
}

static void *x_realloc(void *p, int n)
{
    return n > 0 ? tarn_heap_realloc(heap.h, p, (size_t)n) : NULL;
}

static int x_size(void *p)
{
    return (int)tarn_heap_usable_size(heap.h, p);
}

static int x_roundup(int n)
{
    return (int)TARN_ALIGN_UP((size_t)n, TARN_HEAP_GRANULE);
}

static int x_init(void *app)
{
    sql_heap *s = (sql_heap *)app;
    return tarn_heap_init(&s->h, s->mem, s->size, NULL) == TARN_OK ? SQLITE_OK : SQLITE_NOMEM;
}

static void x_shutdown(void *app)
{
    sql_heap *s = (sql_heap *)app;
    (void)tarn_heap_destroy(s->h);
    s->h = NULL;
}

static const sqlite3_mem_methods tarn_methods = {
    x_malloc, x_free, x_realloc, x_size, x_roundup, x_init, x_shutdown, &heap};

/* The workload.  SQLITE_OK, or the first error; the query results into out. */
static int workload(char *out, size_t outn)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc, i;
    long long sum = 0, n = 0, range = 0;
    char check[64] = "";
    rc = sqlite3_open(":memory:", &db);
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(db,
            "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score INTEGER, note TEXT);"
            "BEGIN;", NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(db, "INSERT INTO t(name, score, note) VALUES(?, ?, ?)", -1, &st, NULL);
    }
    for (i = 0; rc == SQLITE_OK && i < ROWS; i++) {
        char name[32], note[96];
        snprintf(name, sizeof name, "name-%05d", (i * 7919) % 10007);
        snprintf(note, sizeof note, "row %d of the tarn example, with some text to fill pages %d", i, i * 3);
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 2, (i * 37) % 1000);
        sqlite3_bind_text(st, 3, note, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
        rc = (rc == SQLITE_DONE) ? sqlite3_reset(st) : rc;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(db, "COMMIT; CREATE INDEX t_score ON t(score, name);", NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(db, "SELECT count(*), sum(score) FROM t", -1, &st, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            n = sqlite3_column_int64(st, 0);
            sum = sqlite3_column_int64(st, 1);
            rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
    }
    if (rc == SQLITE_OK) {   /* served by the index */
        rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM t WHERE score BETWEEN 100 AND 199 AND name > 'name-05'", -1, &st, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            range = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_exec(db, "DELETE FROM t WHERE id % 3 = 0; UPDATE t SET note = note || '!' WHERE score < 50;", NULL, NULL, NULL);
    }
    if (rc == SQLITE_OK) {
        rc = sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            snprintf(check, sizeof check, "%s", (const char *)sqlite3_column_text(st, 0));
            rc = SQLITE_OK;
        }
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_OK) {
        rc = sqlite3_extended_errcode(db) != SQLITE_OK ? sqlite3_errcode(db) : rc;
    }
    sqlite3_close(db);
    snprintf(out, outn, "rows %lld, sum %lld, index range %lld, integrity_check %s", n, sum, range, check);
    return rc;
}

static unsigned char arena[8u << 20];

/* Run the workload on a heap of `size` bytes; SQLite's result, the heap's peak. */
static int run(size_t size, char *out, size_t outn, size_t *peak, int *leak)
{
    int rc;
    tarn_heap_stats st;
    heap.mem = arena;
    heap.size = size;
    sqlite3_shutdown();
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &tarn_methods) != SQLITE_OK) {
        return SQLITE_MISUSE;
    }
    rc = sqlite3_initialize();
    if (rc == SQLITE_OK) {
        rc = workload(out, outn);
    }
    if (heap.h != NULL) {
        (void)tarn_heap_stats_get(heap.h, &st);
        *peak = st.peak_used;
        *leak = (tarn_heap_check(heap.h) != TARN_OK) ? -1 : (int)st.live_blocks;
    }
    sqlite3_shutdown();   /* ends the heap (xShutdown) */
    return rc;
}

int main(void)
{
    char out[160] = "", ref[160] = "";
    size_t peak = 0, p2, lo, hi;
    int rc, leak = 0;

    /* SQLite's own allocator first: the reference result */
    rc = workload(ref, sizeof ref);
    printf("sqlite: own allocator: %s\n", ref);
    if (rc != SQLITE_OK) {
        return 1;
    }
    rc = run(sizeof arena, out, sizeof out, &peak, &leak);
    printf("sqlite: tarn heap:     %s (%s)\n", out, strcmp(out, ref) == 0 ? "same" : "DIFFERS");
    printf("sqlite: %d rows on an %lu-byte tarn heap: %s; heap peak %lu bytes, %d blocks left at close\n",
           ROWS, (unsigned long)sizeof arena, sqlite3_errstr(rc), (unsigned long)peak, leak);
    if (rc != SQLITE_OK || strcmp(out, ref) != 0 || strstr(ref, "integrity_check ok") == NULL) {
        return 1;
    }

    lo = TARN_HEAP_MIN_SIZE;
    hi = sizeof arena;
    while (hi - lo > peak / (128 / TARN_TEST_SCALE + 1)) {
        size_t mid = lo + (hi - lo) / 2;
        if (run(mid, out, sizeof out, &p2, &leak) == SQLITE_OK && strcmp(out, ref) == 0) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    printf("sqlite: smallest heap it ran in: %lu bytes (fails in %lu)\n", (unsigned long)hi,
           (unsigned long)lo);

    rc = run(hi / 2, out, sizeof out, &p2, &leak);
    printf("sqlite: in a %lu-byte heap: \"%s\" (%d), heap %s\n", (unsigned long)(hi / 2),
           sqlite3_errstr(rc), rc, leak < 0 ? "DAMAGED" : "intact");
    if (rc != SQLITE_NOMEM || leak < 0) {
        printf("sqlite: expected SQLITE_NOMEM\n");
        return 1;
    }
    return 0;
}
