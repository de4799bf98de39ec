// SPDX-License-Identifier: GPL-2.0
/*
 * Test workload: tw_cpu MS [total]: spins in user space for MS ms of CPU time from main's
 * entry, then prints its own ru_utime in ns (with "total": ru_utime + ru_stime, then the
 * same at main's entry: what the process used before, from its fork through its exec and
 * the dynamic loader).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static long long ru_total_ns(const struct rusage *ru)
{
	return ru->ru_utime.tv_sec * 1000000000LL + ru->ru_utime.tv_usec * 1000LL +
	       ru->ru_stime.tv_sec * 1000000000LL + ru->ru_stime.tv_usec * 1000LL;
}

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 300;
	volatile unsigned long x = 0;
	struct timespec ts;
	struct rusage ru, ru0;
	long long target = ms * 1000000LL, used;
	int total = argc > 2 && !strcmp(argv[2], "total");

	getrusage(RUSAGE_SELF, &ru0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	target += ts.tv_sec * 1000000000LL + ts.tv_nsec;

	do {
		for (int i = 0; i < 100000; i++)
			x += (unsigned long)i;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
		used = ts.tv_sec * 1000000000LL + ts.tv_nsec;
	} while (used < target);
	getrusage(RUSAGE_SELF, &ru);
	if (total) {
		printf("%lld %lld\n", ru_total_ns(&ru), ru_total_ns(&ru0));
		return 0;
	}
	printf("%lld\n", ru.ru_utime.tv_sec * 1000000000LL + ru.ru_utime.tv_usec * 1000LL);
	return 0;
}
