/*
 * tests/support/lock_hook.h - a lock hook for the tests that counts its calls and catches
 * nested or unbalanced use: lock_calls counts locks, lock_depth is 1 inside a locked
 * section and 0 outside, lock_bad counts calls with the wrong context or in the wrong
 * state.  Header-only, plain C: usable bare-metal.  Include it once per test program.
 */
#ifndef TARN_TESTS_LOCK_HOOK_H
#define TARN_TESTS_LOCK_HOOK_H

#include "tarn/tarn.h"

static int lock_depth, lock_calls, lock_bad;

static void t_lock(void *ctx)
{
    if (ctx != &lock_depth || lock_depth != 0) lock_bad++;
    lock_depth++;
    lock_calls++;
}

static void t_unlock(void *ctx)
{
    if (ctx != &lock_depth || lock_depth != 1) lock_bad++;
    lock_depth--;
}

/** The counting hook, as a tarn_lock value (C99 compound literal). */
#define LOCK_HOOK ((tarn_lock){t_lock, t_unlock, &lock_depth})

#endif
