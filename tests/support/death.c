/*
 * tests/support/death.c - see death.h.
 */
#include "support/death.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DEATH_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(DEATH_ASAN)
#define DEATH_ASAN 1
#endif
#if !defined(DEATH_ASAN) && defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define DEATH_VALGRIND 1
#endif
#endif

/* Exit code of a child in which Valgrind counted a new error. */
#define DEATH_CAUGHT 42

death_tool death_active_tool(void)
{
#if defined(DEATH_ASAN)
    return DEATH_TOOL_ASAN;
#elif defined(DEATH_VALGRIND)
    return RUNNING_ON_VALGRIND ? DEATH_TOOL_VALGRIND : DEATH_TOOL_NONE;
#else
    return DEATH_TOOL_NONE;
#endif
}

const char *death_tool_name(death_tool t)
{
    switch (t) {
    case DEATH_TOOL_ASAN: return "AddressSanitizer";
    case DEATH_TOOL_VALGRIND: return "Valgrind memcheck";
    default: return "none";
    }
}

int death_expect_report(void (*fn)(void *), void *arg, const char *asan_expect)
{
    death_tool tool = death_active_tool();
    int fds[2];
    pid_t pid;
    int status = 0;
    char buf[16384];
    size_t len = 0;
    ssize_t r;

    if (tool == DEATH_TOOL_NONE) return -1;
    fflush(stdout);
    fflush(stderr);
    if (pipe(fds) != 0) return -1;
    pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
#if defined(DEATH_VALGRIND)
        {
            unsigned before = VALGRIND_COUNT_ERRORS;
            fn(arg);
            _exit(VALGRIND_COUNT_ERRORS > before ? DEATH_CAUGHT : 0);
        }
#else
        fn(arg);
        _exit(0);
#endif
    }
    close(fds[1]);
    while (len < sizeof buf - 1 && (r = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0) {
        len += (size_t)r;
    }
    buf[len] = '\0';
    close(fds[0]);
    if (waitpid(pid, &status, 0) < 0) return -1;
    fprintf(stderr, "---- expected %s report from child (begin) ----\n%s\n"
                    "---- expected report (end) ----\n", death_tool_name(tool), buf);
    if (tool == DEATH_TOOL_ASAN) {
        if (strstr(buf, "AddressSanitizer") == NULL) return 0;
        if (asan_expect != NULL && strstr(buf, asan_expect) == NULL) return 0;
        return 1;
    }
    /* Valgrind: the child exits DEATH_CAUGHT, or valgrind's --error-exitcode. */
    return (WIFEXITED(status) && WEXITSTATUS(status) != 0) ? 1 : 0;
}
