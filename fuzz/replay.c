/*
 * fuzz/replay.c - runs a fuzz target without libFuzzer (host only: files, malloc).
 *
 *     replay_<m> DIR|FILE...
 *
 * Every regular file of each directory (in name order, so runs are reproducible), and
 * every file named directly, is read into a buffer of exactly its size and passed to
 * LLVMFuzzerTestOneInput once.  The target aborts on any model mismatch; otherwise the
 * program prints how many inputs and operations it ran and exits 0.  It fails (exit 1)
 * when an argument is missing or unreadable, or when no input at all was found, so a
 * lost or empty corpus cannot pass silently.
 */
/* 64-bit inode numbers and sizes on 32-bit hosts too: without it a 32-bit readdir or
 * stat fails (EOVERFLOW) on a file system with large inode numbers */
#define _FILE_OFFSET_BITS 64
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern unsigned long long tarn_fuzz_ops;

static unsigned long replay_inputs;
static unsigned long long replay_bytes;

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    long len;
    uint8_t *buf;
    if (f == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "replay: cannot size %s\n", path);
        fclose(f);
        return -1;
    }
    /* Exactly `len` bytes (at least 1 for malloc), so a read past the input is caught. */
    buf = (uint8_t *)malloc(len > 0 ? (size_t)len : 1u);
    if (buf == NULL || (len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len)) {
        fprintf(stderr, "replay: cannot read %s\n", path);
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    (void)LLVMFuzzerTestOneInput(buf, (size_t)len);
    free(buf);
    replay_inputs++;
    replay_bytes += (unsigned long long)len;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    int rc = 0;
    if (d == NULL) {
        fprintf(stderr, "replay: cannot open directory %s\n", dir);
        return -1;
    }
    for (;;) {
        errno = 0;
        e = readdir(d);
        if (e == NULL) {
            if (errno != 0) {
                fprintf(stderr, "replay: cannot read directory %s\n", dir);
                rc = -1;
            }
            break;
        }
        if (e->d_name[0] == '.') continue;  /* ., .., and hidden files */
        if (n == cap) {
            char **bigger;
            cap = cap ? 2 * cap : 64;
            bigger = (char **)realloc(names, cap * sizeof *names);
            if (bigger == NULL) { rc = -1; break; }
            names = bigger;
        }
        names[n] = (char *)malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (names[n] == NULL) { rc = -1; break; }
        sprintf(names[n], "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n > 0) qsort(names, n, sizeof *names, cmp_names);
    for (i = 0; i < n; i++) {
        struct stat st;
        if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(names[i]) != 0) rc = -1;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int i;
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", argv[0]);
        return 1;
    }
    for (i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "replay: %s does not exist\n", argv[i]);
            return 1;
        }
        if ((S_ISDIR(st.st_mode) ? replay_dir(argv[i]) : replay_file(argv[i])) != 0) return 1;
    }
    if (replay_inputs == 0) {
        fprintf(stderr, "replay: no input found in the corpus\n");
        return 1;
    }
    printf("replay: %lu inputs (%llu bytes), %llu operations\n", replay_inputs, replay_bytes,
           tarn_fuzz_ops);
    return 0;
}
