/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the libFuzzer targets in tests/fuzz/ (see CONTRIBUTING.md, Fuzzing). */
#ifndef TOOLWATCH_FUZZ_H
#define TOOLWATCH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Like assert(), but also in -DNDEBUG builds: a broken invariant is a crash to libFuzzer. */
#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__,       \
				#cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* TOOLWATCH_FUZZ_H */
