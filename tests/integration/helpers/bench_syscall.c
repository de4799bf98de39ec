// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark driver: the cost of one cheap system call.
 *   bench_syscall [-d SECONDS] [-c CPU]
 * Calls getppid(2) through syscall(2) (no libc caching) in batches for SECONDS (1) on
 * CPU (pinned when given) and prints one JSON object: nanoseconds per call (the fastest
 * of 100 equal slices, the least disturbed by other work on a shared machine) and the
 * median slice's.
 */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define SLICES 100
#define BATCH  1000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	double seconds = 1.0, ns[SLICES];
	int opt, cpu = -1;

	while ((opt = getopt(argc, argv, "d:c:")) != -1) {
		if (opt == 'd')
			seconds = atof(optarg);
		else if (opt == 'c')
			cpu = atoi(optarg);
		else {
			fprintf(stderr, "usage: bench_syscall [-d SECONDS] [-c CPU]\n");
			return 2;
		}
	}
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	for (int s = 0; s < SLICES; s++) {
		uint64_t t0 = now_ns(), end = t0 + (uint64_t)(seconds * 1e9 / SLICES), t, calls = 0;

		do {
			for (int i = 0; i < BATCH; i++)
				syscall(SYS_getppid);
			calls += BATCH;
			t = now_ns();
		} while (t < end);
		ns[s] = (double)(t - t0) / (double)calls;
	}
	qsort(ns, SLICES, sizeof(ns[0]), cmp);
	printf("{\"ns_per_call\": %.2f, \"median_ns_per_call\": %.2f}\n", ns[0], ns[SLICES / 2]);
	return 0;
}
