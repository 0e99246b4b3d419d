/*
 * examples/cjson - cJSON on a tarn heap, through cJSON_InitHooks.
 *
 * Builds a large JSON document (4000 records: strings, numbers, nested arrays and
 * objects), prints it, parses the text back and prints that again: the texts must be
 * the same, and the same as with cJSON's default hooks (malloc/free).  Then runs the
 * parse-and-print on smaller and smaller heaps (a binary search: the smallest heap it
 * runs in), and on one too small, where cJSON must return NULL, not crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "tarn/heap.h"

#ifndef TARN_TEST_SCALE
#define TARN_TEST_SCALE 1
#endif
#define RECORDS (4000 / TARN_TEST_SCALE)

static tarn_heap *json_heap;   /* cJSON's hooks take no context */

static void *json_malloc(size_t n)
{
    return tarn_heap_alloc(json_heap, n);
}

static void json_free(void *p)
{
    (void)tarn_heap_free(json_heap, p);
}

/* The document.  NULL when out of memory (cJSON frees what it built). */
static cJSON *build(void)
{
    int i, j;
    cJSON *root = cJSON_CreateObject(), *arr;
    if (root == NULL || cJSON_AddStringToObject(root, "name", "tarn example") == NULL ||
        (arr = cJSON_AddArrayToObject(root, "records")) == NULL) {
        cJSON_Delete(root);
        return NULL;
    }
    for (i = 0; i < RECORDS; i++) {
        char name[32];
        cJSON *r = cJSON_CreateObject(), *tags;
        if (r == NULL) {
            cJSON_Delete(root);
            return NULL;
        }
        cJSON_AddItemToArray(arr, r);
        snprintf(name, sizeof name, "record-%05d", (i * 7919) % 10007);
        if (cJSON_AddNumberToObject(r, "id", i) == NULL ||
            cJSON_AddStringToObject(r, "name", name) == NULL ||
            cJSON_AddNumberToObject(r, "score", (double)((i * 37) % 1000) / 8.0) == NULL ||
            cJSON_AddBoolToObject(r, "even", (i & 1) == 0) == NULL ||
            (tags = cJSON_AddArrayToObject(r, "tags")) == NULL) {
            cJSON_Delete(root);
            return NULL;
        }
        for (j = 0; j < i % 5; j++) {
            cJSON *t = cJSON_CreateString(j & 1 ? "odd" : "even");
            if (t == NULL) {
                cJSON_Delete(root);
                return NULL;
            }
            cJSON_AddItemToArray(tags, t);
        }
    }
    return root;
}

/* Parse `text` and print it again (formatted); NULL when out of memory. */
static char *reprint(const char *text)
{
    cJSON *doc = cJSON_Parse(text);
    char *out;
    if (doc == NULL) {
        return NULL;
    }
    out = cJSON_Print(doc);
    cJSON_Delete(doc);
    return out;
}

static unsigned char arena[8u << 20];

int main(void)
{
    cJSON_Hooks hooks = {json_malloc, json_free};
    cJSON_Hooks stock = {malloc, free};
    cJSON *doc;
    char *text, *again, *ref, *ref_text;
    size_t lo, hi, peak, text_len;
    tarn_heap_stats st;

    /* cJSON's default hooks: the reference texts */
    cJSON_InitHooks(&stock);
    doc = build();
    ref_text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    ref = ref_text != NULL ? reprint(ref_text) : NULL;
    if (ref == NULL) {
        printf("cjson: failed with the default hooks\n");
        return 1;
    }
    text_len = strlen(ref_text);

    /* on tarn: build, print, parse, print */
    if (tarn_heap_init(&json_heap, arena, sizeof arena, NULL) != TARN_OK) {
        return 1;
    }
    cJSON_InitHooks(&hooks);
    doc = build();
    text = doc != NULL ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    again = text != NULL ? reprint(text) : NULL;
    if (text == NULL || again == NULL || strcmp(text, ref_text) != 0 || strcmp(again, ref) != 0) {
        printf("cjson: on tarn: output %s\n", text == NULL || again == NULL ? "missing" : "DIFFERS");
        return 1;
    }
    printf("cjson: %d records, %lu bytes of JSON (%lu formatted), same text as with malloc\n",
           RECORDS, (unsigned long)strlen(text), (unsigned long)strlen(again));
    json_free(text);
    json_free(again);
    (void)tarn_heap_stats_get(json_heap, &st);
    peak = st.peak_used;
    printf("cjson: heap peak %lu bytes, %lu blocks left\n", (unsigned long)peak,
           (unsigned long)st.live_blocks);
    if (st.live_blocks != 0) {
        return 1;
    }

    /* the smallest heap in which the text parses and prints again */
    lo = TARN_HEAP_MIN_SIZE;
    hi = sizeof arena;
    while (hi - lo > peak / (128 / TARN_TEST_SCALE + 1)) {
        size_t mid = lo + (hi - lo) / 2;
        int ok = 0;
        if (tarn_heap_init(&json_heap, arena, mid, NULL) == TARN_OK) {
            again = reprint(ref_text);
            ok = again != NULL && strcmp(again, ref) == 0;
            if (again != NULL) json_free(again);
        }
        if (ok) hi = mid; else lo = mid;
    }
    printf("cjson: smallest heap to parse and print the %lu-byte text: %lu bytes (fails in %lu)\n",
           (unsigned long)text_len, (unsigned long)hi, (unsigned long)lo);

    /* too small: NULL from cJSON, the heap intact and empty */
    (void)tarn_heap_init(&json_heap, arena, hi / 2, NULL);
    again = reprint(ref_text);
    (void)tarn_heap_stats_get(json_heap, &st);
    printf("cjson: in a %lu-byte heap: %s, %lu failed allocation(s), heap %s, %lu blocks left\n",
           (unsigned long)(hi / 2), again == NULL ? "cJSON returned NULL" : "UNEXPECTED SUCCESS",
           (unsigned long)st.failed_allocs,
           tarn_heap_check(json_heap) == TARN_OK ? "intact" : "DAMAGED", (unsigned long)st.live_blocks);
    cJSON_InitHooks(NULL);
    free(ref);
    free(ref_text);
    return (again == NULL && st.live_blocks == 0) ? 0 : 1;
}
