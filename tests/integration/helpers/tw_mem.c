// SPDX-License-Identifier: GPL-2.0
/*
 * Test workload: tw_mem MIB [HOLD_MS]: allocates MIB MiB, touches every page, holds it,
 * then prints its own getrusage(RUSAGE_SELF) ru_maxrss in bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 64;
	long ms = argc > 2 ? atol(argv[2]) : 0;
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	struct rusage ru;
	char *p = malloc(mib << 20);

	if (!p)
		return 1;
	for (size_t i = 0; i < mib << 20; i += 4096)
		p[i] = (char)i;
	if (ms > 0)
		nanosleep(&ts, NULL);
	getrusage(RUSAGE_SELF, &ru);
	printf("%ld\n", ru.ru_maxrss * 1024L);
	fflush(stdout);
	free(p);
	return 0;
}
