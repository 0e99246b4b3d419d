/*
 * tests/consumers/app/expect.h - the check helper of the consumer programs: EXPECT(cond)
 * counts and names a failed check and goes on; expect_failed() at the end says whether
 * any failed.  Define CONSUMER (the name printed) before including it.
 */
#ifndef TARN_CONSUMER_EXPECT_H
#define TARN_CONSUMER_EXPECT_H

#include <stdio.h>

static int failures;

#define EXPECT(cond)                                                              \
    do {                                                                          \
        if (!(cond)) {                                                            \
            failures++;                                                           \
            fprintf(stderr, "%s: %s:%d: check failed: %s\n", CONSUMER, __FILE__,  \
                    __LINE__, #cond);                                             \
        }                                                                         \
    } while (0)

/* 1, after printing how many checks failed, when any did; else 0. */
static int expect_failed(void)
{
    if (failures == 0) return 0;
    fprintf(stderr, "%s: FAILED (%d checks)\n", CONSUMER, failures);
    return 1;
}

#endif
