/*
 * examples/handle - a handle pool as a store of variable-length messages on a small
 * device: messages come and go, the pool fragments, and an idle loop defragments it a
 * little at a time with tarn_handle_compact_step, so that a large message still fits.
 * Code keeps handles, and locks a message only while it reads or writes it.
 * Exit status 0 when every step behaved as documented.
 */
#include <stdio.h>
#include <string.h>

#include "tarn/handle.h"

#define MSGS 24

static unsigned char mem[TARN_HANDLE_BYTES(2048, MSGS + 1)] TARN_HANDLE_ALIGNED;
static tarn_handle_pool pool;

static tarn_handle store(const char *text)
{
    size_t n = strlen(text) + 1;
    tarn_handle h = tarn_handle_alloc(&pool, n);
    char *p = (char *)tarn_handle_lock(&pool, h);   /* NULL for a null handle */
    if (p != NULL) {
        memcpy(p, text, n);
        tarn_handle_unlock(&pool, h);
    }
    return h;
}

int main(void)
{
    tarn_handle msg[MSGS], big;
    tarn_handle_stats st;
    char text[80];
    size_t moved, total = 0;
    int i, calls = 0, bad = 0;

    if (tarn_handle_init(&pool, mem, sizeof mem, MSGS + 1, NULL) != TARN_OK) return 1;
    for (i = 0; i < MSGS; i++) {
        snprintf(text, sizeof text, "message %02d: %.*s", i, 30 + (i * 7) % 40,
                 "................................................................");
        msg[i] = store(text);
        if (tarn_handle_is_null(msg[i])) bad++;
    }
    for (i = 0; i < MSGS; i += 2) tarn_handle_free(&pool, msg[i]);   /* every other one read */
    tarn_handle_stats_get(&pool, &st);
    printf("after deleting half: free %zu bytes, largest free region %zu\n", st.free, st.largest_free);

    big = tarn_handle_alloc(&pool, 600);                /* does not fit any hole */
    printf("600-byte message before defragmenting: %s\n", tarn_handle_is_null(big) ? "no room" : "stored");
    if (!tarn_handle_is_null(big)) bad++;

    /* idle loop: at most 64 bytes moved per tick */
    while (!tarn_handle_compact_step(&pool, 64, &moved)) {
        total += moved;
        calls++;
        if (moved > 64) bad++;
    }
    total += moved;
    tarn_handle_stats_get(&pool, &st);
    printf("defragmented in %d idle ticks (%zu bytes moved): largest free region %zu\n", calls + 1,
           total, st.largest_free);

    big = tarn_handle_alloc(&pool, 600);
    printf("600-byte message after defragmenting: %s\n", tarn_handle_is_null(big) ? "no room" : "stored");
    if (tarn_handle_is_null(big)) bad++;

    for (i = 1; i < MSGS; i += 2) {                     /* the survivors moved, intact */
        const char *p = (const char *)tarn_handle_lock(&pool, msg[i]);
        snprintf(text, sizeof text, "message %02d:", i);
        if (p == NULL || strncmp(p, text, strlen(text)) != 0) bad++;
        if (i == 1 && p != NULL) printf("first survivor reads \"%.20s...\"\n", p);
        tarn_handle_unlock(&pool, msg[i]);
    }
    if (tarn_handle_check(&pool) != TARN_OK) bad++;
    printf(bad == 0 ? "handle example: ok\n" : "handle example: FAILED\n");
    return bad == 0 ? 0 : 1;
}
