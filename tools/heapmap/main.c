/*
 * tools/heapmap - render tarn pool dumps as an SVG picture.
 *   heapmap [dump.txt|-] [out.svg]      (defaults: stdin, stdout)
 */
#include "heapmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    FILE *in = stdin, *out = stdout;
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    long drawn;
    if (argc > 1 && strcmp(argv[1], "-") != 0 && (in = fopen(argv[1], "rb")) == NULL) {
        perror(argv[1]);
        return 2;
    }
    do {
        if (len == cap) {
            char *grown = realloc(buf, cap = cap * 2 + 65536);
            if (grown == NULL) return 2;
            buf = grown;
        }
        n = fread(buf + len, 1, cap - len, in);
        len += n;
    } while (n > 0);
    if (argc > 2 && (out = fopen(argv[2], "w")) == NULL) {
        perror(argv[2]);
        return 2;
    }
    drawn = heapmap_render(buf, len, out);
    free(buf);
    if (out != stdout) fclose(out);
    return drawn < 0 ? 1 : 0;
}
