/*
 * tools/heapmap/render.c - see heapmap.h.  Host tool: uses stdio and malloc freely.
 */
#include "heapmap.h"

#include <stdlib.h>
#include <string.h>

#define BAR_W 960.0
#define BAR_H 36.0
#define LEFT 20.0
#define POOL_GAP 110.0

typedef struct region { unsigned long long off, size; char state; } region;
typedef struct stat_kv { char key[48]; unsigned long long value; } stat_kv;
typedef struct pool_map {
    char kind[16], name[64];
    unsigned long long capacity;
    region *r;
    size_t nr, capr;
    stat_kv st[16];
    size_t nst;
} pool_map;

static const char *state_class(char s)
{
    switch (s) {
    case 'u': return "used";
    case 'f': return "free";
    case 'p': return "pinned";
    case 'm': return "meta";
    default: return NULL;
    }
}

static void xml_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '<') fputs("&lt;", out);
        else if (*s == '>') fputs("&gt;", out);
        else if (*s == '&') fputs("&amp;", out);
        else if (*s == '"') fputs("&quot;", out);
        else fputc(*s, out);
    }
}

static void free_pools(pool_map *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) free(p[i].r);
    free(p);
}

long heapmap_render(const char *dump, size_t len, FILE *out)
{
    pool_map *pools = NULL;
    size_t np = 0, capp = 0, i, j;
    long drawn = 0;
    const char *p = dump, *end = dump + len;
    int in_dump = 0;
    char line[256];
    double height;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n >= sizeof line) goto bad;
        memcpy(line, p, n);
        line[n] = '\0';
        p += n + (nl ? 1 : 0);
        if (n == 0) continue;
        if (strcmp(line, "tarn-dump 1") == 0) {
            if (in_dump) goto bad;
            in_dump = 1;
        } else if (!in_dump) {
            goto bad;
        } else if (strncmp(line, "pool ", 5) == 0) {
            pool_map *pm;
            if (np == capp) {
                pool_map *grown = realloc(pools, (capp = capp * 2 + 4) * sizeof *pools);
                if (grown == NULL) goto bad;
                pools = grown;
            }
            pm = &pools[np];
            memset(pm, 0, sizeof *pm);
            if (sscanf(line, "pool %15s %63s %llu", pm->kind, pm->name, &pm->capacity) != 3) goto bad;
            np++;
        } else if (line[0] == 'r' && line[1] == ' ') {
            region rg;
            pool_map *pm;
            if (np == 0 || sscanf(line, "r %llu %llu %c", &rg.off, &rg.size, &rg.state) != 3) goto bad;
            if (state_class(rg.state) == NULL) goto bad;
            pm = &pools[np - 1];
            if (rg.off > pm->capacity || rg.size > pm->capacity - rg.off) goto bad;
            if (pm->nr == pm->capr) {
                region *grown = realloc(pm->r, (pm->capr = pm->capr * 2 + 16) * sizeof *pm->r);
                if (grown == NULL) goto bad;
                pm->r = grown;
            }
            pm->r[pm->nr++] = rg;
        } else if (line[0] == 's' && line[1] == ' ') {
            pool_map *pm;
            if (np == 0) goto bad;
            pm = &pools[np - 1];
            if (pm->nst < sizeof pm->st / sizeof pm->st[0]) {
                if (sscanf(line, "s %47s %llu", pm->st[pm->nst].key, &pm->st[pm->nst].value) != 2) goto bad;
                pm->nst++;
            }
        } else if (strcmp(line, "end") == 0) {
            in_dump = 0;
        } else {
            goto bad;
        }
    }
    if (in_dump || np == 0) goto bad;

    height = 60.0 + POOL_GAP * (double)np + 30.0;
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                 "viewBox=\"0 0 %.0f %.0f\" font-family=\"monospace\" font-size=\"12\">\n",
            BAR_W + 2 * LEFT, height, BAR_W + 2 * LEFT, height);
    fprintf(out, "<style>.used{fill:#3b7dd8}.free{fill:#e4e7eb}.pinned{fill:#d9534f}"
                 ".meta{fill:#8c8c8c}.region{stroke:#ffffff;stroke-width:0.3}</style>\n");
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
    /* legend */
    {
        static const char st[4] = {'u', 'f', 'p', 'm'};
        for (i = 0; i < 4; i++) {
            double x = LEFT + 130.0 * (double)i;
            fprintf(out, "<g class=\"legend\"><rect class=\"%s\" x=\"%.1f\" y=\"14\" width=\"14\" "
                         "height=\"14\"/><text x=\"%.1f\" y=\"26\">%s</text></g>\n",
                    state_class(st[i]), x, x + 20.0, state_class(st[i]));
        }
    }
    for (i = 0; i < np; i++) {
        pool_map *pm = &pools[i];
        double y = 60.0 + POOL_GAP * (double)i;
        double scale = pm->capacity ? BAR_W / (double)pm->capacity : 0.0;
        fprintf(out, "<g class=\"pool\" data-kind=\"");
        xml_text(out, pm->kind);
        fprintf(out, "\" data-name=\"");
        xml_text(out, pm->name);
        fprintf(out, "\" data-capacity=\"%llu\">\n<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">",
                pm->capacity, LEFT, y + 14.0);
        xml_text(out, pm->kind);
        fprintf(out, " pool ");
        xml_text(out, pm->name);
        fprintf(out, " (%llu bytes, %lu regions)</text>\n", pm->capacity, (unsigned long)pm->nr);
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                     "stroke=\"#333333\"/>\n", LEFT, y + 22.0, BAR_W, BAR_H);
        for (j = 0; j < pm->nr; j++) {
            region *rg = &pm->r[j];
            double w = (double)rg->size * scale;
            fprintf(out, "<rect class=\"region %s\" x=\"%.3f\" y=\"%.1f\" width=\"%.3f\" height=\"%.1f\" "
                         "data-offset=\"%llu\" data-size=\"%llu\"><title>%s %llu B at +%llu</title></rect>\n",
                    state_class(rg->state), LEFT + (double)rg->off * scale, y + 22.0,
                    w < 0.5 ? 0.5 : w, BAR_H, rg->off, rg->size, state_class(rg->state),
                    rg->size, rg->off);
            drawn++;
        }
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\">", LEFT, y + 22.0 + BAR_H + 16.0);
        for (j = 0; j < pm->nst; j++) {
            fprintf(out, "%s", j ? "  " : "");
            xml_text(out, pm->st[j].key);
            fprintf(out, "=%llu", pm->st[j].value);
        }
        fprintf(out, "</text>\n</g>\n");
    }
    fprintf(out, "</svg>\n");
    free_pools(pools, np);
    return drawn;
bad:
    fprintf(stderr, "heapmap: malformed dump near: %.60s\n", line);
    free_pools(pools, np);
    return -1;
}
