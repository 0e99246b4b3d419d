/* tarn-test: host-only */
/*
 * tests/test_heapmap.c - pool dumps (include/tarn/dump.h) and their SVG rendering
 * (tools/heapmap): the SVG is well-formed and its regions match the pool's walk.
 */
#include "check.h"
#include "heapmap.h"
#include "tarn/block.h"
#include "tarn/dump.h"

#define NB 20
#define BS 48

static unsigned char mem[TARN_BLOCK_POOL_BYTES(NB, BS)] TARN_BLOCK_ALIGNED;

typedef struct walk_log { unsigned n; uint64_t off[NB]; uint64_t size[NB]; bool used[NB]; } walk_log;
static bool log_walk(void *ctx, void *block, size_t size, bool used)
{
    walk_log *w = (walk_log *)ctx;
    w->off[w->n] = (uint64_t)((unsigned char *)block - mem);
    w->size[w->n] = size;
    w->used[w->n] = used;
    w->n++;
    return true;
}

/* Minimal well-formedness check: every tag closes in order, attributes quoted. */
static int xml_well_formed(const char *s)
{
    const char *stack[64];
    size_t lens[64];
    int depth = 0;
    while ((s = strchr(s, '<')) != NULL) {
        const char *name = s + 1, *close;
        size_t n;
        if (*name == '?') { s = strstr(s, "?>"); if (!s) return 0; s += 2; continue; }
        close = strchr(s, '>');
        if (close == NULL) return 0;
        if (*name == '/') {
            name++;
            n = strcspn(name, ">");
            if (depth == 0 || lens[depth - 1] != n || strncmp(stack[depth - 1], name, n) != 0) return 0;
            depth--;
        } else {
            const char *q;
            int quotes = 0;
            for (q = s; q < close; q++) quotes += (*q == '"');
            if (quotes % 2) return 0;
            n = strcspn(name, " />");
            if (close[-1] != '/') {
                if (depth == 64) return 0;
                stack[depth] = name;
                lens[depth++] = n;
            }
        }
        s = close + 1;
    }
    return depth == 0;
}

static int writer_calls, writer_fail_at = -1;
static char wbuf[8192];
static size_t wlen;
static int writer(void *ctx, const void *data, size_t n)
{
    (void)ctx;
    if (writer_calls++ == writer_fail_at || wlen + n > sizeof wbuf) return -1;
    memcpy(wbuf + wlen, data, n);
    wlen += n;
    return 0;
}

int main(void)
{
    tarn_block_pool pool;
    tarn_block_ext ext;
    tarn_block_stats st;
    tarn_config cfg;
    tarn_dump d;
    static char buf[8192];
    size_t len = 0;
    void *b[NB];
    walk_log w;
    unsigned i, used = 0;
    long drawn;
    FILE *svg;
    char *text;
    long svglen;

    memset(&cfg, 0, sizeof cfg);
    cfg.name = "rx packets";
    REQUIRE(tarn_block_init_ext(&pool, &ext, mem, sizeof mem, BS, &cfg) == TARN_OK);
    for (i = 0; i < 12; i++) b[i] = tarn_block_get(&pool);
    for (i = 0; i < 12; i += 4) tarn_block_put(&pool, b[i]);
    memset(&w, 0, sizeof w);
    CHECK_EQ(tarn_block_walk(&pool, log_walk, &w), TARN_OK);
    CHECK_EQ(w.n, NB);
    for (i = 0; i < w.n; i++) used += w.used[i];
    CHECK_EQ(used, 9);

    /* dump into a buffer */
    CHECK_EQ(tarn_dump_to_buffer(&d, buf, sizeof buf), TARN_OK);
    tarn_dump_pool(&d, "block", tarn_block_name(&pool), mem, sizeof mem);
    CHECK_EQ(tarn_block_walk(&pool, tarn_dump_walk_cb, &d), TARN_OK);
    CHECK_EQ(tarn_block_stats_get(&pool, &st), TARN_OK);
    tarn_dump_stat(&d, "free", st.free);
    tarn_dump_stat(&d, "min_free", st.min_free);
    CHECK_EQ(tarn_dump_end(&d, &len), TARN_OK);
    REQUIRE(len > 0 && len < sizeof buf);
    CHECK(strncmp(buf, "tarn-dump 1\npool block rx_packets ", 34) == 0);

    /* the same dump through a write callback is byte-identical; a failing writer is EIO */
    CHECK_EQ(tarn_dump_to_writer(&d, writer, NULL), TARN_OK);
    tarn_dump_pool(&d, "block", tarn_block_name(&pool), mem, sizeof mem);
    tarn_block_walk(&pool, tarn_dump_walk_cb, &d);
    tarn_dump_stat(&d, "free", st.free);
    tarn_dump_stat(&d, "min_free", st.min_free);
    CHECK_EQ(tarn_dump_end(&d, NULL), TARN_OK);
    CHECK(wlen == len && memcmp(wbuf, buf, len) == 0);
    writer_calls = 0;
    writer_fail_at = 5;
    CHECK_EQ(tarn_dump_to_writer(&d, writer, NULL), TARN_OK);
    tarn_dump_pool(&d, "block", NULL, mem, sizeof mem);
    CHECK_EQ(tarn_dump_end(&d, NULL), TARN_EIO);
    /* too small a buffer is ENOMEM, never an overflow */
    {
        char small[24];
        CHECK_EQ(tarn_dump_to_buffer(&d, small, sizeof small), TARN_OK);
        tarn_dump_pool(&d, "block", "x", mem, sizeof mem);
        CHECK_EQ(tarn_dump_end(&d, NULL), TARN_ENOMEM);
    }
    {
        static char buf2[256];
        size_t len2 = 0;
        /* NULL dumps are ignored; odd names become one field; zero prints as 0 */
        tarn_dump_pool(NULL, "block", "x", mem, 1);
        tarn_dump_region(NULL, 0, 1, TARN_DUMP_USED);
        tarn_dump_region_at(NULL, mem, 1, TARN_DUMP_USED);
        tarn_dump_stat(NULL, "k", 1);
        CHECK_EQ(tarn_dump_end(NULL, NULL), TARN_EINVAL);
        CHECK_EQ(tarn_dump_to_buffer(&d, buf2, sizeof buf2 - 1), TARN_OK);
        tarn_dump_pool(&d, "block", "", mem, 0);
        tarn_dump_stat(&d, "a b\tc\x7f", 0);
        tarn_dump_region(&d, 0, 0, TARN_DUMP_META);
        CHECK_EQ(tarn_dump_end(&d, &len2), TARN_OK);
        buf2[len2] = '\0';
        CHECK(strcmp(buf2, "tarn-dump 1\npool block - 0\ns a_b_c_ 0\nr 0 0 m\nend\n") == 0);
        /* after a writer error nothing more is written */
        writer_calls = 0;
        writer_fail_at = 0;
        wlen = 0;
        CHECK_EQ(tarn_dump_to_writer(&d, writer, NULL), TARN_OK);
        tarn_dump_stat(&d, "after", 1);
        CHECK_EQ(tarn_dump_end(&d, NULL), TARN_EIO);
        CHECK_EQ(writer_calls, 1);
        CHECK_EQ(wlen, 0);
    }
    CHECK_EQ(tarn_dump_to_buffer(NULL, buf, 1), TARN_EINVAL);
    CHECK_EQ(tarn_dump_to_buffer(&d, NULL, 1), TARN_EINVAL);
    CHECK_EQ(tarn_dump_to_writer(NULL, writer, NULL), TARN_EINVAL);
    CHECK_EQ(tarn_dump_to_writer(&d, NULL, NULL), TARN_EINVAL);

    /* render, then check the SVG: well-formed, one rect per walked block, same sizes */
    svg = tmpfile();
    REQUIRE(svg != NULL);
    drawn = heapmap_render(buf, len, svg);
    CHECK_EQ(drawn, NB);
    svglen = ftell(svg);
    REQUIRE(svglen > 0);
    text = malloc((size_t)svglen + 1);
    REQUIRE(text != NULL);
    rewind(svg);
    REQUIRE(fread(text, 1, (size_t)svglen, svg) == (size_t)svglen);
    text[svglen] = '\0';
    fclose(svg);
    CHECK(xml_well_formed(text));
    CHECK(strstr(text, "<svg ") != NULL && strstr(text, "</svg>") != NULL);
    {
        const char *s = text;
        unsigned k = 0, nused = 0;
        while ((s = strstr(s, "<rect class=\"region ")) != NULL) {
            unsigned long long off = 0, size = 0;
            const char *a = strstr(s, "data-offset=\""), *z = strstr(s, "data-size=\"");
            REQUIRE(a && z && k < NB);
            off = strtoull(a + 13, NULL, 10);
            size = strtoull(z + 11, NULL, 10);
            CHECK_EQ(off, w.off[k]);
            CHECK_EQ(size, w.size[k]);
            CHECK_EQ(strncmp(s + 20, "used", 4) == 0, w.used[k]);
            nused += strncmp(s + 20, "used", 4) == 0;
            k++;
            s++;
        }
        CHECK_EQ(k, NB);
        CHECK_EQ(nused, 9);
    }
    CHECK(strstr(text, "min_free=") != NULL);
    free(text);

    /* malformed dumps are rejected */
    svg = tmpfile();
    {
        static const char *const bad[] = {
            "garbage\n",
            "tarn-dump 1\npool block x 100\nr 90 20 u\nend\n",   /* past capacity */
            "tarn-dump 1\npool block x 100\nr 0 20 q\nend\n",    /* unknown state */
            "tarn-dump 1\npool block x 100\n",                   /* no end */
            "tarn-dump 1\nr 0 20 u\nend\n",                      /* region before pool */
        };
        const char *good = "tarn-dump 1\npool block x 100\nr 80 20 u\nend\n";
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) CHECK_EQ(heapmap_render(bad[i], strlen(bad[i]), svg), -1);
        CHECK_EQ(heapmap_render(good, strlen(good), svg), 1);
    }
    fclose(svg);
    return check_done();
}
