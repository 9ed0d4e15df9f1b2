/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The KVM-free C tests' one assertion: CHECK(cond) counts the check, and a false one is
 * printed with its place and counted as a failure; the test's main ends in check_summary,
 * which prints both counts and exits 1 on any failure. One translation unit per test binary,
 * so the counters are static.
 */
#ifndef KTSTR_VMM_TESTS_CHECK_H
#define KTSTR_VMM_TESTS_CHECK_H

#include <stdio.h>

static int failures, checks;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			fprintf(stderr, "%s:%d: %s: check failed: %s\n", __FILE__, __LINE__,       \
				__func__, #cond);                                                  \
		}                                                                                  \
	} while (0)

/* The test's last word: both counts, and its exit status (1 on any failure). */
static int check_summary(const char *test)
{
	printf("%s: %d checks, %d failed\n", test, checks, failures);
	return failures ? 1 : 0;
}

#endif
