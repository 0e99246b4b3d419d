/*
 * tests/support/death.h - "death tests": run a deliberate memory error in a child
 * process and check that the active memory tool (AddressSanitizer or Valgrind memcheck)
 * reports it, exactly as it would for malloc'd memory.  POSIX hosts only.
 */
#ifndef TARN_TESTS_DEATH_H
#define TARN_TESTS_DEATH_H

/** Which memory tool watches this process. */
typedef enum death_tool { DEATH_TOOL_NONE, DEATH_TOOL_ASAN, DEATH_TOOL_VALGRIND } death_tool;

death_tool death_active_tool(void);
const char *death_tool_name(death_tool t);

/**
 * Run fn(arg) in a forked child.  Returns 1 when the tool reported an error in the
 * child (for ASan, its report must also contain `asan_expect` when that is non-NULL),
 * 0 when the child ran without a report, -1 when no tool is active or fork failed.
 * The tool's report is copied to this process's stderr, marked as expected.
 */
int death_expect_report(void (*fn)(void *), void *arg, const char *asan_expect);

#endif
