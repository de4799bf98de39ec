// SPDX-License-Identifier: GPL-2.0
/* Benchmark workload: static_sleep MS: sleeps MS milliseconds (default 5), exits 0. */
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	long ms = argc > 1 ? atol(argv[1]) : 5;
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
	return 0;
}
