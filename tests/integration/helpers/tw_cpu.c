// SPDX-License-Identifier: GPL-2.0
/*
 * Test workload: tw_cpu MS [total]: spins in user space for MS ms of CPU time, then prints
 * its own ru_utime in ns (with "total": ru_utime + ru_stime).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 300;
	volatile unsigned long x = 0;
	struct timespec ts;
	struct rusage ru;
	long long target = ms * 1000000LL, used;

	do {
		for (int i = 0; i < 100000; i++)
			x += (unsigned long)i;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
		used = ts.tv_sec * 1000000000LL + ts.tv_nsec;
	} while (used < target);
	getrusage(RUSAGE_SELF, &ru);
	used = ru.ru_utime.tv_sec * 1000000000LL + ru.ru_utime.tv_usec * 1000LL;
	if (argc > 2 && !strcmp(argv[2], "total"))
		used += ru.ru_stime.tv_sec * 1000000000LL + ru.ru_stime.tv_usec * 1000LL;
	printf("%lld\n", used);
	return 0;
}
