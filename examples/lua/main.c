/*
 * examples/lua - Lua 5.4 on a tarn heap, through lua_newstate and a lua_Alloc.
 *
 * Runs workload.lua (tables, strings, closures, coroutines, garbage) three ways:
 *   1. with Lua's own allocator (luaL_newstate: realloc/free), capturing its output;
 *   2. on a 4 MiB tarn heap: the same output, and the heap's peak;
 *   3. on smaller and smaller tarn heaps (a binary search): the smallest heap it runs in;
 * then shows that a heap too small ends in Lua's own "not enough memory" error, caught
 * by lua_pcall, with the heap intact.  With `--print FILE` it only runs FILE on tarn,
 * printing to stdout (for comparing with the lua5.4 program).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "tarn/heap.h"

#ifndef TARN_TEST_SCALE
#define TARN_TEST_SCALE 1
#endif

/* The lua_Alloc: Lua's contract in three lines.  nsize 0 frees (and tarn refuses a
 * pointer that is not a live block, so Lua's bugs cannot damage the heap); otherwise
 * realloc, which for ptr NULL allocates, and which never fails when shrinking. */
static void *tarn_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    tarn_heap *h = (tarn_heap *)ud;
    (void)osize;
    if (nsize == 0) {
        if (ptr != NULL) {
            (void)tarn_heap_free(h, ptr);
        }
        return NULL;
    }
    return tarn_heap_realloc(h, ptr, nsize);
}

/* ---- print() into a buffer, so two runs can be compared -------------------------------- */
typedef struct out_buf { char *b; size_t n, cap; } out_buf;

static void out_add(out_buf *o, const char *s, size_t n)
{
    if (o->n + n + 1 > o->cap) {
        size_t cap = (o->n + n + 1) * 2;
        char *b = (char *)realloc(o->b, cap);   /* the host's heap, not the Lua heap */
        if (b == NULL) {
            return;
        }
        o->b = b;
        o->cap = cap;
    }
    memcpy(o->b + o->n, s, n);
    o->n += n;
    o->b[o->n] = '\0';
}

static int l_print(lua_State *L)
{
    out_buf *o = (out_buf *)lua_touserdata(L, lua_upvalueindex(1));
    int i, n = lua_gettop(L);
    for (i = 1; i <= n; i++) {
        size_t len;
        const char *s = luaL_tolstring(L, i, &len);
        if (i > 1) {
            out_add(o, "\t", 1);
        }
        out_add(o, s, len);
        lua_pop(L, 1);
    }
    out_add(o, "\n", 1);
    return 0;
}

/* Run the script in L; print goes to o (NULL: stdout, and the script's full length, as
 * the lua5.4 program runs it).  LUA_OK or Lua's status; the error message into err. */
static int run(lua_State *L, const char *script, out_buf *o, char *err, size_t errn)
{
    int st;
    luaL_openlibs(L);
    if (o != NULL) {   /* compared runs: shorter loops on slow runners; --print: as lua5.4 */
        lua_pushinteger(L, TARN_TEST_SCALE);
        lua_setglobal(L, "SCALE");
    }
    if (o != NULL) {
        lua_pushlightuserdata(L, o);
        lua_pushcclosure(L, l_print, 1);
        lua_setglobal(L, "print");
    }
    st = luaL_loadfile(L, script);
    if (st == LUA_OK) {
        st = lua_pcall(L, 0, 0, 0);
    }
    if (st != LUA_OK && err != NULL) {
        const char *m = lua_tostring(L, -1);
        snprintf(err, errn, "%s", m != NULL ? m : "(no message)");
    }
    return st;
}

static unsigned char arena[4u << 20];

/* Run the script on a tarn heap of `size` bytes (the start of arena).  Returns Lua's
 * status (-1: not even the state could be made); *peak gets the heap's peak use. */
static int run_on_tarn(size_t size, const char *script, out_buf *o, size_t *peak,
                       char *err, size_t errn)
{
    tarn_heap *h;
    tarn_heap_stats st;
    lua_State *L;
    int rc;
    if (tarn_heap_init(&h, arena, size, NULL) != TARN_OK) {
        return -1;
    }
    L = lua_newstate(tarn_lua_alloc, h);
    if (L == NULL) {
        snprintf(err, errn, "lua_newstate: not enough memory");
        return -1;
    }
    rc = run(L, script, o, err, errn);
    lua_close(L);
    (void)tarn_heap_stats_get(h, &st);
    if (peak != NULL) {
        *peak = st.peak_used;
    }
    if (st.live_blocks != 0 || tarn_heap_check(h) != TARN_OK) {
        printf("lua: heap not empty or damaged after lua_close\n");
        return -2;
    }
    return rc;
}

int main(int argc, char **argv)
{
    const char *script = "examples/lua/workload.lua";
    out_buf ref = {NULL, 0, 0}, got = {NULL, 0, 0};
    char err[256] = "";
    size_t peak = 0, lo, hi, smallest;
    lua_State *L;
    int rc;

    if (argc == 3 && strcmp(argv[1], "--print") == 0) {
        rc = run_on_tarn(sizeof arena, argv[2], NULL, &peak, err, sizeof err);
        if (rc != LUA_OK) {
            fprintf(stderr, "lua: %s\n", err);
        }
        return rc == LUA_OK ? 0 : 1;
    }
    if (argc == 2) {
        script = argv[1];
    }

    /* 1. stock allocator */
    L = luaL_newstate();
    if (L == NULL || run(L, script, &ref, err, sizeof err) != LUA_OK) {
        printf("lua: the script fails with Lua's own allocator: %s\n", err);
        return 1;
    }
    lua_close(L);

    /* 2. tarn, 4 MiB: the same output */
    rc = run_on_tarn(sizeof arena, script, &got, &peak, err, sizeof err);
    if (rc != LUA_OK || got.b == NULL || strcmp(ref.b, got.b) != 0) {
        printf("lua: on tarn: status %d (%s), output %s\n", rc, err,
               (got.b != NULL && strcmp(ref.b, got.b) == 0) ? "same" : "DIFFERS");
        return 1;
    }
    printf("%s", got.b);
    printf("lua: output identical to Lua's own allocator (%lu bytes); heap peak %lu bytes\n",
           (unsigned long)got.n, (unsigned long)peak);

    /* 3. the smallest heap it runs in: binary search to 1/256 of the peak */
    lo = TARN_HEAP_MIN_SIZE;   /* fails */
    hi = sizeof arena;         /* runs */
    while (hi - lo > peak / (256 / TARN_TEST_SCALE + 1)) {
        size_t mid = lo + (hi - lo) / 2;
        got.n = 0;
        if (run_on_tarn(mid, script, &got, NULL, err, sizeof err) == LUA_OK &&
            strcmp(ref.b, got.b) == 0) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    smallest = hi;
    printf("lua: smallest heap it ran in: %lu bytes (fails in %lu)\n", (unsigned long)smallest,
           (unsigned long)lo);

    /* 4. too small: Lua's own error, caught by lua_pcall; the heap is intact */
    got.n = 0;
    rc = run_on_tarn(smallest / 2, script, &got, NULL, err, sizeof err);
    printf("lua: in a %lu-byte heap: status %d, \"%s\"\n", (unsigned long)(smallest / 2), rc, err);
    if (rc != LUA_ERRMEM || strstr(err, "not enough memory") == NULL) {
        printf("lua: expected LUA_ERRMEM \"not enough memory\"\n");
        return 1;
    }
    free(ref.b);
    free(got.b);
    return 0;
}
